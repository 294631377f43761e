"""Score the pipeline on the labeled sets: `python -m eval --mode extractive|mock|llm|all`.

Every question is asked against one corpus (the seed plus all CRUD-RAG posts, eval/corpus.py).
Prints, per mode, the seed and CRUD-RAG sets' dev and test splits side by side; writes
eval/out/report-MODE.md and eval/out/results-MODE.json (per-question rows); compares with
eval/baseline.json; exits 1 when a **test** figure falls below eval/thresholds.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .breakdown import breakdown_table, misses_by_kind
from .corpus import DEFAULT_OUT, corpus_home
from .data import EVAL_DIR, EXTRA_SETS, SEED_DOC, SETS, SPLITS, Item, load_sets, load_summary_facts
from .faults import fault_suite
from .retrieval import retrieval_metrics, retrieval_rows
from .score import (
    answer_chars,
    answer_precision,
    char_f1,
    citation_checks,
    fact_found,
    fact_recall,
    gold_citation,
)

THRESHOLDS = EVAL_DIR / "thresholds.json"
BASELINE = EVAL_DIR / "baseline.json"
SABOTAGES = ("random-retriever", "top1", "strip-citations", "dump")
# Metrics where lower is better; every other metric is better higher.
LOWER_IS_BETTER = {
    "false_not_found_rate",
    "ungrounded_numbers_per_answer",
    "median_latency_s",
    "median_answer_chars",
    "planted_falsehoods_surviving",
}
NOT_GATED = {"median_latency_s"}
LISTED_SPLITS = ("dev", "train")
# The planted claims run on dev questions (rules were written against their survivors: in-sample)
# and on test questions (held out; the gate reads these).
FAULT_SPLITS = (
    "dev",
    "test",
)  # splits whose questions a report may list one by one  # timings on a shared 2-core machine are noise, not quality
# origin of the seed questions written after the rules were fitted: held-out (test) ones, and dev
# ones written later to tune on (so seed/dev is not only the questions the rules grew from)
NEW_SEED = re.compile(r"^(held-out|dev, written)")


def _random_retriever(svc):
    from rag.retrieval.retrieve import Retriever

    class RandomRetriever(Retriever):
        """Sabotage: k random paragraphs of random posts (of those the filters allow)."""

        def search(self, query, k=5, filters=None):
            snap = self.snapshot()
            rng = random.Random(query)
            docs = self.allowed_docs(snap, filters)
            picks = []
            for _ in range(k):
                d = snap.docs[rng.choice(docs)]
                picks.append((d.doc_id, rng.randint(1, d.n_paragraphs)))
            return [self.paragraph_hit(d, p) for d, p in dict.fromkeys(picks)]

    return RandomRetriever(
        svc.store, svc.embedder, cache_dir=svc.settings.home / "cache", language=svc.retriever.language
    )


def _dump_answer(question: str, *, retriever, k: int, filters=None, **_):
    """Sabotage: every sentence of every retrieved paragraph, each cited (then verified)."""
    from rag.language.text import split_sentences
    from rag.records import Answer
    from rag.verification.verify import verify

    hits = retriever.search(question, k=k, filters=filters)
    raw = "".join(
        f"{s.rstrip('。！？；!?;')}[{n}]。"
        for n, h in enumerate(hits, 1)
        for s in split_sentences(h.paragraph_text)
    )
    checked = verify(raw, hits, question, idf=retriever.idf, language=retriever.language)
    return Answer(
        question=question,
        answer=checked.text,
        status=checked.status,
        mode="extractive",
        warnings=checked.warnings,
        citations=checked.citations,
    )


def score_row(it: Item, ans: dict, elapsed: float) -> dict:
    """One question's figures, from the answer's JSON and the labels."""
    cited = {(c["doc_id"], c["paragraph"]) for c in ans["citations"]}
    row = {
        "id": it.id,
        "set": it.set,
        "split": it.split,
        "kind": it.kind,
        "question": it.question,
        "new": bool(NEW_SEED.match(it.extra.get("origin", ""))),
        "expected_status": it.status,
        "status": ans["status"],
        "answer": ans["answer"],
        "mode": ans["mode"],
        "confidence": ans.get("confidence"),  # the reader's, whichever mode answered: bars are chosen on it
        "warnings": ans["warnings"],
        "cited": sorted([d, p] for d, p in cited),
        "gold": [list(g) for g in it.gold],
        "latency_s": round(elapsed, 3),
        **citation_checks(ans),
    }
    if it.answerable:
        row["fact_recall"] = fact_recall(it.facts, ans["answer"])
        row["missing_facts"] = [f[0] for f in it.facts if not fact_found(f, ans["answer"])]
        row["citation_precision"], row["citation_recall"] = gold_citation(cited, set(it.gold))
        if ans["status"] != "not_found":
            carrying, total = answer_precision(it.facts, ans["answer"])
            row["answer_precision"] = carrying / total if total else 0.0
            row["answer_chars"] = answer_chars(ans["answer"])
        if it.reference:
            row["char_f1"] = char_f1(ans["answer"], it.reference)
    return row


def _mean(values: Sequence[float]) -> float:
    return round(statistics.mean(values), 3) if values else 0.0


def metrics(rows: list[dict], rrows: list[dict], rejection: list[dict] | None = None) -> dict[str, float]:
    """The figures of one group of rows (one set and split)."""
    ans = [r for r in rows if r["expected_status"] != "not_found"]
    una = [r for r in rows if r["expected_status"] == "not_found"]
    part = [r for r in rows if r["expected_status"] == "partial"]
    said = [r for r in ans if r["status"] != "not_found"]
    tot = lambda key: sum(r[key] for r in rows)  # noqa: E731
    m = {k: round(v, 3) for k, v in retrieval_metrics(rrows).items()}
    m["fact_recall"] = _mean([r["fact_recall"] for r in ans])
    m["answer_precision"] = _mean([r["answer_precision"] for r in said])
    m["median_answer_chars"] = float(statistics.median(r["answer_chars"] for r in said)) if said else 0.0
    m["citation_precision"] = _mean(
        [r["citation_precision"] for r in ans if r["citation_precision"] is not None]
    )
    m["citation_recall"] = _mean([r["citation_recall"] for r in ans])
    m["false_not_found_rate"] = (
        round(sum(r["status"] == "not_found" for r in ans) / len(ans), 3) if ans else 0.0
    )
    if una:
        m["not_found_accuracy"] = round(sum(r["status"] == "not_found" for r in una) / len(una), 3)
    if part:
        m["partial_accuracy"] = round(sum(r["status"] == "partial" for r in part) / len(part), 3)
    if rejection:
        m["rejection_rate"] = round(sum(r["status"] == "not_found" for r in rejection) / len(rejection), 3)
    if any("char_f1" in r for r in ans):
        m["char_f1"] = _mean([r["char_f1"] for r in ans if "char_f1" in r])
    m["citation_validity"] = round(tot("valid_markers") / tot("markers"), 3) if tot("markers") else 1.0
    m["quote_verbatim"] = round(tot("verbatim_quotes") / tot("quotes"), 3) if tot("quotes") else 1.0
    m["claim_support"] = round(tot("supported_claims") / tot("claims"), 3) if tot("claims") else 1.0
    m["citation_relevance"] = (
        round(tot("relevant_citations") / tot("citations_used"), 3) if tot("citations_used") else 1.0
    )
    m["ungrounded_numbers_per_answer"] = round(tot("ungrounded_numbers") / len(rows), 3) if rows else 0.0
    m["median_latency_s"] = round(statistics.median(r["latency_s"] for r in rows), 3) if rows else 0.0
    if rows and "judge_correct" in rows[0]:
        m["judge_accuracy"] = round(sum(r["judge_correct"] for r in rows) / len(rows), 3)
    m["questions"] = len(rows)
    m["n_answerable"], m["n_unanswerable"], m["n_partial"], m["n_rejection"] = (
        len(ans),
        len(una),
        len(part),
        len(rejection or []),
    )
    return m


COUNTS = ("questions", "n_answerable", "n_unanswerable", "n_partial", "n_rejection")
GATED_COLUMNS = ("seed/test", "crud/test")


def thresholds_from(result: dict) -> dict[str, dict[str, float]]:
    """Gate values from one run's test columns: each figure less a margin of about one question
    (1/n of the questions it is computed over), so that a regression of two questions fails.
    The median length may grow 15% (+5 characters); planted falsehoods may grow by one."""
    out: dict[str, dict[str, float]] = {}
    for name in GATED_COLUMNS:
        m = result["columns"].get(name)
        if not m:
            continue
        n = {
            "rejection_rate": m["n_rejection"],
            "not_found_accuracy": m["n_unanswerable"],
            "partial_accuracy": m["n_partial"],
        }
        thr = {}
        for key, value in m.items():
            if key in COUNTS or key in NOT_GATED or key == "judge_accuracy":
                continue
            if key == "median_answer_chars":
                thr[key] = float(int(value * 1.15 + 5))
                continue
            margin = 1 / max(1, n.get(key, m["n_answerable"]))
            thr[key] = (
                (int((value + margin) * 1000) + 1) / 1000
                if key in LOWER_IS_BETTER
                else max(0.0, int((value - margin) * 1000) / 1000)
            )
        out[name.split("/")[0]] = thr
    if (result.get("faults") or {}).get("test"):
        f = result["faults"]["test"]  # the planted claims of held-out questions
        out["faults"] = {
            "planted_falsehoods_surviving": f["planted_falsehoods_surviving"] + 1,
            "true_claims_kept": max(
                0.0, int((f["true_claims_kept"] - 1 / max(1, f["planted_true"])) * 1000) / 1000
            ),
        }
    return out


def _group(rows: list[dict], set_name: str, split: str, new_only: bool = False) -> list[dict]:
    return [r for r in rows if r["set"] == set_name and r["split"] == split and (r["new"] or not new_only)]


def columns(sets: dict[str, list[Item]], splits: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(set, split, new only) per report column; seed/dev also alone for the questions written
    later to tune on (`dev·new`; seed/test holds only questions written after the rules)."""
    cols = []
    for s in sets:
        for sp in splits:
            cols.append((s, sp, False))
            if s == "seed" and sp == "dev":
                cols.append((s, sp, True))
    return cols


