"""Two ways to rank the quality profile's dense side, measured on the **dev** split only (R@k, MRR),
each fused with BM25 exactly as `Retriever.search` fuses (the profile's own Fusion weights):

    e5 W…         cos(question, chunk) by EmbeddingGemma + W × the same cosine by e5-small
    sentences A…  (1 − A) × cos(question, chunk) + A × the best cos(question, sentence of the chunk)

W = 0 and A = 0 are today's ranking. Run under the quality profile:

    RAG_EMBEDDER=sentence-transformers:$PWD/models/embeddinggemma-300m \\
      python scripts/probe_dense_sides.py e5 0 0.5 1
    RAG_EMBEDDER=… python scripts/probe_dense_sides.py sentences 0 0.5 1

The sentences' vectors (every readable sentence of the corpus's chunks, ~8,800; ~15 min on 2 cores
without AMX) are kept in eval/out/ for the next run. Nothing here reads a test question.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.corpus import DEFAULT_OUT, corpus_home  # noqa: E402
from eval.data import load_sets  # noqa: E402
from eval.retrieval import retrieval_metrics, retrieval_rows  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.interfaces.service import Service  # noqa: E402
from rag.language.text import readable_sentences  # noqa: E402
from rag.retrieval.retrieve import Retriever  # noqa: E402
from rag.store.embeddings import bundled_embedder, name_slug  # noqa: E402

SPLIT = "dev"


def unit(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=-1, keepdims=True)


def chunk_vectors(svc: Service) -> tuple[list[str], list[str], np.ndarray]:
    got = svc.store.chunks.get(include=["embeddings", "documents"])
    return got["ids"], got["documents"], unit(np.asarray(got["embeddings"], dtype=np.float32))


class MixedDense:
    """The store, whose dense search ranks by `score(question)` over its chunks (in `ids` order)."""

    def __init__(self, store, ids: list[str], score) -> None:
        self.store, self.ids, self.score, self.question = store, ids, score, ""

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def dense(self, vector, n: int, where=None):
        s = self.score(self.question)
        return [(self.ids[i], float(1 - s[i])) for i in np.argsort(-s)[:n]]


class Asked:
    """An embedder that only tells the store which question is searched (vectors come from tables)."""

    def __init__(self, inner, store: MixedDense) -> None:
        self.store, self.name, self.version = store, inner.name, inner.version

    def embed(self, texts, kind="passage"):
        self.store.question = texts[0]
        return [[0.0]]


def main() -> None:
    how, weights = sys.argv[1], [float(w) for w in sys.argv[2:]]
    svc = Service.from_settings(load_settings(RAG_HOME=corpus_home(log=lambda m: print(m, file=sys.stderr))))
    if not svc.embedder.name.startswith("sentence-transformers"):
        raise SystemExit("run under the quality profile: RAG_EMBEDDER=sentence-transformers:PATH")
    ids, texts, chunks = chunk_vectors(svc)
    sets = load_sets(("seed", "crud", "english"))
    questions = sorted({it.question for its in sets.values() for it in its if it.split == SPLIT})
    q = dict(zip(questions, unit(np.asarray(svc.embedder.embed(questions, kind="query"), dtype=np.float32))))
    if how == "e5":
        os.environ["RAG_EMBEDDER"] = "local"
        light = Service.from_settings(
            load_settings(RAG_HOME=corpus_home(log=lambda m: print(m, file=sys.stderr)))
        )
        light_ids, _, light_chunks = chunk_vectors(light)
        order = {cid: i for i, cid in enumerate(light_ids)}
        light_chunks = light_chunks[[order[cid] for cid in ids]]
        e5 = bundled_embedder()
        qe = dict(zip(questions, unit(np.asarray(e5.embed(questions, kind="query"), dtype=np.float32))))

        def scorer(w):
            return lambda text: chunks @ q[text] + w * (light_chunks @ qe[text])
    elif how == "sentences":
        cache = DEFAULT_OUT / f"probe-sentences-{name_slug(svc.embedder.name)}.npz"
        sentences = sorted({s for t in texts for s in readable_sentences(t)})
        kept = np.load(cache, allow_pickle=True) if cache.exists() else None
        if kept is not None and list(kept["texts"]) == sentences:
            vectors = kept["vectors"]
        else:
            vectors = np.asarray(svc.embedder.embed(sentences, kind="passage"), dtype=np.float32)
            np.savez(cache, texts=np.array(sentences, dtype=object), vectors=vectors)
        vectors = unit(vectors)
        row = {s: i for i, s in enumerate(sentences)}
        members = [[row[s] for s in readable_sentences(t)] for t in texts]

        def scorer(a):
            def score(text):
                sims = vectors @ q[text]
                best = np.array([sims[m].max() if m else -1.0 for m in members])
                return (1 - a) * (chunks @ q[text]) + a * best

            return score
    else:
        raise SystemExit(f"unknown probe {how!r}: e5 or sentences")
    for w in weights:
        store = MixedDense(svc.store, ids, scorer(w))
        r = Retriever(
            store, Asked(svc.embedder, store), cache_dir=svc.settings.home / "cache", language=svc.language
        )
        for name, items in sets.items():
            rows = retrieval_rows(
                [it for it in items if it.split == SPLIT],
                lambda text, k, r=r: [(h.chunk.doc_id, h.chunk.paragraph) for h in r.search(text, k)],
            )
            m = retrieval_metrics(rows)
            print(
                f"{how} {w:g} {name}/{SPLIT} "
                + "  ".join(f"{k} {v:.3f}" for k, v in m.items())
                + f" (n={len(rows)})"
            )


if __name__ == "__main__":
    main()
