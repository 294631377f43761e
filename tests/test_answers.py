"""Answers: verification rules, the extractive answerer, and the real openai client against the
fake server over HTTP."""

import re

import pytest

from rag.analysis.question import SENTINEL_EN, SENTINEL_ZH, analyse
from rag.answering.answer import answer, clean_question, holds_asked_kind
from rag.answering.llm import OpenAIChat, whole_sentences
from rag.answering.prompts import load_all
from rag.answering.summarize import summarize
from rag.errors import QuestionError
from rag.verification.verify import split_claims, verify

from .conftest import SEED_ID, said


def hits_for(service, q, k=6):
    return service.retriever.search(q, k)


def chat(service, fake, model="fake-model"):
    s = service.settings.model_copy(
        update={"openai_base_url": fake.base_url, "llm_model": model, "llm_retries": 0, "llm_timeout": 10.0}
    )
    service.settings = s
    return OpenAIChat.from_settings(s)


# ---- verification -------------------------------------------------------------------------------


def test_split_claims_attaches_markers_after_terminators():
    claims = split_claims("上市企业超过150家。[1] 高企倍增[2][3]。文中未提及其他。")
    assert [(c.text, c.markers) for c in claims] == [
        ("上市企业超过150家。", [1]),
        ("高企倍增。", [2, 3]),
        ("文中未提及其他。", []),
    ]


def test_out_of_range_markers_are_dropped_and_renumbered(service):
    hits = hits_for(service, "到2025年上市企业超过多少家？")
    n13 = next(i for i, h in enumerate(hits, 1) if h.chunk.paragraph == 13)
    v = verify(f"到2025年上市企业超过150家[9][{n13}]。", hits, "到2025年上市企业超过多少家？")
    assert v.text == "到2025年上市企业超过150家[1]。"
    assert [c.paragraph for c in v.citations] == [13] and v.citations[0].n == 1
    assert any(w.startswith("invalid_citation: [9]") for w in said(v.warnings))
    assert (
        v.citations[0].quote
        == "深入实施上市企业倍增计划和上市后备企业“双百”行动，到2025年上市企业超过150家。"
    )


def test_ungrounded_number_drops_the_claim(service):
    hits = hits_for(service, "到2025年上市企业超过多少家？")
    n13 = next(i for i, h in enumerate(hits, 1) if h.chunk.paragraph == 13)
    v = verify(f"到2025年上市企业超过200家[{n13}]。到2025年上市企业超过150家[{n13}]。", hits, "q")
    assert v.text == "到2025年上市企业超过150家[1]。"
    assert any(
        w.startswith("ungrounded_number: 200家") or w.startswith("ungrounded_number: 200")
        for w in said(v.warnings)
    )


def test_a_quotation_must_be_verbatim_in_a_paragraph(service):
    hits = hits_for(service, "到2025年上市企业超过多少家？")
    n13 = next(i for i, h in enumerate(hits, 1) if h.chunk.paragraph == 13)
    v = verify(f"报道称“到2025年上市公司要翻番达到很多”[{n13}]。上市企业超过150家[{n13}]。", hits, "q")
    assert any(w.startswith("quote_not_in_source") for w in said(v.warnings))
    assert v.text == "上市企业超过150家[1]。" and v.citations[0].quote in v.citations[0].text
    kept = verify(f"报道称“深入实施上市企业倍增计划”[{n13}]。", hits, "q")
    assert kept.status == "answered" and not kept.warnings


def test_citation_that_does_not_support_its_claim_is_dropped(service):
    hits = hits_for(service, "到2025年上市企业超过多少家？")
    n13 = next(i for i, h in enumerate(hits, 1) if h.chunk.paragraph == 13)
    other = next(i for i, h in enumerate(hits, 1) if h.chunk.paragraph != 13)
    v = verify(f"学习德国的工匠精神[{n13}]。到2025年上市企业超过150家[{n13}][{other}]。", hits, "q")
    assert any(w.startswith("unsupported_citation") for w in said(v.warnings))
    assert [c.paragraph for c in v.citations] == [13]


