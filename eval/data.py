"""The labeled sets: questions with key facts, gold paragraphs, expected status and a fixed split.

Two sets, both asked against one corpus (the seed plus every CRUD-RAG post):
- `seed`: questions about the seed article (eval/seed/questions.jsonl);
- `crud`: CRUD-RAG questions kept with hand-written key facts (eval/crud/labels.jsonl, written
  by eval/crud/curate.py from eval/crud/questions.jsonl).
Every question carries its split, `dev`, `test` or `seen`, fixed once by a hash of its id
(`split_of`; a CRUD-RAG question by its item's); questions written after the rules were fitted go
to `test` (their `origin` says so); questions something was fitted on are `seen` (eval/splits.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
SEED_DIR = EVAL_DIR / "seed"
CRUD_DIR = EVAL_DIR / "crud"
SEED_QUESTIONS = SEED_DIR / "questions.jsonl"
SUMMARY_FACTS = SEED_DIR / "summary_facts.json"
CRUD_LABELS = CRUD_DIR / "labels.jsonl"
# a few dev posts' key facts: summary choices are made on them (the seed's are the bar)
CRUD_SUMMARY_FACTS = CRUD_DIR / "summary_facts.json"
CRUD_REWORDED = CRUD_DIR / "paraphrases.jsonl"  # dev questions reworded to tune on (paraphrases.py)
CRUD_ENGLISH = CRUD_DIR / "english.jsonl"  # CRUD-RAG questions machine-translated (translate.py)
TRAIN_DIR = EVAL_DIR / "train"  # more CRUD-RAG items, posts of their own: what models are fitted on
TRAIN_QUESTIONS = TRAIN_DIR / "questions.jsonl"
SEED_DOC = "000_ad50afaed758b5d7"
SETS = ("seed", "crud")  # asked by default: the gate and the calibration read these
EXTRA_SETS = ("english",)  # asked on request (--sets): CRUD-RAG's questions in English
SPLITS = ("dev", "test", "seen")  # seen: in-sample whatever the hash said (eval/splits.py)
TRAIN = "train"  # the train set's one split: never asked by the eval, never gated
STATUSES = ("answered", "partial", "not_found")
_BARE_NUMBER = re.compile(r"\s*\d+(?:\.\d+)?\s*")


def split_of(question_id: str) -> str:
    """`dev` or `test`, from a hash of the id: about half each, and never moves."""
    return "dev" if int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


@dataclass
class Item:
    id: str
    set: str
    split: str
    question: str
    kind: str
    facts: list[list[str]]  # each fact: its acceptable variants
    gold: list[tuple[str, int]]  # (doc_id, paragraph) that hold the answer
    status: str  # the right status: answered | partial | not_found
    reference: str = ""  # CRUD-RAG's reference answer (free text), for character F1
    rejection_exclude: tuple[str, ...] = ()  # posts to leave out when the answer must be not_found
    extra: dict = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return self.status != "not_found"


class LabelError(ValueError):
    """A labeled file breaks a rule of the yardstick (named question and field)."""


def _check(it: Item) -> Item:
    if it.split not in SPLITS and not (it.set == TRAIN and it.split == TRAIN):
        raise LabelError(f"{it.id}: split {it.split!r} is not one of {SPLITS}")
    if it.status not in STATUSES:
        raise LabelError(f"{it.id}: status {it.status!r} is not one of {STATUSES}")
    if it.answerable and not (it.facts and it.gold):
        raise LabelError(f"{it.id}: an answerable question needs facts and gold paragraphs")
    _check_facts(it.id, it.facts)
    return it


def _check_facts(owner: str, facts: list[list[str]]) -> None:
    for fact in facts:
        for v in fact:
            if not v.strip() or _BARE_NUMBER.fullmatch(v):
                # "150" would match 1500家, 第150期 and 150%: a number is a fact only with its unit
                raise LabelError(
                    f"{owner}: fact variant {v!r} is empty or a bare number; write it with its unit"
                )


def load_summary_facts() -> dict[str, list[list[str]]]:
    """The seed's summary facts and the CRUD-RAG dev posts', by post, each checked as questions'
    facts are."""
    seed = json.loads(SUMMARY_FACTS.read_text(encoding="utf-8"))
    dev = json.loads(CRUD_SUMMARY_FACTS.read_text(encoding="utf-8"))
    if dev["split"] != "dev":
        raise LabelError(
            f"{CRUD_SUMMARY_FACTS.name}: split {dev['split']!r}; summary choices are made on dev"
        )
    out = {seed["doc_id"]: seed["facts"], **dev["posts"]}
    for doc_id, facts in out.items():
        if not facts:
            raise LabelError(f"{doc_id}: a summary needs facts to be scored")
        _check_facts(doc_id, facts)
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_seed(path: Path = SEED_QUESTIONS) -> list[Item]:
    out = []
    for row in _jsonl(path):
        known = {k: row.pop(k) for k in ("id", "question", "kind", "facts", "status", "split")}
        doc = row.pop("doc_id", SEED_DOC)
        gold = [(doc, p) for p in row.pop("paragraphs")]
        out.append(_check(Item(set="seed", gold=gold, **known, extra=row)))
    return out


def load_crud(
    path: Path = CRUD_LABELS, reworded: Path | None = CRUD_REWORDED, set_name: str = "crud"
) -> list[Item]:
    out = []
    rows = _jsonl(path) + (_jsonl(reworded) if reworded and reworded.exists() else [])
    for row in rows:
        if not row["kept"]:
            continue
        out.append(
            _check(
                Item(
                    id=row["id"],
                    set=set_name,
                    split=row["split"],
                    question=row["question"],
                    kind=row["kind"],
                    facts=row["facts"],
                    gold=[(d, p) for d, p in row["gold"]],
                    status="answered",
                    reference=row["reference"],
                    rejection_exclude=tuple(row["rejection_exclude"]),
                    extra={
                        "docs": row["docs"],
                        **{k: row[k] for k in ("origin", "rewords", "split_before", "seen_why") if k in row},
                    },
                )
            )
        )
    return out


def load_train(path: Path = TRAIN_QUESTIONS) -> list[Item]:
    """The train set (eval/train, see its README): CRUD-RAG key-fact questions of items the eval
    never asks, each answer one fact; `not_found` rows are the benchmark's own 无法推断 near misses.
    Rows whose reference answer is inside the question, or is a bare number (it would match 150家 and
    第150期 alike), are left out: they teach nothing sound about where an answer is. Gold paragraphs are the paragraphs of `answer_in_docs` that hold the
    answer (`gold_paragraphs`)."""
    from rag.ingest.loader import load_article

    from .score import fact_found

    posts = TRAIN_DIR / "posts"
    paragraphs = {}  # doc_id -> [(¶, text)], read once per post
    out = []
    for row in _jsonl(path):
        if row.get("answer_in_question"):
            continue
        facts = [[a] for a in row["answers"] if a.strip() and not _BARE_NUMBER.fullmatch(a)]
        gold = []
        for doc in row.get("answer_in_docs", []):
            if doc not in paragraphs:
                paragraphs[doc] = list(enumerate(load_article(posts / f"{doc}.md", []).paragraphs, 1))
            gold += [(doc, n) for n, text in paragraphs[doc] if any(fact_found(f, text) for f in facts)]
        status = row["status"]
        if status != "not_found" and not gold:
            continue  # no answer to look for, or nowhere verbatim: no sentence to learn from
        out.append(
            _check(
                Item(
                    id=row["id"],
                    set=TRAIN,
                    split=TRAIN,
                    question=row["question"],
                    kind=row["kind"],
                    facts=facts if status != "not_found" else [],
                    gold=gold,
                    status=status,
                    reference="；".join(row["answers"]),
                    rejection_exclude=tuple(row["docs"]) if status != "not_found" else (),
                    extra={"docs": row["docs"], "item": row["crud_item_id"]},
                )
            )
        )
    return out


def load_sets(names: tuple[str, ...] = SETS) -> dict[str, list[Item]]:
    loaders = {
        "seed": load_seed,
        "crud": load_crud,
        "english": lambda: load_crud(CRUD_ENGLISH, reworded=None, set_name="english"),
    }
    return {name: loaders[name]() for name in names}
