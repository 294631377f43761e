"""The language resources of a RAG_HOME, in one object: where their caches live, the synonym and
abbreviation lexicon, and the English→Chinese word index.

The service builds one from its settings and hands it to what needs it (the retriever carries it
to the answer, the reader and verification); nothing reads it from a module-level slot. A call
that is handed none (a library call, a test) uses the in-memory one (`language_for(None)`).
jieba's tokenizer is the library's own process-wide state: `text.use_jieba_home` says where its
caches live, once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rag.language.crossling import EnglishIndex, load_index
from rag.language.lexicon import Lexicon
from rag.language.text import use_jieba_home

if TYPE_CHECKING:
    from rag.config import Settings


@dataclass(eq=False)
class Language:
    home: Path | None = None  # RAG_HOME: jieba's dictionary cache; the others under home/cache
    _lexicon: Lexicon | None = field(default=None, repr=False)
    _english: EnglishIndex | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Language:
        return language_for(Path(settings.home))

    @property
    def cache_dir(self) -> Path | None:
        return self.home / "cache" if self.home is not None else None

    def lexicon(self) -> Lexicon:
        """Synonyms and abbreviations (its tables load on first use)."""
        with self._lock:
            if self._lexicon is None:
                self._lexicon = Lexicon(self.cache_dir)
            return self._lexicon

    def english(self) -> EnglishIndex:
        """The English→Chinese word index (cached under home/cache; ≈2 s to build)."""
        with self._lock:
            if self._english is None:
                self._english = load_index(self.cache_dir)
            return self._english


@lru_cache(maxsize=8)
def language_for(home: Path | None) -> Language:
    """The resources of `home` (None: kept in memory only), one per home in a process: their tables
    are read-only once loaded, so two services of one home share them (a cache, not a setting)."""
    if home is not None:
        use_jieba_home(home)
    return Language(home)
