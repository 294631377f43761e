"""Scoring: Chinese-aware fact matching and citation checks. Pure functions over answer dicts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text import NUMBER_RE, STOPWORDS, has_cjk, nfkc, number_values, words
from rag.timewords import implied_years
from rag.verify import MARKER_RE, split_claims

_CN_DIGITS = "零一二三四五六七八九十百千万亿两"
_SPACES = re.compile(r"[\s,，]+")


def normalize(text: str) -> str:
    """NFKC, lower case, no spaces or thousands separators, Chinese numerals as digits where
    they are numbers (三分之二 → 2/3, 十四五 stays a name)."""
    t = nfkc(text).lower()
    t = re.sub(r"([一二三四五六七八九十]+)分之([一二三四五六七八九十]+)", lambda m: f"{_cn(m.group(2))}/{_cn(m.group(1))}", t)
    return _SPACES.sub("", t)


def _cn(s: str) -> str:
    try:
        import cn2an

        return str(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError, ImportError):
        return s


def fact_found(variants: Sequence[str], answer: str) -> bool:
    """A fact is found when a variant occurs in the answer, or when it is a number with a unit
    whose value the answer states (2.5万亿元 = 25000亿元 = 2.5 trillion)."""
    norm = normalize(answer)
    answer_values = number_values(answer)
    for v in variants:
        if normalize(v) in norm:
            return True
        vals = number_values(v)
        rest = NUMBER_RE.sub("", nfkc(v))
        if vals and re.fullmatch(r"[元家个以上左右\s]*", rest) and vals <= answer_values:
            return True
    return False


def fact_recall(facts: Sequence[Sequence[str]], answer: str) -> float:
    if not facts:
        return 1.0
    return sum(fact_found(f, answer) for f in facts) / len(facts)


def _content(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 1 and not MARKER_RE.fullmatch(w)}


def citation_checks(ans: dict) -> dict[str, float | int]:
    """Validity, recall and precision of one answer's citations, re-derived from its JSON."""
    cites = {c["n"]: c for c in ans.get("citations", [])}
    markers = [int(n) for m in MARKER_RE.finditer(ans["answer"]) for n in re.findall(r"\d+", m.group(1))]
    valid = sum(1 for n in markers if n in cites)
    quotes_ok = sum(1 for c in cites.values() if nfkc(c["quote"]) and nfkc(c["quote"]) in nfkc(c["text"]))
    supported = total = 0
    precise = used = 0
    ungrounded = 0
    for claim in split_claims(ans["answer"]):
        if ans["status"] == "not_found":
            break
        total += 1
        cited = [cites[n] for n in claim.markers if n in cites]
        text = "".join(c["text"] for c in cited)
        nums = number_values(claim.text)
        # relative years count as stated: in a 2022 post, 今年 grounds "2022" (DESIGN: answers resolve them)
        cited_nums = number_values(text) | {float(y) for c in cited for y in implied_years(c["text"], c["date"])}
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
            own = _content(c["text"])
            precise += bool((cw & own) or (nums & number_values(c["text"])))
    return {
        "markers": len(markers),
        "valid_markers": valid,
        "quotes": len(cites),
        "verbatim_quotes": quotes_ok,
        "claims": total,
        "supported_claims": supported,
        "citations_used": used,
        "precise_citations": precise,
        "ungrounded_numbers": ungrounded,
    }