def column_name(col: tuple[str, str, bool]) -> str:
    return f"{col[0]}/{col[1]}" + ("·new" if col[2] else "")


def run_mode(mode: str, args, svc, sets: dict[str, list[Item]], llm) -> dict:
    from rag.answering.answer import answer
    from rag.answering.summarize import summarize
    from rag.records import Filters

    retriever = _random_retriever(svc) if args.sabotage == "random-retriever" else svc.retriever
    k = 1 if args.sabotage == "top1" else args.k
    ask: Callable = _dump_answer if args.sabotage == "dump" else answer
    items = [it for its in sets.values() for it in its]

    def run(it: Item, filters=None) -> dict:
        t = time.perf_counter()
        ans = ask(
            it.question, retriever=retriever, settings=svc.settings, llm=llm, k=k, filters=filters
        ).model_dump()
        elapsed = time.perf_counter() - t
        if args.sabotage == "strip-citations":
            ans["answer"] = re.sub(r"\[\d+\]", "", ans["answer"])
            ans["citations"] = []
        return score_row(it, ans, elapsed)

    def search(q: str, kk: int) -> list[tuple[str, int]]:
        return [(h.chunk.doc_id, h.chunk.paragraph) for h in retriever.search(q, min(kk, k))]

    rrows = retrieval_rows(items, search)
    rows, rejection = [], []
    for i, it in enumerate(items, 1):
        rows.append(run(it))
        if args.progress and i % 50 == 0:
            print(f"  [{mode}] {i}/{len(items)} questions", file=sys.stderr, flush=True)
    if args.rejection:
        for it in items:
            if it.rejection_exclude:  # the question again, without the posts that answer it
                rejection.append(
                    {**run(it, Filters(exclude_doc_ids=it.rejection_exclude)), "expected_status": "not_found"}
                )
    if args.judge and mode == "llm":
        judge(rows, items, llm)
    out = {"mode": mode, "rows": rows, "retrieval_rows": rrows, "rejection_rows": rejection, "columns": {}}
    for col in columns(sets, args.splits):
        s, sp, new = col
        group = _group(rows, s, sp, new)
        if not group:
            continue
        ids = {r["id"] for r in group}
        out["columns"][column_name(col)] = metrics(
            group, [r for r in rrows if r["id"] in ids], [r for r in rejection if r["id"] in ids]
        )

    def summary_row(doc_id: str, facts: list[list[str]]) -> dict:
        t = time.perf_counter()
        summary = summarize(retriever=retriever, settings=svc.settings, llm=llm, doc_id=doc_id).model_dump()
        return {
            "doc_id": doc_id,
            "answer": summary["answer"],
            "mode": summary["mode"],
            "coverage": fact_recall(facts, summary["answer"]),
            "missing": [f[0] for f in facts if not fact_found(f, summary["answer"])],
            "latency_s": round(time.perf_counter() - t, 2),
            **citation_checks(summary),
        }

    facts = load_summary_facts()
    if "seed" in sets:
        out["summary"] = summary_row(SEED_DOC, facts[SEED_DOC])
        for name, m in out["columns"].items():
            if name.startswith("seed/"):
                m["summary_coverage"] = round(out["summary"]["coverage"], 3)
    if "crud" in sets and "dev" in args.splits:  # the dev posts that summary choices are made on
        out["dev_summaries"] = [summary_row(d, f) for d, f in facts.items() if d != SEED_DOC]
    return out


