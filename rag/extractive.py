"""Extractive answers (no LLM): quote the retrieved sentences that answer the question, cited."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .models import Hit
from .prompts import sentinel_for
from .text import content_words, has_cjk, nfkc, number_values, split_sentences
from .timewords import annotate
from .verify import CrossScorer

IdfFn = Callable[[str], float]

# Words that frame a question rather than name its subject ("…的目标是什么", "有什么要求").
# They rarely occur verbatim in the answer, so they count a quarter of a topic word.
FRAME_WORDS = frozenset(
    "目标 要求 计划 措施 内容 情况 方面 意义 评价 地位 位置 问题 作用 达到 多大 比例 比重 数量 规模 总量 方向 任务 工作 举措 打算 准备 "
    "家 个 项 名 座 条 所 几个 几家 几项 几名 "  # 多少家/几个: the answer's kind, not its subject
    "target targets goal goals plan plans aim aims number share".split()  # English: stemmed forms
)
FRAME_WEIGHT = 0.25
PLURAL_FRAMES = frozenset("目标 要求 计划 措施 任务 举措 targets goals plans measures".split())
SET_QUESTION = re.compile(r"哪些|哪几|有什么|分别|列举|都有|包括|[两三四五六七八九几][个项条大种]|all\b|list\b|which\b.*\b(?:are|were)\b|what are\b|targets|goals", re.IGNORECASE)
TIME_QUESTION = re.compile(r"什么时候|何时|哪天|哪一天|时间|when\b|what date|what day", re.IGNORECASE)
TIME_EXPR = re.compile(r"\d{4}年|\d{1,2}月|\d{1,2}日|[今明去昨前][年天日]|工作日|春节|新春|上午|下午|当天|日前|近日")
QUANTITY_QUESTION = re.compile(r"多少|几[个家项]|几成|比重|比例|规模|总量|增速|how (?:many|much|large|big)|what share|percent|rate\b", re.IGNORECASE)

# Evidence thresholds, set from the eval set (eval/questions.jsonl, seed article):
# Chinese: weighted share of the question's topic words found in the best sentence. Answerable
# questions score 0.35-1.0, unanswerable ones 0.07-0.26 (their subject words are absent).
MIN_COVERAGE = 0.33
# English: idf-weighted share of the question's words whose Chinese senses (news glossary, else
# CC-CEDICT) occur in the best sentence. Answerable questions score 0.46-1.0, unanswerable ones
# 0.15-0.30 ("unemployment" → 失业, "patents" → 专利 are absent). The e5 cosine (answerable
# 0.75-0.80, unanswerable 0.77-0.79) only breaks ties: as a bar it separates nothing.
MIN_CROSS_COVERAGE = 0.4
MIN_CROSS_SIM = 0.7
CROSS_WEIGHT = 5.0
# How close to the best sentence another must score to be quoted too.
KEEP_RATIO_SINGLE = 0.9
KEEP_RATIO_SET = 0.5
MAX_SENTENCES_SINGLE = 2
MAX_SENTENCES_SET = 10


@dataclass
class Candidate:
    hit: int  # 1-based index into hits
    paragraph: int
    position: int  # sentence index in its paragraph
    text: str
    score: float = 0.0
    coverage: float = 0.0
    similarity: float = 0.0


def candidates(hits: Sequence[Hit]) -> list[Candidate]:
    out = []
    seen = set()
    for i, h in enumerate(hits, 1):
        key = (h.chunk.doc_id, h.chunk.paragraph)
        if key in seen:
            continue
        seen.add(key)
        for j, s in enumerate(split_sentences(h.paragraph_text)):
            if len(nfkc(s)) >= 4:
                out.append(Candidate(hit=i, paragraph=h.chunk.paragraph, position=j, text=s))
    return out


def _weights(question: str, idf: IdfFn) -> dict[str, float]:
    return {w: idf(w) * (FRAME_WEIGHT if w in FRAME_WORDS else 1.0) for w in dict.fromkeys(content_words(question))}


def score_candidates(question: str, hits: Sequence[Hit], idf: IdfFn, cross: CrossScorer | None) -> list[Candidate]:
    cands = candidates(hits)
    wants_quantity = bool(QUANTITY_QUESTION.search(question))
    # A question about a year (2021年, 2022年) is answered only from paragraphs about that year,
    # relative words resolved: in a 2022 post, 今年 counts as 2022.
    years = {v for v in number_values(question) if 1900 <= v <= 2100 and v == int(v)}
    if years:
        cands = [c for c in cands if years <= number_values(annotate(hits[c.hit - 1].paragraph_text, hits[c.hit - 1].date))]
    if has_cjk(question):
        weights = _weights(question, idf)
        total = sum(weights.values()) or 1.0
        for c in cands:
            hay = nfkc(annotate(c.text, hits[c.hit - 1].date)).lower()
            c.coverage = sum(w for t, w in weights.items() if t in hay) / total
            c.score = c.coverage
    else:
        # English question: its words looked up in CC-CEDICT, plus e5 cross-lingual similarity
        from .crossling import translations

        terms = translations(question)
        sims = cross(question, [c.text for c in cands]) if cross else [0.0] * len(cands)
        for c, sim in zip(cands, sims):
            hay = nfkc(annotate(c.text, hits[c.hit - 1].date)).lower()
            num = den = 0.0
            for word, zh in terms.items():
                # the commonest sense found in the corpus sets the weight (unseen words weigh most)
                weight = min(idf(z) for z in zh) if zh else (idf(word) if word in hay else 0.0)
                weight *= FRAME_WEIGHT if word in FRAME_WORDS else 1.0
                den += weight
                num += weight if (word in hay or any(z in hay for z in zh)) else 0.0
            c.coverage = num / den if den else 0.0
            c.similarity = sim
            # cosines differ in the second decimal: ×5 puts 0.01 of cosine level with 0.05 of coverage
            c.score = c.coverage + CROSS_WEIGHT * sim
    wants_time = bool(TIME_QUESTION.search(question))
    for c in cands:
        if wants_quantity and number_values(c.text):
            c.score += 0.1 if has_cjk(question) else 0.01
        if wants_time and TIME_EXPR.search(c.text):  # "when" is answered by a time expression
            c.score += 0.3 if has_cjk(question) else 0.03
        c.score += (0.03 if has_cjk(question) else 0.003) / c.hit  # retrieval rank breaks ties
    return sorted(cands, key=lambda c: -c.score)  # empty when nothing qualifies


# Chinese amounts: 三分之二, 七成, 两倍, 三个/八大 (not 一个, which is an article: 再创一个…)
_CN_QUANTITY = re.compile(r"[一二三四五六七八九十]+分之[一二三四五六七八九十]+|[一二三四五六七八九十两几]+成|[两三四五六七八九十几]+(?:倍|个|家|项|大)|倍增|翻番|零的突破")


# "多少家/几个/多少亿元" names the unit of the answer: an amount in another unit does not answer it
# (常州有多少家专精特新企业？ is not answered by 世界500强). Relative answers (倍增, 翻番) do.
_ASKED_UNIT = re.compile(r"(?:多少|几)([家个项人名座条所元])")
_AMOUNT = r"(?:\d+(?:\.\d+)?|[一二三四五六七八九十两百千]+)\s*(?:万亿|万|亿)?(?:多|余)?"
_RELATIVE = re.compile(r"倍增|翻番|翻一番|\d+倍")


def has_quantity(text: str, question: str = "") -> bool:
    """An amount that can answer "how many/much": a number that is not a year, or a Chinese one;
    in the unit the question asks for, when it names one."""
    unit = _ASKED_UNIT.search(question)
    if unit:
        return bool(re.search(_AMOUNT + unit.group(1), nfkc(text)) or _RELATIVE.search(text))
    return any(not (1900 <= v <= 2100) for v in number_values(text)) or bool(_CN_QUANTITY.search(text))


def _amount_of_subject(question: str, chosen: list[Candidate], idf: IdfFn) -> bool:
    """For "多少家X": the amount must stand in a sentence that names X, the question's rarest
    topic word (上市企业超过150家 does not say how many 专精特新 firms there are)."""
    topic = {w: v for w, v in _weights(question, idf).items() if w not in FRAME_WORDS and not w.isdigit()}  # years: filtered above
    if not topic:
        return True
    subject = max(topic, key=lambda w: topic[w])
    return any(subject in nfkc(c.text) and has_quantity(c.text, question) for c in chosen)


def _answer_type_neighbours(question: str, chosen: list[Candidate], ranked: list[Candidate]) -> list[Candidate]:
    """When the question wants a time or an amount and no chosen sentence has one, add the
    nearest sentence of the same paragraph that does (the date often opens the paragraph)."""
    for wanted, has in ((TIME_QUESTION, lambda t: bool(TIME_EXPR.search(t))), (QUANTITY_QUESTION, lambda t: has_quantity(t, question))):
        if not wanted.search(question) or any(has(c.text) for c in chosen) or not chosen:
            continue
        top = chosen[0]
        same = [c for c in ranked if c.hit == top.hit and c.paragraph == top.paragraph and has(c.text) and c not in chosen
                and (wanted is TIME_QUESTION or c.coverage >= MIN_COVERAGE / 2)]  # an amount must be about the question
        if same:
            return [min(same, key=lambda c: (abs(c.position - top.position), c.position > top.position))]
    return []


def extract_answer(question: str, hits: Sequence[Hit], idf: IdfFn, cross: CrossScorer | None = None) -> str:
    """The answer text with [n] markers (n = hit index), or the sentinel when evidence is weak."""
    ranked = score_candidates(question, hits, idf, cross)
    if not ranked:
        return sentinel_for(question)
    best = ranked[0]
    cjk = has_cjk(question)
    threshold = MIN_COVERAGE if cjk else MIN_CROSS_COVERAGE
    if best.coverage < threshold or (not cjk and best.similarity < MIN_CROSS_SIM):
        return sentinel_for(question)
    # Chinese nouns have no plural: "目标是什么" asks for all the targets, like "有哪些目标"
    is_set = bool(SET_QUESTION.search(question)) or any(w in PLURAL_FRAMES for w in content_words(question))
    ratio, limit = (KEEP_RATIO_SET, MAX_SENTENCES_SET) if is_set else (KEEP_RATIO_SINGLE, MAX_SENTENCES_SINGLE)
    if has_cjk(question):
        # the best sentence clears the bar; the rest of a list may name its items in fewer words
        floor = threshold * (0.75 if is_set else 1.0)
        chosen = [c for c in ranked if c.coverage >= floor and c.score >= best.score * ratio][:limit]
    else:  # cosine scores live in a narrow band: keep what is within a small margin of the best
        margin = 0.1 if is_set else 0.02
        chosen = [c for c in ranked if c.coverage >= threshold and c.score >= best.score - margin][:limit]
    chosen += _answer_type_neighbours(question, chosen, ranked)
    if QUANTITY_QUESTION.search(question) and not any(has_quantity(c.text, question) for c in chosen):
        return sentinel_for(question)  # "多少" answered without any amount is no answer
    if cjk and _ASKED_UNIT.search(question) and not _amount_of_subject(question, chosen, idf):
        return sentinel_for(question)
    chosen.sort(key=lambda c: (hits[c.hit - 1].chunk.doc_id, c.paragraph, c.position))  # reading order
    parts = []
    for c in chosen:
        text = annotate(c.text, hits[c.hit - 1].date)
        body = text.rstrip("。！？；!?;")
        end = text[len(body) :] or "。"
        parts.append(f"{body}[{c.hit}]{end}")
    return ("" if has_cjk(question) else " ").join(parts)
