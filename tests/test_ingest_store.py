"""Ingest bookkeeping against a real embedded Chroma store (embedder: a counting stand-in)."""

import dataclasses
import shutil

import pytest

from rag.config import load_settings
from rag.errors import EmbedderMismatch, NotIngested
from rag.ingest.pipeline import ingest, remove
from rag.store.chroma import Store

from .conftest import ROOT, SEED, SEED_ID, write_post


@pytest.fixture()
def store(fresh_home):
    return Store.open(load_settings(RAG_HOME=fresh_home))


def run(paths, store, emb, **kw):
    return ingest(paths, store=store, embedder=emb, budget=400, **kw)


def snapshot(store):
    got = store.chunks.get(include=["documents", "metadatas"])
    return sorted(zip(got["ids"], got["documents"])), {d: i.chunk_ids for d, i in store.docs().items()}


def test_reingest_is_idempotent(store, hash_embedder):
    first = run([ROOT / "seeds"], store, hash_embedder)
    assert (first.documents, first.paragraphs, first.unchanged, first.removed) == (1, 28, 0, 0)
    assert first.added >= 28 and store.chunks.count() == first.added  # every paragraph, some in parts
    before = snapshot(store)
    calls = len(hash_embedder.embedded)
    second = run([ROOT / "seeds"], store, hash_embedder)
    assert (second.added, second.unchanged, second.removed) == (0, first.added, 0)
    assert len(hash_embedder.embedded) == calls  # nothing embedded twice
    assert snapshot(store) == before
    assert store.chunks.count() == first.added


def test_editing_one_paragraph_reembeds_only_its_chunks(store, hash_embedder, tmp_path):
    folder = tmp_path / "posts"
    folder.mkdir()
    post = folder / SEED.name
    shutil.copy(SEED, post)
    run([folder], store, hash_embedder)
    hash_embedder.embedded.clear()
    post.write_text(
        post.read_text(encoding="utf-8").replace(
            "市委副书记、代理市长盛蕾主持会议。", "市委副书记、市长盛蕾主持会议。"
        ),
        encoding="utf-8",
    )
    rep = run([folder], store, hash_embedder)
    assert (rep.added, rep.removed) == (1, 1)
    assert len(hash_embedder.embedded) == 1 and "市长盛蕾主持会议" in hash_embedder.embedded[0]
    ids = store.docs()[SEED_ID].chunk_ids
    assert any(":p9:" in i for i in ids) and store.chunks.count() == len(ids)


def test_file_gone_from_folder_is_removed_on_next_ingest(store, hash_embedder, tmp_path):
    folder = tmp_path / "posts"
    a = write_post(folder, "a.md", "甲", "2022-03-01", ["甲文第一段。", "甲文第二段。"])
    write_post(folder, "b.md", "乙", "2022-04-01", ["乙文。"])
    run([folder], store, hash_embedder)
    assert set(store.docs()) == {"a", "b"}
    a.unlink()
    rep = run([folder], store, hash_embedder)
    assert rep.removed_docs == ["a"] and set(store.docs()) == {"b"}
    assert store.stored_chunk_ids("a") == set()


def test_remove_document(store, hash_embedder):
    run([SEED], store, hash_embedder)
    assert remove(SEED_ID, store) > 0
    assert store.docs() == {} and store.chunks.count() == 0
    with pytest.raises(NotIngested):
        remove(SEED_ID, store)


def test_bad_files_are_reported_and_the_rest_ingested(store, hash_embedder, tmp_path):
    folder = tmp_path / "mixed"
    write_post(folder, "good.md", "好", "2022-01-01", ["好的段落。"])
    (folder / "empty.md").write_text("", encoding="utf-8")
    (folder / "broken.md").write_text("---\ntitle: [x\n---\n<p>y</p>", encoding="utf-8")
    rep = run([folder, tmp_path / "missing"], store, hash_embedder)
    assert set(store.docs()) == {"good"}
    assert len(rep.errors) == 3 and all("\n" not in e for e in rep.errors)
    assert (
        any("empty.md" in e for e in rep.errors)
        and any("broken.md" in e for e in rep.errors)
        and any("missing" in e for e in rep.errors)
    )