JUDGE_PROMPT = (
    "You grade answers about a news article. Question: {question}\nReference facts (any variant counts): {facts}\n"
    "Expected: {expected}\nAnswer to grade: {answer}\n\nReply with one word: CORRECT if the answer states the reference "
    "facts (or, when the expected result is not_found, says the article does not contain it), else WRONG."
)


def judge(rows: list[dict], items: list[Item], llm) -> None:
    """Optional LLM-as-judge (real-model mode only, never in CI): adds `judge_correct` to rows."""
    by_id = {it.id: it for it in items}
    for r in rows:
        it = by_id[r["id"]]
        prompt = JUDGE_PROMPT.format(
            question=it.question,
            facts=" | ".join("/".join(f) for f in it.facts) or "(none)",
            expected=it.status,
            answer=r["answer"],
        )
        try:
            verdict = llm.complete("You are a strict grader.", prompt, max_tokens=5).text.strip().upper()
        except Exception as exc:  # noqa: BLE001 - a judge failure leaves the row ungraded
            verdict = f"ERROR {type(exc).__name__}"
        r["judge_correct"] = verdict.startswith("CORRECT")


def gate(result: dict, thresholds: dict) -> list[str]:
    """Failures: a test column's figure beyond its threshold (thresholds[set][metric])."""
    failures = []
    for name, m in result["columns"].items():
        s, split = name.split("/")[0], name.split("/")[1]
        if split != "test":
            continue
        for key, thr in thresholds.get(s, {}).items() if name in GATED_COLUMNS else ():
            if key in NOT_GATED or key not in m:
                continue
            value = m[key]
            if (value > thr) if key in LOWER_IS_BETTER else (value < thr):
                failures.append(f"{name} {key} = {value} (threshold {thr})")
    for key, thr in thresholds.get("faults", {}).items():
        value = (result.get("faults") or {}).get("test", {}).get(key)
        if value is not None and ((value > thr) if key in LOWER_IS_BETTER else (value < thr)):
            failures.append(f"faults {key} = {value} (threshold {thr})")
    return failures


