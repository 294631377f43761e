"""Hybrid retrieval on the real seeded store (local e5 + BM25)."""

import pytest

from rag.errors import NotIngested
from rag.records import Filters

from .conftest import SEED, SEED_ID


def top(service, q, k=5, **f):
    return [h.chunk.paragraph for h in service.retriever.search(q, k, Filters(**f) if f else None)]


@pytest.mark.parametrize(
    ("question", "paragraph"),
    [
        ("到2025年上市企业超过多少家？", 13),
        ("制造业增加值占GDP比重", 26),
        ("哪些单位负责人作交流发言", 24),
        ("Who chaired the meeting?", 9),
        ("How much policy funding will the city arrange every year?", 26),
    ],
)
def test_answering_paragraph_is_ranked_first(service, question, paragraph):
    assert top(service, question)[0] == paragraph


def test_relative_year_is_searchable_by_its_absolute_year(service):
    # ¶13 says 今年 (2022 in a post of 2022-02-08), never "2022"
    assert 13 in top(service, "2022年高企数量", k=3)


def test_hits_are_one_per_paragraph_with_whole_paragraph_text(service):
    hits = service.retriever.search("常州 产业", 10)
    keys = [(h.chunk.doc_id, h.chunk.paragraph) for h in hits]
    assert len(keys) == len(set(keys)) == 10
    art = service.retriever.article(SEED_ID)
    assert all(
        h.paragraph_text == art.paragraph(h.chunk.paragraph) and h.ref == f"{SEED_ID}#p{h.chunk.paragraph}"
        for h in hits
    )


def test_filters_by_document_date_and_category(service):
    assert top(service, "上市企业", doc_ids=(SEED_ID,))
    assert top(service, "上市企业", since="2022-02-08", until="2022-02-08")
    assert top(service, "上市企业", since="2022-02-09") == []
    assert top(service, "上市企业", until="2022-02-07") == []
    assert top(service, "上市企业", categories=("changzhouribao",))
    assert top(service, "上市企业", categories=("sports",)) == []
    with pytest.raises(NotIngested):
        top(service, "上市企业", doc_ids=("nope",))


def test_empty_store_says_to_ingest(fresh_home):
    from rag.config import load_settings
    from rag.interfaces.service import Service

    svc = Service.from_settings(load_settings(RAG_HOME=fresh_home))
    with pytest.raises(NotIngested, match="rag ingest"):
        svc.retriever.search("任何问题", 3)


def test_bm25_index_is_cached_under_rag_home(service, seeded_home):
    service.retriever.search("上市企业", 3)
    assert list((seeded_home / "cache").glob("bm25-*.npz"))


def test_a_running_retriever_sees_what_another_writer_ingests(copied_home, tmp_path):
    from rag.config import load_settings
    from rag.ingest.pipeline import ingest
    from rag.interfaces.service import Service

    from .conftest import write_post

    reader = Service.from_settings(load_settings(RAG_HOME=copied_home))
    gen = reader.store.generation()
    assert reader.retriever.search("上市企业", 3)
    writer = Service.from_settings(load_settings(RAG_HOME=copied_home))
    rep = ingest([SEED], store=writer.store, embedder=writer.embedder, budget=400)
    assert rep.added == 0 and writer.store.generation() == gen  # an unchanged re-ingest writes nothing
    post = write_post(tmp_path, "later.md", "后来的报道", "2023-06-01", ["常州新建一座氢能产业园。"])
    ingest([post], store=writer.store, embedder=writer.embedder, budget=400)
    hits = reader.retriever.search("氢能产业园", 3, Filters(doc_ids=("later",)))
    assert hits and hits[0].chunk.doc_id == "later"


