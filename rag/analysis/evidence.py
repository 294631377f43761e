"""The retrieved paragraphs, analysed once per answer: sentences with their normalized text, word
tokens, numbers (with the unit and the words attached to each) and the people named."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from rag.language.lexicon import ROLE_RE, person_names, pinyin
from rag.language.text import (
    MIN_SENTENCE_CHARS,
    NUMBER_RE,
    content_words,
    could_be_year,
    named,
    nfkc,
    numbers,
    split_sentences,
    words,
)
from rag.language.timewords import annotate, implied_years
from rag.records import Hit

# A person's title stands within this many characters before the name ("市委副书记、代理市长盛蕾": 9)
# or after it ("盛蕾市长", "盛蕾同志任市长"): where the roles of a name are read, and checked
ROLE_BEFORE = 12
ROLE_AFTER = 8
COUNTED_CHARS = 8  # a classifier and a noun of up to 6-7 characters: 个国家, 家上市企业
_CLAUSE = re.compile(r"[，,；;：:、（）()“”\"]")
# a list item's number where a clause begins: "2、结转不及预期" (not 1、2月, two months)
_ENUMERATOR = re.compile(r"(?:(?<=^)|(?<=[。！？；;：:\s)）(（]))\d{1,2}[、)）](?!\d)")


def titles_of(text: str, names: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each name → the titles within a few characters before or after it that stand nearer to it
    than to another of the names: in "（记者黄恒 高山）美国夏威夷州毛伊县", 记者 is 黄恒's, not 毛伊's."""
    spots = [(m.start(), m.end(), n) for n in names for m in re.finditer(re.escape(n), text)]
    out: dict[str, list[str]] = {n: [] for n in names}
    for m in ROLE_RE.finditer(text):
        dist = []
        for start, end, name in spots:
            if m.end() <= start and start - m.start() <= ROLE_BEFORE:
                dist.append((start - m.end(), 0, name))  # a title before its name wins a tie
            elif m.start() >= end and m.end() - end <= ROLE_AFTER:
                dist.append((m.start() - end, 1, name))
        if dist:
            out[min(dist)[2]].append(m.group(0))
    return {n: tuple(dict.fromkeys(r)) for n, r in out.items()}


@dataclass(frozen=True)
class Amount:
    """A number in a text: its value (units applied), what follows it, the words before it."""

    value: float
    unit: str  # the characters right after the number (家, 亿元, %…)
    surface: str
    subject: tuple[str, ...]  # content words of its clause before it (工业规模总量 for 2.5万亿元)
    ordinal: bool = False  # 第31届, or a list's "2、": which one, not how many
    counted: str = ""  # what follows it in its clause: the thing counted (30个国家, 150家上市企业)
    day_or_month: bool = False  # 27日, 8月, July 27: a date's part, not how many

    @property
    def is_year(self) -> bool:
        """2025年 is a date, not an amount."""
        return could_be_year(self.value) and self.unit.startswith("年")


_EN_MONTHS = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?"
)
_EN_MONTH_BEFORE = re.compile(rf"\b{_EN_MONTHS}\s+$", re.I)  # July 27
_EN_MONTH_REACH = 16  # "September. " and a few spaces: the look-back need not scan the whole text
# 27 July, the 27th of July (the number's match took the space after it)
_EN_MONTH_AFTER = re.compile(rf"(?:st|nd|rd|th)?\s*(?:of\s+)?{_EN_MONTHS}", re.I)


