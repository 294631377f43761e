"""Fixed question slices for runs too slow for the whole eval (a real local model: issue 27).

`python -m eval.slicing` writes `dev.txt` and `heldout.txt`, one question id per line, chosen
by a hash of the question's CRUD-RAG item (or of a seed question's id) within each kind — never by
what a question asks or how it was answered — so the lists do not move when answers change.
`python -m eval --slice eval/slices/heldout.txt` asks exactly those questions (and the CRUD-RAG
ones again without their sources, as always).

- dev: 20 seed dev questions and 21 CRUD-RAG dev ones, 7 each of 1doc, 2docs and 3docs
  (the reworded ones are copies of others: left out); every choice of the LLM path is made here.
- heldout: every seed test question (the repaired `test`, 32) and 21 CRUD-RAG test questions,
  7 of each kind: run once before and once after a change, aggregates only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent / "slices"
DEV, HELDOUT = HERE / "dev.txt", HERE / "heldout.txt"
SEED_DEV = 20
PER_KIND = 7
KINDS = ("1doc", "2docs", "3docs")


def _key(question_id: str) -> str:
    item = re.search(r"[0-9a-f]{24}", question_id)
    return hashlib.sha256((item.group(0) if item else question_id).encode()).hexdigest()


def choose(items: Iterable, split: str, seed_count: int | None) -> list[str]:
    """Ids of `split`: `seed_count` seed questions (None: all) and PER_KIND CRUD-RAG ones per kind,
    each group in the order of its hash."""
    items = [it for it in items if it.split == split]
    seed = sorted((it.id for it in items if not it.id.startswith("crud-")), key=_key)
    out = seed if seed_count is None else seed[:seed_count]
    for kind in KINDS:
        out += sorted((it.id for it in items if it.id.startswith(f"crud-{kind}-")), key=_key)[:PER_KIND]
    return out


def read(path: Path) -> set[str]:
    """The ids of a slice file (blank lines and # comments ignored)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def main() -> None:
    from eval.data import load_sets

    items = [it for its in load_sets(("seed", "crud")).values() for it in its]
    for path, split, seed_count in ((DEV, "dev", SEED_DEV), (HELDOUT, "test", None)):
        ids = choose(items, split, seed_count)
        path.write_text(
            f"# {split} slice, written by `python -m eval.slicing` (eval/slicing.py)\n"
            + "\n".join(ids)
            + "\n",
            encoding="utf-8",
        )
        print(f"{path.name}: {len(ids)} questions")


if __name__ == "__main__":
    main()
