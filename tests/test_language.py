"""The language resources: general, reachable, and free of any one article's phrases."""

import re

import pytest

from rag.analysis.question import analyse
from rag.cache import WordTable, word_table
from rag.language.crossling import NEWS_GLOSSARY, english_terms, stem, translations
from rag.language.lexicon import is_abbreviation, is_pinyin_name, person_names, pinyin
from rag.language.resources import language_for


def test_every_glossary_key_is_reachable_from_its_inflected_forms():
    for key, senses in NEWS_GLOSSARY.items():
        assert translations(key, language_for(None).english())[english_terms(key)[0]] == senses, key
    assert translations("chaired", language_for(None).english())["chair"] == NEWS_GLOSSARY["chair"]
    assert translations("exceeded", language_for(None).english())[stem("exceeded")] == NEWS_GLOSSARY["exceed"]


def test_dictionary_senses_split_at_semicolons_and_phrases_are_looked_up_whole():
    # CC-CEDICT's "country; nation; state" is three translations: 国家 is the commonest, not the last
    assert translations("country", language_for(None).english())["country"][0] == "国家"
    assert translations("Who was the acting mayor this year?", language_for(None).english()) == {
        "acting": ["代理"],
        "this year": ["今年"],
        "mayor": ["市长"],
    }


def test_no_glossary_sense_is_a_number_or_a_date():
    # "到2025年" as a sense of *target* was one article's phrase, not a translation
    assert not [(k, s) for k, v in NEWS_GLOSSARY.items() for s in v if re.search(r"\d", s)]


def test_abbreviations_take_characters_across_words_not_a_prefix():
    assert is_abbreviation("高企", "高新技术企业") and is_abbreviation("规上", "规模以上")
    assert not is_abbreviation("市委", "市委书记") and not is_abbreviation("规模", "规模以上")


def test_synonyms_come_from_cilin_groups():
    assert "举行" in language_for(None).lexicon().synonyms("召开")


@pytest.mark.parametrize("text, near", [("党政主要领导出席。", False), ("这是问题的核心。", True)])
def test_a_two_character_synonym_counts_as_a_word_not_as_characters_across_words(text, near):
    from rag.analysis.match import NEAR_CREDIT, term_credit
    from rag.language.text import words

    (centre,) = [t for t in analyse("物流中心在哪里？", lambda w: 1.0).terms if t.word == "中心"]
    assert "要领" in centre.near and "核心" in centre.near  # Cilin: 中心 = 要领 = 核心 (the gist)
    assert term_credit(centre, text, frozenset(words(text))) == (NEAR_CREDIT if near else 0.0)


def test_a_word_table_is_built_once_then_read_from_its_file(tmp_path):
    builds = []

    def build():
        builds.append(1)
        return {"召开": ("举行", "举办"), "空": ()}

    path = tmp_path / "words-v1.sqlite"
    (tmp_path / "words-v0.pkl").write_bytes(b"old")
    first = word_table(path, build, "words-*")
    again = word_table(path, build, "words-*")
    assert isinstance(again, WordTable) and len(builds) == 1
    assert not (tmp_path / "words-v0.pkl").exists()  # the older version is removed
    for table in (first, again):
        assert table.get("召开") == ("举行", "举办") and table.get("空") == () and table.get("无", ()) == ()
    path.write_bytes(b"not a database")
    assert word_table(path, build, "words-*").get("召开") == ("举行", "举办") and len(builds) == 2


def test_english_names_are_compared_in_pinyin():
    assert pinyin("盛蕾") == "shenglei" and is_pinyin_name("Sheng Lei") and is_pinyin_name("Chen Jinhu")
    assert not is_pinyin_name("United Kingdom")
    assert "李明华" in person_names("市委副书记、市长李明华主持会议。")
    # a byline names its reporters whole (jieba alone cuts the seed's 舒泉清 to 舒泉)
    assert person_names("本报讯(记者舒泉清) 飞雪迎春到。") == ("舒泉清",)
    assert person_names("（记者林杉 通讯员张思）绿色教育") == ("林杉", "张思")


def test_question_profiles():
    idf = lambda w: 1.0
    goal = analyse("What are the targets for 2030?", idf)
    assert goal.english and goal.kind == "goal" and goal.is_set and 2030 in goal.years
    count = analyse("到2030年上市企业超过多少家？", idf)
    assert count.kind == "quantity" and count.unit == "家" and not count.is_set
    who = analyse("谁主持了会议？", idf)
    assert who.kind == "person"
    # a role after which/哪 asks for a person; a plural noun after which asks for a list
    assert analyse("Which reporter wrote the story?", idf).kind == "person"
    assert analyse("哪个记者报道了此事？", idf).kind == "person"
    assert analyse("Which future industries does the city plan?", idf).is_set
    assert analyse("Which units spoke at the meeting?", idf).is_set
    assert not analyse("Which city hosts the fair?", idf).is_set
    assert not analyse("Which is the largest firm?", idf).is_set


def test_a_capitalized_english_word_is_a_name_the_article_must_hold():
    terms = {t.word: t for t in analyse("What is Changzhou's unemployment rate?", lambda w: 1.0).terms}
    assert terms["changzhou"].proper and "常州" in terms["changzhou"].forms
    assert not terms[stem("unemployment")].proper