def table(result: dict) -> str:
    cols = list(result["columns"])
    keys = list(dict.fromkeys(k for c in cols for k in result["columns"][c]))
    head = f"{'metric':30s}" + "".join(f"{c:>15s}" for c in cols)
    lines = [head, "-" * len(head)]
    for k in keys:
        lines.append(f"{k:30s}" + "".join(f"{result['columns'][c].get(k, ''):>15}" for c in cols))
    for split, f in (result.get("faults") or {}).items():
        lines.append(
            f"faults ({split} questions): planted falsehoods surviving {f['planted_falsehoods_surviving']} of {f['planted_falsehoods']}; true claims kept {f['true_claims_kept']} ({f['true_kept']} of {f['planted_true']}; {f['true_unjudged']} more in answers that fell back for what the question asks)"
        )
    return "\n".join(lines)


def report(result: dict, baseline: dict, failures: list[str], meta: dict) -> str:
    model = f", model `{meta['model']}`" if meta.get("model") else ""
    lines = [
        f"# Eval — mode `{result['mode']}`{model}",
        "",
        f"{meta['questions']} questions (+{len(result['rejection_rows'])} asked again without their sources), "
        f"run time {meta['elapsed']:.1f} s, k = {meta['k']}, commit {meta['commit']}, {meta['date']}",
        "",
        "Columns: set/split. test is held out; dev and seen are in-sample (`seen`: questions a rule was fitted "
        "on or that a dev question copies, and CRUD-RAG items that straddled dev and test; eval/splits.py). "
        "seed/test holds only seed questions written after the rules were fitted. `seed/dev·new` holds the dev "
        "questions written later to tune on. Gate: test columns only.",
        "",
        "```",
        table(result),
        "```",
        "",
    ]
    moved = []
    for name, m in result["columns"].items():
        base = baseline.get(name, {})
        moved += [
            f"{name} {k}: {base[k]} → {v}"
            for k, v in m.items()
            if k in base
            and k != "median_latency_s"
            and isinstance(v, (int, float))
            and abs(v - base[k]) >= 0.01
        ]
    lines += ["## Against the baseline", "", *(f"- {x}" for x in moved or ["no metric moved"]), ""]
    lines += ["## Misses by kind of question", ""]
    for col in columns(dict.fromkeys(r["set"] for r in result["rows"]), SPLITS):
        group = _group(result["rows"], *col)
        if group:
            ids = {r["id"] for r in group}
            counts = misses_by_kind(group, [r for r in result["retrieval_rows"] if r["id"] in ids])
            lines += [f"{column_name(col)}:", "", *breakdown_table(counts), ""]
    if failures:
        lines += ["## Below threshold", "", *(f"- {f}" for f in failures), ""]
    # Question by question only where tuning may look: test rows are held out (aggregates above).
    listed = lambda r: r["split"] in LISTED_SPLITS  # noqa: E731
    lines += [f"## Questions that miss ({', '.join(LISTED_SPLITS)} only)", ""]
    for r in filter(listed, result["rows"]):
        wrong_status = r["status"] != r["expected_status"] and not (
            r["expected_status"] == "answered" and r["status"] == "partial"
        )
        if wrong_status or r.get("fact_recall", 1) < 1:
            lines.append(
                f"- {r['id']} [{r['set']}/{r['split']}] `{r['status']}` (expected `{r['expected_status']}`) {r['question']} — missing {r.get('missing_facts', [])}; cited {r['cited']}; gold {r['gold']}"
            )
    wrong_rej = [r for r in result["rejection_rows"] if r["status"] != "not_found" and listed(r)]
    if wrong_rej:
        lines += ["", "## Answered without their sources (rejection misses)", ""]
        lines += [f"- {r['id']} [{r['split']}] {r['question']} → {r['answer'][:120]}" for r in wrong_rej]
    if result.get("summary"):
        s = result["summary"]
        lines += [
            "",
            "## Summary of the seed",
            "",
            f"mode {s['mode']}, coverage {s['coverage']:.2f}, missing {s['missing']}",
            "",
            s["answer"],
        ]
    if result.get("dev_summaries"):
        lines += [
            "",
            "## Summaries of CRUD-RAG dev posts (in-sample: summary choices are made on these)",
            "",
            "| post | mode | coverage | verified claims | seconds | missing |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {s['doc_id']} | {s['mode']} | {s['coverage']:.2f} | {s['supported_claims']} | {s['latency_s']} | {s['missing']} |"
            for s in result["dev_summaries"]
        ]
    if result["mode"] == "llm":
        lines += [
            "",
            "## Per question",
            "",
            "| id | set/split | status (expected) | fact recall | seconds | mode |",
            "|---|---|---|---|---|---|",
        ]
        for r in filter(listed, result["rows"] + result["rejection_rows"]):
            rec = (
                f"{r['fact_recall']:.2f}"
                if "fact_recall" in r and r["expected_status"] != "not_found"
                else ""
            )
            lines.append(
                f"| {r['id']}{' (no sources)' if r in result['rejection_rows'] else ''} | {r['set']}/{r['split']} | {r['status']} ({r['expected_status']}) | {rec} | {r['latency_s']:.0f} | {r['mode']} |"
            )
    for split, faults in (result.get("faults") or {}).items():
        lines += [
            "",
            f"## Planted claims (fake model faults), {split} questions",
            "",
            "| fault | planted | false surviving | true kept | true unjudged |",
            "|---|---|---|---|---|",
        ]
        for name, f in faults["by_fault"].items():
            lines.append(
                f"| {name} | {f['planted']} | {f['false_surviving']} | {f['true_kept']} | {f.get('true_unjudged', 0)} |"
            )
        if split not in LISTED_SPLITS:
            continue
        lines += ["", "False claims that survived:", ""] + [f"- {x}" for x in faults["survivors"]]
        lines += ["", "True claims lost:", ""] + [f"- {x}" for x in faults.get("lost", [])]
        lines += ["", "True claims in answers that fell back for what the question asks (unjudged):", ""]
        lines += [f"- {x}" for x in faults.get("unjudged", [])]
    return "\n".join(lines) + "\n"


