"""Question analysis, once per answer: its language, its content terms with their weights and the
forms that count as them, the kind of answer it asks for, and the answer's sentinel."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from rag.language.crossling import english_terms, translations
from rag.language.lexicon import ROLE_RE, person_names
from rag.language.resources import Language, language_for
from rag.language.text import could_be_year, has_cjk, named, nfkc, number_values, posseg, precise_words

# The not-found sentinel: one constant per answer language, shared by the code, prompts and tests.
SENTINEL_ZH = "文中未提及。"
SENTINEL_EN = "The article does not say."
SENTINELS = (SENTINEL_ZH.rstrip("。"), SENTINEL_EN.rstrip("."))

IdfFn = Callable[[str], float]


def sentinel_for(question: str) -> str:
    """The sentinel in the question's language (Chinese unless the question has no CJK)."""
    return SENTINEL_ZH if has_cjk(question) or not question.strip() else SENTINEL_EN


def is_sentinel(text: str) -> bool:
    return any(s in text for s in SENTINELS)


def only_sentinel(text: str) -> bool:
    """The sentence says the sentinel and nothing else ("文中未提及。", "其余文中未提及。")."""
    rest = text
    for s in SENTINELS:
        rest = rest.replace(s, "")
    return (
        is_sentinel(text)
        and not re.sub(
            r"[\W_]|其余|其他|其它|另外|此外|但|而|the rest|otherwise|however|but", "", rest, flags=re.I
        ).strip()
    )


# A list answer ends by saying how many items it has and how many paragraphs they come from.
LIST_NOTE_ZH = "以上{items}项出自{paragraphs}个段落。"
LIST_NOTE_EN = "These {items} items come from {paragraphs} paragraphs."
LIST_NOTE_RE = re.compile(r"以上\d+项出自\d+个段落。?|These \d+ items come from \d+ paragraphs\.?")


def list_note(items: int, paragraphs: int, english: bool) -> str:
    return (LIST_NOTE_EN if english else LIST_NOTE_ZH).format(items=items, paragraphs=paragraphs)


def is_note(text: str) -> bool:
    """The sentence only says the sentinel or counts a list: not a claim to check."""
    return only_sentinel(text) or bool(LIST_NOTE_RE.fullmatch(text.strip()))


# Words that frame a question rather than name its subject ("…的目标是什么", "有什么要求").
# They rarely occur verbatim in the answer, so they weigh a quarter of a topic word.
FRAME_WORDS = frozenset(
    "目标 要求 计划 措施 内容 情况 方面 意义 评价 地位 位置 问题 作用 达到 多大 比例 比重 数量 规模 总量 方向 任务 工作 举措 打算 准备 "
    "变化 影响 态度 方式 办法 途径 类型 名称 名字 职务 身份 时间 时候 日期 地方 地区 国家 部门 机构 单位 "
    "家 个 项 名 座 条 所 几个 几家 几项 几名 分别 哪个 哪家 哪位 什么样 怎样 哪种 "
    "想 要 打算 准备 希望 需要 应该 能够 可以 会 将 具体 主要 一般 通常 "  # modal and framing verbs
    "target goal plan aim number share kind type name time date".split()
)
FRAME_WEIGHT = 0.25

