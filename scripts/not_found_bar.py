"""What other not-found bars would have given on a model run's dev rows, without running the model
again: where the model said "not found" in mode llm and the reader's confidence reaches a bar below
the run's, the reader's answer to the same question (from an extractive run) is taken instead.

    python scripts/not_found_bar.py --llm DIR/results-llm.json --extractive DIR/results-extractive.json

The bar only chooses between two answers already made, so this is what the service would have
answered (the reader is deterministic). Dev rows only: test rows are dropped before anything is
read, so a bar is never chosen on held-out figures. The table is `compare_runs.py`'s, one column a
bar (seconds left out: a replayed row keeps the run it came from).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from compare_runs import table

Row = dict
BARS = (0.8, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.2)
TIMES = ("median seconds per answer", "whole run")


def dev_only(run: dict) -> dict:
    """The run with its test rows (questions and rejection runs) dropped."""
    return {
        **run,
        "rows": [r for r in run["rows"] if r["split"] == "dev"],
        "rejection_rows": [r for r in run.get("rejection_rows", []) if r["split"] == "dev"],
    }


def replay(rows: list[Row], reader: list[Row], bar: float) -> list[Row]:
    """`rows` as they would be at `bar`: a model's "not found" gives way to the reader's answer to
    the same question when the reader answers with at least that confidence."""
    answers = {r["id"]: r for r in reader}
    return [
        answers[r["id"]]
        if r["mode"] == "llm"
        and r["status"] == "not_found"
        and r["confidence"] >= bar
        and answers[r["id"]]["status"] != "not_found"
        else r
        for r in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--llm", type=Path, required=True, help="results-llm.json of a model run")
    parser.add_argument(
        "--extractive", type=Path, required=True, help="results-extractive.json, same questions"
    )
    args = parser.parse_args()
    llm = dev_only(json.loads(args.llm.read_text(encoding="utf-8")))
    reader = dev_only(json.loads(args.extractive.read_text(encoding="utf-8")))
    runs = {
        f"bar {bar}": {
            **llm,
            "rows": replay(llm["rows"], reader["rows"], bar),
            "rejection_rows": replay(llm["rejection_rows"], reader["rejection_rows"], bar),
        }
        for bar in BARS
    }
    print(table(runs, skip=TIMES))


if __name__ == "__main__":
    main()