def amounts(text: str) -> list[Amount]:
    """Every number of a text with its unit and the words it is about."""
    t = nfkc(text)
    out = []
    spans = list(NUMBER_RE.finditer(t))
    values = numbers(t)
    for m, (surface, value) in zip(spans, values):
        start = max((c.end() for c in _CLAUSE.finditer(t, 0, m.start())), default=0)
        before = t[start : m.start()]
        unit = "%" if m.group(4) else t[m.end() : m.end() + 3]
        words = tuple(w for w in content_words(before) if not re.fullmatch(r"[\d.%年月日号]+", w))
        ordinal = t[max(0, m.start() - 1) : m.start()] == "第" or bool(_ENUMERATOR.match(t, m.start()))
        counted = _CLAUSE.split(t[m.end() : m.end() + COUNTED_CHARS])[0]
        day_or_month = unit.startswith(("月", "日", "号")) or (
            value <= 31
            and bool(
                _EN_MONTH_BEFORE.search(t, max(0, m.start() - _EN_MONTH_REACH), m.start())
                or _EN_MONTH_AFTER.match(t, m.end())
            )
        )
        out.append(Amount(round(value, 6), unit, surface, words, ordinal, counted, day_or_month))
    return out


@dataclass
class Sentence:
    n: int  # the block (hit) number, 1-based
    position: int  # index in its paragraph
    text: str  # as the paragraph has it
    norm: str  # relative years resolved, NFKC, lower case

    @cached_property
    def tokens(self) -> frozenset[str]:
        return frozenset(words(self.norm))

    @cached_property
    def amounts(self) -> list[Amount]:
        return amounts(self.norm)

    @cached_property
    def names(self) -> tuple[str, ...]:
        return person_names(self.text)


@dataclass
class Evidence:
    """One retrieved paragraph (its best hit), as read by the answerer and by verification."""

    n: int
    hit: Hit
    sentences: list[Sentence] = field(default_factory=list)

    @cached_property
    def norm(self) -> str:
        return nfkc(annotate(self.hit.paragraph_text, self.hit.date)).lower()

    @cached_property
    def tokens(self) -> frozenset[str]:
        return frozenset(words(self.norm))

    @cached_property
    def values(self) -> set[float]:
        """Numbers the paragraph's text states (relative years resolved; never its ¶ or date)."""
        vals = {a.value for a in amounts(self.norm)}
        return vals | {float(y) for y in implied_years(self.hit.paragraph_text, self.hit.date)}

    @cached_property
    def people(self) -> dict[str, tuple[str, ...]]:
        """Person name → the titles the paragraph gives it (see `titles_of`)."""
        text = self.hit.paragraph_text
        return titles_of(text, person_names(text))

    @cached_property
    def named(self) -> dict[str, frozenset[str]]:
        """kind → the names of that kind in the paragraph (see `text.named`)."""
        return named(self.hit.paragraph_text)

    @cached_property
    def pinyins(self) -> dict[str, str]:
        """pinyin → person name, for English names (盛蕾 → shenglei)."""
        return {pinyin(n): n for n in self.people}

    @property
    def doc_id(self) -> str:
        return self.hit.chunk.doc_id


def articles(evidence: Iterable[Evidence]) -> dict[str, str]:
    """doc_id → what its article says among the evidence: its title and its retrieved paragraphs
    (normalized, in retrieval order). A news paragraph leaves to its article what the article has
    said (the city, the meeting, the person)."""
    out: dict[str, str] = {}
    for ev in sorted(evidence, key=lambda e: e.n):
        out[ev.doc_id] = out.get(ev.doc_id, nfkc(ev.hit.title).lower()) + ev.norm
    return out


def gather(hits: Sequence[Hit]) -> list[Evidence]:
    """One Evidence per retrieved paragraph (numbered as the hits), sentences split once."""
    out: list[Evidence] = []
    seen: set[tuple[str, int]] = set()
    for n, h in enumerate(hits, 1):
        key = (h.chunk.doc_id, h.chunk.paragraph)
        if key in seen:
            continue
        seen.add(key)
        ev = Evidence(n, h)
        for j, s in enumerate(split_sentences(h.paragraph_text)):
            if len(nfkc(s)) >= MIN_SENTENCE_CHARS:
                ev.sentences.append(Sentence(n, j, s, nfkc(annotate(s, h.date)).lower()))
        out.append(ev)
    return out
