"""Pickled caches under RAG_HOME: read if present, written atomically, optional when read-only."""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO


def load(path: Path) -> Any | None:
    """The cached object, or None when absent or unreadable (a cache is never required)."""
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> bool:
    """`write` into a temp file beside `path`, then rename it into place: a reader sees the old
    file or the whole new one. False when it cannot be written (a read-only home only costs the
    cache)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            write(fh)
        os.replace(tmp, path)
        return True
    except OSError:
        tmp.unlink(missing_ok=True)
        return False


def save(path: Path, obj: Any, replace_glob: str | None = None) -> None:
    """Pickle `obj` to `path` atomically; older files matching `replace_glob` are removed."""
    if replace_glob:
        for old in path.parent.glob(replace_glob):
            old.unlink(missing_ok=True)
    write_atomically(path, lambda fh: pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL))
