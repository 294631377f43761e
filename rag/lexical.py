"""BM25 over jieba tokens, derived from the store's current chunks and cached under RAG_HOME."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from . import cache
from .text import STOPWORDS, words

# Okapi BM25 constants: the usual k1=1.2; b=0.5 rather than the usual 0.75, because chunks are
# already capped by the token budget and a news paragraph that holds many facts is long for a
# reason. Measured (scripts/bench_retrieval.py): seed R@1 0.94 → 0.96; seed + 200 generated posts
# R@1 0.79 → 0.81, English R@5 0.88 → 1.0. (b=0.3 scored higher still there, but the generated
# posts are shorter than real ones, which flatters weak length normalization.)
K1 = 1.2
B = 0.5
CACHE_VERSION = 1
# A chunk that matches only the corpus's everyday words (常州, 发展: idf ≈ 0.03 in a city's news)
# scores ~1% of a chunk that matches the question's subject. Rank fusion would still count it as
# a lexical vote, so matches below this share of the best score are not returned at all.
# (60 distractor posts: fused R@1 0.73 without the floor; see scripts/bench_retrieval.py.)
MIN_SHARE_OF_BEST = 0.1


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
        """Chunks ranked for a query: each of its tokens counts once."""
        return self.search_groups([[t] for t in index_tokens(query)], n, allowed)

    def search_groups(self, groups: Sequence[Sequence[str]], n: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Chunks ranked for groups of alternative terms: a group adds the score of its best term
        in the chunk, so an English word with five Chinese senses counts once, like one word."""
        scores: dict[int, float] = defaultdict(float)
        for group in dict.fromkeys(tuple(dict.fromkeys(g)) for g in groups):  # ordered: sums, hence ties, repeat
            best: dict[int, float] = {}
            for term in group:
                idf = self.idf.get(term, 0.0)
                if idf <= 0:
                    continue
                for row, tf in self.postings.get(term, ()):
                    norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.lengths[row] / self.avg_len))
                    best[row] = max(best.get(row, 0.0), idf * norm)
            for row, score in best.items():
                scores[row] += score
        out: list[tuple[str, float]] = []
        for row, score in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])):
            cid = self.ids[row]
            if allowed is not None and cid not in allowed:
                continue
            if out and score < MIN_SHARE_OF_BEST * out[0][1]:
                break
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
