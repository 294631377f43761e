"""Retrieval: hybrid search over the store.

`retrieve` fuses the dense hits of the store with BM25 hits (`lexical`, over jieba tokens,
cached beside the store) by reciprocal rank, with doc, date and category filters.

May import: analysis, ingest (the lexical text of a chunk), store, language, and the base modules.
"""