def test_bm25_leaves_out_matches_on_everyday_words_only():
    from rag.retrieval.lexical import BM25Index, index_tokens

    texts = ["常州推动绿色低碳发展，建设一批零碳工厂。"] + [f"常州第{i}项产业发展举措。" for i in range(30)]
    index = BM25Index([f"c{i}" for i in range(len(texts))], [index_tokens(t) for t in texts])
    # every chunk says 常州 and 发展; only c0 says what the question is about
    assert [cid for cid, _ in index.search("常州怎么推动绿色低碳发展？", 10)] == ["c0"]


def test_bm25_update_reads_only_new_chunks_and_ranks_like_a_fresh_build(tmp_path):
    from rag.retrieval.lexical import BM25Index, index_tokens

    texts = {
        f"d{i}:p1:0:x": t
        for i, t in enumerate(
            [
                "常州推动绿色低碳发展，建设一批零碳工厂。",
                "苏州新建两座氢能产业园。",
                "无锡半导体产业规模超过2000亿元。",
                "常州新能源汽车产量增长三成。",
                "南京召开软件产业大会。",
                "扬州发展文旅产业。",
            ]
        )
    }
    ids = sorted(texts)
    old = BM25Index(ids[:4], [index_tokens(texts[i]) for i in ids[:4]])
    fetched: list[str] = []

    def fetch(wanted):
        fetched.extend(wanted)
        return [(cid, texts[cid]) for cid in wanted]

    current = ids[1:]  # the first post is gone, two are new
    updated = old.updated(current, fetch)
    assert sorted(fetched) == ids[4:]
    fresh = BM25Index(current, [index_tokens(texts[i]) for i in current])
    path = tmp_path / "bm25.npz"
    updated.save(path)
    loaded = BM25Index.load(path)
    assert loaded is not None and loaded.ids == fresh.ids == sorted(current)
    for q in ["常州新能源汽车", "产业园", "半导体产业规模", "绿色低碳"]:
        assert loaded.search(q, 5) == updated.search(q, 5) == fresh.search(q, 5)
    for term in ["常州", "产业", "零碳", "没见过"]:
        assert loaded.term_idf(term) == pytest.approx(fresh.term_idf(term))
    assert updated.search("零碳工厂", 5) == []  # its only post left the index
    assert old.updated(ids[:4], fetch) is old  # nothing changed: nothing read


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """The seed among 40 generated Changzhou news posts that share its everyday words."""
    import sys

    from rag.config import load_settings
    from rag.ingest.pipeline import ingest
    from rag.interfaces.service import Service

    from .conftest import ROOT

    sys.path.insert(0, str(ROOT / "scripts"))
    from distractors import write

    tmp = tmp_path_factory.mktemp("crowded")
    write(tmp / "posts", 40)
    svc = Service.from_settings(load_settings(RAG_HOME=tmp / "home"))
    report = ingest(
        [ROOT / "seeds", tmp / "posts"],
        store=svc.store,
        embedder=svc.embedder,
        budget=svc.settings.chunk_tokens,
    )
    assert report.documents == 41 and not report.errors
    return svc


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "paragraph", "within"),
    [
        # among these generated posts, which share the seed's words, a post's summed evidence raised
        # it to 1st; among real posts that evidence cost 8 points of dev R@1 (docs/embedders.md)
        pytest.param(
            "常州怎么推动绿色低碳发展？",
            18,
            1,
            marks=pytest.mark.xfail(strict=True, reason="ranked 5th without post evidence"),
        ),
        ("到2025年上市企业超过多少家？", 13, 1),
        ("到2025年全市工业规模总量要超过多少？", 26, 1),
        ("How large should the city's total industrial output be by 2025?", 26, 3),
        # generic words (city, build, serve → 服务) pull in other posts. It ranked 5th while a post's
        # summed evidence raised English questions too; among these generated posts, which share
        # the seed's words, it helped, but among real posts it hurt (Fusion.english_doc): now 7th
        pytest.param(
            "What will the city build to serve as a modern logistics hub?",
            16,
            6,
            marks=pytest.mark.xfail(strict=True, reason="ranked 7th without post evidence for English"),
        ),
    ],
)
def test_the_seed_paragraph_still_wins_among_many_posts(crowded, question, paragraph, within):
    hits = crowded.retriever.search(question, 10)
    assert (SEED_ID, paragraph) in [(h.chunk.doc_id, h.chunk.paragraph) for h in hits[:within]]


