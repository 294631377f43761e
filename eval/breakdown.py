"""Where answers miss, by question kind: a wrong "not found", the gold paragraph not retrieved
(outside the top 5: no choice of sentences can recover it), or a choice among retrieved
paragraphs that left the fact out. Unanswerable kinds count the questions answered anyway.

It says which step of the pipeline a column's misses belong to, so that a figure is read as a
retrieval ceiling or an answerer's error before anyone tunes for it."""

from __future__ import annotations

from collections.abc import Sequence

FIELDS = ("questions", "right", "not_found", "not_retrieved", "not_chosen", "answered_anyway")


def misses_by_kind(rows: Sequence[dict], retrieval: Sequence[dict]) -> dict[str, dict[str, int]]:
    """Counts per kind of question (FIELDS): `right` is full fact recall, or "not found" for an
    unanswerable question; every answerable miss falls in exactly one of not_found,
    not_retrieved (no gold paragraph in the retrieval rows' top 5) and not_chosen."""
    rank = {r["id"]: r["rank"] for r in retrieval}
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        c = out.setdefault(r["kind"], dict.fromkeys(FIELDS, 0))
        c["questions"] += 1
        if r["expected_status"] == "not_found":
            c["right" if r["status"] == "not_found" else "answered_anyway"] += 1
        elif r["fact_recall"] >= 1:
            c["right"] += 1
        elif r["status"] == "not_found":
            c["not_found"] += 1
        elif rank.get(r["id"]) is None:
            c["not_retrieved"] += 1
        else:
            c["not_chosen"] += 1
    return dict(sorted(out.items()))


def breakdown_table(counts: dict[str, dict[str, int]]) -> list[str]:
    """Markdown rows of `misses_by_kind`, with a total."""
    total = {f: sum(c[f] for c in counts.values()) for f in FIELDS}
    lines = [
        "| kind | questions | right | not found | gold not in top 5 | gold retrieved, not chosen | unanswerable, answered |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, c in [*counts.items(), ("all", total)]:
        lines.append(f"| {kind} | " + " | ".join(str(c[f]) for f in FIELDS) + " |")
    return lines