def _limits(text: str) -> dict[str, int]:
    """`40` → every set; `crud=40,seed=10` → per set."""
    try:
        if "=" not in text:
            return {"*": int(text)}
        return {k.strip(): int(v) for k, v in (part.split("=", 1) for part in text.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not N or SET=N[,SET=N]") from None


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=EVAL_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--mode",
        choices=["extractive", "mock", "llm", "all"],
        default="all",
        help="all = extractive and mock (what CI runs)",
    )
    ap.add_argument(
        "--sets",
        default=",".join(SETS),
        help=f"comma-separated, from {', '.join(SETS + EXTRA_SETS)} (default {','.join(SETS)})",
    )
    ap.add_argument("--split", choices=[*SPLITS, "all"], default="all")
    ap.add_argument(
        "--limit",
        type=_limits,
        default={},
        help="at most N questions per set, in file order: N, or SET=N[,SET=N] (e.g. crud=40: a slice for a slow model)",
    )
    ap.add_argument(
        "--only",
        type=re.compile,
        help="only the questions whose id matches this regular expression (e.g. '^([nem]\\d|crud-)': the held-out seed questions and CRUD-RAG)",
    )
    ap.add_argument(
        "--slice",
        type=Path,
        help="only the question ids listed in this file (eval/slices/dev.txt, heldout.txt: eval/slicing.py)",
    )
    ap.add_argument("--model", help="model name for --mode llm")
    ap.add_argument("-k", "--k", type=int, help="context paragraphs per answer (default: RAG_TOP_K)")
    ap.add_argument("--sabotage", choices=SABOTAGES, help="cripple the pipeline to show the eval fails")
    ap.add_argument(
        "--no-rejection",
        dest="rejection",
        action="store_false",
        help="skip asking the CRUD-RAG questions again without their sources",
    )
    ap.add_argument(
        "--no-faults",
        dest="faults",
        action="store_false",
        help="skip the fake model's planted claims (mock mode)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports and per-question rows")
    ap.add_argument(
        "--store-dir",
        type=Path,
        default=DEFAULT_OUT,
        help="where the corpus store is built (once per stamp of its inputs)",
    )
    ap.add_argument("--update-baseline", action="store_true", help="store this run's figures as the baseline")
    ap.add_argument(
        "--write-thresholds",
        action="store_true",
        help="set eval/thresholds.json from this run's test figures (less one question)",
    )
    ap.add_argument(
        "--judge",
        action="store_true",
        help="with --mode llm: also ask the model to grade each answer (LLM-as-judge)",
    )
    ap.add_argument("--progress", action="store_true", help="print progress to stderr")
    args = ap.parse_args(argv)

    from rag.config import load_settings
    from rag.interfaces.service import Service

    t0 = time.perf_counter()
    home = corpus_home(args.store_dir, log=lambda s: print(s, file=sys.stderr))
    settings = load_settings(RAG_HOME=home)
    args.k = args.k or settings.top_k
    args.splits = list(SPLITS) if args.split == "all" else [args.split]
    wanted = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    unknown = [s for s in wanted if s not in SETS + EXTRA_SETS]
    if unknown:
        ap.error(f"unknown set {unknown[0]!r}; choose from {', '.join(SETS + EXTRA_SETS)}")
    if args.slice is not None:
        if not args.slice.is_file():
            ap.error(f"--slice {args.slice}: no such file")
        from .slicing import read as read_slice

        listed = read_slice(args.slice)
    sets = {
        name: [
            it
            for it in items
            if it.split in args.splits
            and (args.only is None or args.only.search(it.id))
            and (args.slice is None or it.id in listed)
        ][: args.limit.get(name, args.limit.get("*"))]
        for name, items in load_sets(wanted).items()
    }
    modes = ["extractive", "mock"] if args.mode == "all" else [args.mode]
    thresholds_all = json.loads(THRESHOLDS.read_text(encoding="utf-8")) if THRESHOLDS.exists() else {}
    baseline_all = json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}
    args.out.mkdir(parents=True, exist_ok=True)
    meta_base = {
        "k": args.k,
        "commit": _commit(),
        "date": dt.date.today().isoformat(),
        "questions": sum(len(v) for v in sets.values()),
    }
    failed: list[str] = []
    results = []
    for mode in modes:
        t = time.perf_counter()
        llm, server = None, None
        svc = Service.from_settings(settings.model_copy())
        if mode == "mock":
            from rag.answering.llm import OpenAIChat

            from .fake_llm import FakeLLMServer

            server = FakeLLMServer().start()
            llm = OpenAIChat.from_settings(
                settings.model_copy(update={"openai_base_url": server.base_url, "llm_model": "fake-model"})
            )
        elif mode == "llm":
            if not settings.llm_configured:
                raise SystemExit("--mode llm needs OPENAI_API_KEY and/or OPENAI_BASE_URL")
            from rag.answering.llm import OpenAIChat

            llm = OpenAIChat.from_settings(
                settings.model_copy(update={"llm_model": args.model}) if args.model else settings
            )
        try:
            res = run_mode(mode, args, svc, sets, llm)
            if server is not None and args.faults and not args.sabotage:
                res["faults"] = {
                    split: fault_suite(sets, svc, settings, server, k=args.k, split=split)
                    for split in FAULT_SPLITS
                    if split in args.splits
                }
        finally:
            if server is not None:
                server.stop()
        elapsed = time.perf_counter() - t
        failures = gate(res, thresholds_all.get(mode, {}))
        meta = {**meta_base, "elapsed": elapsed, "model": getattr(llm, "model", None)}
        res["meta"] = meta
        (args.out / f"report-{mode}.md").write_text(
            report(res, baseline_all.get(mode, {}), failures, meta), encoding="utf-8"
        )
        (args.out / f"results-{mode}.json").write_text(
            json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        results.append(res)
        failed += [f"{mode}: {f}" for f in failures]
        print(
            f"\n[{mode}] {elapsed:.1f} s, k = {args.k}{', sabotage ' + args.sabotage if args.sabotage else ''}"
        )
        print(table(res))
    print(
        f"\nreports: {args.out}/report-*.md, rows: {args.out}/results-*.json; total {time.perf_counter() - t0:.1f} s"
    )
    if args.update_baseline:
        for r in results:
            baseline_all[r["mode"]] = {
                **r["columns"],
                **(
                    {
                        f"faults/{split}": {k: v for k, v in f.items() if not isinstance(v, (dict, list))}
                        for split, f in r["faults"].items()
                    }
                    if r.get("faults")
                    else {}
                ),
            }
        BASELINE.write_text(json.dumps(baseline_all, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.write_thresholds:
        thresholds_all = {
            "_note": f"Measured test figures of commit {meta_base['commit']} on {meta_base['date']} (k = {args.k}) less a margin of about one question (eval/__main__.py thresholds_from); the gate reads the test columns only."
        }
        thresholds_all.update({r["mode"]: thresholds_from(r) for r in results})
        THRESHOLDS.write_text(
            json.dumps(thresholds_all, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        failed = []
    if failed:
        print("BELOW THRESHOLD:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
