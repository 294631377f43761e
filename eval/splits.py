"""Which questions may be held out: the `seen` set, and the rules that put a question there.

A question is **seen** when something was fitted on it or on its twin, so its figure is in-sample
whatever split its hash gave it; seen questions are reported apart and never gated.

- CRUD-RAG: questions of one item share posts (and often a gold paragraph), so they share a split.
  An item whose questions straddled dev and test when this rule came (2026-12-04) moved whole to
  `seen`; every other assignment is kept, and a question added later takes the split of its item's
  hash (`split_of(item)`).
- seed: the turn-one `q*`/`u*` test questions (the rules were first fitted on their kind), and every
  test question that asks the same fact of the same paragraph as a `dv-` question (rules were fitted
  on those; two are word-for-word copies).

`python -m eval.splits` applies the rules to the label files (idempotent) and prints counts only:
it reads test rows to move them out of test, never to show them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

from .data import CRUD_ENGLISH, CRUD_LABELS, CRUD_REWORDED, SEED_QUESTIONS, split_of

SEEN = "seen"
TURN_ONE = re.compile(r"[qu]\d+")  # seed questions written with the code, before any was held out


def item_of(question_id: str) -> str:
    """The CRUD-RAG item of a question id (`crud-2docs-<item>`, `crud-en-1doc-<item>`)."""
    return question_id.rsplit("-", 1)[1]


def row_item(row: dict) -> str:
    """The item of a labeled row; a reworded question (`crud-reworded-07`) is its source's."""
    return item_of(row.get("rewords") or row["id"])


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().replace(" ", "")


def same_fact(a: dict, b: dict) -> bool:
    """Two seed questions ask the same fact of the same paragraph: a gold ¶ and a fact variant shared."""
    facts = lambda r: {_norm(v) for f in r["facts"] for v in f}  # noqa: E731
    return bool(set(a["paragraphs"]) & set(b["paragraphs"])) and bool(facts(a) & facts(b))


def seed_seen(rows: list[dict]) -> dict[str, str]:
    """Test question id → why it is seen."""
    tuned = [r for r in rows if r["id"].startswith("dv-")]
    out = {}
    for r in rows:
        if r["split"] != "test":
            continue
        if TURN_ONE.fullmatch(r["id"]):
            out[r["id"]] = "turn-one question: the rules were first fitted on these"
            continue
        twins = [d["id"] for d in tuned if same_fact(r, d)]
        if twins:
            out[r["id"]] = f"asks the fact of the paragraph that {', '.join(twins)} asks (tuned on)"
    return out


def straddling_items(rows: list[dict]) -> set[str]:
    """CRUD-RAG items whose questions sit in both dev and test."""
    splits: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        splits[row_item(r)].add(r["split"])
    return {item for item, s in splits.items() if {"dev", "test"} <= s}


def crud_split(question_id: str, known: dict[str, str]) -> str:
    """A CRUD-RAG question's split: its item's, if the item is already split; else its item's hash."""
    return known.get(item_of(question_id)) or split_of(item_of(question_id))


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _mark(row: dict, why: str) -> None:
    row["split_before"] = row.get("split_before", row["split"])
    row["split"] = SEEN
    row["seen_why"] = why


def main() -> None:
    seed = _read(SEED_QUESTIONS)
    seen = seed_seen(seed)
    for r in seed:
        if r["id"] in seen:
            _mark(r, seen[r["id"]])
    _write(SEED_QUESTIONS, seed)

    labels = _read(CRUD_LABELS)
    items = straddling_items([r for r in labels if r["kept"] and r["split"] != SEEN])
    items |= {row_item(r) for r in labels if r["split"] == SEEN}  # moved by an earlier run
    why = "its CRUD-RAG item's questions straddled dev and test (they share posts)"
    for path in (CRUD_LABELS, CRUD_REWORDED, CRUD_ENGLISH):
        rows = labels if path == CRUD_LABELS else _read(path)
        for r in rows:
            if r["split"] != SEEN and row_item(r) in items:
                _mark(r, why)
        _write(path, rows)
    counts: dict[str, int] = defaultdict(int)
    for r in seed:
        counts[f"seed/{r['split']}"] += 1
    for r in labels:
        counts[f"crud/{r['split']}{'' if r['kept'] else ' (not kept)'}"] += 1
    print(f"seed: {len(seen)} more test questions seen; crud: {len(items)} items wholly seen")
    print(dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
