"""Question → retrieved context → LLM or extractive answer → verified, cited Answer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.analysis.evidence import Evidence, Sentence, articles, gather
from rag.analysis.match import has_quantity, holds_kind, person_absent, years_unsaid
from rag.analysis.question import QuestionProfile, analyse
from rag.answering.extractive import Model, Reading, load_model, model_file, read, sentence_similarity
from rag.answering.llm import ChatModel, OnToken, truncated_warning
from rag.answering.prompts import Budget, context, load_template, system_prompt
from rag.config import Settings
from rag.errors import ConfigError, LLMError, QuestionError
from rag.language import tokens
from rag.language.text import has_cjk, nfkc
from rag.records import Answer, CrossScorer, Filters, Hit, Notice
from rag.retrieval.retrieve import Retriever
from rag.store.embeddings import bundled_embedder
from rag.verification.verify import MARKER_RE as MARKERS
from rag.verification.verify import Verified, verify

MAX_QUESTION_CHARS = 2000  # a question, not a document: ~2000 tokens at most, a quarter of an 8k window
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_question(question: str) -> str:
    """The question without control characters; QuestionError when nothing askable is left."""
    q = _CONTROL.sub("", question or "").strip()
    if not q:
        raise QuestionError("the question is empty")
    if len(q) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(q)} characters long; the limit is {MAX_QUESTION_CHARS}")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in q):
        raise QuestionError("the question has no words (only symbols or emoji)")
    return q


def cross_scorer(retriever: Retriever) -> CrossScorer:
    """Question/claim ↔ sentence similarity through the embedder: works across languages.

    Sentence vectors are kept for the scorer's life (one answer): the extractive step and
    verification score the same paragraphs' sentences, which are embedded once."""
    passages: dict[str, list[float]] = {}

    emb = retriever.sentence_embedder

    def score(claim: str, sentences: Sequence[str]) -> list[float]:
        q = emb.embed([claim], kind="query")[0]
        new = [t for t in dict.fromkeys(sentences) if t not in passages]
        if new:
            passages.update(zip(new, emb.embed(new, kind="passage")))
        return [sum(a * b for a, b in zip(q, passages[t])) for t in sentences]

    return score


# A question this short after another one leans on it ("那2025年呢？" is 8 characters; a question that
# stands alone names its subject and runs longer)
FOLLOW_UP_CHARS = 16


# What an answer must hold, by the kind of thing the question asks (question.KIND_PATTERNS)
ASKED = {
    "quantity": "how many or how much and the model's answer holds no amount",
    "time": "when and the model's answer names no time",
    "person": "who and the model's answer names no one the question does not",
    "place": "where and the model's answer names no place the question does not",
    "org": "which body and the model's answer names no organisation the question does not",
    "name": "for a name and the model's answer quotes none",
    "goal": "for an aim and the model's answer states none",
}


def holds_asked_kind(profile: QuestionProfile, text: str) -> bool:
    """The answer holds the kind of thing asked, as the reader judges a sentence (`holds_kind`):
    an amount (in the asked unit when one is named) for 多少, a time for 何时, a person for 谁, a
    place or body for 哪里/哪家, beyond what the question already says. Open questions and
    questions in two parts (one part may be answered) pass; so do English answers to all but
    how-many questions (the patterns read Chinese)."""
    if profile.kind not in ASKED or len(profile.parts) > 1:
        return True
    plain = MARKERS.sub("", text)
    norm = nfkc(plain).lower()
    if profile.kind == "quantity":
        return has_quantity(norm, profile.unit)
    if not has_cjk(plain):
        return True
    return holds_kind(profile, Sentence(0, 0, plain, norm))


def speaks_of_asked_year(profile: QuestionProfile, evidence: Sequence[Evidence], cited: set[str]) -> bool:
    """A question that names a year is answered from a paragraph that speaks of it: a model that
    answers "到2030年…" with the cited 2025 target is quoting true words about another year.
    Questions in two parts pass (each part may ask another year, as `holds_asked_amount`)."""
    if not profile.years or len(profile.parts) > 1:
        return True
    cited_ev = [ev for ev in evidence if ev.hit.ref in cited]
    return not cited_ev or any(not years_unsaid(profile, ev) for ev in cited_ev)


def names_asked_person(profile: QuestionProfile, evidence: Sequence[Evidence], cited: set[str]) -> bool:
    """A question about a person (李俊升) is answered from an article that names them: the
    articles of the cited paragraphs (their title and retrieved paragraphs) are read."""
    if not profile.people:
        return True
    told = articles(evidence)
    docs = {ev.doc_id for ev in evidence if ev.hit.ref in cited}
    return not docs or any(not person_absent(profile, told[d]) for d in docs)


