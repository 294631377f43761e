"""The reader's hand rules, each switched off in turn: dev figures with and without it.

    python scripts/ablate.py [--rules name_conflict,years_unsaid,...] [--out DIR]

A rule stays a hard rule beside the learned reader only if this table shows it earns its place
(STYLE.md, habit 11). Each row is one in-process run of `python -m eval --mode extractive --split
dev` with one rule of rag.answering.extractive.choose made a no-op (the rule's function replaced in the
module for that run only: an ablation, not a code path). Dev figures only: in-sample for the rules,
which were written against dev questions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# rule → (the name rag.answering.extractive reads it by, its value when switched off)
RULES = {
    "name_conflict": ("name_conflict", lambda *a, **k: False),  # another province or work
    "years_unsaid": ("years_unsaid", lambda *a, **k: False),  # a paragraph that never says the year
    "person_absent": ("person_absent", lambda *a, **k: False),  # an article that never names the person
    "amount_required": ("has_quantity", lambda *a, **k: True),  # "how many" answered with no amount
}
FIGURES = (
    ("seed/dev", "fact_recall"),
    ("seed/dev", "false_not_found_rate"),
    ("seed/dev", "not_found_accuracy"),
    ("crud/dev", "fact_recall"),
    ("crud/dev", "false_not_found_rate"),
    ("crud/dev", "rejection_rate"),
)


def run(out: Path) -> dict:
    from eval.__main__ import main as evaluate

    evaluate(["--mode", "extractive", "--split", "dev", "--out", str(out)])
    return json.loads((out / "results-extractive.json").read_text(encoding="utf-8"))["columns"]


def main() -> None:
    import rag.answering.extractive as reader

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", default=",".join(RULES))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("(all rules)", run(Path(tmp) / "all")))
        for rule in args.rules.split(","):
            name, off = RULES[rule]
            kept = getattr(reader, name)
            setattr(reader, name, off)
            try:
                rows.append((f"without {rule}", run(Path(tmp) / rule)))
            finally:
                setattr(reader, name, kept)
    print("| run | " + " | ".join(f"{c} {m}" for c, m in FIGURES) + " |")
    print("|---" * (len(FIGURES) + 1) + "|")
    for label, columns in rows:
        figs = [columns.get(c, {}).get(m) for c, m in FIGURES]
        print(f"| {label} | " + " | ".join("—" if v is None else f"{v:.3f}" for v in figs) + " |")


if __name__ == "__main__":
    main()
