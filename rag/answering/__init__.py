"""Answering: the answer or summary, written and then checked.

`answer` runs the pipeline for a question (retrieve, read, write, verify, fall back);
`extractive` is the offline reader, with its learned sentence ranker in `learned`; `llm` is the
chat model over the openai SDK and `prompts` the templates it is given; `summarize` writes cited
summaries of a post.

May import: verification, retrieval, analysis, ingest, store, language, and the base modules.
"""
