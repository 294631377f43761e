"""Citation verification, claim by claim, after every answer (LLM or extractive).

Echoes of the context format (<<<, >>>, block headers) are stripped first. Then each claim is
checked against every retrieved paragraph:
- its numbers must be in the paragraph's own text (never its ¶ number, header or post date; a
  share is not a count), and the words a number is about in the claim must be the ones beside it
  in the paragraph (GDP总量超过2.5万亿元 is not supported by 工业规模总量超过2.5万亿元);
- a person it names must be in the paragraph, with the title the claim gives them (a title is
  the nearest name's);
- a quotation must be verbatim there;
- most of its content must be there (characters, words, synonyms; for English, dictionary
  senses and pinyin names).
A claim keeps the cited paragraphs that support it; a claim cited wrongly, or not at all, that one
paragraph supports is cited to it (`citation_repaired`), and so is a sentence copied verbatim from
one paragraph but cited to another; a claim no paragraph supports is dropped.
A sentence that only says the sentinel stays, and makes the answer `partial`; a sentinel does not
shield the rest of its sentence. Markers are renumbered by first appearance, each citation gets
the verbatim span of its paragraph that supports it, and everything removed is in `warnings`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.analysis.evidence import ROLE_AFTER, ROLE_BEFORE, Evidence, amounts, gather, titles_of
from rag.analysis.question import (
    LIST_NOTE_RE,
    SENTINELS,
    IdfFn,
    is_sentinel,
    list_note,
    only_sentinel,
    sentinel_for,
)
from rag.language.crossling import coverage as dict_coverage
from rag.language.crossling import translations
from rag.language.lexicon import ROLES, is_pinyin_name, person_names, pinyin
from rag.language.resources import Language, language_for
from rag.language.text import char_ngrams, has_cjk, nfkc, number_values, split_sentences
from rag.records import Citation, CrossScorer, Hit, Notice, Status

MARKER_RE = re.compile(r"[\[［【]\s*(\d{1,3}(?:\s*[,，、;；]\s*\d{1,3})*)\s*[\]］】]")
_OPEN, _CLOSE = "“「『", "”」』"
_ROLE_CLAIM = re.compile(
    r"([\u4e00-\u9fff]{2,4}?)(?:是|为|担任|出任|任)(" + "|".join(sorted(ROLES, key=len, reverse=True)) + ")"
)
_ROLE_CLAIM_REV = re.compile(
    "("
    + "|".join(sorted(ROLES, key=len, reverse=True))
    + r")(?:是|为|由)([\u4e00-\u9fff]{2,3})(?=[，,。；;、]|$|担任|主持|出席)"
)
_LINE_LEAD = re.compile(r"(?m)^[ \t]*(?P<marks>(?:" + MARKER_RE.pattern + r"[ \t]*)+)(?P<body>\S.*?)[ \t]*$")
_TRAIL = re.compile(r"[。！？；!?;.，,、\s]+$")
# the context format, echoed back by small models: delimiters and block headers
_ECHO = re.compile(
    r"<<<|>>>|\[\d+\]\s*《[^》\n]*》\s*\d{4}-\d{2}-\d{2}\s*¶\d+|《[^》\n]*》\s*\d{4}-\d{2}-\d{2}\s*¶\d+|^\s*(?:Context blocks|Question|Answer)\b[^\n]*$",
    re.M,
)
_EN_NAME = re.compile(r"\b([A-Z][a-z]+(?:[ -][A-Z][a-z]+)+)\b")
# "根据报道，…" / "According to the article, …": a lead that attributes the sentence, not a claim
_ATTRIBUTION = re.compile(
    r"^(?:(?:根据|据)(?:报道|文章|文中|材料|资料|上文)|(?:报道|文章|文中)(?:称|指出|提到|显示))[，,：:]\s*"
    r"|^according to the (?:article|report|text|context)s?,\s*",
    re.I,
)

# A paragraph supports a Chinese claim when this share of the claim's character bigrams (marks and
# the sentinel left out) is in the window of its best sentence and the ones around it. A faithful
# paraphrase keeps 0.4-1.0 (the fake model's reworded claims: 0.6+); unrelated sentences of the
# same topic share under 0.25.
MIN_SUPPORT = 0.4
# An English claim: this share of its content words must have a dictionary sense (or be a name
# in pinyin, or a number) in the paragraph.
MIN_CROSS_SUPPORT = 0.5
# …and at least this many of its words (names included) must be found: "There are 2 such
# projects" has one word to check, too little to call it supported.
MIN_CROSS_WORDS = 2
# The words a number is about (before it in its clause): this weighted share must be beside the
# same number in the paragraph, and always the rarest of them.
MIN_SUBJECT = 0.5
# A claim that is this long and is the paragraph's own text (relative years resolved) is its quote:
# the other checks can only misread it (a district name taken for a person).
MIN_VERBATIM = 8
CLAIM_SHOWN = 60  # characters of a dropped or repaired claim quoted in its warning
# of a claim's sentence, the share its best sentence gives (the rest: that sentence and its neighbours)
SENTENCE_SHARE = 0.7


@dataclass
class Claim:
    text: str  # without markers
    markers: list[int] = field(default_factory=list)


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    warnings: list[Notice]
    status: Status


@dataclass
class Support:
    ok: bool
    score: float
    sentences: list[int]  # indexes into the paragraph's sentences
    why: Notice | None = None  # the first check that failed
    verbatim: bool = False  # the claim is the paragraph's own text


def with_markers(text: str, marks: str, english: bool = False) -> str:
    """The sentence with its markers before its closing punctuation: 上市企业超过150家[1]。"""
    body = _TRAIL.sub("", text)
    tail = text[len(body) :].strip() or ("." if english else "。")
    return f"{body}{marks}{tail}"


def strip_echoes(raw: str) -> str:
    """The answer without echoed delimiters and block headers."""
    return _ECHO.sub("", raw)


def split_claims(answer: str) -> list[Claim]:
    """Sentences of the answer with the markers that follow (or end) each one.

    A marker right after a terminator ("…150家。[1]") belongs to the sentence before it; one that
    starts a line ("[2] 到2025年…。", as small models write) belongs to that line."""
    answer = _LINE_LEAD.sub(lambda m: f"{m.group('body')}{m.group('marks').strip()}", answer)
    claims: list[Claim] = []
    for sent in split_sentences(answer):
        lead = re.match(r"^(\s*" + MARKER_RE.pattern + r")+", sent)
        if lead and claims:
            claims[-1].markers.extend(_marker_numbers(lead.group(0)))
            sent = sent[lead.end() :]
        marks = _marker_numbers(sent)
        text = MARKER_RE.sub("", sent).strip()
        if text:
            claims.append(Claim(text, marks))
        elif marks and claims:
            claims[-1].markers.extend(marks)
    return claims


def _marker_numbers(text: str) -> list[int]:
    return [int(n) for m in MARKER_RE.finditer(text) for n in re.split(r"[^\d]+", m.group(1)) if n]


def _without_sentinel(text: str) -> str:
    for s in SENTINELS:
        text = text.replace(s, "")
    return text.strip(" ，,。.；;")


def _bigram_share(claim: str, text: str) -> float:
    grams = char_ngrams(claim)
    return len(grams & char_ngrams(text)) / len(grams) if grams else 0.0


def _numbers_ok(
    claim: str, ev: Evidence, allowed: set[float], idf: IdfFn, language: Language
) -> Notice | None:
    """Every number of the claim is in the paragraph's text, about the same thing."""
    para = amounts(ev.norm)
    english = not has_cjk(claim)
    for a in amounts(claim):
        if a.value in allowed:
            continue  # the question's own numbers
        # a share is not a count: "2 such projects" is not grounded by 2%
        # …nor a count by an ordinal or a list item's number ("2、结转不及预期"), nor by a day
        # ("27 such projects" by 7月27日)
        same = [
            p
            for p in para
            if p.value == a.value
            and (p.unit == "%") == (a.unit == "%")
            and p.ordinal == a.ordinal
            and p.day_or_month == a.day_or_month
        ]
        implied = a.value in ev.values and all(p.value != a.value for p in para)  # 今年 in a 2022 post
        if not same and not implied:
            return Notice("ungrounded_number", f"{a.surface}")
        if english:  # English puts a number's subject after it: the clause around it must say the claim
            clauses = [
                c
                for c in re.split(r"[。！？；;]", ev.norm)
                if any(v == a.value for v in (x.value for x in amounts(c)))
            ]
            if (
                clauses
                and max(dict_coverage(claim, c, language.english()) for c in clauses) < MIN_CROSS_SUPPORT
            ):
                return Notice("unsupported_subject", f"{a.surface} is not about what the claim says there")
            continue
        words = {
            w: v
            for w, v in ((w, idf(w)) for w in a.subject if len(w) >= 2)
            if w not in ("超过", "达到", "实现", "增长", "约", "左右", "以上")
        }
        if not words or not same:
            continue
        lex = language.lexicon()
        best = 0.0
        for p in same:
            ctx = set(p.subject)
            ctx_text = "".join(p.subject)
            got = {
                w for w in words if w in ctx or w in ctx_text or any(s in ctx_text for s in lex.synonyms(w))
            }
            share = sum(words[w] for w in got) / sum(words.values())
            top = max(words.values())
            if all(w in got for w in words if words[w] >= top):  # the rarest (all of them on a tie)
                best = max(best, share)
        if best < MIN_SUBJECT:
            return Notice(
                "unsupported_subject",
                f"{a.surface} is not about {'、'.join(sorted(words, key=lambda w: -words[w])[:2])} there",
            )
    return None


