"""Verification, one rule per test, on paragraphs built by hand (no store, no retriever): a claim
is re-cited or dropped by what the paragraphs' own text says, never by their headers."""

from rag.analysis.question import SENTINEL_ZH, analyse
from rag.records import Chunk, Hit
from rag.verification.verify import strip_echoes, verify

from .conftest import said

# Invented paragraphs in the style of a city newspaper's report (no seed sentence).
TARGETS = "到2030年，全市工业规模总量超过3.2万亿元，制造业增加值占GDP比重稳定在40%左右。"
LISTED = "深入实施上市企业倍增计划，到2030年上市企业超过180家。"
PEOPLE = "市委书记王建国出席会议并讲话。市委副书记、市长李明华主持会议。"
OTHER = "今年一季度，全市完成固定资产投资增长8%，新开工项目52个。"


def hit(
    text: str, paragraph: int, doc: str = "news_a", date: str = "2023-03-01", title: str = "全市产业大会召开"
) -> Hit:
    chunk = Chunk(id=f"{doc}:p{paragraph}:0:x", doc_id=doc, paragraph=paragraph, part=0, text=text, tokens=0)
    return Hit(chunk=chunk, score=0.0, title=title, date=date, paragraph_text=text)


HITS = [hit(TARGETS, 13), hit(LISTED, 14), hit(PEOPLE, 9), hit(OTHER, 21)]


def codes(v) -> list[str]:
    return [w.code for w in v.warnings]


def test_a_true_claim_cited_to_the_wrong_block_is_re_cited():
    v = verify("到2030年上市企业超过180家[1]。", HITS, "到2030年上市企业超过多少家？")
    assert v.status == "answered" and [c.paragraph for c in v.citations] == [14]
    assert v.text == "到2030年上市企业超过180家[1]。" and "citation_repaired" in codes(v)


def test_an_uncited_claim_that_a_block_supports_gets_its_citation():
    v = verify("制造业增加值占GDP比重稳定在40%左右。", HITS, "制造业占比是多少？")
    assert [c.paragraph for c in v.citations] == [13] and v.text.endswith("[1]。")
    assert any(w.startswith("citation_repaired: uncited") for w in said(v.warnings))


def test_a_claim_no_block_supports_is_dropped():
    v = verify("全市新增高新技术企业600家[2]。上市企业超过180家[2]。", HITS, "q")
    assert (
        v.text == "上市企业超过180家[1]。"
        and "unsupported_claim" in codes(v)
        or "ungrounded_number" in " ".join(said(v.warnings))
    )
    assert "600" not in v.text


def test_a_number_is_grounded_by_the_text_not_the_paragraph_number_or_date():
    # ¶13 and a post dated 2023-03-01: neither 13 nor 2023/3/1 may ground a claim
    v = verify("全市共有13个区[1]。", HITS, "全市有几个区？")
    assert v.status == "not_found" and v.citations == []
    v = verify("大会于2023年3月1日召开[1]。", HITS, "大会何时召开？")
    assert v.status == "not_found" and v.citations == []


def test_the_sentinel_shields_only_a_sentence_that_is_the_sentinel_alone():
    v = verify(
        f"到2030年上市企业超过180家[2]。市长是王建国，{SENTINEL_ZH}", HITS, "上市企业有多少家，市长是谁？"
    )
    assert "王建国" not in v.text and "180家" in v.text
    assert v.status == "partial" and v.text.endswith(SENTINEL_ZH)
    alone = verify(f"到2030年上市企业超过180家[2]。{SENTINEL_ZH}", HITS, "q")
    assert alone.status == "partial" and not [w for w in said(alone.warnings) if "dropped" in w]


def test_the_subject_of_a_number_must_be_the_paragraph_s():
    # the paragraph has 3.2万亿元 of 工业规模总量, not of GDP
    v = verify("全市GDP总量超过3.2万亿元[1]。", HITS, "全市GDP总量是多少？")
    assert v.status == "not_found" and v.citations == []
    kept = verify("全市工业规模总量超过3.2万亿元[1]。", HITS, "全市工业规模总量是多少？")
    assert kept.status == "answered" and [c.paragraph for c in kept.citations] == [13]


def test_a_person_s_role_must_be_the_one_beside_the_name():
    v = verify("市长王建国主持会议[3]。", HITS, "谁主持了会议？")
    assert v.citations == [] and "王建国" not in v.text
    ok = verify("市长李明华主持会议[3]。", HITS, "谁主持了会议？")
    assert ok.status == "answered" and [c.paragraph for c in ok.citations] == [9]


def test_an_english_claim_with_the_wrong_name_is_dropped_and_the_right_one_kept():
    wrong = verify("Wang Jianguo chaired the meeting [3].", HITS, "Who chaired the meeting?")
    assert wrong.citations == [] and wrong.status == "not_found"
    right = verify("Li Minghua chaired the meeting [3].", HITS, "Who chaired the meeting?")
    assert right.status == "answered" and [c.paragraph for c in right.citations] == [9]


