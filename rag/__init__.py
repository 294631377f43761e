"""rag: cited question answering and summaries over Chinese news posts.

Sub-packages in pipeline order, each importing only those below it (tests/test_layers.py):

    interfaces    cli, web, service
    answering     answer, extractive reader, llm, prompts, summaries
    verification  claims checked against the cited paragraphs
    retrieval     hybrid search: dense + BM25, fused
    analysis      question profiles, evidence sentences, matching
    ingest        posts → paragraphs → chunks
    store         Chroma collections, embedders
    language      text, tokens, time words, lexicon, English look-ups
    (base)        config, records, errors, cache, locks
"""

__version__ = "0.1.0"

# The names a user script may use, from the package itself: `from rag import Service, answer`.
# Loaded on first use, so `import rag` (and `rag --version`) stays fast. (`ingest` is not among
# them: `rag.ingest` is the sub-package; `from rag.ingest.pipeline import ingest`.)
_PUBLIC = {
    "Service": "rag.interfaces.service",
    "answer": "rag.answering.answer",
    "summarize": "rag.answering.summarize",
    "Settings": "rag.config",
    "load_settings": "rag.config",
    "Answer": "rag.records",
    "Citation": "rag.records",
    "Filters": "rag.records",
    "Notice": "rag.records",
    "RagError": "rag.errors",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_PUBLIC[name]), name)