def test_quote_spanning_sentences_keeps_the_paragraph_s_own_whitespace():
    """News text has runs of spaces between sentences; the quote is the paragraph's own span
    (found by the CRUD-RAG corpus: the citation was dropped and its marker left dangling)."""
    from rag.records import Chunk, Hit

    text = "毛伊岛大火已造成93人死亡。    资料图：拉海纳镇。  约100人被迫跳海逃生。"
    hit = Hit(
        chunk=Chunk(id="d:p2:0:x", doc_id="d", paragraph=2, part=0, text=text, tokens=0),
        score=0.0,
        title="t",
        date="2023-08-14",
        paragraph_text=text,
    )
    v = verify("毛伊岛大火已造成93人死亡[1]。约100人被迫跳海逃生[1]。", [hit], "q")
    assert [c.quote for c in v.citations] == [
        "毛伊岛大火已造成93人死亡。    资料图：拉海纳镇。  约100人被迫跳海逃生。"
    ]
    assert v.text == "毛伊岛大火已造成93人死亡[1]。约100人被迫跳海逃生[1]。" and not any(
        "quote_not_verbatim" in w for w in said(v.warnings)
    )


def test_relative_year_in_answer_is_grounded_by_the_post_date(service):
    hits = hits_for(service, "今年高企数量")
    n13 = next(i for i, h in enumerate(hits, 1) if h.chunk.paragraph == 13)
    v = verify(f"2022年全市高企数量要达3400家左右[{n13}]。", hits, "q")
    assert v.status == "answered" and not [w for w in said(v.warnings) if "ungrounded" in w]


# ---- questions and extractive answers -----------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   \n\t", "\x00\x01\x02", "😀🎉🔥", "？？？", "问" * 20001])
def test_bad_questions_get_a_clear_error(bad):
    with pytest.raises(QuestionError):
        clean_question(bad)


def test_targets_question_gathers_several_paragraphs(service):
    a = answer("到2025年，常州提出了哪些发展目标？", retriever=service.retriever, settings=service.settings)
    assert a.mode == "extractive" and a.status == "answered"
    found = [
        t
        for t in (
            "3000亿元",
            "6500亿元",
            "世界500强",
            "150家",
            "数字化转型",
            "2.5万亿元",
            "43%",
            "50%",
            "倍增",
        )
        if t in a.answer
    ]
    assert len(found) >= 5, a.answer
    assert {13, 15, 26} <= {c.paragraph for c in a.citations}
    assert all(c.quote in c.text for c in a.citations)


def test_relative_time_is_resolved_in_the_answer(service):
    a = answer("2022年全市高企数量要达到多少家？", retriever=service.retriever, settings=service.settings)
    assert "3400家" in a.answer and "今年（2022年）" in a.answer


def test_english_question_over_chinese_article(service):
    a = answer("Who chaired the meeting?", retriever=service.retriever, settings=service.settings)
    assert a.status == "answered" and "盛蕾" in a.answer and a.citations[0].paragraph == 9


def test_unanswerable_question_is_not_found(service):
    a = answer("常州2022年第一季度GDP增速是多少？", retriever=service.retriever, settings=service.settings)
    assert (a.status, a.answer, a.citations) == ("not_found", SENTINEL_ZH, [])


@pytest.mark.parametrize(
    ("question", "status", "amount"),
    [
        ("到2025年上市企业超过多少家？", "answered", "150家"),
        ("到2025年要培育几个规模超3000亿元的产业集群？", "answered", "3个"),
        # ¶13 names 专精特新 and, in other sentences, 150家 and 3400家: none of them counts it.
        # Known weakness (issue 10's near misses): the calibrated answerer quotes 3400家 (高企)
        # because the sentence before names 专精特新; strict, so a fix shows up here.
        pytest.param(
            "常州有多少家专精特新企业？",
            "not_found",
            None,
            marks=pytest.mark.xfail(
                strict=True, reason="near-miss quantity answered from the neighbouring sentence"
            ),
        ),
    ],
)
def test_an_amount_must_be_of_the_asked_kind_and_subject(service, question, status, amount):
    a = answer(question, retriever=service.retriever, settings=service.settings)
    assert a.status == status and (amount is None or amount in a.answer), a.answer


