"""Citation verification, run after every answer (LLM or extractive).

Markers outside 1..k are dropped; claims whose numbers are not in their cited paragraphs are
dropped; each citation gets a verbatim quote from its paragraph; markers are renumbered by
first appearance. Everything removed is reported in `warnings`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .models import Citation, Hit, Status
from .prompts import is_sentinel, sentinel_for
from .text import char_ngrams, has_cjk, nfkc, number_values, numbers, split_sentences
from .timewords import implied_years

MARKER_RE = re.compile(r"[\[［【]\s*(\d{1,3}(?:\s*[,，、;；]\s*\d{1,3})*)\s*[\]］】]")
_QUOTED = re.compile(r"[“「『\"]([^”」』\"]{4,})[”」』\"]")
_TRAIL = re.compile(r"[。！？；!?;.，,、\s]+$")

# A cited sentence supports a Chinese claim when at least this share of the claim's character
# bigrams occur in it. A paraphrase of a 40-character sentence keeps ~10 of ~40 bigrams (0.25);
# an unrelated sentence of the same article shares ~2-4 (under 0.1).
MIN_SUPPORT = 0.15

# An English claim is supported by a Chinese paragraph when a quarter of its content words have
# a dictionary translation there (answers measured 0.5-0.83; leaked prompt text 0.0).
MIN_CROSS_SUPPORT = 0.25

# A sentence that says the sentinel ("文中未提及其他目标。") is short; a long one that merely
# contains it (a leaked prompt) is a claim like any other and needs citations.
SENTINEL_CLAIM_CHARS = 60

CrossScorer = Callable[[str, Sequence[str]], list[float]]  # claim, sentences → similarity


@dataclass
class Claim:
    text: str  # without markers
    markers: list[int] = field(default_factory=list)


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    warnings: list[str]
    status: Status


def split_claims(answer: str) -> list[Claim]:
    """Sentences of the answer with the markers that follow (or end) each one.

    A marker right after a terminator ("…150家。[1]") belongs to the sentence before it."""
    claims: list[Claim] = []
    for sent in split_sentences(answer):
        lead = re.match(r"^(\s*" + MARKER_RE.pattern + r")+", sent)
        if lead and claims:
            claims[-1].markers.extend(_marker_numbers(lead.group(0)))
            sent = sent[lead.end() :]
        marks = _marker_numbers(sent)
        text = MARKER_RE.sub("", sent).strip()
        if text:
            claims.append(Claim(text, marks))
        elif marks and claims:
            claims[-1].markers.extend(marks)
    return claims


def _marker_numbers(text: str) -> list[int]:
    return [int(n) for m in MARKER_RE.finditer(text) for n in re.split(r"[^\d]+", m.group(1)) if n]


def _support(claim: str, sentence: str) -> float:
    grams = char_ngrams(claim)
    return len(grams & char_ngrams(sentence)) / len(grams) if grams else 0.0


def _allowed_numbers(hit: Hit) -> set[float]:
    vals = number_values(hit.paragraph_text)
    vals |= {float(y) for y in implied_years(hit.paragraph_text, hit.date)}
    if hit.date:  # the block header shows the date
        y, m, d = hit.date.split("-")
        vals |= {float(y), float(int(m)), float(int(d))}
    vals.add(float(hit.chunk.paragraph))  # "¶13" / "paragraph 13"
    return {round(v, 6) for v in vals}


def best_sentences(claim: str, paragraph: str, cross: CrossScorer | None = None) -> tuple[int, float, list[str]]:
    """Index and support of the paragraph sentence that best supports `claim`."""
    sents = split_sentences(paragraph) or [paragraph]
    claim_nums = number_values(claim)
    if has_cjk(claim) or cross is None:
        scores = [_support(claim, s) + 0.3 * len(claim_nums & number_values(s)) for s in sents]
    else:
        sims = cross(claim, sents)
        scores = [sim + 0.3 * len(claim_nums & number_values(s)) for sim, s in zip(sims, sents)]
    best = max(range(len(sents)), key=lambda i: scores[i])
    return best, scores[best], sents


def _quote_span(paragraph: str, sents: list[str], idxs: list[int]) -> str:
    """The paragraph's own text from the first to the last supporting sentence, with whatever
    whitespace stands between its sentences (news text often has runs of spaces there)."""
    lo, hi = min(idxs), max(idxs)
    starts, pos = [], 0
    for s in sents:
        i = paragraph.find(s, pos)
        starts.append(i)
        pos = i + len(s) if i >= 0 else pos
    if starts[lo] >= 0 and starts[hi] >= 0:
        return paragraph[starts[lo] : starts[hi] + len(sents[hi])]
    return "".join(sents[lo : hi + 1])


def verify(raw: str, hits: Sequence[Hit], question: str, cross: CrossScorer | None = None) -> Verified:
    """Check an answer's citations against the hits it was written from (markers 1..len(hits))."""
    warnings: list[str] = []
    k = len(hits)
    question_numbers = number_values(question)
    claims = split_claims(raw)
    kept: list[tuple[str, list[int]]] = []  # claim text, valid hit indexes (1-based, original)
    support: dict[int, list[int]] = {}  # hit index → supporting sentence indexes
    sentences_of: dict[int, list[str]] = {}
    saw_sentinel = False

    for claim in claims:
        if is_sentinel(claim.text) and len(claim.text) <= SENTINEL_CLAIM_CHARS and not numbers(claim.text):
            saw_sentinel = True
            kept.append((claim.text, []))
            continue
        valid = []
        for n in dict.fromkeys(claim.markers):
            if 1 <= n <= k:
                valid.append(n)
            else:
                warnings.append(f"invalid_citation: [{n}] is not one of the {k} context blocks; dropped")
        # every number must be in a cited paragraph (or the question)
        cited_numbers: set[float] = set()
        for n in valid:
            cited_numbers |= _allowed_numbers(hits[n - 1])
        bad = [surface for surface, v in numbers(claim.text) if round(v, 6) not in cited_numbers and round(v, 6) not in question_numbers]
        if bad:
            warnings.append(f"ungrounded_number: {', '.join(bad)} not in the cited paragraphs; claim dropped: {claim.text[:60]}")
            continue
        # each citation must support the claim; the quote is the best sentence of its paragraph
        amounts = {round(v, 6) for _, v in numbers(claim.text) if not 1900 <= v <= 2100} - question_numbers
        final = []
        for n in valid:
            hit = hits[n - 1]
            idx, score, sents = best_sentences(claim.text, hit.paragraph_text, cross)
            holds_none = bool(amounts) and not (amounts & _allowed_numbers(hit))  # cites for 150家 a paragraph without 150
            if has_cjk(claim.text):
                unsupported = score < MIN_SUPPORT
            else:  # English prose over a Chinese paragraph: its words looked up in the dictionary
                from .crossling import coverage

                unsupported = not amounts and coverage(claim.text, hit.paragraph_text) < MIN_CROSS_SUPPORT
            if unsupported or holds_none:
                warnings.append(f"unsupported_citation: [{n}] ({hit.ref}) does not support: {claim.text[:60]}")
                continue
            for quoted in _QUOTED.findall(claim.text):
                if nfkc(quoted) not in nfkc(hit.paragraph_text) and not any(nfkc(quoted) in nfkc(h.paragraph_text) for h in hits):
                    warnings.append(f"quote_not_in_source: “{quoted[:40]}” is not in {hit.ref}; quote repaired to its best sentence")
            sentences_of[n] = sents
            support.setdefault(n, []).append(idx)
            final.append(n)
        if not final:  # a claim nobody can check is not shown as part of the answer
            if not valid:
                warnings.append(f"uncited_sentence: dropped: {claim.text[:60]}")
            continue
        kept.append((claim.text, final))

    # renumber by first appearance
    dropped: set[int] = set()
    order: dict[int, int] = {}
    citations = []
    for _, ns in kept:
        for old in ns:
            if old in order or old in dropped:
                continue
            hit = hits[old - 1]
            quote = _quote_span(hit.paragraph_text, sentences_of[old], support[old])
            if nfkc(quote) not in nfkc(hit.paragraph_text):  # cannot happen by construction; checked anyway
                warnings.append(f"quote_not_verbatim: {hit.ref}; citation dropped")
                dropped.add(old)
                continue
            order[old] = len(order) + 1
            citations.append(Citation(n=order[old], doc_id=hit.chunk.doc_id, title=hit.title, date=hit.date, paragraph=hit.chunk.paragraph, ref=hit.ref, text=hit.paragraph_text, quote=quote))

    parts = []
    for text, ns in kept:
        marks = "".join(f"[{order[n]}]" for n in ns if n in order)
        body = _TRAIL.sub("", text)
        tail = text[len(body) :].strip()
        parts.append(f"{body}{marks}{tail}")
    joiner = "" if has_cjk(question) or has_cjk(raw) else " "
    text = joiner.join(parts).strip()

    status: Status
    if not citations:
        status = "not_found"
        if not saw_sentinel and claims:
            warnings.append("no_verified_citations: nothing in the answer could be checked against the sources")
        text = sentinel_for(question)
    elif saw_sentinel:
        status = "partial"
    else:
        status = "answered"
    return Verified(text=text, citations=citations, warnings=warnings, status=status)
