"""Retrieval quality of dense-only, BM25-only and fused search on eval/questions.jsonl.

Usage: RAG_HOME=... python scripts/bench_retrieval.py   (after `rag ingest seeds/`)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.data import load_items  # noqa: E402
from eval.retrieval import retrieval_metrics, retrieval_rows  # noqa: E402
from rag.retrieve import Retriever  # noqa: E402
from rag.service import Service  # noqa: E402


def main() -> None:
    svc = Service.from_settings()
    items = load_items()
    for name, dense, lexical in (("dense", True, False), ("bm25", False, True), ("fused", True, True)):
        r = Retriever(svc.store, svc.embedder, dense=dense, lexical=lexical)
        rows = retrieval_rows(items, lambda q, k, r=r: [(h.chunk.doc_id, h.chunk.paragraph) for h in r.search(q, k)])
        m = retrieval_metrics(rows)
        print(f"{name:6s} " + "  ".join(f"{k} {v:.3f}" for k, v in m.items()) + f"  (n={len(rows)})")
        if "-v" in sys.argv:
            for row in rows:
                if row["rank"] != 1:
                    print("   ", row["id"], row["rank"], row["retrieved"], row["question"])
    times = []
    for it in items[:50]:
        t = time.perf_counter()
        svc.retriever.search(it.question, 5)
        times.append(time.perf_counter() - t)
    print(f"in-process search latency: median {statistics.median(times) * 1000:.1f} ms over {len(times)} queries")


if __name__ == "__main__":
    main()
