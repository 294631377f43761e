"""Wiring: settings → store, embedder, retriever, chat model. The surfaces call only this and the steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.answering.llm import OpenAIChat
from rag.config import Settings, load_settings
from rag.language.resources import Language
from rag.retrieval.retrieve import Retriever
from rag.store.chroma import Store
from rag.store.embeddings import Embedder, make_embedder


@dataclass
class Service:
    """The collaborators of one process, built once from settings."""

    settings: Settings
    store: Store
    embedder: Embedder
    retriever: Retriever
    language: Language
    _llm: object | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Service:
        settings = settings or load_settings()
        language = Language.from_settings(settings)
        store = Store.open(settings)
        embedder = make_embedder(settings)
        retriever = Retriever(store, embedder, cache_dir=settings.home / "cache", language=language)
        return cls(settings, store, embedder, retriever, language)

    def llm(self):
        """The chat model, or None when no endpoint is configured (offline: extractive answers)."""
        if self._llm is None and self.settings.llm_configured:
            self._llm = OpenAIChat.from_settings(self.settings)
        return self._llm