def test_echoes_of_the_context_format_are_stripped_before_claims_are_split():
    raw = "<<<\n[1] 《全市产业大会召开》 2023-03-01 ¶14\n到2030年上市企业超过180家[2]。\n>>>"
    assert "<<<" not in strip_echoes(raw) and "¶14" not in strip_echoes(raw)
    v = verify(raw, HITS, "到2030年上市企业超过多少家？")
    assert v.text == "到2030年上市企业超过180家[1]。" and v.warnings == []


def test_a_verbatim_sentence_is_its_own_support():
    v = verify("深入实施上市企业倍增计划，到2030年上市企业超过180家[2]。", HITS, "q")
    assert v.status == "answered" and v.warnings == [] and v.citations[0].quote == LISTED


def test_a_list_is_recounted_over_the_claims_that_stay():
    raw = "到2030年上市企业超过180家[2]。制造业增加值占GDP比重稳定在40%左右[1]。全市新增独角兽企业9家[1]。以上3项出自2个段落。"
    v = verify(raw, HITS, "到2030年的目标有哪些？")
    assert v.text.endswith("以上2项出自2个段落。") and "独角兽" not in v.text


def test_a_goal_question_is_a_list_over_its_year():
    p = analyse("到2030年的目标是什么？", lambda w: 1.0)
    assert (
        p.is_set
        and p.kind == "goal"
        and 2030 in p.years
        and p.subject is not None
        and p.subject.word == "2030年"
    )


def test_a_sentinel_on_one_block_is_a_remark_on_that_block_not_a_partial_answer():
    v = verify("[2] 到2030年上市企业超过180家。\n[1] 文中未提及。", HITS, "到2030年上市企业超过多少家？")
    assert v.status == "answered" and v.text == "到2030年上市企业超过180家[1]。"
    none = verify("[1] 文中未提及。\n[2] 文中未提及。", HITS, "常州的人口有多少？")
    assert none.status == "not_found" and none.warnings == []


def test_a_title_belongs_to_the_nearest_name():
    # 记者 stands near both names in the claim, but it is 周海涛's title, not 王建国's
    para = hit("王建国主持召开全市产业大会，部署全年工作。记者周海涛报道。", 3)
    v = verify("王建国主持召开全市产业大会，部署全年工作，记者周海涛报道[1]。", [para], "谁主持了大会？")
    assert v.status == "answered" and [c.paragraph for c in v.citations] == [3], v.warnings
    wrong = verify("记者王建国主持召开全市产业大会[1]。", [para], "谁主持了大会？")
    assert wrong.citations == [] and "unsupported_role" in " ".join(said(wrong.warnings))


def test_a_copied_sentence_is_cited_where_its_words_are():
    # two reports of one event; the sentence is copied from the first, cited to the second
    first = hit("市委书记王建国出席会议并讲话，部署全年重点工作。", 2, doc="news_b")
    second = hit("市委书记王建国出席会议并讲话、部署全年重点工作任务。", 5, doc="news_c")
    v = verify(
        "根据报道，市委书记王建国出席会议并讲话，部署全年重点工作[2]。", [first, second], "谁出席了会议？"
    )
    assert [c.doc_id for c in v.citations] == ["news_b"] and "citation_repaired" in codes(v)


def test_a_share_does_not_ground_a_count():
    para = hit("一季度全市工业投资增长2%，新开工项目52个。", 4)
    v = verify("There are 2 such projects in all [1].", [para], "How many projects?")
    assert v.citations == [] and "ungrounded_number: 2" in " ".join(said(v.warnings))
    kept = verify("全市工业投资增长2%[1]。", [para], "工业投资增长多少？")
    assert kept.status == "answered"


def test_a_list_item_s_number_does_not_ground_a_count():
    # invented risk list: its "2、" numbers an item; it counts nothing
    para = hit("风险提示：1、销售不及预期；2、结转不及预期，项目施工进度可能受到影响。", 2)
    for claim in ("There are 2 such projects in all [1].", "相关项目共有2个[1]。"):
        v = verify(claim, [para], "How many projects?")
        assert v.citations == [] and "ungrounded_number: 2" in " ".join(said(v.warnings)), claim
    counted = verify(
        "新开工项目2个[1]。", [hit("今年新开工项目2个，项目施工进度加快。", 2)], "新开工项目几个？"
    )
    assert counted.status == "answered"


def test_a_day_does_not_ground_a_count_but_grounds_a_date():
    # invented notice: its 27 is a day of the month; it counts nothing
    para = hit("基金会于2023年7月27日举办公益项目颁授活动，60人参加。", 2)
    for claim in ("There are 27 such projects in all [1].", "公益项目共有27个[1]。"):
        v = verify(claim, [para], "How many projects?")
        assert v.citations == [] and "ungrounded_number: 27" in " ".join(said(v.warnings)), claim
    for claim in (
        "The foundation held the ceremony on 27 July 2023 [1].",
        "基金会于2023年7月27日举办颁授活动[1]。",
    ):
        v = verify(claim, [para], "When was the ceremony held?")
        assert v.status == "answered" and v.citations, claim


def test_a_share_of_gdp_is_not_another_share_of_gdp():
    # the paragraph's 40% is 制造业增加值's share of GDP, not 研发投入's
    v = verify("研发投入占GDP的比重要达到40%左右[1]。", HITS, "研发投入占GDP的比重是多少？")
    assert v.citations == [] and "unsupported_subject" in " ".join(said(v.warnings))