def test_strict_stops_at_first_bad_file_and_keeps_store(store, hash_embedder, tmp_path):
    run([SEED], store, hash_embedder)
    before = snapshot(store)
    folder = tmp_path / "bad"
    (folder).mkdir()
    (folder / "a_empty.md").write_text("", encoding="utf-8")
    write_post(folder, "b_good.md", "好", "2022-01-01", ["好。"])
    from rag.errors import InputFileError

    with pytest.raises(InputFileError):
        run([folder], store, hash_embedder, strict=True)
    assert snapshot(store) == before


def test_duplicate_doc_ids_in_two_folders_are_refused(store, hash_embedder, tmp_path):
    write_post(tmp_path / "one", "same.md", "一", "2022-01-01", ["一。"])
    write_post(tmp_path / "two", "same.md", "二", "2022-01-01", ["二。"])
    rep = run([tmp_path / "one", tmp_path / "two"], store, hash_embedder)
    assert len(rep.errors) == 1 and "duplicate doc id 'same'" in rep.errors[0]
    assert store.article("same").title == "一"


def test_embedder_change_is_refused(store, hash_embedder):
    run([SEED], store, hash_embedder)

    class Other:
        name = "another-embedder"
        version = "1"

        def embed(self, texts, kind="passage"):
            return [[1.0] + [0.0] * 15 for _ in texts]

    edited = ROOT / "seeds"
    with pytest.raises(EmbedderMismatch, match="test-hash-embedder"):
        store.claim_embedder(Other.name, 16)
    assert store.embedder_name() == "test-hash-embedder"
    with pytest.raises(EmbedderMismatch, match="--reembed"):  # refused before any work
        run([edited], store, Other())


def test_progress_counts_posts_written_and_chunks_embedded(store, hash_embedder, tmp_path, monkeypatch):
    import rag.ingest.pipeline

    monkeypatch.setattr(rag.ingest.pipeline, "BATCH_POSTS", 3)  # three batches of three posts
    folder = tmp_path / "posts"
    for i in range(8):
        write_post(folder, f"p{i}.md", f"第{i}篇", "2022-03-01", [f"第{i}篇第一段。", f"第{i}篇第二段。"])
    (folder / "bad.md").write_text("", encoding="utf-8")  # counted, never written
    calls: list[tuple[int, int, int]] = []
    rep = run([folder], store, hash_embedder, progress=lambda *a: calls.append(a))
    assert rep.added == 16 and len(rep.errors) == 1
    assert all(total == 9 for _, total, _ in calls)
    assert [w for w, _, _ in calls] == sorted(w for w, _, _ in calls)  # never goes back
    assert calls[-1] == (9, 9, 16)
    assert len({w for w, _, _ in calls if 1 < w < 9}) >= 2  # moves at each batch, not only at the end


def test_unchanged_posts_are_not_parsed_again_but_a_new_budget_rechunks(
    store, hash_embedder, tmp_path, monkeypatch
):
    import rag.ingest.pipeline

    folder = tmp_path / "posts"
    write_post(folder, "a.md", "甲", "2022-03-01", ["甲文第一段，写得很长。" * 12, "甲文第二段。"])
    write_post(folder, "b.md", "乙", "2022-04-01", ["乙文。"])
    first = run([folder], store, hash_embedder)
    loaded: list[str] = []
    real_load = rag.ingest.pipeline.load_article
    monkeypatch.setattr(
        rag.ingest.pipeline,
        "load_article",
        lambda path, warnings: loaded.append(path.name) or real_load(path, warnings),
    )
    again = run([folder], store, hash_embedder)
    assert loaded == [] and (again.documents, again.unchanged, again.added) == (2, first.added, 0)
    write_post(folder, "b.md", "乙", "2022-04-01", ["乙文改过了。"])
    changed = run([folder], store, hash_embedder)
    assert loaded == ["b.md"] and (changed.added, changed.removed) == (1, 1)
    smaller = ingest(
        [folder], store=store, embedder=hash_embedder, budget=40
    )  # the long paragraph now splits
    assert sorted(loaded) == ["a.md", "b.md", "b.md"] and smaller.added > 0


HEADER_POST = ["2023-07-28 10:23", "/", "夏威夷州毛伊岛发生野火，拉海纳镇被完全烧毁。", "救援仍在进行。"]


