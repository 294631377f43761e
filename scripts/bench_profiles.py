"""The light and quality profiles side by side, in one process, alternating: docs/embedders.md.

    python scripts/bench_profiles.py [--questions 40]

Ingests seeds/ into a fresh RAG_HOME per profile (the light: RAG_EMBEDDER=local; the quality:
RAG_EMBEDDER=sentence-transformers:models/embeddinggemma-300m, `make models`), then answers the
seed questions extractively in turn, light then quality, question by question, so that a drift of
the shared machine's speed touches both alike; prints each profile's load time, ingest rate,
median and p95 answer time and the ratio of medians. Cold process times and peak memory are
measured from outside (`rag ask` in a new process per run), see docs/embedders.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.data import load_seed  # noqa: E402
from rag.answering.answer import answer  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402
from rag.interfaces.service import Service  # noqa: E402
from rag.store.embeddings import SentenceTransformerEmbedder, VectorMemo  # noqa: E402

QUALITY = f"sentence-transformers:{ROOT / 'models' / 'embeddinggemma-300m'}"


def build(name: str, spec: str, home: Path) -> Service:
    svc = Service.from_settings(load_settings(RAG_HOME=home, RAG_EMBEDDER=spec))
    t = time.perf_counter()
    svc.embedder.embed(["warm up"], kind="query")
    load = time.perf_counter() - t
    t = time.perf_counter()
    report = ingest(
        [ROOT / "seeds"], store=svc.store, embedder=svc.embedder, budget=svc.settings.chunk_tokens
    )
    took = time.perf_counter() - t
    svc.retriever.search("warm up", 5)
    print(
        f"{name}: model load {load:.1f} s; ingest of seeds/ {report.added} chunks in {took:.1f} s "
        f"({report.added / took:.1f} chunks/s)"
    )
    return svc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/bench_profiles.py", description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument(
        "--forget",
        action="store_true",
        help="forget the quality model's remembered vectors before each question (an article read for the first time)",
    )
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="rag-profiles-"))
    profiles = {
        "light": build("light", "local", tmp / "light"),
        "quality": build("quality", QUALITY, tmp / "quality"),
    }
    questions = [it.question for it in load_seed()][: args.questions]
    times: dict[str, list[float]] = {name: [] for name in profiles}
    for q in questions:
        for name, svc in profiles.items():
            if args.forget and isinstance(svc.embedder, SentenceTransformerEmbedder):
                svc.embedder.memo = VectorMemo()
            t = time.perf_counter()
            answer(q, retriever=svc.retriever, settings=svc.settings)
            times[name].append(time.perf_counter() - t)
    pairwise = statistics.median(q / w for q, w in zip(times["quality"], times["light"]))
    for name, ts in times.items():
        ts = sorted(ts)
        print(
            f"{name}: answer in-process (extractive), {len(ts)} questions: median {statistics.median(ts) * 1000:.0f} ms, "
            f"p95 {ts[int(0.95 * (len(ts) - 1))] * 1000:.0f} ms"
        )
    ratio = statistics.median(times["quality"]) / statistics.median(times["light"])
    print(f"quality / light: ratio of medians {ratio:.2f}x, median of per-question ratios {pairwise:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