def test_prompt_templates_load_with_checked_variables(tmp_path):
    from rag.answering.prompts import load_template
    from rag.config import PROMPTS_DIR
    from rag.errors import ConfigError

    assert set(load_all(PROMPTS_DIR)) == {"system", "answer", "summary", "translate"}
    (tmp_path / "answer.md").write_text("{{context}} {{question}} {{typo}}", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown variables \\['typo'\\]"):
        load_template("answer", tmp_path)


# ---- LLM mode through the real openai client and HTTP -------------------------------------------


def test_llm_answer_streams_and_is_verified(service, fake_llm):
    pieces: list[str] = []
    a = answer(
        "到2025年上市企业超过多少家？",
        retriever=service.retriever,
        settings=service.settings,
        llm=chat(service, fake_llm),
        on_token=pieces.append,
    )
    assert len(pieces) > 3 and "150" in "".join(pieces)
    assert a.mode == "llm" and a.model == "fake-model" and a.status == "answered"
    assert "150家" in a.answer and a.citations[0].paragraph == 13
    req = fake_llm.requests[-1]["body"]
    assert req["stream"] is True and req["messages"][0]["role"] == "system"
    assert "[1] 《加快打造长三角产业中轴" in req["messages"][1]["content"]
    assert a.usage and a.usage["prompt_tokens"] > 100


def test_llm_not_found_path(service, fake_llm):
    a = answer(
        "常州地铁三号线什么时候开通？",
        retriever=service.retriever,
        settings=service.settings,
        llm=chat(service, fake_llm),
    )
    assert (a.mode, a.status, a.answer) == ("llm", "not_found", SENTINEL_ZH)
    e = answer(
        "When does Changzhou metro line 3 open?",
        retriever=service.retriever,
        settings=service.settings,
        llm=chat(service, fake_llm),
    )
    assert (e.mode, e.status, e.answer) == ("llm", "not_found", SENTINEL_EN)


@pytest.mark.parametrize(
    ("fault", "warning"),
    [
        ("bad_markers", "invalid_citation: [99]"),
        ("invent_number", "ungrounded_number"),
        ("invent_number", "llm_unverifiable"),
    ],
)
def test_llm_misbehaviour_is_caught_by_verification(service, fake_llm, fault, warning):
    fake_llm.fault = fault
    a = answer(
        "到2025年全市工业规模总量要超过多少？",
        retriever=service.retriever,
        settings=service.settings,
        llm=chat(service, fake_llm),
    )
    assert any(w.startswith(warning) for w in said(a.warnings))
    assert "[99]" not in a.answer
    from rag.language.text import number_values

    cited = set().union(*(number_values(c.text) for c in a.citations)) if a.citations else set()
    assert number_values(a.answer.replace("[1]", "").replace("[2]", "")) <= cited


def test_a_how_many_answer_without_an_amount_falls_back_to_the_article(service, fake_llm):
    # the real 1.5B model did this: true sentences of another paragraph, none with a number
    fake_llm.fault = "off_question"
    q = "到2025年上市企业要超过多少家？"
    a = answer(q, retriever=service.retriever, settings=service.settings, llm=chat(service, fake_llm))
    assert a.mode == "extractive" and "150家" in a.answer
    assert any(w.startswith("llm_unverifiable: the question asks how many") for w in said(a.warnings))
    fake_llm.fault = None  # a true answer with its amount stays the model's
    b = answer(q, retriever=service.retriever, settings=service.settings, llm=chat(service, fake_llm))
    assert b.mode == "llm" and "150家" in b.answer


@pytest.mark.parametrize(
    ("question", "reply", "holds"),
    [
        ("会议在哪里举行？", "会议在常州市举行[1]。", True),
        ("会议在哪里举行？", "会议强调要抓好项目建设[1]。", False),
        ("会议由谁主持？", "会议由市委书记陈金虎主持[1]。", True),
        ("会议由谁主持？", "会议强调要抓好项目建设[1]。", False),
        ("项目什么时候开工？", "项目将于2022年3月开工[1]。", True),
        ("项目什么时候开工？", "项目进展顺利[1]。", False),
        ("到2025年上市企业要超过多少家？", "力争上市企业超过150家[1]。", True),
        ("到2025年上市企业要超过多少家？", "上市企业发展势头良好[1]。", False),
        ("哪家公司中标？", "中标单位为常州建工集团[1]。", True),
        ("哪家公司中标？", "项目进展顺利[1]。", False),
        ("How many listed companies by 2025?", "More than 150 [1].", True),
        ("How many listed companies by 2025?", "Listed companies will grow [1].", False),
        ("Where was the meeting held?", "It was held in Changzhou [1].", True),  # English: not read
        ("介绍一下这次会议", "会议强调要抓好项目建设[1]。", True),  # an open question asks no kind
    ],
)
def test_a_model_s_answer_must_hold_the_kind_of_thing_asked(question, reply, holds):
    assert holds_asked_kind(analyse(question, lambda w: 1.0), reply) is holds


def test_a_when_answer_without_a_time_falls_back_to_the_article(service, fake_llm):
    fake_llm.fault = "off_question"  # true sentences of another paragraph, none with a number
    q = "常州新春第一会是什么时候召开的？"
    a = answer(q, retriever=service.retriever, settings=service.settings, llm=chat(service, fake_llm))
    assert a.mode == "extractive" and "虎年第一个工作日" in a.answer
    assert any(w.startswith("llm_unverifiable: the question asks when") for w in said(a.warnings))


def test_the_extractive_answer_is_handed_over_before_the_model_is_asked(service, fake_llm):
    asked_before: list[int] = []
    drafts = []

    def on_draft(draft) -> None:
        drafts.append(draft)
        asked_before.append(len(fake_llm.requests))

    n = len(fake_llm.requests)
    a = answer(
        "到2025年上市企业超过多少家？",
        retriever=service.retriever,
        settings=service.settings,
        llm=chat(service, fake_llm),
        on_draft=on_draft,
    )
    assert asked_before == [n] and len(fake_llm.requests) == n + 1
    (draft,) = drafts
    assert draft.mode == "extractive" and "150家" in draft.answer and draft.citations
    assert a.mode == "llm" and a.confidence == draft.confidence


def test_over_long_context_is_cut_to_the_window(service, fake_llm):
    llm = chat(service, fake_llm)
    service.settings = service.settings.model_copy(update={"llm_context_tokens": 1500, "llm_max_tokens": 200})
    a = answer(
        "到2025年的目标是什么？", retriever=service.retriever, settings=service.settings, llm=llm, k=10
    )
    assert any(w.startswith("context_truncated") for w in said(a.warnings))
    assert fake_llm.requests[-1]["body"]["max_tokens"] == 200
    from rag.language import tokens

    msgs = fake_llm.requests[-1]["body"]["messages"]
    assert sum(tokens.count(m["content"]) for m in msgs) + 200 <= 1500


def test_whole_sentences_drops_an_unfinished_last_sentence():
    assert whole_sentences("上市企业超过150家[1]。要前瞻布局[3") == "上市企业超过150家[1]。"
    assert whole_sentences("高企倍增。[2] The target is 5%. It also") == "高企倍增。[2] The target is 5%."
    assert whole_sentences("到2025年，工业") == ""


@pytest.mark.parametrize("stream", [True, False])
def test_a_reply_cut_by_the_token_limit_keeps_its_whole_sentences(service, fake_llm, stream):
    llm = chat(service, fake_llm)
    service.settings = service.settings.model_copy(update={"llm_max_tokens": 70})
    a = answer(
        "到2025年的目标是什么？",
        retriever=service.retriever,
        settings=service.settings,
        llm=llm,
        on_token=[].append if stream else None,
    )
    assert fake_llm.requests[-1]["body"]["max_tokens"] == 70
    assert a.mode == "llm" and a.citations
    assert any(
        w.startswith("llm_truncated: the model's reply reached the 70-token limit") for w in said(a.warnings)
    )
    # every claim kept is a whole sentence of its paragraph, not a cut-off prefix of one
    assert a.answer.rstrip().endswith(("。", "！", "？", "；"))
    assert all(c.quote.endswith(("。", "！", "？", "；", "”")) for c in a.citations)


def test_a_summary_cut_by_the_token_limit_says_so_and_keeps_whole_sentences(service, fake_llm):
    llm = chat(service, fake_llm)
    service.settings = service.settings.model_copy(update={"llm_max_tokens": 120})
    s = summarize(retriever=service.retriever, settings=service.settings, llm=llm, doc_id=SEED_ID)
    assert s.mode == "llm" and s.citations and s.answer.rstrip().endswith("。")
    assert any(w.startswith("llm_truncated") for w in said(s.warnings))


def test_a_reply_cut_before_its_first_sentence_ended_falls_back(service, fake_llm):
    llm = chat(service, fake_llm)
    service.settings = service.settings.model_copy(update={"llm_max_tokens": 3})
    a = answer(
        "到2025年上市企业超过多少家？", retriever=service.retriever, settings=service.settings, llm=llm
    )
    assert a.mode == "extractive" and "150家" in a.answer
    assert any("before its first sentence ended" in w for w in said(a.warnings))


def test_llm_failure_falls_back_to_a_labeled_extractive_answer(service, fake_llm):
    fake_llm.fault = "500"
    a = answer(
        "到2025年上市企业超过多少家？",
        retriever=service.retriever,
        settings=service.settings,
        llm=chat(service, fake_llm),
    )
    assert a.mode == "extractive" and "150家" in a.answer
    assert any(w.startswith("llm_failed: the model endpoint answered HTTP 500") for w in said(a.warnings))


def test_llm_summary_in_one_call_when_it_fits(service, fake_llm):
    one = summarize(
        retriever=service.retriever, settings=service.settings, llm=chat(service, fake_llm), doc_id=SEED_ID
    )
    assert one.mode == "llm" and one.citations and len(fake_llm.requests) == 1


@pytest.mark.parametrize(
    "window, reply, calls, sentences",
    [
        # ~1,100 tokens of room (3200 − 1200 for the reply − the fixed prompt) for ~5,000 of blocks:
        # five parts, 16 / 5 → 4 sentences each
        (3200, 1200, 5, 4),
        (8192, 300, 6, 3),  # 300 reply tokens hold 3 sentences: 16 / 3 → 6 parts
    ],
)
def test_llm_summary_in_parts_joined_in_reading_order(service, fake_llm, window, reply, calls, sentences):
    settings = service.settings.model_copy(update={"llm_context_tokens": window, "llm_max_tokens": reply})
    s = summarize(retriever=service.retriever, settings=settings, llm=chat(service, fake_llm), doc_id=SEED_ID)
    assert len(fake_llm.requests) == calls  # no reduce call
    users = [r["body"]["messages"][-1]["content"] for r in fake_llm.requests]
    assert all(f"in {sentences} sentences or fewer" in u for u in users)
    firsts = [int(re.search(r"^\[(\d+)\]", u, re.M).group(1)) for u in users]
    assert firsts[0] == 1 and firsts == sorted(firsts)  # consecutive groups, global block numbers
    assert s.mode == "llm" and s.citations and all(c.quote in c.text for c in s.citations)
    paragraphs = [c.paragraph for c in s.citations]
    assert paragraphs == sorted(paragraphs) and paragraphs[-1] > 20  # every part, in reading order
    assert "2.5万亿元" in s.answer


def test_an_unverifiable_llm_summary_falls_back_to_a_labeled_extractive_one(service, fake_llm):
    fake_llm.fault = "leak"  # the model replies with its instructions: nothing a paragraph supports
    s = summarize(
        retriever=service.retriever, settings=service.settings, llm=chat(service, fake_llm), doc_id=SEED_ID
    )
    assert s.mode == "extractive" and s.status == "answered" and len(s.citations) >= 5
    assert any(w.startswith("llm_unverifiable") for w in said(s.warnings)) and "You answer" not in s.answer


@pytest.mark.parametrize(
    "question, reason",
    [
        # the fake quotes the 2025 target: true words about another year than the one asked
        ("到2030年上市企业超过多少家？", "the question names a year"),
        # an invented name: the fake quotes the seed's 盛蕾要求…抓项目建设, about another person
        ("钟立晨要求各级各部门怎样抓项目建设？", "the question is about a person"),
        ("盛蕾要求各级各部门怎样抓项目建设？", None),  # the person the seed names: the answer stands
    ],
)
def test_llm_answer_that_misses_the_asked_year_or_person_falls_back(service, fake_llm, question, reason):
    a = answer(question, retriever=service.retriever, settings=service.settings, llm=chat(service, fake_llm))
    if reason is None:
        assert (a.mode, a.status) == ("llm", "answered"), a.answer
    else:
        assert (a.mode, a.status) == ("extractive", "not_found"), a.answer
        assert any(w.startswith(f"llm_unverifiable: {reason}") for w in said(a.warnings))


def test_a_not_found_from_the_model_gives_way_to_a_quote_the_answerer_is_sure_of(service, fake_llm):
    # the fake matches words and finds too few of an English question's in the Chinese blocks: it
    # says the sentinel, as a small real model often does of a context that holds the answer
    q = "How many high-tech enterprises should Changzhou have this year?"
    llm = chat(service, fake_llm)
    off = service.settings.model_copy(update={"llm_not_found_bar": 1.0})
    plain = answer(q, retriever=service.retriever, settings=off, llm=llm)
    assert (plain.mode, plain.status) == ("llm", "not_found"), plain.answer
    a = answer(q, retriever=service.retriever, settings=service.settings, llm=llm)  # the default bar
    assert (a.mode, a.status) == ("extractive", "answered") and "3400家" in a.answer, a.answer
    assert any(
        w.startswith("llm_unverifiable: the model said the context does not answer") for w in said(a.warnings)
    )
    # a bar the quote does not reach leaves the model's "not found" standing
    never = service.settings.model_copy(update={"llm_not_found_bar": 0.999})
    assert answer(q, retriever=service.retriever, settings=never, llm=llm).mode == "llm"


# ---- English questions: the model's Chinese wording is searched too ------------------------------


class Wording:
    """A chat model that replies with a fixed text (a stand-in for the translation call)."""

    model = "stand-in"

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[tuple[str, str]] = []

    def complete(self, system, user, max_tokens, on_token=None):
        from rag.answering.llm import Reply

        self.calls.append((system, user))
        return Reply(self.text, self.model)


def test_the_chinese_wording_is_the_reply_s_chinese_line(service):
    from rag.answering.answer import chinese_wording

    llm = Wording("Sure, here it is:\n“会议由谁主持？”\n")
    assert chinese_wording("Who chaired the meeting?", llm, service.settings.prompts_dir) == "会议由谁主持？"
    system, user = llm.calls[0]
    assert system.startswith("Translate the user's English question into Chinese") and user == (
        "Who chaired the meeting?"
    )
    assert chinese_wording("Who?", Wording("I cannot translate that."), service.settings.prompts_dir) is None


def test_several_wordings_are_searched_alone_and_fused(service):
    r = service.retriever
    english, chinese = "Who chaired the meeting?", "谁主持了会议？"
    both = r.search_all([english, chinese], 4)
    refs = [h.ref for h in both]
    assert len(refs) == len(set(refs)) == 4 and refs[0] == f"{SEED_ID}#p9"
    alone = {h.ref for h in r.search(english, 4)} | {h.ref for h in r.search(chinese, 4)}
    assert set(refs) <= alone and [h.score for h in both] == sorted((h.score for h in both), reverse=True)
    assert [h.ref for h in r.search_all([chinese], 4)] == [h.ref for h in r.search(chinese, 4)]


def test_an_english_question_is_searched_in_the_model_s_chinese_too(service, fake_llm):
    llm = chat(service, fake_llm)
    fake_llm.requests.clear()
    a = answer("Who chaired the meeting?", retriever=service.retriever, settings=service.settings, llm=llm)
    systems = [
        m["content"] for r in fake_llm.requests for m in r["body"]["messages"] if m["role"] == "system"
    ]
    assert len(systems) == 2 and systems[0].startswith("Translate the user's English question into Chinese")
    assert a.mode == "llm" and any(c.paragraph == 9 for c in a.citations), a.answer
    fake_llm.requests.clear()
    answer("到2025年上市企业超过多少家？", retriever=service.retriever, settings=service.settings, llm=llm)
    assert len(fake_llm.requests) == 1  # a Chinese question needs no wording


def test_a_model_that_fails_the_wording_is_not_asked_again(service):
    from eval.fake_llm import FakeLLMServer

    with FakeLLMServer(fault="500") as srv:
        llm = chat(service, srv)
        a = answer(
            "Who chaired the meeting?", retriever=service.retriever, settings=service.settings, llm=llm
        )
        assert len(srv.requests) == 1 and a.mode == "extractive" and "盛蕾" in a.answer
        assert [w for w in said(a.warnings) if w.startswith("llm_failed")], a.warnings


def test_a_small_model_reads_the_paragraphs_of_the_likeliest_sentences_first(service, fake_llm):
    from eval.fake_llm import BLOCK_RE

    llm = chat(service, fake_llm)
    service.settings = service.settings.model_copy(update={"llm_context_blocks": 2})
    a = answer(
        "到2025年上市企业超过多少家？", retriever=service.retriever, settings=service.settings, llm=llm
    )
    user = fake_llm.requests[-1]["body"]["messages"][-1]["content"]
    blocks = BLOCK_RE.findall(user)
    assert [n for n, _, _ in blocks] == ["1", "2"]
    assert "上市企业" in blocks[0][2]  # the likeliest sentence's paragraph comes first
    assert a.mode == "llm" and a.citations and "上市企业" in a.citations[0].text


def test_every_retrieved_paragraph_in_retrieval_order_by_default(service, fake_llm):
    from eval.fake_llm import BLOCK_RE

    llm = chat(service, fake_llm)
    q = "到2025年上市企业超过多少家？"
    answer(q, retriever=service.retriever, settings=service.settings, llm=llm)
    user = fake_llm.requests[-1]["body"]["messages"][-1]["content"]
    hits = service.retriever.search_all([q], k=service.settings.top_k)
    assert [body for _, _, body in BLOCK_RE.findall(user)] == [h.chunk.text for h in hits]


def test_an_english_question_reaches_the_model_with_its_chinese_wording(service, fake_llm):
    llm = chat(service, fake_llm)
    answer(
        "How many listed companies by 2025?", retriever=service.retriever, settings=service.settings, llm=llm
    )
    wording = fake_llm.requests[0]["body"]["messages"][-1]  # the translation call
    user = fake_llm.requests[-1]["body"]["messages"][-1]["content"]
    assert wording["content"] == "How many listed companies by 2025?"
    assert "Question: How many listed companies by 2025?\n(The same question in Chinese: " in user


def test_focus_keeps_the_first_blocks_of_the_reader_s_order():
    from rag.answering.answer import focus

    hits = ["a", "b", "c", "d"]
    assert focus(hits, (3, 1, 4, 2), 2) == ["c", "a"]
    assert focus(hits, (3, 1, 4, 2), 0) == hits  # 0: every hit, retrieval order
    assert focus(hits, (), 2) == hits  # no order (no hits read): as retrieved


def test_a_short_post_is_summarized_in_fewer_sentences(fresh_home, fake_llm, tmp_path):
    from rag.config import load_settings
    from rag.ingest.pipeline import ingest
    from rag.interfaces.service import Service

    from .conftest import write_post

    svc = Service.from_settings(load_settings(RAG_HOME=fresh_home))
    post = write_post(
        tmp_path / "posts", "short.md", "短讯", "2023-05-01", ["常州今年新增高新技术企业300家。"] * 3
    )
    ingest([post], store=svc.store, embedder=svc.embedder, budget=400)
    summarize(retriever=svc.retriever, settings=svc.settings, llm=chat(svc, fake_llm), doc_id="short")
    user = fake_llm.requests[-1]["body"]["messages"][-1]["content"]
    assert len(fake_llm.requests) == 1 and "in 2 sentences or fewer" in user


@pytest.mark.parametrize(
    "warning, confidence, check",
    [
        ("no_verified_citations", 0.0, "no_verified_claim"),  # the model said things; none held
        (None, 0.95, "not_found_but_likely"),  # it said "not found"; the reader is sure it is there
        (None, 0.30, None),  # it said "not found", and the reader is not sure either: it stands
    ],
)
def test_the_fallback_policy_for_a_model_s_not_found(warning, confidence, check):
    from rag.answering.answer import llm_fallback
    from rag.answering.extractive import Reading
    from rag.records import Notice
    from rag.verification.verify import Verified

    profile = analyse("到2025年上市企业超过多少家？", lambda w: 1.0)
    notes = [Notice(warning, "nothing in the answer could be checked")] if warning else []
    checked = Verified(text=profile.sentinel, citations=[], warnings=notes, status="not_found")
    got = llm_fallback(checked, profile, [], Reading("上市企业超过150家[1]。", confidence), bar=0.8)
    assert (got.check if got else None) == check
