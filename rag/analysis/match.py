"""How much of a question (or a claim) a sentence or paragraph holds, by meaning as well as words:
exact words, synonyms and abbreviations (rag.language.lexicon), shared characters, dictionary senses and
pinyin for English, and whether it holds the kind of answer asked for."""

from __future__ import annotations

import re
from functools import lru_cache

from rag.analysis.evidence import Evidence, Sentence, amounts
from rag.analysis.question import QuestionProfile, Term
from rag.language.lexicon import is_abbreviation, pinyin
from rag.language.text import char_ngrams, nfkc, number_values

# What a term earns when met in another form than its own (the extractive weights are fitted on
# top of these, so only their order matters): a synonym or abbreviation (高企 for 高新技术企业),
# or most of its characters (工业规模 for 工业规模总量).
NEAR_CREDIT = 0.8
CHAR_CREDIT = 0.5
CHAR_SHARE = 0.6  # share of a term's character bigrams that must be present for CHAR_CREDIT

TIME_EXPR = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月|\d{1,2}\s*[日号]|[今明去前昨后]年|[今明昨前]天|本月|上旬|中旬|下旬|月底|月初|年底|年初|年内|上半年|下半年|上午|下午|凌晨|晚上|早晨|当天|当日|周[一二三四五六日末]|星期[一二三四五六日天]|\d{1,2}[:：]\d{2}"
    # the Chinese calendar: a year of the zodiac (虎年) and the public holidays
    r"|[鼠牛虎兔龙蛇马羊猴鸡狗猪]年|春节|元旦|元宵节?|清明节?|劳动节|端午节?|中秋节?|国庆节?|除夕"
)
DURATION = re.compile(
    r"\d+(?:\.\d+)?\s*(?:多)?(?:年|个月|天|日|小时|分钟|秒|周)|[一二三四五六七八九十两半几]+(?:年|个月|天|小时|分钟|周)"
)
# The time of the report, not of what it reports: a dateline (新华社北京8月1日电, 中新网肇庆7月26日电)
# and the day a reporter learned something (记者8月2日从…获悉, 17日，记者从…获悉); Chinese news
# writing's conventions (电头, 消息来源). (日前 and 近日, "recently", are not in TIME_EXPR: they
# place a report in time without dating anything.)
REPORT_TIME = re.compile(
    r"\d{1,2}\s*月\s*\d{1,2}\s*日\s*电|(?:\d{1,2}\s*月\s*)?\d{1,2}\s*日(?=[，,]?[^。；;]{0,30}?(?:获悉|了解到|得知))"
)
_DURATION_QUESTION = re.compile(r"多久|多长时间|多少(?:年|天|小时|分钟|个月)|how long", re.I)
_HOLIDAY = r"春节|元旦|元宵|清明|劳动节|端午|中秋|国庆|除夕"
# A question that names the unit of time it asks for is answered in that unit: "哪个月完成" by 12月,
# not by the 26日 of the report; "哪一年成立" by a year, not by a month and day.
_TIME_UNITS = (
    (
        re.compile(r"哪一?天|哪一?日|几号|几月几日|(?:what|which) (?:date|day)\b", re.I),
        re.compile(
            r"\d{1,2}\s*[日号]|[今明昨前后]天|当[天日]|周[一二三四五六日]|星期[一二三四五六日天]|" + _HOLIDAY
        ),
    ),
    (
        re.compile(r"哪一?个?月|几月|什么月份|(?:what|which) month\b", re.I),
        re.compile(
            r"\d{1,2}\s*月|[一二三四五六七八九十]{1,2}月|本月|[上下]个?月|月[底初中末]|[上中下]旬|" + _HOLIDAY
        ),
    ),
    (
        re.compile(r"哪一?年|何年|(?:what|which) year\b", re.I),
        re.compile(r"\d{4}\s*年|[今明去前后]年|[鼠牛虎兔龙蛇马羊猴鸡狗猪]年"),
    ),
)


def _time_pattern(question: str) -> re.Pattern[str]:
    """What answers a time question: a duration, a time in the asked unit, or any time."""
    if _DURATION_QUESTION.search(question):
        return DURATION
    return next((expr for asked, expr in _TIME_UNITS if asked.search(question)), TIME_EXPR)


