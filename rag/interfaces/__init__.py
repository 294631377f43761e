"""Interfaces: what users run.

`service` builds the store, embedder, language resources and chat model from the settings;
`cli` (the `rag` command) and `web` (the Gradio page) are thin layers over it and the answering
calls, and the only places that turn errors into messages.

May import: everything below.
"""
