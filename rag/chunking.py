"""Article → token-budgeted chunks; a chunk never spans two paragraphs."""

from __future__ import annotations

import hashlib

from . import tokens
from .records import Article, Chunk
from .text import split_sentences
from .timewords import annotate

# Overlap between the parts of a split paragraph: the last sentence of a part is repeated at the
# start of the next when it is at most this share of the budget (400 tokens → up to 140 tokens),
# so a claim that straddles the cut still has its context.
OVERLAP_SHARE = 0.35


def _hard_split(sentence: str, budget: int) -> list[str]:
    """A single sentence longer than the budget: cut into the longest prefixes that fit
    (binary search on characters, so a cut never splits a character)."""
    out = []
    rest = sentence
    while rest:
        lo, hi = 1, len(rest)
        while lo < hi:  # largest prefix length whose token count fits
            mid = (lo + hi + 1) // 2
            if tokens.count(rest[:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        out.append(rest[:lo])
        rest = rest[lo:]
    return out


def split_paragraph(text: str, budget: int) -> list[str]:
    """Parts of one paragraph, each within `budget` tokens, cut at sentence ends."""
    if tokens.count(text) <= budget:
        return [text]
    sents: list[str] = []
    for s in split_sentences(text):
        sents.extend(_hard_split(s, budget) if tokens.count(s) > budget else [s])
    parts: list[list[str]] = [[]]
    for s in sents:
        current = parts[-1]
        if current and tokens.count("".join(current + [s])) > budget:
            carry = current[-1]
            overlap = (
                [carry]
                if tokens.count(carry + s) <= budget and tokens.count(carry) <= budget * OVERLAP_SHARE
                else []
            )
            parts.append(overlap + [s])
        else:
            current.append(s)
    return ["".join(p) for p in parts if p]


CHUNKER_VERSION = 1  # bump when the same paragraphs would be chunked differently


def embed_text(article: Article, chunk_text: str) -> str:
    """What is embedded: the chunk with relative years resolved (今年 → 今年（2022年）).

    The title is left out: in e5-small it pulls every short paragraph of a post towards the
    same point (eval: dense R@1 0.60 with the title, 0.67 without)."""
    return annotate(chunk_text, article.date)


def lexical_text(title: str, date: str, chunk_text: str) -> str:
    """What BM25 indexes: title words help tell posts apart and cost nothing in ranking."""
    return f"{title}\n{annotate(chunk_text, date)}"


def chunk_article(article: Article, budget: int) -> list[Chunk]:
    """Chunks in reading order. Ids derive from content, so unchanged text keeps its id."""
    out: list[Chunk] = []
    for number, paragraph in enumerate(article.paragraphs, start=1):
        start = -1
        for part, text in enumerate(split_paragraph(paragraph, budget)):
            digest = hashlib.sha1(f"{article.title}\x1f{article.date}\x1f{text}".encode()).hexdigest()[:12]
            start = paragraph.find(text, start + 1)  # parts overlap but move forward
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