def test_hit_text_is_the_whole_paragraph_whether_or_not_it_was_split(fresh_home, hash_embedder):
    from rag.config import load_settings
    from rag.ingest.pipeline import ingest
    from rag.retrieval.retrieve import Retriever
    from rag.store.chroma import Store

    from .conftest import SEED

    store = Store.open(load_settings(RAG_HOME=fresh_home))
    ingest([SEED], store=store, embedder=hash_embedder, budget=60)  # long paragraphs split in parts
    retriever = Retriever(store, hash_embedder, cache_dir=fresh_home / "cache")
    article = store.article(next(iter(store.docs())))
    hits = [
        h for q in ("上市企业", "主攻点 产业集群", "盛蕾主持会议", "营商环境") for h in retriever.search(q, 6)
    ]
    parts = {h.chunk.part for h in hits}
    assert parts >= {0, 1}  # both kinds were returned
    for h in hits:
        assert h.paragraph_text == article.paragraph(h.chunk.paragraph)
        assert (h.title, h.date) == (article.title, article.date)
    assert retriever._articles == {}  # every paragraph was put together from its chunks, none read


def test_a_split_paragraph_is_not_put_together_from_parts_that_do_not_cover_it():
    from rag.records import Chunk
    from rag.retrieval.retrieve import _joined

    def part(i, text, start, n=9):
        return Chunk(
            id=f"d:p1:{i}:x",
            doc_id="d",
            paragraph=1,
            part=i,
            text=text,
            tokens=1,
            start=start,
            paragraph_chars=n,
        )

    assert _joined([part(1, "丙丁戊。己。", 3), part(0, "甲乙。丙丁戊。", 0)]) == "甲乙。丙丁戊。己。"
    assert _joined([part(0, "甲乙。", 0), part(1, "己。", 7)]) is None  # a gap
    # one dropped space between sentences (the loader leaves single spaces only)
    assert _joined([part(0, "甲乙。", 0, n=10), part(1, "丙丁戊。己。", 4, n=10)]) == "甲乙。 丙丁戊。己。"
    assert _joined([part(0, "甲乙。", 0, n=11), part(1, "丙丁戊。己。", 5, n=11)]) is None  # two: not a space
    assert (
        _joined([part(0, "甲乙。", 0), part(1, "丙丁戊。己。", -1)]) is None
    )  # place unknown (an older store)
    assert _joined([part(0, "甲乙。丙丁戊。", 0, n=12)]) is None  # shorter than the paragraph


def test_posts_that_hold_every_name_of_the_question_are_raised():
    from rag.retrieval.lexical import BM25Index, index_tokens
    from rag.retrieval.retrieve import NAME_WEIGHT, _favour_named_documents, _names

    texts = {
        "a:p1:0:x": "江苏省交通运输厅加快建设国家物流枢纽。",
        "b:p1:0:x": "常州日报讯 大会在常州召开。",
        "b:p2:0:x": "要建设长三角现代物流中心。",
    }
    index = BM25Index(list(texts), [index_tokens(t) for t in texts.values()])
    names = _names("常州打算建设一个什么样的物流枢纽？")
    assert names == ["常州"] and index.docs_with_all(names) == {"b"}
    assert index.docs_with_all(["无此名"]) is None and _names("谁出席了会议？") == []
    raised = _favour_named_documents({"a:p1:0:x": 0.03, "b:p2:0:x": 0.02}, {"b"})
    assert raised == {"a:p1:0:x": 0.03, "b:p2:0:x": 0.02 * (1 + NAME_WEIGHT)}
    assert raised["b:p2:0:x"] > raised["a:p1:0:x"]  # the post that names 常州 now ranks first
