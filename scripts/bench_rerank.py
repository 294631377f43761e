"""Cost of the extractive answerer's second stage (e5 re-ranking): `read` with and without
it on the same retrieved hits, alternating, 50 seed questions, medians.

    python scripts/bench_rerank.py
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from eval.data import load_seed
from rag.answering.extractive import read, sentence_similarity
from rag.config import load_settings
from rag.ingest.pipeline import ingest
from rag.interfaces.service import Service

home = Path(tempfile.mkdtemp())
svc = Service.from_settings(load_settings(RAG_HOME=home))
ingest([Path("seeds")], store=svc.store, embedder=svc.embedder, budget=svc.settings.chunk_tokens)
svc = Service.from_settings(load_settings(RAG_HOME=home))
qs = [it.question for it in load_seed()][:50]
sim = sentence_similarity(svc.retriever.embedder)
idf = svc.retriever.idf
base, two = [], []
for q in qs:
    hits = svc.retriever.search(q, 6)
    for s, acc in ((None, base), (sim, two)) if len(base) % 2 == 0 else ((sim, two), (None, base)):
        t = time.perf_counter()
        read(q, hits, idf, similarity=s, language=svc.retriever.language)
        acc.append(time.perf_counter() - t)
print(
    f"read median: first stage only {statistics.median(base) * 1000:.0f} ms, with second stage {statistics.median(two) * 1000:.0f} ms, ratio {statistics.median(two) / statistics.median(base):.1f}; p95 {sorted(two)[int(0.95 * len(two))] * 1000:.0f} ms"
)
