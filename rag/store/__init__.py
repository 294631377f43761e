"""The store: where chunks and their vectors live.

`chroma` wraps the Chroma collections (embedded, or a `chroma run` server by configuration);
`embeddings` holds the embedder profiles (light: the bundled e5; quality: sentence-transformers;
an OpenAI-compatible endpoint) and their vector caches.

May import: the base modules only.
"""
