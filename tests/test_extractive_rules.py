"""The extractive answerer's question-level rules, on paragraphs built by hand (no store)."""

from rag.evidence import gather
from rag.extractive import amount_about, extract_answer
from rag.question import SENTINEL_ZH, analyse
from tests.test_verify_rules import TARGETS, hit


def idf(word: str) -> float:
    return 1.0


def test_a_later_part_that_points_back_is_answered_from_the_first_part_s_article():
    hits = [
        hit("市委副书记、市长李明华主持会议。", 9, doc="news_a"),
        hit("张晓东，男，出生于1970年5月，江苏南京人。", 2, doc="news_b", title="张晓东同志简历"),
    ]
    text = extract_answer("李明华担任什么职务，她是哪一年出生的？", hits, idf)
    assert "李明华" in text and "1970" not in text and text.endswith(SENTINEL_ZH), text
    # asked alone, the birth year question may use any article
    assert "1970" in extract_answer("张晓东是哪一年出生的？", hits, idf)


def test_an_amount_is_about_the_words_said_before_it():
    (ev,) = gather([hit(TARGETS, 13)])
    (sentence,) = ev.sentences
    asked = analyse("制造业增加值占GDP比重要达到多少？", idf)
    other = analyse("研发投入占GDP比重要达到多少？", idf)
    things = lambda p: tuple(t for t in p.topic if t.noun or t.proper)  # noqa: E731
    assert amount_about(asked, things(asked), sentence) > amount_about(other, things(other), sentence)
    assert amount_about(analyse("会议在哪里召开？", idf), (), sentence) == 1.0
