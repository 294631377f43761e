"""Pickled caches under RAG_HOME: read if present, written atomically, optional when read-only."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any


def load(path: Path) -> Any | None:
    """The cached object, or None when absent or unreadable (a cache is never required)."""
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None


def save(path: Path, obj: Any, replace_glob: str | None = None) -> None:
    """Write atomically (temp file + rename); older files matching `replace_glob` are removed.
    A read-only home only costs the cache: the object lives in memory for this process."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if replace_glob:
            for old in path.parent.glob(replace_glob):
                old.unlink(missing_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
