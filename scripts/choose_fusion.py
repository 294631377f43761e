"""Choose the fusion weights of one embedder on the dev split: `rag/data/fusion.json`.

    python scripts/choose_fusion.py                 # the embedder RAG_EMBEDDER names; prints the grid
    python scripts/choose_fusion.py --write         # and records the best in rag/data/fusion.json

Every dev question of the seed and CRUD-RAG sets and of the English set is searched against the
eval corpus (eval/corpus.py, built for this embedder) under each weighting of a small grid; the
weights are chosen by the mean reciprocal rank of the first gold paragraph, for Chinese questions
and for the others apart: of the weightings within one question's worth of the best (1/n), the one
nearest the weights in use (a difference that small is one question's rank, not a reason to move).
Test questions are never read. Query vectors are computed once and reused across the grid, so a grid costs one embedding per question.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.corpus import corpus_home  # noqa: E402
from eval.data import load_sets  # noqa: E402
from eval.retrieval import retrieval_metrics, retrieval_rows  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.interfaces.service import Service  # noqa: E402
from rag.language.text import has_cjk  # noqa: E402
from rag.retrieval.retrieve import FUSION_FILE, Fusion, Retriever, fusion_for  # noqa: E402

LEXICAL = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)  # BM25's vote against the dense one's 1
DOC = (0.0, 0.5, 1.0)  # the share by which a post's summed evidence raises its paragraphs


class MemoEmbedder:
    """The embedder with its query vectors kept: the grid asks each question many times."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.version = inner, inner.name, inner.version
        self.memo: dict[str, list[float]] = {}

    def embed(self, texts: Sequence[str], kind: str = "passage") -> list[list[float]]:
        if kind != "query":
            return self.inner.embed(texts, kind=kind)
        missing = [t for t in texts if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.inner.embed(missing, kind="query")))
        return [self.memo[t] for t in texts]


def choose(
    grid: list[tuple[float, float, dict]], incumbent: tuple[float, float], n: int
) -> tuple[float, float, dict]:
    """The weighting with the best MRR, or, of those within 1/n of it, the nearest `incumbent`."""
    top = max(m["MRR"] for _, _, m in grid)
    near = [g for g in grid if g[2]["MRR"] >= top - 1 / n]
    distance = lambda g: abs(math.log2(g[0] / incumbent[0])) + 2 * abs(g[1] - incumbent[1])  # noqa: E731
    return min(near, key=lambda g: (distance(g), -g[2]["MRR"]))


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/choose_fusion.py", description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="record the chosen weights in rag/data/fusion.json")
    args = ap.parse_args(argv)

    settings = load_settings(RAG_HOME=corpus_home(log=lambda s: print(s, file=sys.stderr)))
    svc = Service.from_settings(settings)
    embedder = MemoEmbedder(svc.embedder)
    dev = [
        it for items in load_sets(("seed", "crud", "english")).values() for it in items if it.split == "dev"
    ]
    groups = {
        "chinese": [it for it in dev if has_cjk(it.question)],
        "english": [it for it in dev if not has_cjk(it.question)],
    }
    print(
        f"embedder {embedder.name}; dev questions: " + ", ".join(f"{k} {len(v)}" for k, v in groups.items())
    )
    incumbent = fusion_for(embedder.name)
    grid: dict[str, list[tuple[float, float, dict]]] = {name: [] for name in groups}
    for lexical, doc in itertools.product(LEXICAL, DOC):
        fusion = Fusion(lexical=lexical, doc=doc, english_lexical=lexical, english_doc=doc)
        retriever = Retriever(
            svc.store, embedder, cache_dir=settings.home / "cache", fusion=fusion, language=svc.language
        )

        def search(q: str, k: int) -> list[tuple[str, int]]:
            return [(h.chunk.doc_id, h.chunk.paragraph) for h in retriever.search(q, k)]  # noqa: B023

        line = f"lexical {lexical:>4} doc {doc:>3}"
        for name, items in groups.items():
            m = retrieval_metrics(retrieval_rows(items, search))
            line += f"   {name}: R@1 {m['R@1']:.3f} R@5 {m['R@5']:.3f} MRR {m['MRR']:.3f}"
            grid[name].append((lexical, doc, m))
        print(line, flush=True)
    best = {
        "chinese": choose(grid["chinese"], incumbent.weights(True), len(groups["chinese"])),
        "english": choose(grid["english"], incumbent.weights(False), len(groups["english"])),
    }
    chosen = Fusion(
        lexical=best["chinese"][0],
        doc=best["chinese"][1],
        english_lexical=best["english"][0],
        english_doc=best["english"][1],
    )
    print(f"in use: {incumbent}")
    print(f"chosen: {chosen}")
    if args.write:
        table = json.loads(FUSION_FILE.read_text(encoding="utf-8")) if FUSION_FILE.exists() else {}
        table.setdefault("embedders", {})[embedder.name] = {
            **asdict(chosen),
            "source": (
                f"scripts/choose_fusion.py at {_commit()} on {dt.date.today().isoformat()}: dev MRR (best, or within 1/n of it and nearest the weights before) of "
                + "; ".join(
                    f"{name} {len(groups[name])} questions R@1 {m['R@1']:.3f} R@5 {m['R@5']:.3f} MRR {m['MRR']:.3f}"
                    for name, (_, _, m) in best.items()
                )
            ),
        }
        FUSION_FILE.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"written to {FUSION_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
