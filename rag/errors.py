"""Typed errors. The library raises these; only the CLI and the page turn them into messages."""

from __future__ import annotations

FIRST_LINE_CHARS = 200  # a third-party message can be a page (a stack, a JSON body): one line of it


def first_line(text: object) -> str:
    """The first line of a message, at most FIRST_LINE_CHARS characters."""
    lines = str(text).splitlines()
    return lines[0][:FIRST_LINE_CHARS] if lines else ""


class RagError(Exception):
    """Base class. ``str(err)`` is a one-line message fit for a user."""

    exit_code = 1


class UserError(RagError):
    """Bad input or configuration: the user can fix it (CLI exit code 2)."""

    exit_code = 2


class InputFileError(UserError):
    """A post file that cannot be read or parsed. The message names the file."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(UserError):
    """Settings that cannot work together."""


class QuestionError(UserError):
    """A question that cannot be asked (empty, only control characters…)."""


class EmbedderMismatch(UserError):
    """The store was built with another embedder; mixing vectors would corrupt the ranking."""


class NotIngested(UserError):
    """Nothing (or not the asked document) is in the store yet."""

    @classmethod
    def empty(cls) -> NotIngested:
        return cls("the store is empty: run `rag ingest` first")

    @classmethod
    def no_document(cls, doc_id: str) -> NotIngested:
        return cls(f"no document '{doc_id}' in the store (see `rag docs`)")


class StoreError(RagError):
    """The vector store cannot be reached or written."""

    @classmethod
    def read_only(cls, where: object) -> StoreError:
        return cls(
            f"the store at {where} is read-only: make it writable or point RAG_HOME at a writable copy"
        )


class LLMError(RagError):
    """The language-model endpoint failed after retries."""


class EmbeddingError(RagError):
    """The embeddings endpoint failed after retries."""
