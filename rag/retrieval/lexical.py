"""BM25 over jieba tokens, derived from the store's current chunks and cached under RAG_HOME.

The index is a few numpy arrays: each chunk's terms and counts (rows in chunk-id order) and the
same turned around (each term's chunks). It is saved as one `.npz` (no pickle), loads in tens
of milliseconds at 10,000 posts, and is updated, not rebuilt, when posts come and go: only new
chunks are read and tokenized (`BM25Index.updated`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rag import cache
from rag.language.text import STOPWORDS, words
from rag.store.chroma import doc_of

# Okapi BM25 constants: the usual k1=1.2; b=0.5 rather than the usual 0.75, because chunks are
# already capped by the token budget and a news paragraph that holds many facts is long for a
# reason (figures: docs/rules.md, "Retrieval").
K1 = 1.2
B = 0.5
CACHE_VERSION = 2
# A chunk that matches only the corpus's everyday words (常州, 发展: idf ≈ 0.03 in a city's news)
# scores ~1% of a chunk that matches the question's subject. Rank fusion would still count it as
# a lexical vote, so matches below this share of the best score are not returned at all
# (figures: docs/rules.md).
MIN_SHARE_OF_BEST = 0.1
_SEP = "\n"  # ids and terms are joined with it when saved (neither holds a newline)

# (chunk id, text to index) for the chunks an index lacks
Fetch = Callable[[Sequence[str]], Iterable[tuple[str, str]]]


def index_tokens(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


class BM25Index:
    """BM25 over chunks. Rows are in chunk-id order, so a cached, updated or fresh index over
    the same chunks ranks ties the same way."""

    def __init__(self, ids: Sequence[str], docs_tokens: Sequence[Sequence[str]]) -> None:
        empty = _Rows(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float64))
        self._set(*_with_rows([], [], {}, empty, zip(ids, docs_tokens)))

    def _set(
        self,
        ids: list[str],
        vocab: list[str],
        rows: _Rows,
        term_id: dict[str, int] | None = None,
        inverted: _Rows | None = None,
    ) -> None:
        """Install the forward index (each row's terms and counts) and derive the rest (the
        inverted index, each term's rows and counts, is derived unless given: a cached one is)."""
        self.ids, self.vocab = ids, vocab
        self.term_id = term_id if term_id is not None else {t: i for i, t in enumerate(vocab)}
        self.fwd = rows
        ptr, terms, tfs = rows
        n = len(ids)
        row_of = np.repeat(np.arange(n, dtype=np.int32), np.diff(ptr))
        lengths = np.bincount(row_of, weights=tfs, minlength=n)
        avg = float(lengths.mean()) if n else 1.0
        # the length part of BM25's denominator, per row: K1 * (1 - B + B * len / avg)
        self._norm = K1 * (1 - B + B * lengths / (avg or 1.0))
        if inverted is None:
            by_term = np.argsort(terms, kind="stable")
            df = np.bincount(terms, minlength=len(vocab))
            inverted = _Rows(
                np.concatenate(([0], np.cumsum(df))).astype(np.int64), row_of[by_term], tfs[by_term]
            )
        self.inv = inverted
        self.post_ptr, self.post_rows, self.post_tfs = inverted
        df = np.diff(self.post_ptr)
        # BM25+-style IDF floor at 0 so that a term in every chunk adds nothing rather than subtracting
        self._idf = np.maximum(0.0, np.log((n - df + 0.5) / (df + 0.5) + 1.0))
        self._df = df

    # ---- questions ------------------------------------------------------------------------------
    def term_idf(self, term: str) -> float:
        """IDF of a term; unseen terms get the IDF of a term seen once (they are rare, not noise)."""
        t = self.term_id.get(term)
        if t is not None and self._df[t]:
            return float(self._idf[t])
        n = len(self.ids)
        return math.log((n - 0.5) / 1.5 + 1.0) if n else 0.0

    def docs_with_all(self, terms: Sequence[str]) -> set[str] | None:
        """The posts whose chunks hold every one of `terms` that the index knows (a name no post
        holds narrows nothing); None when it knows none of them."""
        out: set[str] | None = None
        for term in dict.fromkeys(terms):
            t = self.term_id.get(term)
            if t is None:
                continue
            rows = self.post_rows[self.post_ptr[t] : self.post_ptr[t + 1]]
            docs = {doc_of(self.ids[r]) for r in rows}
            out = docs if out is None else out & docs
        return out

    def search(self, query: str, n: int, allowed: AbstractSet[str] | None = None) -> list[tuple[str, float]]:
        """Chunks ranked for a query: each of its tokens counts once."""
        return self.search_groups([[t] for t in index_tokens(query)], n, allowed)

    def search_groups(
        self, groups: Sequence[Sequence[str]], n: int, allowed: AbstractSet[str] | None = None
    ) -> list[tuple[str, float]]:
        """Chunks ranked for groups of alternative terms: a group adds the score of its best term
        in the chunk, so an English word with five Chinese senses counts once, like one word.
        `allowed` None means every chunk of the index."""
        scores = np.zeros(len(self.ids), np.float64)
        for group in dict.fromkeys(
            tuple(dict.fromkeys(g)) for g in groups
        ):  # ordered: sums, hence ties, repeat
            best: np.ndarray | None = None
            for term in group:
                t = self.term_id.get(term)
                if t is None or self._idf[t] <= 0:
                    continue
                lo, hi = self.post_ptr[t], self.post_ptr[t + 1]
                rows, tf = self.post_rows[lo:hi], self.post_tfs[lo:hi]
                part = np.zeros(len(self.ids), np.float64)
                part[rows] = self._idf[t] * tf * (K1 + 1) / (tf + self._norm[rows])
                best = part if best is None else np.maximum(best, part)
            if best is not None:
                scores += best
        found = np.flatnonzero(scores)
        found = found[np.lexsort((found, -scores[found]))]  # best first; ties in chunk-id order
        out: list[tuple[str, float]] = []
        for row in found:
            cid = self.ids[row]
            if allowed is not None and cid not in allowed:
                continue
            score = float(scores[row])
            if out and score < MIN_SHARE_OF_BEST * out[0][1]:
                break
            out.append((cid, score))
            if len(out) >= n:
                break
        return out

    # ---- change ---------------------------------------------------------------------------------
    def updated(self, current: Iterable[str], fetch: Fetch) -> BM25Index:
        """This index for the chunk set `current`: rows of chunks gone are dropped, chunks new to
        it are fetched and tokenized; the rest is reused as it is (no text is read again)."""
        current = set(current)
        have = {cid: row for row, cid in enumerate(self.ids)}
        keep = np.asarray(sorted(have[c] for c in current if c in have), np.int64)
        missing = sorted(c for c in current if c not in have)
        if not missing and len(keep) == len(self.ids):
            return self
        kept = _take(self.fwd, keep)
        new = ((cid, index_tokens(text)) for cid, text in fetch(missing))
        out = BM25Index.__new__(BM25Index)
        out._set(*_with_rows([self.ids[r] for r in keep], list(self.vocab), dict(self.term_id), kept, new))
        return out

    # ---- disk -----------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """One `.npz` of plain arrays, written atomically (a read-only home only costs the cache)."""
        arrays: dict[str, Any] = {
            "ids": _joined(self.ids),
            "vocab": _joined(self.vocab),
            "ptr": self.fwd.ptr,
            "terms": self.fwd.terms,
            "tfs": self.fwd.tfs,
            "post_ptr": self.inv.ptr,
            "post_rows": self.inv.terms,
            "post_tfs": self.inv.tfs,
        }
        cache.write_atomically(path, lambda fh: np.savez(fh, **arrays))

    @classmethod
    def load(cls, path: Path) -> BM25Index | None:
        """The index saved at `path`, or None when absent or unreadable (a cache is never required)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                out = cls.__new__(cls)
                out._set(
                    _split(z["ids"]),
                    _split(z["vocab"]),
                    _Rows(z["ptr"], z["terms"], z["tfs"]),
                    inverted=_Rows(z["post_ptr"], z["post_rows"], z["post_tfs"]),
                )
                return out
        except (OSError, ValueError, KeyError, EOFError):
            return None


class _Rows(NamedTuple):
    """Rows of (id, count) pairs: row r's ids are terms[ptr[r]:ptr[r+1]], their counts tfs[…].
    Forward, a row is a chunk and ids are terms; inverted, a row is a term and ids are chunks."""

    ptr: np.ndarray
    terms: np.ndarray
    tfs: np.ndarray


def _take(rows: _Rows, order: np.ndarray) -> _Rows:
    """The rows `order` of a forward index, in that order."""
    lengths = np.diff(rows.ptr)[order]
    ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    index = np.repeat(rows.ptr[:-1][order] - ptr[:-1], lengths) + np.arange(ptr[-1])
    return _Rows(ptr, rows.terms[index], rows.tfs[index])


def _with_rows(
    ids: list[str],
    vocab: list[str],
    term_id: dict[str, int],
    rows: _Rows,
    new: Iterable[tuple[str, Sequence[str]]],
) -> tuple[list[str], list[str], _Rows, dict[str, int]]:
    """`rows` (of `ids`) and the tokenized chunks `new` as one forward index in chunk-id order;
    new terms extend `vocab`/`term_id` in place."""
    ids = list(ids)
    terms: list[int] = []
    tfs: list[float] = []
    lengths: list[int] = []
    for cid, tokens in new:
        counts = Counter(tokens)
        for term, tf in counts.items():
            t = term_id.get(term)
            if t is None:
                t = term_id[term] = len(vocab)
                vocab.append(term)
            terms.append(t)
            tfs.append(tf)
        ids.append(cid)
        lengths.append(len(counts))
    tail = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))) + rows.ptr[-1]
    both = _Rows(
        np.concatenate((rows.ptr, tail[1:])),
        np.concatenate((rows.terms, np.asarray(terms, np.int32))),
        np.concatenate((rows.tfs, np.asarray(tfs, np.float64))),
    )
    order = np.asarray(sorted(range(len(ids)), key=ids.__getitem__), np.int64)
    return [ids[i] for i in order], vocab, _take(both, order), term_id


def _joined(items: Sequence[str]) -> np.ndarray:
    return np.frombuffer(_SEP.join(items).encode(), dtype=np.uint8)


def _split(raw: np.ndarray) -> list[str]:
    text = raw.tobytes().decode()
    return text.split(_SEP) if text else []


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed by another process meanwhile
        return 0.0


def load_or_update(cache_dir: Path, stamp: str, current: Iterable[str], fetch: Fetch) -> BM25Index:
    """The index for `stamp`: from its cache file, else the latest cached index updated to
    `current` (or built from nothing), saved for next time with older files removed."""
    path = cache_dir / f"bm25-v{CACHE_VERSION}-{stamp}.npz"
    index = BM25Index.load(path)
    if index is not None:
        return index
    older = sorted(cache_dir.glob(f"bm25-v{CACHE_VERSION}-*.npz"), key=_mtime, reverse=True)
    base = next((i for i in map(BM25Index.load, older[:1]) if i is not None), None)
    index = (base or BM25Index([], [])).updated(current, fetch)
    index.save(path)
    for old in older:
        if old != path:
            old.unlink(missing_ok=True)
    return index
