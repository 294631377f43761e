"""The labeled set: questions with facts, supporting paragraphs and expected status."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
QUESTIONS = EVAL_DIR / "questions.jsonl"
SUMMARY_FACTS = EVAL_DIR / "summary_facts.json"
SEED_DOC = "000_ad50afaed758b5d7"


@dataclass
class Item:
    id: str
    question: str
    kind: str
    facts: list[list[str]]  # each fact: its acceptable variants
    paragraphs: list[int]
    status: str
    doc_id: str = SEED_DOC
    extra: dict = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return self.status != "not_found"


def load_items(path: Path = QUESTIONS) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        known = {k: row.pop(k) for k in ("id", "question", "kind", "facts", "paragraphs", "status") if k in row}
        items.append(Item(**known, doc_id=row.pop("doc_id", SEED_DOC), extra=row))
    return items