def reader_model(settings: Settings, embedder_name: str) -> Model:
    """The fitted reader: RAG_READER_MODEL's file when set, else the one shipped for the embedder's
    profile (the light profile's when none was fitted for it)."""
    if settings.reader_model is None:
        return load_model(model_file(embedder_name))
    try:
        return load_model(settings.reader_model)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"RAG_READER_MODEL {settings.reader_model}: not a reader file scripts/train.py writes ({exc})"
        ) from None


# An English question over Chinese blocks: the model also reads the Chinese wording it searched
# with (a small model says "not found" of most English questions; on the dev slice's four English
# questions the wording alone changed nothing: eval/reports/llm-qwen2.5-coder-1.5b-dev-2026-12-05/).
WORDING_NOTE = "{question}\n(The same question in Chinese: {wording} Answer in English.)"


def with_wording(question: str, wording: str | None) -> str:
    """The question as the model reads it: with its Chinese wording, when there is one."""
    return WORDING_NOTE.format(question=question, wording=wording) if wording else question


@dataclass(frozen=True)
class Fallback:
    """Why a model's checked answer is not given: the extractive answer is, with `says` in an
    `llm_unverifiable` warning. `check` names the rule (docs/rules.md, tests)."""

    check: str
    says: str


def llm_fallback(
    checked: Verified, profile: QuestionProfile, evidence: Sequence[Evidence], reading: Reading, bar: float
) -> Fallback | None:
    """The policy between the model's answer and the extractive one, as named checks in order;
    None when the model's answer stands."""
    if checked.status == "not_found":
        if any(w.code == "no_verified_citations" for w in checked.warnings):
            # the model said things and none could be checked: quote the article instead
            return Fallback("no_verified_claim", "no claim of the model's answer could be verified")
        if bar < 1.0 and reading.text != profile.sentinel and reading.confidence >= bar:
            # a small model often says "not found" of a context that plainly holds the answer: a
            # quote the reader is sure of (RAG_LLM_NOT_FOUND_BAR) is given instead
            return Fallback(
                "not_found_but_likely",
                "the model said the context does not answer, and a retrieved sentence likely does",
            )
        return None
    cited = {c.ref for c in checked.citations}
    if not holds_asked_kind(profile, checked.text):
        # "上市企业超过多少家？" answered with sentences that hold no amount: true quotes, no answer
        return Fallback("asked_kind", f"the question asks {ASKED[profile.kind]}")
    if not speaks_of_asked_year(profile, evidence, cited):
        return Fallback("asked_year", "the question names a year that no cited paragraph speaks of")
    if not names_asked_person(profile, evidence, cited):
        return Fallback("asked_person", "the question is about a person that no cited article names")
    return None


TRANSLATION_TOKENS = 100  # a news question in Chinese is 15-40 tokens; room for a stray remark


def chinese_wording(question: str, llm: ChatModel, prompts_dir: Path) -> str | None:
    """The model's Chinese wording of an English question, searched beside the English one: the
    dictionary gives words, the model gives the names and phrases a Chinese report uses (Changzhou
    Daily → 常州日报). None when the reply holds no Chinese; an LLMError when the model fails."""
    system = load_template("translate", prompts_dir).render()
    reply = llm.complete(system, question, max_tokens=TRANSLATION_TOKENS)
    line = next((ln.strip().strip("\"“”'") for ln in reply.text.splitlines() if has_cjk(ln)), "")
    return line or None


def focus(hits: Sequence[Hit], order: Sequence[int], blocks: int) -> list[Hit]:
    """The hits a model reads: the `blocks` first of `order` (hit numbers, the reader's likeliest
    first); every hit in retrieval order when `blocks` is 0 or the reader gave no order."""
    if not blocks or not order:
        return list(hits)
    return [hits[n - 1] for n in order[:blocks]]


def retrieval_query(question: str, history: Sequence[str] | None) -> str:
    """A short follow-up ("那2025年呢？") is searched together with the previous question."""
    if history and len(nfkc(question)) < FOLLOW_UP_CHARS:
        return f"{history[-1]} {question}"
    return question


