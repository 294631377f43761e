"""Retrieval metrics: recall@1/3/5 and MRR of the gold paragraphs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .data import Item

Search = Callable[[str, int], Sequence[tuple[str, int]]]  # question, k → [(doc_id, paragraph)]


def retrieval_rows(items: Sequence[Item], search: Search, k: int = 5) -> list[dict]:
    """One row per answerable item: rank of the first gold paragraph (None if not in top k)."""
    rows = []
    for it in items:
        if not it.answerable:
            continue
        got = list(search(it.question, k))
        gold = set(it.gold)
        rank = next((i for i, ref in enumerate(got, 1) if ref in gold), None)
        rows.append({"id": it.id, "question": it.question, "rank": rank, "retrieved": [list(r) for r in got]})
    return rows


def retrieval_metrics(rows: Sequence[dict]) -> dict[str, float]:
    n = len(rows) or 1
    out = {f"R@{k}": sum(1 for r in rows if r["rank"] and r["rank"] <= k) / n for k in (1, 3, 5)}
    out["MRR"] = sum(1 / r["rank"] for r in rows if r["rank"]) / n
    return out
