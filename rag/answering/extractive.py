"""Extractive answers (no LLM): quote the retrieved sentences that answer the question, cited.

Each sentence of the retrieved paragraphs gets a few general signals (rag.analysis.match: how much of the
question it and its paragraph hold, by words, synonyms, abbreviations and characters; whether it
is about the question's subject; whether it holds the kind of answer asked for; what it adds) and
a probability of answering, from a scorer fitted by `scripts/train.py` on the train split (and
dev) and read from rag/data/extractive.json (rag.answering.learned; its `source` says what made it). The
best sentence answers a single question; a list gathers every sentence above the list bar from
every paragraph; below the answer bar of the gate (a second scorer, over the best sentence) the
answer is the sentinel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rag.analysis.evidence import Evidence, Sentence, articles, gather
from rag.analysis.match import (
    coverage,
    has_quantity,
    holds_head,
    holds_kind,
    name_conflict,
    names_found,
    novelty,
    person_absent,
    term_credit,
    years_in,
    years_missing,
    years_unsaid,
)
from rag.analysis.question import IdfFn, QuestionProfile, Term, analyse, list_note
from rag.answering.learned import Scorer, logit
from rag.config import DATA_DIR
from rag.language.resources import Language
from rag.language.text import words
from rag.language.timewords import annotate
from rag.records import Hit
from rag.store.embeddings import Embedder, LocalE5Embedder, name_slug
from rag.verification.verify import with_markers

MODEL_FILE = DATA_DIR / "extractive.json"
# Signals of whether the question is answered at all, not of which sentence answers it: fitted in
# the gate only (what they cost the sentence model: docs/rules.md)
GATE_ONLY = ("nouns_window", "nouns_all_para", "proper_doc", "amount_about")
FEATURES = (
    "cov_sent",
    "cov_window",
    "cov_para",
    "cov_rest",
    "subj_sent",
    "subj_para",
    "key_para",
    "key_window",
    "kind_ok",
    "kind_miss",
    "kind_cov",
    "head_ok",
    "novelty",
    "year_miss",
    "rank",
    "doc_best",
    "short",
    "names_miss",
    "english",
    "year_sent",
    "keys_all_window",
    "keys_all_para",
    "cov_doc",
    "dense_rr",
    "lexical_rr",
    *GATE_ONLY,
)
# Whether to answer at all is a second, question-level decision, read off the best sentence:
# its probability (as a logit) and the signals that tell an answer from a near miss.
GATE_FEATURES = (
    "logit",
    "keys_all_para",
    "keys_all_window",
    "key_para",
    "subj_para",
    "cov_window",
    "cov_para",
    "cov_sent",
    "kind_ok",
    "kind_miss",
    "english",
    "year_miss",
    "names_miss",
    "cov_doc",
    "similarity",
    "dense_rr",
    "lexical_rr",
    *GATE_ONLY,
)
KEY_TERMS = 3  # the question's rarest words: an answer's paragraph holds them all
RAREST = 2  # …and the two rarest must both be there (the least credit of the two is a signal)
MAX_LIST_ITEMS = 12
SHORT_SENTENCE = 12  # characters: a heading or a fragment ("会议强调。"), seldom an answer
# The second stage: the likeliest few sentences are re-ranked with an embedder's similarity of
# question and sentence, which reads meaning where the signals read words (预计…12月主体施工完成 for
# "预计在哪个月完成主体施工", a sentence that leaves the project's name to the one before it). The
# light profile's reader reads the bundled e5's; a reader fitted per profile reads its own embedder's
# (docs/reader.md). Only the top few are embedded; a reader file may say how many (`rerank_top`).
RERANK_TOP = 5
SIM_CENTRE, SIM_SCALE = (
    0.8,
    10.0,
)  # e5 cosines sit in about 0.80–0.95: centred and spread like the other signals
Similarity = Callable[[str, Sequence[str]], list[float]]  # (question, sentences) -> cosine per sentence
# A later part of a two-part question that points back at the first part's subject
REFERS_BACK = re.compile(r"^(?:她|他|它|其|这|该|此|那)|\b(?:she|he|her|his|it|its|they|their|them)\b", re.I)


@dataclass
class Candidate:
    sentence: Sentence
    ev: Evidence
    x: dict[str, float] = field(default_factory=dict)
    p: float = 0.0


@dataclass(frozen=True)
class Model:
    sentence: Scorer  # the first stage: how likely a sentence answers, from its signals
    gate: Scorer  # how likely the best sentence answers at all: its signals and its "logit"
    answer_bar: float  # the gate's probability for the best sentence must reach this, or not found
    list_ratio: float  # further items of a list must reach this share of the best item's probability
    source: str
    # the second stage, from the first stage's "logit" and the "similarity" signal
    # (`similarity_signal`), fitted with one embedder's similarities and used only with that one's
    rerank: Scorer | None = None
    rerank_embedder: str | None = None
    rerank_top: int = RERANK_TOP  # how many of the likeliest sentences the second stage re-scores

    def probability(self, x: dict[str, float]) -> float:
        return self.sentence.probability(x)

    def reranked(self, p: float, similarity: float) -> float:
        """The second stage's probability of a first-stage `p` given the question's similarity."""
        assert self.rerank is not None
        return self.rerank.probability({"logit": logit(p), "similarity": similarity_signal(similarity)})

    def answerable(self, best: Candidate) -> float:
        """How likely the best sentence answers the question at all (not a near miss)."""
        return self.gate.probability({**best.x, "logit": logit(best.p)})


def similarity_signal(cosine: float) -> float:
    return (cosine - SIM_CENTRE) * SIM_SCALE


def embedding_similarity(embedder: Embedder) -> Similarity:
    """Question ↔ sentence cosine with `embedder` (vectors are L2-normalized)."""

    def similarity(question: str, sentences: Sequence[str]) -> list[float]:
        q = embedder.embed([question], kind="query")[0]
        return [sum(a * b for a, b in zip(q, v)) for v in embedder.embed(list(sentences), kind="passage")]

    return similarity


def sentence_similarity(
    embedder: Embedder, model: Model | None = None, fitted: Callable[[], Embedder] | None = None
) -> Similarity | None:
    """The second stage's similarity, computed by the embedder it was fitted with: `embedder` (the
    retriever's) when it is that one, else the one `fitted` gives when it is (the bundled e5, which
    the quality profile retrieves without), else None (another embedder's cosines sit in another
    band: the fitted weight would misread them)."""
    model = model or load_model()
    if model.rerank is None:
        return None
    if embedder.name == model.rerank_embedder:
        return embedding_similarity(embedder)
    if fitted is not None:
        other = fitted()
        if other.name == model.rerank_embedder:
            return embedding_similarity(other)
    return None


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Model(
        Scorer.from_json(data["sentence"]),
        Scorer.from_json(data["gate"]),
        data["answer_bar"],
        data["list_ratio"],
        data["source"],
        Scorer.from_json(data["rerank"]) if data.get("rerank") else None,
        data.get("rerank_embedder"),
        int(data.get("rerank_top", RERANK_TOP)),
    )


def profile_file(embedder_name: str, folder: Path = MODEL_FILE.parent) -> Path:
    """Where the reader fitted for an embedder's profile lives: the shipped default for the bundled
    e5 (the light profile), `extractive-<embedder>.json` beside it for any other."""
    if embedder_name == LocalE5Embedder.name:
        return folder / MODEL_FILE.name
    return folder / f"extractive-{name_slug(embedder_name)}.json"


def model_file(embedder_name: str, folder: Path = MODEL_FILE.parent) -> Path:
    """The reader fitted for an embedder's profile (scripts/train.py run under that RAG_EMBEDDER),
    else the shipped default (the light profile's)."""
    own = profile_file(embedder_name, folder)
    return own if own.exists() else folder / MODEL_FILE.name


def candidates(profile: QuestionProfile, evidence: Sequence[Evidence]) -> list[Candidate]:
    """Every sentence of the evidence with its signals (no probability yet)."""
    topic = profile.terms
    subject = profile.subject
    rest = tuple(t for t in topic if t is not subject)
    keys = profile.keys[:KEY_TERMS]
    rarest = keys[:RAREST]
    para_cov = {ev.n: coverage(topic, ev.norm, ev.tokens) for ev in evidence}
    best_doc_cov: dict[str, float] = {}
    for ev in evidence:
        best_doc_cov[ev.doc_id] = max(best_doc_cov.get(ev.doc_id, 0.0), para_cov[ev.n])
    top_doc = max(best_doc_cov, key=lambda d: best_doc_cov[d], default=None)
    # a news paragraph leaves to its article what the article has said (the city, the meeting):
    # the question's words found in the title or any retrieved paragraph of the same article
    doc_text = articles(evidence)
    doc_tokens = {d: frozenset(words(t)) for d, t in doc_text.items()}
    doc_cov = {d: coverage(topic, t, doc_tokens[d]) for d, t in doc_text.items()}
    # the names of the question (常州, 中国电信) must be somewhere in the article, and its common
    # nouns (法院, 海军) near the sentence: the same words as the question's proper nouns are not enough
    proper = tuple(t for t in topic if t.proper and not t.frame)
    # (a year is left to its own signal, year_miss: 今年 in a 2022 post is 2022年)
    things = tuple(t for t in topic if (t.noun or t.proper) and not t.frame and not t.year)
    # …and what a "how many" counts may be a frame noun, said after the number (多少个国家: 30个国家)
    counted = things + tuple(t for t in topic if t.noun and t.frame)
    # (as with the keys: its common nouns, else its other content words; "nothing to check" must not
    # read as "all there")
    content = [t for t in topic if not t.proper and not t.frame and not t.year]
    nouns = tuple(sorted([t for t in content if t.noun] or content, key=lambda t: -t.weight))
    proper_doc = {
        d: min((term_credit(t, txt, doc_tokens[d]) for t in proper), default=1.0)
        for d, txt in doc_text.items()
    }
    out = []
    for ev in evidence:
        names_miss = 1.0 - names_found(profile, ev)
        year_miss = float(years_missing(profile, ev))
        subj_para = term_credit(subject, ev.norm, ev.tokens) if subject else 0.0
        key_para = coverage(keys, ev.norm, ev.tokens)
        all_para = min((term_credit(t, ev.norm, ev.tokens) for t in rarest), default=0.0)
        nouns_para = min((term_credit(t, ev.norm, ev.tokens) for t in nouns[:RAREST]), default=1.0)
        for i, s in enumerate(ev.sentences):
            typed = profile.kind != "open"
            kind_ok = holds_kind(profile, s) if typed else False
            window = ev.sentences[max(0, i - 1) : i + 2]  # the subject often stands in the sentence before
            w_norm = "".join(x.norm for x in window)
            w_tokens = frozenset().union(*(x.tokens for x in window))
            cov_sent = coverage(topic, s.norm, s.tokens)
            out.append(
                Candidate(
                    s,
                    ev,
                    {
                        "cov_sent": cov_sent,
                        "cov_window": coverage(topic, w_norm, w_tokens),
                        "cov_para": para_cov[ev.n],
                        "cov_rest": coverage(rest, s.norm, s.tokens),
                        "subj_sent": term_credit(subject, s.norm, s.tokens) if subject else 0.0,
                        "subj_para": subj_para,
                        "key_para": key_para,
                        "key_window": coverage(keys, w_norm, w_tokens),
                        "kind_ok": float(kind_ok),
                        "kind_miss": float(typed and not kind_ok),
                        "kind_cov": float(kind_ok) * cov_sent,
                        "head_ok": float(holds_head(profile, s)),
                        "novelty": novelty(profile, s),
                        "year_miss": year_miss,
                        "rank": 1.0 / ev.n,
                        "doc_best": float(ev.doc_id == top_doc),
                        "short": float(len(s.norm) < SHORT_SENTENCE),
                        "names_miss": names_miss,
                        "english": float(profile.english),
                        "year_sent": float(years_in(profile, s.norm)),
                        "keys_all_window": min(
                            (term_credit(t, w_norm, w_tokens) for t in rarest), default=0.0
                        ),
                        "keys_all_para": all_para,
                        "cov_doc": doc_cov[ev.doc_id],
                        "nouns_window": coverage(nouns, w_norm, w_tokens) if nouns else 1.0,
                        "nouns_all_para": nouns_para,
                        "proper_doc": proper_doc[ev.doc_id],
                        "amount_about": amount_about(profile, things, s),
                        # where retrieval put the paragraph on each side (0 when one side missed it)
                        "dense_rr": 1.0 / ev.hit.dense_rank if ev.hit.dense_rank else 0.0,
                        "lexical_rr": 1.0 / ev.hit.lexical_rank if ev.hit.lexical_rank else 0.0,
                        # (read by `choose`, not a fitted signal)
                        "amount_counted": amount_about(profile, counted, s, counted=True),
                    },
                )
            )
    return out


def amount_about(
    profile: QuestionProfile, things: tuple[Term, ...], s: Sentence, counted: bool = False
) -> float:
    """For "how many/much": how much of what the question counts is said right before one of the
    sentence's amounts (研发投入 before 43% answers "研发投入占比", 制造业增加值 before it does not),
    or, with `counted`, before it or right after it, where Chinese puts the thing counted
    (约30个国家 answers "多少个国家"); 1 for other questions."""
    if profile.kind != "quantity" or not things:
        return 1.0
    best = 0.0
    for a in s.amounts:
        if a.is_year:
            continue
        said, said_words = "".join(a.subject), frozenset(a.subject)
        if counted:
            said, said_words = said + a.counted, said_words | frozenset(words(a.counted))
        best = max(best, coverage(things, said, said_words))
    return best


def scored(
    profile: QuestionProfile,
    evidence: Sequence[Evidence],
    model: Model | None = None,
    similarity: Similarity | None = None,
) -> list[Candidate]:
    """Candidates with their probability of answering, best first; with `similarity`, the first
    `model.rerank_top` are re-scored by the second stage and lead the list in their new order."""
    model = model or load_model()
    cands = candidates(profile, evidence)
    for c in cands:
        c.p = model.probability(c.x)
    ranked = sorted(cands, key=_order)
    if similarity is None or model.rerank is None or not ranked:
        return ranked
    top = ranked[: model.rerank_top]
    for c, cosine in zip(top, similarity(profile.text, [c.sentence.text for c in top])):
        c.p = model.reranked(c.p, cosine)
        c.x["similarity"] = similarity_signal(cosine)  # (the gate may read it)
    return sorted(top, key=_order) + ranked[model.rerank_top :]


def _order(c: Candidate) -> tuple[float, int, int]:
    return (-c.p, c.ev.n, c.sentence.position)


def choose(profile: QuestionProfile, ranked: list[Candidate], model: Model) -> list[Candidate]:
    """The sentences that answer: none under the answer bar, or from a paragraph about another
    place or work than the question's (`match.name_conflict`) or that never says its year
    (`match.years_unsaid`), or from an article that never names the person asked about
    (`match.person_absent`); the best one for a single question
    (a second one, even a likely one, mostly repeats or strays: dev answer precision), with the
    best one of its article that holds the asked kind of answer when it does not; for a list,
    every sentence of its article nearly as likely as the best, from every paragraph."""
    if not ranked or model.answerable(ranked[0]) < model.answer_bar:
        return []
    if (
        name_conflict(profile, ranked[0].ev)
        or years_unsaid(profile, ranked[0].ev)
        or (profile.people and person_absent(profile, _article(ranked)))
    ):
        return []  # rules, not fitted signals: another province, work, year or person
    if profile.is_set:  # the items of one article's list: other posts' sentences are not its items
        doc = ranked[0].ev.doc_id
        chosen = [c for c in ranked if c.ev.doc_id == doc and c.p >= ranked[0].p * model.list_ratio][
            :MAX_LIST_ITEMS
        ]
    else:
        chosen = ranked[:1]
        top = ranked[0]
        if profile.kind != "open" and not top.x["kind_ok"]:
            # the best sentence names the subject but not what was asked (the amount, the date):
            # the answer is often the next sentence of the same article that has it
            typed = [
                c
                for c in ranked[1:]
                if c.x["kind_ok"]
                and c.x["amount_counted"] > 0
                and c.ev.doc_id == top.ev.doc_id
                and c.p >= top.p * model.list_ratio
            ]
            chosen += typed[:1]
            if profile.kind == "quantity" and not any(has_quantity(c.sentence.norm) for c in chosen):
                # "how many" answered with no amount at all (in any unit: 930个 answers 多少台) is a
                # near miss, not an answer
                return []
    return sorted(
        chosen, key=lambda c: (c.ev.doc_id, c.ev.hit.chunk.paragraph, c.sentence.position)
    )  # reading order


def _article(ranked: list[Candidate]) -> str:
    """The best sentence's article among the evidence (`evidence.articles`)."""
    return articles({c.ev.n: c.ev for c in ranked}.values())[ranked[0].ev.doc_id]


def compose(profile: QuestionProfile, chosen: list[Candidate]) -> str:
    """The cited sentences (relative years resolved), and for a list how many paragraphs they span."""
    parts = [with_markers(annotate(c.sentence.text, c.ev.hit.date), f"[{c.ev.n}]") for c in chosen]
    joiner = " " if profile.english else ""
    text = joiner.join(parts)
    paragraphs = len({(c.ev.doc_id, c.ev.hit.chunk.paragraph) for c in chosen})
    if profile.is_set and len(chosen) > 1:
        text += joiner + list_note(len(chosen), paragraphs, profile.english)
    return text


@dataclass(frozen=True)
class Reading:
    """An extractive answer: its text with [n] markers (or the sentinel) and the gate's probability
    that the retrieved paragraphs answer the question (the least of its parts'; 0 with no sentence)."""

    text: str
    confidence: float
    # the hits' numbers (1-based), the one holding the likeliest sentence first; hits without a
    # readable sentence last, in retrieval order
    order: tuple[int, ...] = ()


def likeliest_first(ranked: Sequence[Candidate], hits: int) -> tuple[int, ...]:
    """Hit numbers ordered by the probability of their best sentence in `ranked` (best first)."""
    best: dict[int, float] = {}
    for c in ranked:
        best[c.ev.n] = max(best.get(c.ev.n, 0.0), c.p)
    return tuple(sorted(range(1, hits + 1), key=lambda n: (-best.get(n, -1.0), n)))


def read(
    question: str,
    hits: Sequence[Hit],
    idf: IdfFn,
    profile: QuestionProfile | None = None,
    evidence: Sequence[Evidence] | None = None,
    similarity: Similarity | None = None,
    model: Model | None = None,
    language: Language | None = None,
) -> Reading:
    """The answer text with [n] markers (n = hit index), or the sentinel when evidence is weak
    (under the model's answer bar); `similarity` (see
    `sentence_similarity`) re-ranks the likeliest sentences.
    A question in two parts is answered part by part; a part not found adds the sentinel.
    `model` is the fitted reader (the shipped one by default); `language` analyses the parts."""
    profile = profile or analyse(question, idf, language)
    evidence = evidence if evidence is not None else gather(hits)
    model = model or load_model()
    parts = [analyse(p, idf, language) for p in profile.parts] if len(profile.parts) > 1 else [profile]
    found: list[Candidate] = []
    every: list[Candidate] = []
    missing = False
    confidence = 1.0
    for i, part in enumerate(parts):
        pool = evidence
        if i and found and REFERS_BACK.search(part.text):
            # "她是哪一年出生的": the same person, so the same article, not another post's birth year
            pool = [ev for ev in evidence if ev.doc_id in {c.ev.doc_id for c in found}]
        ranked = scored(part, pool, model, similarity)
        every += ranked
        confidence = min(confidence, model.answerable(ranked[0]) if ranked else 0.0)
        chosen = choose(part, ranked, model)
        missing |= not chosen
        found += [c for c in chosen if all(c.sentence is not f.sentence for f in found)]
    order = likeliest_first(every, len(hits))
    if not found:
        return Reading(profile.sentinel, confidence, order)
    found.sort(key=lambda c: (c.ev.doc_id, c.ev.hit.chunk.paragraph, c.sentence.position))
    text = compose(profile, found)
    if missing:
        text += (" " if profile.english else "") + profile.sentinel
    return Reading(text, confidence, order)
