"""Relative time words resolved against a post's date: in a post of 2022-02-08, 今年 is 2022."""

from __future__ import annotations

import re

# word → offset in years from the post's year
YEAR_WORDS = {
    "今年": 0,
    "本年": 0,
    "当年": 0,
    "明年": 1,
    "来年": 1,
    "后年": 2,
    "去年": -1,
    "上年": -1,
    "前年": -2,
}
_YEAR_RE = re.compile("|".join(sorted(YEAR_WORDS, key=len, reverse=True)))


def post_year(date: str) -> int | None:
    return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None


def resolve_years(text: str, date: str) -> list[tuple[str, int]]:
    """(word, year) for each relative year word in `text`, given the post's ISO date."""
    year = post_year(date)
    if year is None:
        return []
    return [(m.group(0), year + YEAR_WORDS[m.group(0)]) for m in _YEAR_RE.finditer(text)]


def annotate(text: str, date: str) -> str:
    """`text` with each relative year word followed by its year: 今年 → 今年（2022年）."""
    year = post_year(date)
    if year is None:
        return text
    return _YEAR_RE.sub(lambda m: f"{m.group(0)}（{year + YEAR_WORDS[m.group(0)]}年）", text)


def implied_years(text: str, date: str) -> set[int]:
    """Years a text refers to through relative words (used to ground numbers like 2022)."""
    return {y for _, y in resolve_years(text, date)}