# (国 ends a country's name, not 国际, 国内, 国家…)
_PLACE_SUFFIX = re.compile(
    r"[\u4e00-\u9fff]{1,8}(?:省|市|县|区|州|国(?![际内外家企有资产务债货航籍旗歌学情土防民营])|岛|镇|村|港|河|湖|海|地区|城|湾|山|街道|基地|机场|口岸|中心|馆|广场|体育场|会场|园区|公园)"
)
_QUOTED_NAME = re.compile(r"[“「《『\"]([^”」》』\"]{2,24})[”」》』\"]")
_ORG_SUFFIX = re.compile(
    r"[\u4e00-\u9fff]{1,12}(?:部|局|委|院|会|公司|集团|中心|协会|银行|大学|学院|医院|办公室|政府|研究所|署|厅|处|队|团|社|组织|机构|法院|检察院|联盟)"
)
# An aim stated in Chinese policy news: 力争/确保/争取…, 到2025年…, 目标/计划…, 将/要 + verb
GOAL_EXPR = re.compile(
    r"力争|确保|争取|目标|指标|计划|规划|预计|有望|到\d{4}\s*年|将[^，。；]{0,6}(?:达到|实现|建成|突破|超过|形成|完成)|要[^，。；]{0,8}(?:达到|实现|建成|突破|超过|形成|完成|打造|培育)"
)
# a share said in words: 三分之二, 百分之五, 七成
_CN_SHARE = re.compile(
    r"[一二三四五六七八九十百千]+分之[一二三四五六七八九十百千零点]+|[一二三四五六七八九十]成(?![立为果员])"
)
_CN_QUANTITY = re.compile(
    r"(?<![第一二三四五六七八九十百千万两几])[一二三四五六七八九十百千万两几]+(?:分之[一二三四五六七八九十]+|成|倍|[个家项名人条座所件辆架吨台])|倍增|翻番|翻一番"
)