SET_QUESTION = re.compile(
    r"哪些|哪几|有什么|分别|列举|都有|包括|哪[两三四五六七八九十][个项条大种类]|all\b|list\b|which\b.*\b(?:are|were)\b|what are\b|what kinds?\b"
    # "which industries", "which future industries does…": a plural noun after which (not "which
    # city hosts": a plural-looking word after an adjective counts only before an auxiliary)
    r"|\bwhich (?!(?:is|was|has|does|this|its|his)\b)[a-z-]*[a-rt-z]s\b"
    r"|\bwhich [a-z-]+ [a-z-]*[a-rt-z]s (?:do|does|did|are|were|will|would|should|can|could|have|had)\b",
    re.I,
)
# "目标是什么": Chinese nouns have no plural, so a question after the targets asks for all of them
PLURAL_FRAME = re.compile(
    r"(?:目标|要求|措施|任务|举措|计划|特点|内容)(?:是什么|有什么|有哪些|包括)|(?:targets|goals|plans|measures)\b",
    re.I,
)
# The kind of answer a question asks for, by the words that ask it; tried in this order (the first
# that matches wins: "哪一年的目标" asks a time, "多少家企业" a quantity).
KIND_PATTERNS: dict[str, str] = {
    "time": r"什么时候|啥时候|几时|何时|哪天|哪一天|哪一年|哪年|哪个月|几月|几号|几点|什么时间|时间是|日期|多久|多长时间|when\b|what (?:year|date|day|time)|which (?:year|day|month)|how long",
    "quantity": r"多少|几[个家项名人次条座所件辆架吨台株批成倍]|百分之几|多大|多高|多远|多长|多重|how (?:many|much|large|big|far|high)|what (?:share|percentage|proportion)",
    "person": r"谁|哪位|什么人|哪个人|哪(?:个|名)?(?:记者|官员|领导|专家|负责人)|who\b|whom\b"
    r"|which (?:reporter|journalist|official|leader|minister|mayor|secretary|person|expert|scientist)\b",
    "org": r"哪个(?:部门|机构|单位|公司|企业|组织|团体|学校|大学|医院|银行)|哪家|哪些(?:部门|单位|机构|企业|公司)|which (?:company|companies|firm|agency|department|organi[sz]ation|institution|bank)",
    "place": r"哪里|哪儿|在哪|何地|何处|什么地方|什么位置|哪个(?:国家|省|市|城市|地区|州|县|区|镇|村|港|岛|地方)|哪些(?:国家|地区|城市|地方)|where\b|which (?:country|city|province|region|state|place)",
    # "名称是什么/叫什么": the answer is a name, which Chinese news puts in quotes or title marks
    "name": r"名称|名字|叫什么|称为什么|命名为|什么称号|什么名|what is (?:it|the [a-z ]+) called|(?:the|its) name\b|called what",
    # "目标/任务/计划是什么": the answer states an aim (力争…, 到2025年…达到, 将…), whatever its topic
    "goal": r"目标|指标|任务|计划|规划|打算|愿景|goals?\b|targets?\b|plans?\b|aims?\b",
}
_KINDS = {kind: re.compile(pattern, re.I) for kind, pattern in KIND_PATTERNS.items()}
# Words that name an amount without asking for one: a quantity question unless the question asks
# another kind outright ("增幅在全省处于什么位置" asks a standing, "比重是多少" an amount)
_QUANTITY_TOPIC = re.compile(r"比例|比重|占比|增速|增幅|percent|\brate\b", re.I)
# "多少家/几个/多少亿元" names the unit of the answer; a share asks for a percentage
_ASKED_UNIT = re.compile(
    r"(?:多少|几)\s*(万亿|亿|万)?([家个项人名座条所元次件辆架吨台株批倍天年月周岁米公里])"
)
_SHARE = re.compile(
    r"百分之几|百分比|比例|比重|占比|增速|增幅|percentage|what share|percent|proportion|\brate\b", re.I
)
# "哪个州/哪家医院/哪个海军基地": the answer names something of that head noun
_HEAD = re.compile(
    r"哪(?:个|家|所|位|座|条|项|种|些|一个|一家|一位)?([\u4e00-\u9fff]{1,4}?)(?=的|[？?，,。]|$|在|被|与|和|是|将|会|要|对|由|有|参加|负责|举办|提出|开发)"
)
_YEAR = re.compile(r"(?:19|20)\d\d年?")
_EN_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+)*)")


