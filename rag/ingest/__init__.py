"""Ingest: posts in, numbered paragraphs and token-budgeted chunks stored.

`loader` reads a post (front matter, `<p>` paragraphs, source link) into an Article; `chunking`
cuts its paragraphs into chunks that never span two paragraphs; `pipeline` writes them (and their
vectors) into the store under the home's lock, and removes or re-embeds posts.

May import: store, language, and the base modules (config, records, errors, cache, locks).
"""
