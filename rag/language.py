"""The language resources of a process, in one object built from settings: where their caches live
(RAG_HOME), the synonym and abbreviation lexicon, and the English→Chinese word index.

jieba's tokenizer is process-wide (`jieba.dt`), and so are the caches it reads, so one `Language`
is in use per process: the service builds it from its settings and installs it; the steps that
need a resource and are not handed one read `active()`. Without a service (a library call, a
test) the active one keeps no cache on disk: everything is built in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .cache import WordTable
    from .config import Settings
    from .lexicon import Lexicon


@dataclass
class Language:
    home: Path | None = None  # RAG_HOME: jieba's dictionary cache; the others under home/cache
    _lexicon: Lexicon | None = field(default=None, repr=False)
    _english: Mapping[str, Iterable[str]] | WordTable | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Language:
        return cls(Path(settings.home))

    @property
    def cache_dir(self) -> Path | None:
        return self.home / "cache" if self.home is not None else None

    def lexicon(self) -> Lexicon:
        """Synonyms and abbreviations (its tables load on first use)."""
        with self._lock:
            if self._lexicon is None:
                from .lexicon import Lexicon

                self._lexicon = Lexicon(self.cache_dir)
            return self._lexicon

    def english(self) -> Mapping[str, Iterable[str]] | WordTable:
        """The English→Chinese word index (cached under home/cache; ≈2 s to build)."""
        with self._lock:
            if self._english is None:
                from .crossling import load_index

                self._english = load_index(self.cache_dir)
            return self._english


_active = Language()
_install_lock = threading.Lock()


def active() -> Language:
    """The process's language resources (the service's, once one is built)."""
    return _active


def install(language: Language) -> Language:
    """Make `language` the process's; one for the same home is kept (its tables already loaded)."""
    global _active
    with _install_lock:
        if _active.home != language.home:
            _active = language
        return _active