def _people_ok(claim: str, ev: Evidence, language: Language) -> Notice | None:
    """A person the claim names is in the paragraph, with the role the claim gives them."""
    names = list(person_names(claim))
    if not has_cjk(claim):
        names = []
        for n in _EN_NAME.findall(claim):
            if not is_pinyin_name(n):
                continue  # United Kingdom, Party Secretary: English words, not a Chinese name
            key = n.replace(" ", "").replace("-", "").lower()
            match = ev.pinyins.get(key)
            if match is None:
                known = {pinyin(t) for t in ev.tokens if "\u4e00" <= t[:1] <= "\u9fff"}
                if key not in known and n.lower() not in ev.norm:
                    return Notice("unsupported_person", f"{n} is not in the paragraph")
                continue
            # what the claim says of them must be said in a sentence that names them
            said_there = [s.norm for s in ev.sentences if match in s.text] or [ev.norm]
            if max(dict_coverage(claim, t, language.english()) for t in said_there) < MIN_CROSS_SUPPORT:
                return Notice("unsupported_person", f"the paragraph does not say that of {n} ({match})")
            names.append(match)
    # "X是市长", "X担任董事长", "市长是X": whoever X is, the paragraph must give X that title
    found = [(m.group(1), m.group(2)) for m in _ROLE_CLAIM.finditer(claim)] + [
        (m.group(2), m.group(1)) for m in _ROLE_CLAIM_REV.finditer(claim)
    ]
    for who, role in found if has_cjk(claim) else ():
        if who in names:
            continue
        text = ev.hit.paragraph_text
        spots = [i for i in range(len(text)) if text.startswith(who, i)]
        if not spots or not any(
            role in text[max(0, i - ROLE_BEFORE) : i + len(who) + ROLE_AFTER] for i in spots
        ):
            return Notice("unsupported_role", f"the paragraph does not call {who} {role}")
    given = titles_of(claim, names) if has_cjk(claim) else {}
    for name in names:
        if name not in ev.hit.paragraph_text:
            return Notice("unsupported_person", f"{name} is not in the paragraph")
    # the paragraph's titles of the claim's names too: a name the word list knows (王建国) is
    # found in the claim after its title but in the paragraph only because the claim names it
    held = titles_of(ev.hit.paragraph_text, list(dict.fromkeys([*ev.people, *names]))) if given else {}
    for name in names:
        said = given.get(name, ())
        if said:
            near = held[name]
            if not any(r in near or any(r in x or x in r for x in near) for r in said):
                return Notice("unsupported_role", f"the paragraph does not call {name} {said[0]}")
    return None


