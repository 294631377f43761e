"""Retrieval quality of dense-only, BM25-only and fused search, per question set and split.

Usage: python scripts/bench_retrieval.py [-v]          (the eval corpus: seed + CRUD-RAG posts)
       RAG_HOME=... python scripts/bench_retrieval.py --home [-v]   (a store of your own)
       python scripts/bench_retrieval.py --distractors 200 [-v]
           (a temporary store: the seed among 200 generated posts, scripts/distractors.py)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.corpus import corpus_home  # noqa: E402
from eval.data import load_sets  # noqa: E402
from eval.retrieval import retrieval_metrics, retrieval_rows  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.interfaces.service import Service  # noqa: E402
from rag.retrieval.retrieve import Retriever  # noqa: E402


def distracted_home(n: int) -> Path:
    """A temporary RAG_HOME holding the seed and `n` generated posts."""
    import tempfile

    from distractors import write  # scripts/ is on sys.path when this file runs

    from rag.ingest.pipeline import ingest

    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    write(tmp / "posts", n)
    svc = Service.from_settings(load_settings(RAG_HOME=tmp / "home"))
    t = time.perf_counter()
    ingest(
        [ROOT / "seeds", tmp / "posts"],
        store=svc.store,
        embedder=svc.embedder,
        budget=svc.settings.chunk_tokens,
    )
    print(f"ingested the seed and {n} generated posts in {time.perf_counter() - t:.1f} s ({tmp})")
    return tmp / "home"


def main() -> None:
    sets = load_sets()
    settings = load_settings()  # --home: the RAG_HOME of the environment
    if "--distractors" in sys.argv:
        home = distracted_home(int(sys.argv[sys.argv.index("--distractors") + 1]))
        settings = load_settings(RAG_HOME=home)
        sets = {"seed": sets["seed"]}
    elif "--home" not in sys.argv:
        settings = load_settings(RAG_HOME=corpus_home())
    svc = Service.from_settings(settings)
    items = [it for its in sets.values() for it in its]
    for name, dense, lexical in (("dense", True, False), ("bm25", False, True), ("fused", True, True)):
        r = Retriever(svc.store, svc.embedder, dense=dense, lexical=lexical, language=svc.language)
        for set_name, its in sets.items():
            for split in ("dev", "test"):
                group = [it for it in its if it.split == split]
                rows = retrieval_rows(
                    group, lambda q, k, r=r: [(h.chunk.doc_id, h.chunk.paragraph) for h in r.search(q, k)]
                )
                m = retrieval_metrics(rows)
                print(
                    f"{name:6s} {set_name}/{split:5s} "
                    + "  ".join(f"{k} {v:.3f}" for k, v in m.items())
                    + f"  (n={len(rows)})"
                )
                if "-v" in sys.argv and split == "dev":  # tune on dev: test is not read question by question
                    for row in rows:
                        if row["rank"] != 1:
                            print("   ", row["id"], row["rank"], row["retrieved"], row["question"])
    times = []
    for it in items[:50]:
        t = time.perf_counter()
        svc.retriever.search(it.question, 5)
        times.append(time.perf_counter() - t)
    print(
        f"in-process search latency: median {statistics.median(times) * 1000:.1f} ms over {len(times)} queries"
    )


if __name__ == "__main__":
    main()