@lru_cache(maxsize=8192)
def _initials(tokens: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Chinese tokens by their first character (abbreviations share the first character)."""
    out: dict[str, list[str]] = {}
    for tok in tokens:
        if "\u4e00" <= tok[:1] <= "\u9fff":
            out.setdefault(tok[0], []).append(tok)
    return {k: tuple(v) for k, v in out.items()}


def term_credit(term: Term, text: str, tokens: frozenset[str]) -> float:
    """1 when the term (or, for English, one of its senses) is in the text, NEAR_CREDIT for a
    synonym or an abbreviation either way, CHAR_CREDIT for most of its characters, else 0."""
    if any(f in text for f in term.forms):
        return 1.0
    # a two-character synonym counts as a word of the text, not as two characters anywhere in it
    # (中心's synonym 要领 is not in 主要领导)
    if any(f in tokens if len(f) < 3 else f in text for f in term.near):
        return NEAR_CREDIT
    word = term.word
    if "\u4e00" <= word[:1] <= "\u9fff":
        if word[0] in text and any(
            is_abbreviation(tok, word) or is_abbreviation(word, tok)
            for tok in _initials(tokens).get(word[0], ())
        ):
            return NEAR_CREDIT
        if any(ph[0] in text and _abbreviated_in(ph, text) for ph in term.phrases):
            return NEAR_CREDIT
        if len(word) >= 3:
            grams = char_ngrams(word)
            if grams and len(grams & char_ngrams(text)) / len(grams) >= CHAR_SHARE:
                return CHAR_CREDIT
    return 0.0


def _abbreviated_in(phrase: str, text: str) -> bool:
    """The text has a 2-3 character abbreviation of the phrase (规上 for 规模以上; not a mere
    prefix of it, such as 规模)."""
    start = text.find(phrase[0])
    while start >= 0:
        if any(
            text[start + 1 : start + 2] != phrase[1] and is_abbreviation(text[start : start + n], phrase)
            for n in (2, 3)
        ):
            return True
        start = text.find(phrase[0], start + 1)
    return False


def coverage(terms: tuple[Term, ...], text: str, tokens: frozenset[str]) -> float:
    """Weighted share of the terms the text holds (each at its credit)."""
    den = sum(t.weight for t in terms)
    if not den:
        return 0.0
    return sum(t.weight * term_credit(t, text, tokens) for t in terms) / den


def names_found(profile: QuestionProfile, ev: Evidence) -> float:
    """Share of the English names of the question that are people (or words) of the paragraph
    in pinyin: "Sheng Lei" is 盛蕾; 1 when the question names nobody."""
    if not profile.names:
        return 1.0
    spoken = set(ev.pinyins) | {pinyin(t) for t in ev.tokens if "\u4e00" <= t[:1] <= "\u9fff"}
    return sum(1 for n in profile.names if n in spoken or n in ev.norm) / len(profile.names)


# The ranks of Chinese administrative divisions, as the last character of a place's name (国家统计局,
# 统计用区划代码: 省 自治区 市 州 盟 县 旗 区 镇 乡 村), plus 国 for countries
ADMIN_RANKS = frozenset("省市州盟县旗区镇乡村国")


def name_conflict(profile: QuestionProfile, ev: Evidence) -> bool:
    """The paragraph lacks a name the question gives and names another of the same kind in its
    place: another work in 《》 (《鼓舞》 for 《求佛》), another place of the same rank (云南省 for
    湖北省)."""
    said = ev.norm + nfkc(ev.hit.title).lower()  # the article's title names what its paragraphs leave out
    for kind, names in profile.named:
        for n in names:
            if n in said:
                continue
            others = ev.named.get(kind, frozenset()) - names  # the paragraph is tagged only now
            if kind == "work" and others:
                return True
            rank = n[-1:]  # a ranked name is a name and its rank: 湖北省, not the common noun 城市
            if len(n) >= 3 and rank in ADMIN_RANKS and any(o.endswith(rank) and len(o) >= 3 for o in others):
                return True
    return False


def person_absent(profile: QuestionProfile, article: str) -> bool:
    """The question is about a person (`QuestionProfile.people`) whom the article never names:
    李俊升's career is not told by an article about 李俊华."""
    return any(n not in article for n in profile.people)


# Classifiers that count the same things: people are counted in 名, 人 or 位 ("多少名救援人员" is
# answered by "6347人"; the classifiers of Chinese grammar, e.g. 《现代汉语八百词》)
_PEOPLE = ("名", "人", "位")
SAME_UNIT = {u: _PEOPLE for u in _PEOPLE}


def has_quantity(text: str, unit: str | None = None) -> bool:
    """An amount that can answer "how many/much": a number that is not a year (or a Chinese
    one), in the asked unit (or a classifier of the same things) when the question names one."""
    # (a year, a month or a day is a date, not an amount: 2022年10月30日)
    # (…nor is 第31届: an ordinal says which one, not how many)
    found = [a for a in amounts(text) if not a.is_year and not a.ordinal and not a.day_or_month]
    if unit:
        units = SAME_UNIT.get(unit, (unit,))
        if unit == "%" and _CN_SHARE.search(text):
            return True
        return any(
            a.unit.lstrip("万亿多余 ").startswith(units) or (unit == "%" and a.unit.startswith("%"))
            for a in found
        ) or bool(
            re.search(
                r"[一二三四五六七八九十两几百千万]+\s*(?:" + "|".join(map(re.escape, units)) + ")", text
            )
        )
    return bool(found) or bool(_CN_QUANTITY.search(text))


def holds_kind(profile: QuestionProfile, s: Sentence) -> bool:
    """The sentence holds the kind of answer asked for, beyond what the question already says."""
    kind, text = profile.kind, s.norm
    q = profile.text
    if kind == "quantity":
        return has_quantity(text, profile.unit)
    if kind == "time":
        return bool(_time_pattern(q).search(REPORT_TIME.sub("", text)))
    if kind == "person":
        return any(n not in q for n in s.names) or (profile.english and bool(s.names))
    if kind in ("place", "org"):
        # a place or body the question names is not the answer, however the pattern cut it
        # ("让常州" is 常州 with the verb before it; an English question names 常州 as Changzhou);
        # the pattern's prefix may run back over a name the question has ("的洪玛奈进入美国": 美国)
        named = [f for t in profile.terms if t.proper for f in t.forms if len(f) >= 2]
        pattern = _PLACE_SUFFIX if kind == "place" else _ORG_SUFFIX
        return any(
            m.group(0) not in q and not any(m.group(0).endswith(f) for f in named)
            for m in pattern.finditer(text)
        )
    if kind == "name":
        return any(m.group(1) not in q for m in _QUOTED_NAME.finditer(s.text))
    if kind == "goal":
        return bool(GOAL_EXPR.search(text))
    return True


def holds_head(profile: QuestionProfile, s: Sentence) -> bool:
    """For "哪个州/哪家医院": a word ending in the head noun that the question does not have."""
    head = profile.head
    if not head:
        return False
    return any(tok.endswith(head) and tok != head and tok not in profile.text for tok in s.tokens) or bool(
        re.search(r"[\u4e00-\u9fff]{2,}" + re.escape(head), s.norm.replace(profile.text, ""))
    )


def novelty(profile: QuestionProfile, s: Sentence) -> float:
    """Share of the sentence's characters that the question does not have (an answer adds something)."""
    grams = char_ngrams(s.norm)
    if not grams:
        return 0.0
    q = char_ngrams(profile.text) | {g for t in profile.terms for f in t.forms for g in char_ngrams(f)}
    return len(grams - q) / len(grams)


def years_in(profile: QuestionProfile, text: str) -> bool:
    """The question names a year and the text (relative years resolved) names it too."""
    return bool(profile.years) and profile.years <= {int(v) for v in number_values(text) if v == int(v)}


def years_unsaid(profile: QuestionProfile, ev: Evidence) -> bool:
    """The question names a year that neither the paragraph (relative years resolved), nor its
    article's title, nor the year of its post says: "到2030年…" asked of a report on 2025 targets,
    "2023年…" of a 2022 post's "今年"; a post of 2023 that says "7月份" does speak of 2023. Never
    for an undated post (it does not say which year its "今年" or "7月" is)."""
    if not profile.years or not ev.hit.date[:4].isdigit():
        return False
    title = {int(v) for v in number_values(nfkc(ev.hit.title)) if v == int(v)}
    return not profile.years <= _years_said(ev) | title | {int(ev.hit.date[:4])}


def years_missing(profile: QuestionProfile, ev: Evidence) -> bool:
    """The question names a year the paragraph does not (relative years resolved)."""
    return bool(profile.years) and not profile.years <= _years_said(ev)


def _years_said(ev: Evidence) -> set[int]:
    return {int(v) for v in ev.values if v == int(v)} | {int(v) for v in number_values(ev.norm)}
