"""Summaries with citations: an LLM summary in parts over the paragraphs, or extractive offline."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from rag.analysis.evidence import gather
from rag.answering.llm import ChatModel, OnToken, Reply, truncated_warning
from rag.answering.prompts import Budget, context, context_block, load_template, system_prompt
from rag.config import Settings
from rag.errors import LLMError, NotIngested
from rag.language import tokens
from rag.language.text import content_words, could_be_year, nfkc, number_values, split_sentences
from rag.language.timewords import annotate
from rag.records import Answer, Article, Hit, Notice
from rag.retrieval.retrieve import Retriever
from rag.verification.verify import verify, with_markers

HEADING_MAX_CHARS = 24  # a deck line / sub-heading: "抢占集群发展“主攻点”" is 11 characters
SUMMARY_SENTENCES = 16  # lead (3) + one per theme (≤ 6) + headline figures (≤ 7)
MAX_FIGURE_SENTENCES = 7
LEAD_SENTENCES = (2, 1)  # from the first and the second body paragraph
MULTI_DOC_SENTENCES = 3  # per post when summarizing a whole corpus
MAX_DOCS = 20
# a summary sentence per 300 tokens of blocks, at most 16: the seed (~5,900 tokens) is asked for 16, a
# 1,500-token CRUD-RAG post for 5 — not more than a short post has to say (chosen, not fitted)
TOKENS_PER_SENTENCE = 300
SENTENCE_TOKENS = 80  # a Chinese news sentence with its marker, in cl100k tokens (config: 16 × 80 = 1280)
MIN_PART_SENTENCES = 2  # asked of the model per group, however many groups
PART_JOINER = "\n"
MIN_SENTENCE_CHARS = 6  # shorter pieces are datelines and captions ("记者 张三")
MIN_HEADING_CORE = 4  # a heading shorter than this is found in too many sentences to name a theme
MIN_LEAD_CHARS = 12  # a lead sentence says who did what: "会议强调。" does not
EVENT_BONUS = 2.0  # a lead sentence naming the event (召开, 发布) beats a merely central one
_EVENT = re.compile(r"召开|举行|举办|出台|发布|主持|宣布|通过|签署|启动|表彰")
_TERMINAL = re.compile(r"[。！？!?]$")


def _headings(art: Article) -> list[int]:
    """Paragraph numbers of short title-like lines (no sentence end) before the body."""
    out = []
    for i, p in enumerate(art.paragraphs, 1):
        if len(p) <= HEADING_MAX_CHARS and not _TERMINAL.search(p):
            out.append(i)
        elif out:
            break
    return out


def _core(text: str) -> str:
    return re.sub(r"[\W_]+", "", nfkc(text))


def extractive_summary(art: Article, max_sentences: int = SUMMARY_SENTENCES) -> list[tuple[int, str]]:
    """(paragraph, sentence) pairs in reading order: lead, one sentence per theme, headline figures."""
    sents = [
        (i, j, s)
        for i, p in enumerate(art.paragraphs, 1)
        for j, s in enumerate(split_sentences(p))
        if len(nfkc(s)) >= MIN_SENTENCE_CHARS
    ]
    if not sents:
        return []
    chosen: dict[tuple[int, int], str] = {}
    heads = _headings(art)
    # themes: the body sentence that restates each heading ("要抢占集群发展“主攻点”。"), else the heading
    for h in heads:
        core = _core(art.paragraphs[h - 1])
        match = next(
            (
                (i, j, s)
                for i, j, s in sents
                if i not in heads and len(core) >= MIN_HEADING_CORE and core in _core(s)
            ),
            None,
        )
        if match:
            chosen[(match[0], match[1])] = match[2]
    theme_paras = {i for i, _ in chosen}
    # lead: central event sentences of the first body paragraphs (who met, what was decided)
    tf = Counter(w for _, _, s in sents for w in set(content_words(s)))

    def centrality(s: str) -> float:
        ws = set(content_words(s))
        return sum(math.log(1 + tf[w]) for w in ws) / (1 + len(ws)) ** 0.5

    body = [(i, j, s) for i, j, s in sents if i not in heads]
    for para, count in zip(sorted({i for i, _, _ in body}), LEAD_SENTENCES):
        lead = sorted(
            (x for x in body if x[0] == para and len(x[2]) >= MIN_LEAD_CHARS),
            key=lambda x: -(centrality(x[2]) + (EVENT_BONUS if _EVENT.search(x[2]) else 0.0)),
        )
        for i, j, s in lead[:count]:
            chosen[(i, j)] = s

    # headline figures: sentences with the most amounts (years alone do not count)
    def amounts(s: str) -> int:
        return len([v for v in number_values(s) if not could_be_year(v)])

    figures = sorted((x for x in body if amounts(x[2]) >= 1), key=lambda x: (-amounts(x[2]), x[0], x[1]))
    for i, j, s in figures[:MAX_FIGURE_SENTENCES]:
        chosen[(i, j)] = s
    # fill up with central sentences from paragraphs not yet represented
    for i, j, s in sorted(body, key=lambda x: -centrality(x[2])):
        if len(chosen) >= max_sentences:
            break
        if i not in theme_paras and all(i != ci for ci, _ in chosen):
            chosen[(i, j)] = s
    return [(i, s) for (i, _), s in sorted(chosen.items())]


def _doc_ids(retriever: Retriever, doc_id: str | None) -> list[str]:
    docs = retriever.docs()
    if not docs:
        raise NotIngested.empty()
    if doc_id:
        if doc_id not in docs:
            raise NotIngested.no_document(doc_id)
        return [doc_id]
    return [d.doc_id for d in sorted(docs.values(), key=lambda d: (d.date, d.doc_id), reverse=True)][
        :MAX_DOCS
    ]


def summarize(
    *,
    retriever: Retriever,
    settings: Settings,
    llm: ChatModel | None = None,
    doc_id: str | None = None,
    on_token: OnToken | None = None,
    language: str = "中文",
) -> Answer:
    """A cited summary of one post (or the most recent posts when `doc_id` is None)."""
    ids = _doc_ids(retriever, doc_id)
    arts = retriever.articles(ids)
    label = f"summary of {ids[0]}" if len(ids) == 1 else f"summary of {len(ids)} posts"
    blocks: list[Hit] = [
        retriever.paragraph_hit(d, i) for d in ids for i in range(1, len(arts[d].paragraphs) + 1)
    ]
    evidence = gather(blocks)  # split and annotated once, for the check of either summary
    warnings: list[Notice] = []
    if llm is not None:
        try:
            reply = _llm_summary(blocks, settings, llm, language, on_token)
            if reply.truncated:
                warnings.append(truncated_warning(settings.llm_max_tokens))
            checked = verify(
                reply.text,
                blocks,
                "总结" if language == "中文" else "summary",
                evidence=evidence,
                idf=retriever.idf,
                language=retriever.language,
            )
            if checked.citations:  # every claim a paragraph supports stays, re-cited if need be
                return Answer(
                    question=label,
                    answer=checked.text,
                    status=checked.status,
                    mode="llm",
                    model=reply.model,
                    warnings=warnings + checked.warnings,
                    citations=checked.citations,
                    usage=reply.usage,
                )
            # a small model may copy the prompt's example or say only the sentinel: as `ask` does,
            # fall back to a labeled extractive summary rather than return nothing checkable
            warnings += checked.warnings
            warnings.append(
                Notice(
                    "llm_unverifiable",
                    "no claim of the model's summary is supported by the paragraphs; summarized extractively instead",
                )
            )
        except LLMError as exc:
            warnings.append(Notice("llm_failed", f"{exc}; summarized extractively instead"))
    per_doc = SUMMARY_SENTENCES if len(ids) == 1 else MULTI_DOC_SENTENCES
    index = {(b.chunk.doc_id, b.chunk.paragraph): n for n, b in enumerate(blocks, 1)}
    parts = []
    for d in ids:
        for para, sent in extractive_summary(arts[d], per_doc):
            text = annotate(sent, arts[d].date)
            parts.append(with_markers(text, f"[{index[(d, para)]}]"))
    checked = verify(
        "".join(parts), blocks, "总结", evidence=evidence, idf=retriever.idf, language=retriever.language
    )
    out = Answer(
        question=label,
        answer=checked.text,
        status=checked.status,
        mode="extractive",
        warnings=warnings + checked.warnings,
        citations=checked.citations,
    )
    if on_token is not None:
        on_token(out.answer)
    return out


def _llm_summary(
    blocks: Sequence[Hit], settings: Settings, llm: ChatModel, language: str, on_token: OnToken | None
) -> Reply:
    """Groups of consecutive paragraphs, each summarized in its share of the summary's sentences,
    the parts joined in reading order. One call when the paragraphs fit the window and the reply
    budget holds the whole summary; more groups when either does not (a small local model is
    given few reply tokens: 300 hold ~3 sentences). No reduce step: its reply would be bounded by
    the same budget. `truncated` says whether any call reached the token limit (its last half
    sentence is gone)."""
    system = system_prompt(settings, len(blocks), "总结" if language == "中文" else "summary")
    template = load_template("summary", settings.prompts_dir)
    fixed = tokens.count(system, llm.model) + tokens.count(
        template.render(context="", language=language, sentences=SUMMARY_SENTENCES), llm.model
    )
    budget = Budget(settings.llm_context_tokens, settings.llm_max_tokens)
    sizes = [tokens.count(context_block(i, b), llm.model) + 2 for i, b in enumerate(blocks, 1)]
    wanted = max(MIN_PART_SENTENCES, min(SUMMARY_SENTENCES, math.ceil(sum(sizes) / TOKENS_PER_SENTENCE)))
    per_reply = max(MIN_PART_SENTENCES, settings.llm_max_tokens // SENTENCE_TOKENS)
    groups = _groups(blocks, sizes, math.ceil(wanted / per_reply), budget.room(fixed))
    sentences = max(MIN_PART_SENTENCES, min(per_reply, math.ceil(wanted / len(groups))))
    usage: Counter[str] = Counter()
    parts: list[str] = []
    truncated = False
    model = llm.model
    for first, group in groups:  # block numbers stay global: the markers of every part hold
        packed, _ = budget.pack(group, fixed, llm.model)  # cuts a lone block too long for the window
        if parts and on_token is not None:
            on_token(PART_JOINER)
        reply = llm.complete(
            system,
            template.render(context=context(packed, start=first), language=language, sentences=sentences),
            settings.llm_max_tokens,
            on_token,
        )
        usage += Counter(reply.usage)
        truncated = truncated or reply.truncated
        model = reply.model
        parts.append(reply.text.strip())
    return Reply(PART_JOINER.join(parts), model, dict(usage), truncated)


def _groups(
    blocks: Sequence[Hit], sizes: Sequence[int], at_least: int, room: int
) -> list[tuple[int, list[Hit]]]:
    """(number of the first block, blocks): `at_least` groups of about equal size in tokens
    (`sizes`: each block's), more when one would not fit `room`."""
    target = sum(sizes) / max(1, at_least)
    groups: list[tuple[int, list[Hit]]] = []
    used = 0
    for i, (b, size) in enumerate(zip(blocks, sizes), 1):
        # a block joins the group it lies mostly in (by its middle), if the window has room
        if not groups or (groups[-1][1] and (used + size > room or used + size / 2 > target)):
            groups.append((i, []))
            used = 0
        groups[-1][1].append(b)
        used += size
    return groups
