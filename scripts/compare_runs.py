"""Eval runs side by side, in aggregates only: fact recall by set and kind of question, not-found,
rejection, answers given in mode llm, seconds per answer, the seed summary and the CRUD-RAG dev
summaries.

    python scripts/compare_runs.py before=DIR/results-llm.json after=… extractive=…

Held-out (test) rows are only ever counted and averaged here, never listed. The asked-kind count
re-checks each answer given in mode llm with today's `holds_asked_kind` (runs made before that
check reached LLM answers may hold some that fail it).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path

from rag.analysis.question import analyse
from rag.answering.answer import holds_asked_kind

Row = dict
Metric = Callable[[dict], str]


def mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.3f}" if values else "—"


def share(hits: int, of: int) -> str:
    return f"{hits} / {of}" if of else "—"


def not_found_share(rows: list[Row]) -> str:
    return share(sum(r["status"] == "not_found" for r in rows), len(rows))


def answerable(rows: list[Row], set_: str, kinds: tuple[str, ...] = ()) -> list[Row]:
    return [
        r
        for r in rows
        if r["set"] == set_ and r["expected_status"] != "not_found" and (not kinds or r["kind"] in kinds)
    ]


def fails_asked_kind(row: Row) -> bool:
    return not holds_asked_kind(analyse(row["question"], lambda _w: 1.0), row["answer"])


def metrics() -> list[tuple[str, Metric]]:
    def recall(set_: str, *kinds: str) -> Metric:
        return lambda run: mean([r["fact_recall"] for r in answerable(run["rows"], set_, kinds)])

    def false_not_found(set_: str) -> Metric:
        return lambda run: not_found_share(answerable(run["rows"], set_))

    def said_not_found(kind: str) -> Metric:
        return lambda run: not_found_share([r for r in run["rows"] if r["kind"] == kind])

    def rejection(run: dict) -> str:
        return not_found_share(run.get("rejection_rows", []))

    def in_llm_mode(run: dict) -> str:
        return share(sum(r["mode"] == "llm" for r in run["rows"]), len(run["rows"]))

    def asked_kind(run: dict) -> str:
        llm = [
            r
            for r in run["rows"] + run.get("rejection_rows", [])
            if r["mode"] == "llm" and r["status"] != "not_found"
        ]
        return share(sum(fails_asked_kind(r) for r in llm), len(llm))

    def seconds(run: dict) -> str:
        rows = run["rows"] + run.get("rejection_rows", [])
        return f"{statistics.median(r['latency_s'] for r in rows):.1f}" if rows else "—"

    def whole(run: dict) -> str:
        return f"{run['meta']['elapsed'] / 60:.1f} min"

    def summary(run: dict) -> str:
        s = run.get("summary")
        return f"{s['supported_claims']} claims / {s['coverage']:.2f}" if s else "—"

    def dev_summaries(run: dict) -> str:
        rows = run.get("dev_summaries")
        if not rows:
            return "—"
        claims = sum(s["supported_claims"] for s in rows)
        return f"{claims} claims / {statistics.mean(s['coverage'] for s in rows):.2f}"

    return [
        ("seed fact recall (answerable)", recall("seed")),
        ("seed false not-found", false_not_found("seed")),
        ("seed near misses said not found", said_not_found("near_miss")),
        ("seed unanswerable said not found", said_not_found("unanswerable")),
        ("CRUD-RAG fact recall", recall("crud")),
        ("— 1doc", recall("crud", "1doc")),
        ("— 2docs", recall("crud", "2docs")),
        ("— 3docs", recall("crud", "3docs")),
        ("CRUD-RAG false not-found", false_not_found("crud")),
        ("rejection (asked without the sources)", rejection),
        ("answers given in mode llm", in_llm_mode),
        ("mode-llm answers failing the asked-kind check", asked_kind),
        ("median seconds per answer", seconds),
        ("whole run", whole),
        ("seed summary: verified claims / coverage", summary),
        ("CRUD-RAG dev summaries (in-sample): verified claims / mean coverage", dev_summaries),
    ]


def table(runs: dict[str, dict], skip: tuple[str, ...] = ()) -> str:
    """The runs side by side, one metric a line; `skip` leaves out the metrics of those names."""
    lines = ["| | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for name, metric in metrics():
        if name in skip:
            continue
        lines.append(f"| {name} | " + " | ".join(metric(run) for run in runs.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="label=results-*.json")
    args = ap.parse_args()
    runs = {}
    for spec in args.runs:
        label, _, path = spec.partition("=")
        runs[label] = json.loads(Path(path).read_text(encoding="utf-8"))
    print(table(runs))


if __name__ == "__main__":
    main()