@dataclass(frozen=True)
class Term:
    """A content word of the question, its weight, and the forms that count as it."""

    word: str
    weight: float
    forms: tuple[str, ...]  # the word (or, for English, its Chinese senses) first
    near: tuple[str, ...] = ()  # synonyms and abbreviations: count, but less
    frame: bool = False
    phrases: tuple[
        str, ...
    ] = ()  # compounds with a neighbour (高新技术企业 for 企业): abbreviated as a whole
    noun: bool = False  # names a thing (jieba's noun tags): what a question is about; verbs paraphrase
    proper: bool = False  # names one person, place or body (nr, ns, nt, nz…): no paraphrase says it
    year: bool = False  # "2025年": checked as a year (今年 in a 2022 post is 2022年), not as a word


@dataclass(frozen=True)
class QuestionProfile:
    text: str
    english: bool
    terms: tuple[Term, ...]
    kind: str  # quantity | time | person | place | org | name | goal | open
    unit: str | None = None  # the asked unit: 家, 个, 元, %…
    head: str | None = None  # the head noun after 哪: 州, 医院, 基地…
    years: frozenset[int] = frozenset()
    is_set: bool = False
    names: tuple[str, ...] = ()  # English names in the question, lower-case, no spaces (shenglei)
    named: tuple[tuple[str, frozenset[str]], ...] = ()  # places and works the question names (text.named)
    people: tuple[str, ...] = ()  # Chinese personal names the question is about (`asked_people`)
    parts: tuple[str, ...] = field(default=())  # the questions inside a two-part question

    @property
    def sentinel(self) -> str:
        return SENTINEL_EN if self.english else SENTINEL_ZH

    @property
    def topic(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.frame)

    @property
    def keys(self) -> tuple[Term, ...]:
        """The question's words an answer's paragraph must hold, rarest first: its proper nouns
        (names are not reworded), else its nouns (a question rewords verbs: 拿出 for 安排, and often
        common nouns: 物流枢纽 for 物流中心), else all its topic words."""
        proper = [t for t in self.topic if t.proper]
        nouns = [t for t in self.topic if t.noun]
        return tuple(sorted(proper or nouns or self.topic, key=lambda t: -t.weight))

    @property
    def subject(self) -> Term | None:
        """The question's most specific word: what an answer must be about."""
        return max(self.topic, key=lambda t: t.weight, default=None)


def _kind(q: str) -> str:
    asked = next((kind for kind, rx in _KINDS.items() if rx.search(q)), "open")
    return "quantity" if asked in ("open", "goal") and _QUANTITY_TOPIC.search(q) else asked


_NOUN_TAGS = ("n", "nr", "ns", "nt", "nz", "nl", "ng", "j", "eng", "vn", "nrt", "nrfg")
_PROPER_TAGS = ("nr", "ns", "nt", "nz", "j", "eng", "nrt", "nrfg")