def answer(
    question: str,
    *,
    retriever: Retriever,
    settings: Settings,
    llm: ChatModel | None = None,
    filters: Filters | None = None,
    k: int | None = None,
    on_token: OnToken | None = None,
    history: Sequence[str] | None = None,
    on_draft: Callable[[Answer], None] | None = None,
) -> Answer:
    """Answer a question with verified citations. With `llm` None the answer is extractive; with
    a model, `on_draft` is first handed the extractive answer (shown while the model writes)."""
    q = clean_question(question)
    warnings: list[Notice] = []
    queries = [retrieval_query(q, history)]
    asked = q  # the question as the model reads it
    if llm is not None and not has_cjk(q):
        try:  # an English question is searched in the model's Chinese wording too
            wording = chinese_wording(queries[0], llm, settings.prompts_dir)
            queries += [wording] if wording else []
            asked = with_wording(q, wording)
        except LLMError as exc:  # the model failed: do not wait for it a second time
            warnings.append(Notice("llm_failed", f"{exc}; answered extractively instead"))
            llm = None
    hits = retriever.search_all(queries, k=k or settings.top_k, filters=filters)
    cross = None if has_cjk(q) else cross_scorer(retriever)
    idf = retriever.idf
    profile = analyse(q, idf, retriever.language)
    reader = reader_model(settings, retriever.embedder.name)
    similarity = sentence_similarity(retriever.sentence_embedder, reader, fitted=bundled_embedder)
    model_name: str | None = None
    usage: dict[str, int] | None = None
    raw: str | None = None
    evidence = gather(hits)  # the paragraphs, split and annotated once for the answers and their checks
    # the offline reader, once: the answer when there is no model's, and the confidence either way
    reading = (
        read(
            q,
            hits,
            idf,
            profile=profile,
            evidence=evidence,
            similarity=similarity,
            model=reader,
            language=retriever.language,
        )
        if hits
        else Reading(profile.sentinel, 0.0)
    )
    extractive = None
    drafted = False  # the extractive answer was handed to `on_draft`

    def offline() -> Answer:
        nonlocal extractive
        if extractive is None:
            checked = verify(
                reading.text, hits, q, cross, evidence=evidence, idf=idf, language=retriever.language
            )
            extractive = Answer(
                question=q,
                answer=checked.text,
                status=checked.status,
                mode="extractive",
                embedder=retriever.embedder.name,
                confidence=round(reading.confidence, 3),
                warnings=checked.warnings,
                citations=checked.citations,
            )
        return extractive

    if llm is not None and hits:
        if on_draft is not None:
            on_draft(offline())
            drafted = True
        system = system_prompt(settings, len(hits), q)
        template = load_template("answer", settings.prompts_dir)
        fixed = tokens.count(system, llm.model) + tokens.count(
            template.render(context="", question=asked), llm.model
        )
        shown = focus(hits, reading.order, settings.llm_context_blocks)
        packed, notes = Budget(settings.llm_context_tokens, settings.llm_max_tokens).pack(
            shown, fixed, llm.model
        )
        warnings += notes
        if len(packed) != len(hits):  # the marker list in the system prompt must match what is shown
            system = system_prompt(settings, len(packed), q)
        try:
            reply = llm.complete(
                system,
                template.render(context=context(packed), question=asked),
                max_tokens=settings.llm_max_tokens,
                on_token=on_token,
            )
            raw, model_name, usage = reply.text, reply.model, reply.usage
            if reply.truncated:
                warnings.append(truncated_warning(settings.llm_max_tokens))
        except LLMError as exc:
            warnings.append(Notice("llm_failed", f"{exc}; answered extractively instead"))
    checked = None
    if raw is not None:
        # the model saw the packed blocks: its markers number those
        seen = evidence if packed == list(hits) else gather(packed)
        checked = verify(raw, packed, q, cross, evidence=seen, idf=idf, language=retriever.language)
        unusable = llm_fallback(checked, profile, evidence, reading, settings.llm_not_found_bar)
        if unusable:
            warnings += [
                *checked.warnings,
                Notice("llm_unverifiable", f"{unusable.says}; answered extractively instead"),
            ]
            checked = None
    if checked is None:
        fallback = offline()
        if on_token is not None and not drafted:
            on_token(fallback.answer)  # nothing to stream: the whole verified answer at once
        return fallback.model_copy(
            update={"warnings": warnings + fallback.warnings, "usage": usage if raw is not None else None}
        )
    return Answer(
        question=q,
        answer=checked.text,
        status=checked.status,
        mode="llm",
        model=model_name,
        embedder=retriever.embedder.name,
        confidence=round(reading.confidence, 3),
        warnings=warnings + checked.warnings,
        citations=checked.citations,
        usage=usage,
    )
