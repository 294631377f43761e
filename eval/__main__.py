"""Score the pipeline against eval/questions.jsonl: `python -m eval --mode extractive|mock|llm|all`.

Prints a table, writes eval/out/report-MODE.md and eval/out/results-MODE.json (per-question
rows), compares with eval/baseline.json and exits 1 when a metric falls below eval/thresholds.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .data import EVAL_DIR, SUMMARY_FACTS, load_items
from .retrieval import retrieval_metrics, retrieval_rows
from .score import citation_checks, fact_recall

THRESHOLDS = EVAL_DIR / "thresholds.json"
BASELINE = EVAL_DIR / "baseline.json"
SEEDS = EVAL_DIR.parent / "seeds"
# Metrics where lower is better; every other metric is better higher.
LOWER_IS_BETTER = {"false_not_found_rate", "ungrounded_numbers_per_answer", "median_latency_s"}


def _retriever_for(svc, sabotage: str | None):
    from rag.retrieve import Retriever

    if sabotage == "random-retriever":
        class RandomRetriever(Retriever):
            def search(self, query, k=5, filters=None):
                snap = self.snapshot()
                rng = random.Random(query)
                doc = next(iter(snap.docs.values()))
                paras = rng.sample(range(1, doc.n_paragraphs + 1), min(k, doc.n_paragraphs))
                return [self.paragraph_hit(doc.doc_id, p) for p in paras]

        return RandomRetriever(svc.store, svc.embedder, cache_dir=svc.settings.home / "cache")
    return svc.retriever


def run_mode(mode: str, args, svc) -> dict:
    from rag.answer import answer
    from rag.summarize import summarize

    items = load_items()
    retriever = _retriever_for(svc, args.sabotage)
    k = 1 if args.sabotage == "top1" else args.k
    llm = None
    server = None
    if mode == "mock":
        from rag.llm import OpenAIChat

        from .fake_llm import FakeLLMServer

        server = FakeLLMServer().start()
        svc.settings.openai_base_url = server.base_url
        llm = OpenAIChat.from_settings(svc.settings.model_copy(update={"llm_model": "fake-model"}))
    elif mode == "llm":
        if not svc.settings.llm_configured:
            raise SystemExit("--mode llm needs OPENAI_API_KEY and/or OPENAI_BASE_URL")
        from rag.llm import OpenAIChat

        if args.model:
            svc.settings.llm_model = args.model
        llm = OpenAIChat.from_settings(svc.settings)
    try:
        rrows = retrieval_rows(items, lambda q, kk: [(h.chunk.doc_id, h.chunk.paragraph) for h in retriever.search(q, min(kk, k))])
        rows = []
        for it in items:
            t = time.perf_counter()
            ans = answer(it.question, retriever=retriever, settings=svc.settings, llm=llm, k=k).model_dump()
            elapsed = time.perf_counter() - t
            if args.sabotage == "strip-citations":
                import re

                ans["answer"] = re.sub(r"\[\d+\]", "", ans["answer"])
                ans["citations"] = []
            cites = citation_checks(ans)
            cited_paras = {(c["doc_id"], c["paragraph"]) for c in ans["citations"]}
            rows.append({
                "id": it.id, "kind": it.kind, "question": it.question, "expected_status": it.status, "status": ans["status"],
                "fact_recall": fact_recall(it.facts, ans["answer"]) if it.answerable else None,
                "missing_facts": [f[0] for f in it.facts if not fact_recall([f], ans["answer"])] if it.answerable else [],
                "gold_cited": bool(cited_paras & {(it.doc_id, p) for p in it.paragraphs}) if it.answerable else None,
                "answer": ans["answer"], "mode": ans["mode"], "warnings": ans["warnings"],
                "cited": sorted(p for _, p in cited_paras), "gold": it.paragraphs, "latency_s": round(elapsed, 3), **cites,
            })
        if args.judge and mode == "llm":
            judge(rows, items, llm)
        summary = summarize(retriever=retriever, settings=svc.settings, llm=llm).model_dump()
        sfacts = json.loads(SUMMARY_FACTS.read_text(encoding="utf-8"))["facts"]
        summary_row = {"answer": summary["answer"], "coverage": fact_recall(sfacts, summary["answer"]), "missing": [f[0] for f in sfacts if not fact_recall([f], summary["answer"])], **citation_checks(summary)}
    finally:
        if server:
            server.stop()
    return {"mode": mode, "metrics": metrics(rrows, rows, summary_row), "rows": rows, "retrieval_rows": rrows, "summary": summary_row}


JUDGE_PROMPT = (
    "You grade answers about a news article. Question: {question}\nReference facts (any variant counts): {facts}\n"
    "Expected: {expected}\nAnswer to grade: {answer}\n\nReply with one word: CORRECT if the answer states the reference "
    "facts (or, when the expected result is not_found, says the article does not contain it), else WRONG."
)


def judge(rows: list[dict], items, llm) -> None:
    """Optional LLM-as-judge (real-model mode only, never in CI): adds `judge_correct` to rows."""
    by_id = {it.id: it for it in items}
    for r in rows:
        it = by_id[r["id"]]
        prompt = JUDGE_PROMPT.format(question=it.question, facts=" | ".join("/".join(f) for f in it.facts) or "(none)", expected=it.status, answer=r["answer"])
        try:
            verdict = llm.complete("You are a strict grader.", prompt, max_tokens=5).text.strip().upper()
        except Exception as exc:  # noqa: BLE001 - a judge failure leaves the row ungraded
            verdict = f"ERROR {type(exc).__name__}"
        r["judge_correct"] = verdict.startswith("CORRECT")


def metrics(rrows: list[dict], rows: list[dict], summary: dict) -> dict[str, float]:
    ans = [r for r in rows if r["expected_status"] != "not_found"]
    una = [r for r in rows if r["expected_status"] == "not_found"]
    tot = lambda key: sum(r[key] for r in rows)  # noqa: E731
    m = {**{k: round(v, 3) for k, v in retrieval_metrics(rrows).items()}}
    m["fact_recall"] = round(statistics.mean(r["fact_recall"] for r in ans), 3) if ans else 0.0
    m["gold_paragraph_cited"] = round(sum(r["gold_cited"] for r in ans) / len(ans), 3) if ans else 0.0
    m["not_found_accuracy"] = round(sum(r["status"] == "not_found" for r in una) / len(una), 3) if una else 1.0
    m["false_not_found_rate"] = round(sum(r["status"] == "not_found" for r in ans) / len(ans), 3) if ans else 0.0
    m["citation_validity"] = round(tot("valid_markers") / tot("markers"), 3) if tot("markers") else 0.0
    m["quote_verbatim"] = round(tot("verbatim_quotes") / tot("quotes"), 3) if tot("quotes") else 0.0
    m["citation_recall"] = round(tot("supported_claims") / tot("claims"), 3) if tot("claims") else 0.0
    m["citation_precision"] = round(tot("precise_citations") / tot("citations_used"), 3) if tot("citations_used") else 0.0
    m["ungrounded_numbers_per_answer"] = round(tot("ungrounded_numbers") / len(rows), 3) if rows else 0.0
    m["summary_coverage"] = round(summary["coverage"], 3)
    m["median_latency_s"] = round(statistics.median(r["latency_s"] for r in rows), 3) if rows else 0.0
    if rows and "judge_correct" in rows[0]:
        m["judge_accuracy"] = round(sum(r["judge_correct"] for r in rows) / len(rows), 3)
    return m


def report(result: dict, baseline: dict | None, thresholds: dict, elapsed: float) -> tuple[str, list[str]]:
    mode, m = result["mode"], result["metrics"]
    failures = []
    lines = [f"# Eval — mode `{mode}`", "", f"{len(result['rows'])} questions, run time {elapsed:.1f} s", "", "| metric | value | baseline | Δ | threshold | |", "|---|---|---|---|---|---|"]
    for key, value in m.items():
        base = (baseline or {}).get(key)
        delta = f"{value - base:+.3f}" if isinstance(base, (int, float)) else ""
        thr = thresholds.get(key)
        ok = ""
        if thr is not None:
            bad = value > thr if key in LOWER_IS_BETTER else value < thr
            ok = "FAIL" if bad else "ok"
            if bad:
                failures.append(f"{key} = {value} (threshold {thr})")
        lines.append(f"| {key} | {value} | {base if base is not None else ''} | {delta} | {thr if thr is not None else ''} | {ok} |")
    lines += ["", "## Questions that miss", ""]
    for r in result["rows"]:
        wrong_status = (r["status"] == "not_found") != (r["expected_status"] == "not_found")
        if wrong_status or (r["fact_recall"] is not None and r["fact_recall"] < 1) or r["gold_cited"] is False:
            lines.append(f"- {r['id']} `{r['status']}` (expected `{r['expected_status']}`) {r['question']} — missing {r['missing_facts']}, cited ¶{r['cited']}, gold ¶{r['gold']}")
    lines += ["", "## Summary", "", f"coverage {result['summary']['coverage']:.2f}, missing {result['summary']['missing']}", "", result["summary"]["answer"]]
    return "\n".join(lines) + "\n", failures


def table(results: list[dict]) -> str:
    keys = list(results[0]["metrics"])
    head = f"{'metric':32s}" + "".join(f"{r['mode']:>12s}" for r in results)
    return "\n".join([head, "-" * len(head)] + [f"{k:32s}" + "".join(f"{r['metrics'][k]:>12}" for r in results) for k in keys])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval", description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["extractive", "mock", "llm", "all"], default="all", help="all = extractive and mock (what CI runs)")
    ap.add_argument("--model", help="model name for --mode llm")
    ap.add_argument("-k", "--k", type=int, default=6, help="context paragraphs per answer")
    ap.add_argument("--sabotage", choices=["random-retriever", "top1", "strip-citations"], help="cripple the pipeline to show the eval fails")
    ap.add_argument("--out", type=Path, default=EVAL_DIR / "out")
    ap.add_argument("--home", type=Path, help="RAG_HOME to use (default: a fresh temporary one, seeded with seeds/)")
    ap.add_argument("--update-baseline", action="store_true", help="store this run's metrics as the baseline")
    ap.add_argument("--judge", action="store_true", help="with --mode llm: also ask the model to grade each answer (LLM-as-judge)")
    args = ap.parse_args(argv)

    from rag.config import load_settings
    from rag.ingest import ingest
    from rag.service import Service

    home = args.home or Path(tempfile.mkdtemp(prefix="rag-eval-"))
    os.environ["RAG_HOME"] = str(home)
    settings = load_settings(RAG_HOME=home, OPENAI_API_KEY=os.environ.get("OPENAI_API_KEY"), OPENAI_BASE_URL=os.environ.get("OPENAI_BASE_URL"))
    svc = Service.from_settings(settings)
    ingest([SEEDS], store=svc.store, embedder=svc.embedder, budget=settings.chunk_tokens)

    modes = ["extractive", "mock"] if args.mode == "all" else [args.mode]
    thresholds_all = json.loads(THRESHOLDS.read_text(encoding="utf-8")) if THRESHOLDS.exists() else {}
    baseline_all = json.loads(BASELINE.read_text(encoding="utf-8")) if BASELINE.exists() else {}
    args.out.mkdir(parents=True, exist_ok=True)
    results, failed = [], []
    for mode in modes:
        t = time.perf_counter()
        res = run_mode(mode, args, Service.from_settings(settings.model_copy()))
        elapsed = time.perf_counter() - t
        text, failures = report(res, baseline_all.get(mode), thresholds_all.get(mode, {}), elapsed)
        (args.out / f"report-{mode}.md").write_text(text, encoding="utf-8")
        (args.out / f"results-{mode}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
        res["elapsed"] = elapsed
        results.append(res)
        failed += [f"{mode}: {f}" for f in failures]
        base = baseline_all.get(mode) or {}
        moved = [f"{k} {base[k]} → {v}" for k, v in res["metrics"].items() if k in base and abs(v - base[k]) >= 0.01 and k != "median_latency_s"]
        print(f"[{mode}] {elapsed:.1f} s; vs baseline: {', '.join(moved) if moved else 'no metric moved'}")
    print(table(results))
    print(f"reports: {args.out}/report-*.md, rows: {args.out}/results-*.json")
    if args.update_baseline:
        baseline_all.update({r["mode"]: r["metrics"] for r in results})
        BASELINE.write_text(json.dumps(baseline_all, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if failed:
        print("BELOW THRESHOLD:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
