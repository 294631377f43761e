"""rag: cited question answering and summaries over Chinese news posts."""

__version__ = "0.1.0"
