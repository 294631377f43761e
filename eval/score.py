"""Scoring: strict Chinese-aware fact matching, answer precision, gold-based citations, citation
checks re-derived from an answer's JSON. Pure functions over answer dicts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from rag.analysis.question import is_note
from rag.language.text import NUMBER_RE, STOPWORDS, UNIT_SCALE, has_cjk, nfkc, number_values, words
from rag.language.timewords import implied_years
from rag.verification.verify import MARKER_RE, split_claims

_SPACES = re.compile(r"[\s,，]+")
_QUOTES = re.compile(r"[“”‘’「」『』\"']")
_NUMERAL = set("0123456789〇零一二三四五六七八九十百千万亿两")
# English unit words a fact may use for the article's Chinese ones (2.5 trillion yuan = 2.5万亿元)
_UNIT_ALIASES = {"yuan": "元", "percent": "%"}
_QUANTITY = re.compile(
    r"(?:约|近|超过|超|逾|达|大约|接近)?(\d+(?:\.\d+)?)(万亿|亿|万|千|trillion|billion|million|thousand)?([^\d]{0,4}?)(?:以上|左右|多|余)?"
)


def normalize(text: str) -> str:
    """NFKC, lower case, no spaces, thousands separators or quote marks; Chinese fractions as
    digits (三分之二 → 2/3; 十四五 stays a name)."""
    t = nfkc(text).lower()
    t = re.sub(
        r"([一二三四五六七八九十]+)分之([一二三四五六七八九十]+)",
        lambda m: f"{_cn(m.group(2))}/{_cn(m.group(1))}",
        t,
    )
    return _QUOTES.sub("", _SPACES.sub("", t))


def _cn(s: str) -> str:
    try:
        import cn2an

        return str(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError, ImportError):
        return s


def _bounded(fact: str, text: str) -> bool:
    """`fact` occurs in `text` as a whole: a number is not part of a longer one (3个 is not in
    第13个, 50% not in 150%) nor an ordinal (150 is not in 第150期), a word not part of a longer
    word (eight is not in eighteen)."""
    start = 0
    while (i := text.find(fact, start)) >= 0:
        start = i + 1
        before = text[i - 1] if i else ""
        after = text[i + len(fact)] if i + len(fact) < len(text) else ""
        if fact[0] in _NUMERAL and (before in _NUMERAL or before in ".第"):
            continue
        if fact[-1].isdigit() and (after.isdigit() or after == "."):
            continue
        if fact[0].isascii() and fact[0].isalpha() and before.isascii() and before.isalpha():
            continue
        if fact[-1].isascii() and fact[-1].isalpha() and after.isascii() and after.isalpha():
            continue
        return True
    return False


def _fact_quantity(fact: str) -> tuple[float, str] | None:
    """(value, unit) when the fact is one amount (2.5万亿元 → (2.5e12, 元)), else None."""
    m = _QUANTITY.fullmatch(normalize(fact))
    if not m or not m.group(3):
        return None
    value = float(m.group(1)) * UNIT_SCALE.get(m.group(2) or "", 1.0)
    unit = m.group(3)
    return round(value, 6), _UNIT_ALIASES.get(unit, unit)


def _answer_quantities(text: str) -> list[tuple[float, str]]:
    """(value, what follows the number) for every whole, non-ordinal number in the text."""
    out = []
    for m in NUMBER_RE.finditer(text):
        if m.start() and text[m.start() - 1] == "第":
            continue
        whole, frac, unit, pct = m.groups()
        value = float(whole.replace(",", "") + (frac or "")) * (UNIT_SCALE[unit.lower()] if unit else 1.0)
        rest = ("%" if pct else "") + text[m.end() :].lstrip()
        for en, zh in _UNIT_ALIASES.items():
            if rest.startswith(en):
                rest = zh + rest[len(en) :]
        out.append((round(value, 6), rest))
    return out


def fact_found(variants: Sequence[str], answer: str) -> bool:
    """A fact is found when one of its variants occurs in the answer as a whole (see `_bounded`),
    or when it is an amount with a unit that the answer states in another form
    (2.5万亿元 = 25000亿元, 3.60% = 3.6%): same value, same unit, not an ordinal."""
    norm = normalize(answer)
    spaced = _QUOTES.sub("", nfkc(answer).lower())  # English variants keep their word boundaries
    quantities = None
    for v in variants:
        english = bool(re.search(r"[a-z]{2}", v.lower()))
        nv = _QUOTES.sub("", nfkc(v).lower()) if english else normalize(v)
        if nv and _bounded(nv, spaced if english else norm):
            return True
        q = _fact_quantity(v)
        if q:
            if quantities is None:
                quantities = _answer_quantities(spaced)
            value, unit = q
            if any(val == value and rest.startswith(unit) for val, rest in quantities):
                return True
    return False


def fact_recall(facts: Sequence[Sequence[str]], answer: str) -> float:
    if not facts:
        return 1.0
    return sum(fact_found(f, answer) for f in facts) / len(facts)


def answer_sentences(answer: str) -> list[str]:
    """The answer's claims (markers removed), without a sentence that only says the sentinel or
    counts a list's items."""
    return [c.text for c in split_claims(answer) if not is_note(c.text)]


