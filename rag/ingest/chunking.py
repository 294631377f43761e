"""Article → token-budgeted chunks; a chunk never spans two paragraphs."""

from __future__ import annotations

import hashlib

from rag.language import tokens
from rag.language.text import has_words, split_sentences
from rag.language.timewords import annotate
from rag.records import Article, Chunk

# Overlap between the parts of a split paragraph: the last sentence of a part is repeated at the
# start of the next when it is at most this share of the budget (400 tokens → up to 140 tokens),
# so a claim that straddles the cut still has its context.
OVERLAP_SHARE = 0.35


def _hard_split(start: int, end: int, text: str, budget: int) -> list[tuple[int, int]]:
    """A single sentence (text[start:end]) longer than the budget: cut into the longest prefixes
    that fit (binary search on characters, so a cut never splits a character)."""
    out = []
    while start < end:
        lo, hi = start + 1, end
        while lo < hi:  # largest end whose token count fits
            mid = (lo + hi + 1) // 2
            if tokens.count(text[start:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        out.append((start, lo))
        start = lo
    return out


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence of the text stands in it (the split drops the spaces between them)."""
    spans: list[tuple[int, int]] = []
    at = 0
    for s in split_sentences(text):
        start = text.find(s, at)
        if start < 0:  # cannot happen for a verbatim split; keep the rest whole rather than lose it
            return spans + [(at, len(text))] if at < len(text) else spans
        spans.append((start, start + len(s)))
        at = start + len(s)
    return spans


def paragraph_spans(text: str, budget: int) -> list[tuple[int, int]]:
    """The parts of one paragraph as (start, end) in it, each within `budget` tokens, cut at
    sentence ends. A part is the paragraph's own text from its first sentence to its last (the
    spaces between them kept), so the parts put the paragraph back together."""
    if tokens.count(text) <= budget:
        return [(0, len(text))]
    sents: list[tuple[int, int]] = []
    for a, b in _sentence_spans(text):
        sents.extend(_hard_split(a, b, text, budget) if tokens.count(text[a:b]) > budget else [(a, b)])
    parts: list[list[tuple[int, int]]] = [[]]
    for s in sents:
        current = parts[-1]
        if current and tokens.count(text[current[0][0] : s[1]]) > budget:
            carry = current[-1]
            overlap = (
                [carry]
                if tokens.count(text[carry[0] : s[1]]) <= budget
                and tokens.count(text[carry[0] : carry[1]]) <= budget * OVERLAP_SHARE
                else []
            )
            parts.append(overlap + [s])
        else:
            current.append(s)
    return [(p[0][0], p[-1][1]) for p in parts if p]


def split_paragraph(text: str, budget: int) -> list[str]:
    """Parts of one paragraph, each within `budget` tokens, cut at sentence ends."""
    return [text[a:b] for a, b in paragraph_spans(text, budget)]


# bump when the same paragraphs would be chunked differently. 2: a part keeps the spaces between
# its sentences (it is the paragraph's own slice), so every split paragraph can be put back together.
# 3: a paragraph without words (a header line: a date, a lone "/") is not chunked, so re-ingest
# removes its chunk from a store written before.
CHUNKER_VERSION = 3


def embed_text(article: Article, chunk_text: str) -> str:
    """What is embedded: the chunk with relative years resolved (今年 → 今年（2022年）).

    The title is left out: in e5-small it pulls every short paragraph of a post towards the
    same point (eval: dense R@1 0.60 with the title, 0.67 without)."""
    return annotate(chunk_text, article.date)


def lexical_text(title: str, date: str, chunk_text: str) -> str:
    """What BM25 indexes: title words help tell posts apart and cost nothing in ranking."""
    return f"{title}\n{annotate(chunk_text, date)}"


def chunk_article(article: Article, budget: int) -> list[Chunk]:
    """Chunks in reading order. Ids derive from content, so unchanged text keeps its id.
    A paragraph without words gets no chunk (it is never a search hit) but keeps its number."""
    out: list[Chunk] = []
    for number, paragraph in enumerate(article.paragraphs, start=1):
        if not has_words(paragraph):
            continue
        for part, (start, end) in enumerate(paragraph_spans(paragraph, budget)):
            text = paragraph[start:end]
            digest = hashlib.sha1(f"{article.title}\x1f{article.date}\x1f{text}".encode()).hexdigest()[:12]
            out.append(
                Chunk(
                    id=f"{article.doc_id}:p{number}:{part}:{digest}",
                    doc_id=article.doc_id,
                    paragraph=number,
                    part=part,
                    text=text,
                    tokens=tokens.count(text),
                    start=start,
                    paragraph_chars=len(paragraph),
                )
            )
    return out