@lru_cache(maxsize=256)  # retrieval reads a question's names, then its analysis reads them again
def tagged_nouns(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """The question's nouns, and those of them that are names (jieba's part-of-speech tags)."""
    pseg = posseg()
    tagged = [(w.lower(), flag) for w, flag in pseg.lcut(nfkc(question))]
    return (
        frozenset(w for w, f in tagged if f in _NOUN_TAGS),
        frozenset(w for w, f in tagged if f in _PROPER_TAGS),
    )


def split_parts(question: str) -> tuple[str, ...]:
    """The questions inside one: "A？B？" or "A, and how B?" → (A, B)."""
    pieces = [
        p.strip(" ，,")
        for p in re.split(
            r"[？?]|,\s*and\s+(?=how|what|who|when|where|which)|，(?=她|他|它|这些|目前|又|其)", question
        )
        if p.strip(" ，,")
    ]
    pieces = [
        p for p in pieces if len(p) >= 4 and re.search(r"[\u4e00-\u9fff]{2}|[A-Za-z]{3}", p)
    ]  # not "#3-0"
    return tuple(pieces) if len(pieces) > 1 else (question,)


def asked_people(question: str) -> tuple[str, ...]:
    """The personal names a Chinese question is about, lower case: a name that opens the question
    or a clause of it, or follows a title (李俊升曾在哪些医院工作过, 部长李国英…); a surname inside a
    phrase is mostly not a name (多少钱来扶持: 钱来)."""
    q = nfkc(question)
    out = []
    for n in person_names(q):
        before = q[: q.find(n)]
        if not before or before[-1] in '，,、；;：:“"' or ROLE_RE.search(before[-8:]):
            out.append(n.lower())
    return tuple(out)


def analyse(question: str, idf: IdfFn, language: Language | None = None) -> QuestionProfile:
    """The profile of a question; `idf` weighs its words by how rare they are in the corpus; the
    synonyms and English senses come from `language` (the in-memory resources when None)."""
    language = language or language_for(None)
    lex = language.lexicon()
    q = nfkc(question)
    english = not has_cjk(q)
    terms: list[Term] = []
    if english:
        senses = translations(q, language.english())
        # a capitalized word past the first, standing alone, is a name (Changzhou, Tripoli): the
        # article must name it (a capitalized phrase is a title that Chinese says in other words:
        # the 14th Five-Year Plan is 十四五)
        capitalized = {w for n in _EN_NAME.findall(q) if not re.search(r"[ -]", n) for w in english_terms(n)}
        for word in dict.fromkeys(english_terms(q)):
            zh = tuple(senses.get(word, ()))
            # the commonest sense found in the corpus sets the weight; a word with no sense is
            # left to the name and number checks and does not sink coverage
            weight = min((idf(z) for z in zh), default=0.0) if zh else 0.0
            if _YEAR.fullmatch(word):
                terms.append(Term(word + "年", idf(word), (word + "年", word), noun=True, year=True))
            elif zh or re.fullmatch(r"\d+(?:\.\d+)?%?", word):
                terms.append(
                    Term(
                        word,
                        (weight or idf(word)) * (FRAME_WEIGHT if word in FRAME_WORDS else 1.0),
                        zh or (word,),
                        frame=word in FRAME_WORDS,
                        noun=word in capitalized,
                        proper=word in capitalized and bool(zh),
                    )
                )
    else:
        words = precise_words(q)
        nouns, proper = tagged_nouns(q)
        pairs = [
            a + b
            for a, b in zip(words, words[1:])
            if (a + b) in q.lower() and len(a + b) >= 4 and has_cjk(a[0] + b[0])
        ]
        for w in dict.fromkeys(words):
            if w in ("年", "月", "日"):
                continue
            if _YEAR.fullmatch(w):  # a year is a term too ("到2025年的目标" names nothing else)
                y = w.rstrip("年")
                terms.append(Term(y + "年", idf(y), (y + "年", y), noun=True, year=True))
                continue
            near = tuple(sorted(lex.synonyms(w)))
            terms.append(
                Term(
                    w,
                    idf(w) * (FRAME_WEIGHT if w in FRAME_WORDS else 1.0),
                    (w,),
                    near,
                    frame=w in FRAME_WORDS,
                    phrases=tuple(p for p in pairs if w in p),
                    noun=w in nouns,
                    proper=w in proper,
                )
            )
    unit = None
    if _SHARE.search(q):
        unit = "%"
    elif m := _ASKED_UNIT.search(q):
        unit = m.group(2)
    head = None
    if not english and (m := _HEAD.search(q)):
        head = m.group(1)
    years = frozenset(int(v) for v in number_values(q) if could_be_year(v))
    names = (
        tuple(n.replace(" ", "").replace("-", "").lower() for n in _EN_NAME.findall(question))
        if english
        else ()
    )
    kind = _kind(q)
    is_set = kind != "quantity" and bool(SET_QUESTION.search(q) or PLURAL_FRAME.search(q))
    return QuestionProfile(
        text=question,
        english=english,
        terms=tuple(terms),
        kind=kind,
        unit=unit,
        head=head,
        years=years,
        is_set=is_set,
        names=names,
        named=() if english else tuple(sorted(named(q).items())),
        people=() if english else asked_people(q),
        parts=split_parts(question),
    )