def test_a_paragraph_without_words_is_never_a_search_hit(fresh_home, hash_embedder, tmp_path):
    from rag.retrieval.retrieve import Retriever

    store = Store.open(load_settings(RAG_HOME=fresh_home))
    run([write_post(tmp_path / "posts", "fire.md", "野火", "2023-07-28", HEADER_POST)], store, hash_embedder)
    assert all(t not in hash_embedder.embedded for t in HEADER_POST[:2])  # never embedded
    retriever = Retriever(store, hash_embedder, cache_dir=fresh_home / "cache")
    hits = [h for q in ("2023-07-28 10:23", "/", "野火", "What burned?") for h in retriever.search(q, 10)]
    assert hits and {h.chunk.paragraph for h in hits} <= {3, 4}
    assert store.article("fire").paragraphs[:2] == tuple(HEADER_POST[:2])  # still ¶1 and ¶2


def test_reingest_removes_the_chunks_of_header_lines_an_older_store_holds(store, hash_embedder, tmp_path):
    from rag.records import Chunk

    post = write_post(tmp_path / "posts", "fire.md", "野火", "2023-07-28", HEADER_POST)
    run([post], store, hash_embedder)
    # a store written before header lines were left out: ¶1 has a chunk, the registry lists it
    article = store.article("fire")
    old = Chunk(
        id="fire:p1:0:oldheader000", doc_id="fire", paragraph=1, part=0, text=HEADER_POST[0], tokens=8
    )
    store.add_chunks([(article, old)], hash_embedder.embed([old.text]))
    store.put_docs(
        [
            (
                dataclasses.replace(article, digest="written-by-chunker-2"),
                [old.id, *store.docs()["fire"].chunk_ids],
            )
        ]
    )
    assert old.id in store.stored_chunk_ids("fire")
    rep = run([post], store, hash_embedder)
    assert rep.removed == 1 and old.id not in store.stored_chunk_ids("fire")
    assert store.docs()["fire"].chunk_ids and all(":p1:" not in i for i in store.docs()["fire"].chunk_ids)


class SentenceKeepingEmbedder:
    """The counting stand-in, declared as one whose sentence vectors ingest keeps."""

    keeps_sentences = True

    def __init__(self, inner) -> None:
        self.inner, self.name, self.version = inner, "test-keeping-embedder", "1"

    def embed(self, texts, kind="passage"):
        return self.inner.embed(texts, kind)


def test_ingest_keeps_every_readable_sentence_for_an_embedder_that_asks(store, hash_embedder):
    from rag.language.text import readable_sentences

    emb = SentenceKeepingEmbedder(hash_embedder)
    run([ROOT / "seeds"], store, emb)
    sentences = {s for p in store.article(SEED_ID).paragraphs for s in readable_sentences(p)}
    kept = store.sentence_vectors(sorted(sentences) + ["一句文中没有的话。"])
    assert set(kept) == sentences
    some = sorted(sentences)[0]
    assert kept[some] == pytest.approx(hash_embedder.embed([some])[0], abs=1e-6)  # stored as float32


def test_kept_sentence_vectors_spare_the_embedder_at_question_time(store, hash_embedder):
    from rag.language.text import readable_sentences
    from rag.retrieval.retrieve import Retriever

    emb = SentenceKeepingEmbedder(hash_embedder)
    run([ROOT / "seeds"], store, emb)
    article_sentence = readable_sentences(store.article(SEED_ID).paragraphs[2])[0]
    hash_embedder.embedded.clear()
    got = Retriever(store, emb).sentence_embedder.embed([article_sentence, "一句新的话。"])
    assert hash_embedder.embedded == ["一句新的话。"]  # only the sentence the store lacks
    assert got[0] == pytest.approx(hash_embedder.embed([article_sentence])[0], abs=1e-6)


def test_light_embedder_keeps_no_sentences(store, hash_embedder):
    run([ROOT / "seeds"], store, hash_embedder)
    assert store.sentences.count() == 0


def test_removing_a_post_removes_its_kept_sentences(store, hash_embedder):
    run([ROOT / "seeds"], store, SentenceKeepingEmbedder(hash_embedder))
    assert store.sentences.count() > 0
    remove(SEED_ID, store)
    assert store.sentences.count() == 0


def test_reembed_keeps_the_new_embedder_s_sentences(store, hash_embedder):
    from rag.ingest.pipeline import reembed

    run([ROOT / "seeds"], store, hash_embedder)
    reembed(store, SentenceKeepingEmbedder(hash_embedder), budget=400)
    assert store.embedder_name() == "test-keeping-embedder"
    assert store.sentences.count() > 0
    reembed(store, hash_embedder, budget=400)  # and back: the old sentence vectors go
    assert store.sentences.count() == 0
