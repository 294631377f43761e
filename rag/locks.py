"""Advisory file locks (flock) that serialize processes sharing one RAG_HOME."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from rag.errors import StoreError


@contextlib.contextmanager
def file_lock(
    path: Path, *, required: bool = True, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block.

    `required=False` is for readers: when the file cannot be created (a read-only home), no
    process can be writing there either, so the block runs unlocked instead of failing.
    `on_wait` is called once when another process holds the lock, before waiting for it.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if not required:
            yield
            return
        if isinstance(exc, PermissionError):
            raise StoreError.read_only(path.parent) from None
        raise StoreError(f"cannot write under {path.parent}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
