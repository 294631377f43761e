"""The reader's learning curve: fit on a share of the train items (dev always in), score held out.

    python scripts/learning_curve.py [--fractions 0,0.25,0.5,1] [--examples eval/out/train-examples.pkl]

For each share, scripts/train.py fits a reader into a temporary file (logistic, the family chosen on
dev) and `python -m eval --mode extractive --split test` answers with it (RAG_READER_MODEL): the
table prints the held-out (test) aggregates only, as the eval's discipline asks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    ("seed/test", "fact_recall"),
    ("seed/test", "false_not_found_rate"),
    ("seed/test", "not_found_accuracy"),
    ("crud/test", "fact_recall"),
    ("crud/test", "false_not_found_rate"),
    ("crud/test", "rejection_rate"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fractions", default="0,0.25,0.5,1")
    ap.add_argument("--examples", default=str(ROOT / "eval" / "out" / "train-examples.pkl"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in (float(x) for x in args.fractions.split(",")):
            model = Path(tmp) / f"reader-{f}.json"
            fit = [sys.executable, str(ROOT / "scripts" / "train.py"), "--family", "logistic"]
            fit += ["--fraction", str(f), "--out", str(model), "--examples", args.examples]
            subprocess.run(fit, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            out = Path(tmp) / f"eval-{f}"
            ask = [sys.executable, "-m", "eval", "--mode", "extractive", "--split", "test", "--out", str(out)]
            env = {**os.environ, "RAG_READER_MODEL": str(model)}
            subprocess.run(ask, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # (exit 1 below a floor)
            columns = json.loads((out / "results-extractive.json").read_text(encoding="utf-8"))["columns"]
            source = json.loads(model.read_text(encoding="utf-8"))["source"]
            rows.append((f, [columns.get(c, {}).get(m) for c, m in FIGURES], source))
            print(f"share {f:.2f} done", file=sys.stderr)
    print("| train share | " + " | ".join(f"{c} {m}" for c, m in FIGURES) + " |")
    print("|---" * (len(FIGURES) + 1) + "|")
    for f, figs, _ in rows:
        print(f"| {f:.0%} | " + " | ".join("—" if v is None else f"{v:.3f}" for v in figs) + " |")
    for f, _, source in rows:
        print(f"\n{f:.0%}: {source}")


if __name__ == "__main__":
    main()