def answer_precision(facts: Sequence[Sequence[str]], answer: str) -> tuple[int, int]:
    """(sentences that carry a labeled fact, sentences): a dump of every retrieved sentence
    carries few, an answer that says only what was asked carries all."""
    sents = answer_sentences(answer)
    return sum(1 for s in sents if any(fact_found(f, s) for f in facts)), len(sents)


def answer_chars(answer: str) -> int:
    """Length of the answer text without markers or whitespace."""
    return len(re.sub(r"\s+", "", MARKER_RE.sub("", answer)))


def char_f1(answer: str, reference: str) -> float:
    """Character-level F1 (bag of characters, as CRUD-RAG and SQuAD-style Chinese QA score it)."""
    a = Counter(normalize(MARKER_RE.sub("", answer)))
    r = Counter(normalize(reference))
    common = sum((a & r).values())
    if not common:
        return 0.0
    p, rc = common / sum(a.values()), common / sum(r.values())
    return 2 * p * rc / (p + rc)


def gold_citation(cited: set[tuple[str, int]], gold: set[tuple[str, int]]) -> tuple[float | None, float]:
    """(precision, recall) of the cited paragraphs against the gold ones; precision is None when
    nothing is cited."""
    hit = len(cited & gold)
    return (hit / len(cited) if cited else None), (hit / len(gold) if gold else 0.0)


def _content(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 1 and not MARKER_RE.fullmatch(w)}


def citation_checks(ans: dict) -> dict[str, float | int]:
    """Validity of markers, verbatim quotes, and claim support (does the cited paragraph hold the
    claim's numbers and most of its words), re-derived from one answer's JSON."""
    cites = {c["n"]: c for c in ans.get("citations", [])}
    markers = [int(n) for m in MARKER_RE.finditer(ans["answer"]) for n in re.findall(r"\d+", m.group(1))]
    valid = sum(1 for n in markers if n in cites)
    quotes_ok = sum(1 for c in cites.values() if nfkc(c["quote"]) and nfkc(c["quote"]) in nfkc(c["text"]))
    supported = total = 0
    relevant = used = 0
    ungrounded = 0
    for claim in split_claims(ans["answer"]):
        if ans["status"] == "not_found" or is_note(claim.text):
            continue
        total += 1
        cited = [cites[n] for n in claim.markers if n in cites]
        text = "".join(c["text"] for c in cited)
        nums = number_values(claim.text)
        # relative years count as stated: in a 2022 post, 今年 grounds "2022" (DESIGN: answers resolve them)
        cited_nums = number_values(text) | {
            float(y) for c in cited for y in implied_years(c["text"], c["date"])
        }
        ungrounded += len(nums - cited_nums)
        cw = _content(claim.text)
        if has_cjk(claim.text):
            share = len(cw & _content(text)) / len(cw) if cw else 1.0
            ok = bool(cited) and nums <= cited_nums and share >= 0.5
        else:  # English prose over Chinese sources: only numbers can be checked mechanically
            ok = bool(cited) and nums <= cited_nums
        supported += ok
        for c in cited:
            used += 1
            if has_cjk(claim.text):
                shares_words = bool(cw & _content(c["text"]))
            else:  # English over Chinese: a word of the claim whose dictionary senses are in the paragraph
                from rag.language.crossling import coverage
                from rag.language.resources import language_for

                shares_words = coverage(claim.text, c["text"], language_for(None).english()) > 0
            relevant += shares_words or bool(nums & number_values(c["text"]))
    return {
        "markers": len(markers),
        "valid_markers": valid,
        "quotes": len(cites),
        "verbatim_quotes": quotes_ok,
        "claims": total,
        "supported_claims": supported,
        "citations_used": used,
        "relevant_citations": relevant,
        "ungrounded_numbers": ungrounded,
    }
