"""Caches under RAG_HOME: read if present, written atomically, optional when read-only."""

from __future__ import annotations

import os
import pickle
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

SEP = "\t"  # between the words of a WordTable entry (words hold no tab: they are split on spaces)


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

    def make(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            write(fh)

    return _made_atomically(path, make)


def _made_atomically(path: Path, make: Callable[[Path], object]) -> bool:
    """`make` the file at a temp path beside `path`, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        make(tmp)
        os.replace(tmp, path)
        return True
    except (OSError, sqlite3.Error):
        tmp.unlink(missing_ok=True)
        return False


def save(path: Path, obj: Any, replace_glob: str | None = None) -> None:
    """Pickle `obj` to `path` atomically; older files matching `replace_glob` are removed."""
    if replace_glob:
        for old in path.parent.glob(replace_glob):
            old.unlink(missing_ok=True)
    write_atomically(path, lambda fh: pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL))


class WordTable:
    """A read-only word → words table in an SQLite file. A look-up reads one row: a question
    needs a handful, where unpickling a 35,000-entry dict costs ~0.05 s at every process start.
    `get` answers like a dict's."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._lock = threading.Lock()  # one connection, shared by the web page's threads

    @classmethod
    def open(cls, path: Path) -> WordTable | None:
        """The table in `path`, or None when absent or unreadable (then it is built again)."""
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            db.execute("SELECT v FROM words LIMIT 1").fetchall()
        except (OSError, sqlite3.Error):
            return None
        return cls(db)

    @staticmethod
    def save(path: Path, table: Mapping[str, Iterable[str]], replace_glob: str | None = None) -> bool:
        """Write `table` to `path` atomically; older files matching `replace_glob` are removed."""
        if replace_glob:
            for old in path.parent.glob(replace_glob):
                if old != path:
                    old.unlink(missing_ok=True)

        def make(tmp: Path) -> None:
            db = sqlite3.connect(tmp)
            try:
                db.execute("CREATE TABLE words (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
                db.executemany(
                    "INSERT INTO words VALUES (?, ?)", ((k, SEP.join(v)) for k, v in table.items())
                )
                db.commit()
            finally:
                db.close()

        return _made_atomically(path, make)

    def get(self, word: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT v FROM words WHERE k = ?", (word,)).fetchone()
        if row is None:
            return default
        return tuple(row[0].split(SEP)) if row[0] else ()


def word_table(
    path: Path | None, build: Callable[[], Mapping[str, Iterable[str]]], replace_glob: str
) -> WordTable | Mapping[str, Iterable[str]]:
    """The table in `path`, else `build()` saved there (older files matching `replace_glob` go)
    and read back; the built dict itself when there is no path or it cannot be written."""
    table = WordTable.open(path) if path else None
    if table is not None:
        return table
    built = build()
    if path is not None and WordTable.save(path, built, replace_glob):
        return WordTable.open(path) or built
    return built
