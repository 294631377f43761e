"""The eval's corpus: the seed article and every CRUD-RAG post in one store, as a user would hold
them, built through the real ingest into a real Chroma store, once per stamp of its inputs.

Embedding the ~2,600 chunks takes about 4 minutes on 2 cores, longer than the whole eval may
take in CI, so passage vectors are kept in `eval/cache/`, one file per embedder
(`vectors-<embedder>.npz`), keyed by the embedder's name and version and a hash of the exact text
embedded. A chunk whose text is not there is embedded by the live model (and the file can be
rewritten with `python -m eval.corpus`); `tests/test_eval.py` checks that cached vectors point
where the live model's do (cosine; the last digits differ from one CPU to another).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.store.embeddings import name_slug

from .data import CRUD_DIR, EVAL_DIR, TRAIN_DIR

ROOT = EVAL_DIR.parent
CORPUS_FOLDERS = (ROOT / "seeds", CRUD_DIR / "posts")
CACHE_DIR = EVAL_DIR / "cache"
DEFAULT_OUT = EVAL_DIR / "out"
CORPUS_VERSION = "1"  # bump when the way the store is built changes


def text_key(embedder, text: str) -> str:
    """The cache key of one passage: the embedder's name and version and the exact text."""
    return hashlib.sha1(f"{embedder.name}\x1f{embedder.version}\x1f{text}".encode()).hexdigest()


def vector_cache(embedder, corpus: str = "") -> Path:
    """The cache file of one embedder (and one corpus other than the eval's)."""
    return CACHE_DIR / f"vectors-{corpus + '-' if corpus else ''}{name_slug(embedder.name)}.npz"


class CachedEmbedder:
    """The real embedder behind a table of vectors it already computed for the same texts."""

    def __init__(self, inner, cache: dict[str, np.ndarray]) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.cache = cache
        self.computed = 0

    def embed(self, texts: Sequence[str], kind: str = "passage") -> list[list[float]]:
        if kind != "passage":
            return self.inner.embed(texts, kind=kind)
        keys = [text_key(self.inner, t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self.cache]
        if missing:
            fresh = self.inner.embed([texts[i] for i in missing], kind="passage")
            for i, v in zip(missing, fresh):
                self.cache[keys[i]] = np.asarray(v, dtype=np.float32)
            self.computed += len(missing)
        return [self.cache[k].tolist() for k in keys]


def load_vectors(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"]))


def save_vectors(cache: dict[str, np.ndarray], keep: set[str], path: Path) -> None:
    """Write the vectors of `keep` (the texts of the current corpus) and nothing else."""
    keys = sorted(k for k in cache if k in keep)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, keys=np.array(keys), vectors=np.stack([cache[k] for k in keys]).astype(np.float32)
    )


def corpus_files() -> list[Path]:
    from rag.ingest.loader import find_posts

    return find_posts(CORPUS_FOLDERS)


def train_files() -> list[Path]:
    """The train corpus: the train set's posts and the eval corpus's distractor posts (the sample's
    own `role: distractor`) that no test or seen question reads, so that retrieval has something to
    get wrong and a test question's post is never seen in training."""
    import json

    from rag.ingest.loader import find_posts

    from .data import SETS, load_sets

    held = set()
    for items in load_sets(SETS + ("english",)).values():
        for it in items:
            if it.split != "dev":
                held |= set(it.extra.get("docs", ())) | {d for d, _ in it.gold} | set(it.rejection_exclude)
    index = [json.loads(line) for line in (CRUD_DIR / "doc_index.jsonl").read_text().splitlines() if line]
    distractors = sorted(r["doc"] for r in index if r["role"] == "distractor" and r["doc"] not in held)
    return find_posts([TRAIN_DIR / "posts"]) + [CRUD_DIR / "posts" / f"{d}.md" for d in distractors]


def stamp(embedder, budget: int, files: Sequence[Path] | None = None) -> str:
    """Changes whenever a post, the embedder, the chunk budget or the build changes."""
    from rag.ingest.chunking import CHUNKER_VERSION

    h = hashlib.sha1(
        f"{CORPUS_VERSION}\x1f{CHUNKER_VERSION}\x1f{embedder.name}\x1f{embedder.version}\x1f{budget}".encode()
    )
    for f in corpus_files() if files is None else files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def corpus_home(out_dir: Path = DEFAULT_OUT, *, use_cache: bool = True, log=print) -> Path:
    """A RAG_HOME holding the whole corpus, built once per stamp under `out_dir` (older builds of
    the same embedder are removed; each profile keeps its own). Safe to call from several processes."""
    return build_home("corpus", corpus_files(), out_dir, use_cache=use_cache, log=log)


def train_home(out_dir: Path = DEFAULT_OUT, *, use_cache: bool = True, log=print) -> Path:
    """A RAG_HOME holding the train corpus (`train_files`), built as `corpus_home` builds its own."""
    return build_home("train", train_files(), out_dir, use_cache=use_cache, log=log)


def build_home(name: str, files: list[Path], out_dir: Path, *, use_cache: bool = True, log=print) -> Path:
    """A RAG_HOME `name-<embedder>-<stamp>` holding `files`, passage vectors read from and written
    to that corpus's cache file (`vector_cache`)."""
    from rag.config import load_settings
    from rag.ingest.chunking import chunk_article, embed_text
    from rag.ingest.loader import load_article
    from rag.ingest.pipeline import ingest
    from rag.interfaces.service import Service
    from rag.locks import file_lock
    from rag.store.embeddings import make_embedder

    probe = load_settings(RAG_HOME=out_dir / "probe")
    embedder = make_embedder(probe)
    cache_file = vector_cache(embedder, "" if name == "corpus" else name)
    prefix = f"{name}-{vector_cache(embedder).stem.removeprefix('vectors-')}-"  # one build per embedder
    home = out_dir / f"{prefix}{stamp(embedder, probe.chunk_tokens, files)}"
    ready = home / "READY"
    if ready.exists():
        return home
    with file_lock(out_dir / f"{name}.lock"):
        if ready.exists():
            return home
        for old in out_dir.glob(f"{prefix}*"):
            shutil.rmtree(old, ignore_errors=True)
        cache = load_vectors(cache_file) if use_cache else {}
        if use_cache and name != "corpus":  # (the train corpus's distractors are the eval corpus's posts)
            cache = {**load_vectors(vector_cache(embedder)), **cache}
        cached = CachedEmbedder(embedder, cache)
        settings = load_settings(RAG_HOME=home)
        svc = Service.from_settings(settings)
        log(f"building the {name} corpus: {len(files)} posts into {home}")
        report = ingest(files, store=svc.store, embedder=cached, budget=settings.chunk_tokens)
        if report.errors:
            raise SystemExit(f"{name} corpus: " + "; ".join(report.errors[:3]))
        svc.retriever.snapshot()  # builds the BM25 cache under the home, once
        if cached.computed:
            keep = {
                text_key(embedder, embed_text(a, c.text))
                for a in (load_article(f, []) for f in files)
                for c in chunk_article(a, settings.chunk_tokens)
            }
            save_vectors(cache, keep, cache_file)
            log(f"embedded {cached.computed} chunks the vector cache did not hold; {cache_file} rewritten")
        ready.write_text(
            f"{report.documents} posts, {report.added + report.unchanged} chunks\n", encoding="utf-8"
        )
    shutil.rmtree(out_dir / "probe", ignore_errors=True)
    return home


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    print(corpus_home(out))