def quotations(text: str, min_chars: int = 6) -> list[str]:
    """The quoted spans of a text, nested quotes kept inside their outer quote (“…“双百”…”)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
            if depth == 0 and i - start >= min_chars:
                out.append(text[start:i])
    for m in re.finditer(r'"([^"]{' + str(min_chars) + r',})"', text):
        out.append(m.group(1))
    return out


def _quotes_ok(claim: str, evidence: Sequence[Evidence]) -> Notice | None:
    """A Chinese quotation must be verbatim in a retrieved paragraph (an English one is a
    translation: its words are checked like the rest of the claim)."""
    for quoted in quotations(claim) if has_cjk(claim) else ():
        q = re.sub(r"\W", "", nfkc(quoted))
        if not any(q in re.sub(r"\W", "", nfkc(ev.hit.paragraph_text)) for ev in evidence):
            return Notice("quote_not_in_source", f"“{quoted[:40]}” is in no retrieved paragraph")
    return None


def support(
    claim: str,
    ev: Evidence,
    idf: IdfFn,
    allowed: set[float],
    cross: CrossScorer | None = None,
    language: Language | None = None,
) -> Support:
    """Does the paragraph support the claim, and with which of its sentences (the synonyms and
    English senses from `language`; the in-memory resources when None)."""
    language = language or language_for(None)
    core = _ATTRIBUTION.sub("", _TRAIL.sub("", nfkc(_without_sentinel(claim))).lower())
    if len(core) >= MIN_VERBATIM and core in ev.norm:  # quoted as the paragraph says it
        at = [
            i for i, s in enumerate(ev.sentences) if core in s.norm or s.norm.rstrip("。！？；!?;.") in core
        ]
        return Support(True, 1.0, at or [0], verbatim=True)
    why = _numbers_ok(claim, ev, allowed, idf, language) or _people_ok(claim, ev, language)
    if why is not None:
        return Support(False, 0.0, [], why)
    sents = [s.text for s in ev.sentences] or [ev.hit.paragraph_text]
    core = _without_sentinel(claim)
    if has_cjk(core):
        scores = []
        for i in range(len(sents)):
            window = "".join(sents[max(0, i - 1) : i + 2])
            scores.append(
                SENTENCE_SHARE * _bigram_share(core, sents[i])
                + (1 - SENTENCE_SHARE) * _bigram_share(core, window)
            )
        best = max(range(len(sents)), key=lambda i: scores[i])
        window_share = _bigram_share(core, "".join(sents[max(0, best - 1) : best + 2]))
        if window_share < MIN_SUPPORT:
            return Support(
                False,
                window_share,
                [best],
                Notice("unsupported_citation", f"shares {window_share:.2f} of its characters"),
            )
        if _bigram_share(core, sents[best]) >= MIN_SUPPORT:
            return Support(True, window_share, [best])  # the quote is the one sentence that says it
        picked = [
            i
            for i in range(max(0, best - 1), min(len(sents), best + 2))
            if _bigram_share(core, sents[i]) >= MIN_SUPPORT / 2
        ] or [best]
        return Support(True, window_share, picked)
    hay = ev.norm
    senses = translations(core, language.english())
    counted = [w for w, zh in senses.items() if zh or w in hay]
    matched = [w for w in counted if w in hay or any(z in hay for z in senses[w])]
    named = sum(1 for n in _EN_NAME.findall(core) if is_pinyin_name(n))  # checked by _people_ok above
    cov = len(matched) / len(counted) if counted else 0.0
    if cov < MIN_CROSS_SUPPORT or len(matched) + named < MIN_CROSS_WORDS:
        return Support(
            False,
            cov,
            [],
            Notice("unsupported_citation", f"{len(matched)} of its {len(counted)} words have a sense there"),
        )
    if cross is not None:
        sims = cross(core, sents)
        best = max(range(len(sents)), key=lambda i: sims[i])
    else:
        best = max(range(len(sents)), key=lambda i: _bigram_share(core.lower(), sents[i].lower()))
    return Support(True, cov, [best])


def _quote_span(paragraph: str, sents: list[str], idxs: list[int]) -> str:
    """The paragraph's own text from the first to the last supporting sentence, with whatever
    whitespace stands between its sentences (news text often has runs of spaces there)."""
    lo, hi = min(idxs), max(idxs)
    starts, pos = [], 0
    for s in sents:
        i = paragraph.find(s, pos)
        starts.append(i)
        pos = i + len(s) if i >= 0 else pos
    if starts[lo] >= 0 and starts[hi] >= 0:
        return paragraph[starts[lo] : starts[hi] + len(sents[hi])]
    return "".join(sents[lo : hi + 1])


def verify(
    raw: str,
    hits: Sequence[Hit],
    question: str,
    cross: CrossScorer | None = None,
    *,
    evidence: Sequence[Evidence] | None = None,
    idf: IdfFn | None = None,
    language: Language | None = None,
) -> Verified:
    """Check an answer's citations against the hits it was written from (markers 1..len(hits))."""
    language = language or language_for(None)
    evidence = list(evidence) if evidence is not None else gather(hits)
    by_n = {ev.n: ev for ev in evidence}
    idf = idf or (lambda w: 1.0)
    warnings: list[Notice] = []
    k = len(hits)
    allowed = number_values(question)
    claims = split_claims(strip_echoes(raw))
    kept: list[tuple[str, list[int]]] = []
    support_of: dict[int, list[int]] = {}
    saw_sentinel = had_note = said_not_found = False

    for claim in claims:
        if only_sentinel(claim.text):
            said_not_found = True
            # "[2] 文中未提及。": a small model's remark on one block, not on the question
            saw_sentinel = saw_sentinel or not claim.markers
            continue
        if LIST_NOTE_RE.fullmatch(claim.text):  # recounted below, over the claims that stay
            had_note = True
            continue
        text = claim.text
        if is_sentinel(text):  # "市长是陈金虎，文中未提及。": the sentinel does not shield the rest
            saw_sentinel = True
            text = _without_sentinel(text) + ("。" if has_cjk(text) else ".")
        valid = []
        for n in dict.fromkeys(claim.markers):
            if 1 <= n <= k:
                valid.append(n)
            else:
                warnings.append(
                    Notice("invalid_citation", f"[{n}] is not one of the {k} context blocks; dropped")
                )
        why = _quotes_ok(text, evidence)
        if why is not None:
            warnings.append(Notice(why.code, f"{why.detail}; claim dropped: {text[:CLAIM_SHOWN]}"))
            continue
        checks = {ev.n: support(text, ev, idf, allowed, cross, language) for ev in evidence}
        cited = [n for n in valid if n in by_n and checks[n].ok]
        quoted = [n for n, c in checks.items() if c.verbatim]
        if cited and quoted and not any(checks[n].verbatim for n in cited):
            # a sentence copied from one block but cited to another that only says much the same
            # (two reports of one event): the citation goes where the words are
            warnings.append(
                Notice(
                    "citation_repaired",
                    f"[{', '.join(map(str, cited))}] → [{quoted[0]}] ({by_n[quoted[0]].hit.ref}) holds it verbatim: {text[:CLAIM_SHOWN]}",
                )
            )
            cited = quoted[:1]
        for n in valid:
            why = checks[n].why if n in by_n else None
            if why is not None:
                warnings.append(
                    Notice(why.code, f"[{n}] ({by_n[n].hit.ref}) does not support: {text[:CLAIM_SHOWN]}")
                    if why.code == "unsupported_citation"
                    else Notice(why.code, f"{why.detail} in [{n}] ({by_n[n].hit.ref}): {text[:CLAIM_SHOWN]}")
                )
        if not cited:
            others = sorted((n for n, s in checks.items() if s.ok), key=lambda n: -checks[n].score)
            if others:
                n = others[0]
                what = f"[{', '.join(map(str, valid))}] → [{n}]" if valid else f"uncited → [{n}]"
                warnings.append(
                    Notice("citation_repaired", f"{what} ({by_n[n].hit.ref}) supports: {text[:CLAIM_SHOWN]}")
                )
                cited = [n]
            else:
                if not valid:
                    warnings.append(Notice("uncited_sentence", f"dropped: {text[:CLAIM_SHOWN]}"))
                else:
                    warnings.append(
                        Notice(
                            "unsupported_claim",
                            f"no retrieved paragraph supports it; dropped: {text[:CLAIM_SHOWN]}",
                        )
                    )
                continue
        for n in cited:
            support_of.setdefault(n, []).extend(checks[n].sentences)
        kept.append((text, cited))

    # renumber by first appearance
    order: dict[int, int] = {}
    citations = []
    for _, ns in kept:
        for old in ns:
            if old in order:
                continue
            ev = by_n[old]
            sents = [s.text for s in ev.sentences] or [ev.hit.paragraph_text]
            quote = _quote_span(ev.hit.paragraph_text, sents, support_of[old])
            order[old] = len(order) + 1
            hit = ev.hit
            citations.append(
                Citation(
                    n=order[old],
                    doc_id=hit.chunk.doc_id,
                    title=hit.title,
                    date=hit.date,
                    paragraph=hit.chunk.paragraph,
                    ref=hit.ref,
                    text=hit.paragraph_text,
                    quote=quote,
                )
            )

    english = not (has_cjk(question) or has_cjk(raw))
    parts = []
    for text, ns in kept:
        marks = "".join(f"[{order[n]}]" for n in dict.fromkeys(ns))
        parts.append(with_markers(text, marks, english))
    joiner = " " if english else ""
    status: Status
    if not citations:
        status = "not_found"
        if not said_not_found and claims:  # a sentinel inside a dropped sentence says nothing
            warnings.append(
                Notice("no_verified_citations", "nothing in the answer could be checked against the sources")
            )
        text = sentinel_for(question)
    else:
        if had_note and len(kept) > 1:
            parts.append(list_note(len(kept), len(citations), english))
        if saw_sentinel:
            parts.append(sentinel_for(question))
        status = "partial" if saw_sentinel else "answered"
        text = joiner.join(parts).strip()
    return Verified(text=text, citations=citations, warnings=warnings, status=status)
