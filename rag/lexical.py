"""BM25 over jieba tokens, derived from the store's current chunks and cached under RAG_HOME."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from . import cache
from .text import STOPWORDS, words

# Okapi BM25 constants: the usual k1=1.2, b=0.75 (Robertson & Zaragoza).
K1 = 1.2
B = 0.75
CACHE_VERSION = 1


def index_tokens(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


class BM25Index:
    """Posting lists (term → [(row, tf)]) over chunk texts; ids[row] is the chunk id."""

    def __init__(self, ids: Sequence[str], docs_tokens: Sequence[Sequence[str]]) -> None:
        self.ids = list(ids)
        self.lengths = [len(t) for t in docs_tokens]
        self.avg_len = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for row, toks in enumerate(docs_tokens):
            for term, tf in Counter(toks).items():
                postings[term].append((row, tf))
        self.postings = dict(postings)
        n = len(self.ids)
        # BM25+-style IDF floor at 0 so that a term in every chunk adds nothing rather than subtracting
        self.idf = {t: max(0.0, math.log((n - len(p) + 0.5) / (len(p) + 0.5) + 1.0)) for t, p in self.postings.items()}

    def term_idf(self, term: str) -> float:
        """IDF of a term; unseen terms get the IDF of a term seen once (they are rare, not noise)."""
        n = len(self.ids)
        return self.idf.get(term, math.log((n - 0.5) / 1.5 + 1.0) if n else 0.0)

    def search(self, query: str, n: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        scores: dict[int, float] = defaultdict(float)
        for term in set(index_tokens(query)):
            idf = self.idf.get(term, 0.0)
            if idf <= 0:
                continue
            for row, tf in self.postings.get(term, ()):
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[row] / self.avg_len))
                scores[row] += idf * norm
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        out = []
        for row, score in ranked:
            cid = self.ids[row]
            if allowed is None or cid in allowed:
                out.append((cid, score))
                if len(out) >= n:
                    break
        return out


def load_or_build(cache_dir: Path, stamp: str, build) -> BM25Index:
    """The cached index for `stamp`, or `build()` saved for next time (older stamps removed)."""
    path = cache_dir / f"bm25-v{CACHE_VERSION}-{stamp}.pkl"
    index = cache.load(path)
    if not isinstance(index, BM25Index):
        index = build()
        cache.save(path, index, replace_glob=f"bm25-v{CACHE_VERSION}-*.pkl")
    return index
