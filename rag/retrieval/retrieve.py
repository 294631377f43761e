"""Hybrid retrieval: dense (Chroma) + BM25 (jieba), fused by reciprocal rank, filtered."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rag import cache
from rag.analysis.question import tagged_nouns
from rag.config import DATA_DIR
from rag.errors import NotIngested
from rag.ingest.chunking import lexical_text
from rag.language.crossling import term_groups
from rag.language.resources import Language, language_for
from rag.language.text import has_cjk
from rag.records import Article, Chunk, DocInfo, Filters, Hit
from rag.retrieval.lexical import BM25Index, index_tokens, load_or_update
from rag.store.chroma import Store, doc_of
from rag.store.embeddings import Embedder, KeptSentences, keeps_sentences

# Reciprocal-rank fusion constant (Cormack et al. 2009): score = Σ 1/(RRF_K + rank).
# With 60, rank 1 in one list gives 1/61 ≈ 0.0164 and rank 1 in both 0.0328, so agreement between
# the two sides outweighs a single first place, and ranks past ~30 barely move the order.
RRF_K = 60
# Each side proposes this many candidates per requested hit (k=5 → 40), enough for fusion
# to promote a chunk that one side ranks low.
CANDIDATES_PER_HIT = 8
MIN_CANDIDATES = 30
# How the two rankings are weighed depends on the embedder: e5-small's Chinese vectors rank worse
# than BM25 and its English ones poorly, EmbeddingGemma's well in both. One Fusion per embedder,
# chosen on the dev split (scripts/choose_fusion.py writes rag/data/fusion.json; the figures are
# in docs/benchmarks.md); an embedder not in that file gets the defaults below (e5-small's).
FUSION_FILE = DATA_DIR / "fusion.json"


@dataclass(frozen=True)
class Fusion:
    """The weights of one embedder's fused ranking."""

    # BM25's vote against the dense one (Chinese questions): exact terms (names, 2025, 上市企业)
    # pin a paragraph better than e5-small's Chinese vectors.
    lexical: float = 3.0
    # A question is usually about one post, which holds several passages that match it, while a
    # stray match elsewhere is alone: each chunk's score grows by up to `doc`× in proportion to
    # its post's evidence (the sum of its DOC_TOP best fused scores, relative to the best post's).
    doc: float = 1.0
    # English questions reach BM25 through dictionary senses; e5-small's cross-lingual vectors
    # rank Chinese posts poorly, and summed post evidence favours long posts matching loose senses.
    english_lexical: float = 10.0
    english_doc: float = 0.0

    def weights(self, chinese: bool) -> tuple[float, float]:
        """(BM25's vote, the post-evidence share) for a question in Chinese or not."""
        return (self.lexical, self.doc) if chinese else (self.english_lexical, self.english_doc)


def fusion_for(embedder_name: str, path: Path = FUSION_FILE) -> Fusion:
    """The weights chosen on dev for this embedder; the defaults when none were chosen."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Fusion()
    entry = table.get("embedders", {}).get(embedder_name)
    return (
        Fusion(**{k: float(v) for k, v in entry.items() if k in Fusion.__dataclass_fields__})
        if entry
        else Fusion()
    )


DOC_TOP = 3
# A question that names a place, person or body (常州, 盛蕾) is about the posts that name it: their
# chunks' scores grow by this share over those of posts that do not (dev, whole eval corpus).
NAME_WEIGHT = 1.0


@dataclass
class _Snapshot:
    stamp: str
    docs: dict[str, DocInfo]
    bm25: BM25Index
    generation: str = ""
    current: frozenset[str] = frozenset()  # every current chunk id (the store may hold leftovers)


class Retriever:
    """Search over what the store holds now. Collaborators are arguments (tests pass fakes)."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        cache_dir: Path | None = None,
        dense: bool = True,
        lexical: bool = True,
        fusion: Fusion | None = None,
        language: Language | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        # the lexicon and English senses the answer path reads (the in-memory ones when None)
        self.language = language or language_for(None)
        self.fusion = fusion or fusion_for(embedder.name)
        self.cache_dir = cache_dir
        self.use_dense = dense
        self.use_lexical = lexical
        self._snap: _Snapshot | None = None
        self._articles: dict[str, Article] = {}
        self._lock = threading.Lock()

    # ---- state ----------------------------------------------------------------------------------
    def snapshot(self) -> _Snapshot:
        """Registry + BM25 for the store's current state; reloaded only when its generation tag
        changed (one small read per search, however many posts are stored). Both are cached
        under RAG_HOME: a new process reads the registry only for a generation it has not seen,
        and reads chunk texts only for chunks its lexical index lacks."""
        generation = self.store.generation()
        if self._snap is not None and generation and self._snap.generation == generation:
            return self._snap
        with self._lock:
            docs = self._registry(generation)
            stamp = self.store.stamp(docs)
            if self._snap is None or self._snap.stamp != stamp:
                current = [cid for d in docs.values() for cid in d.chunk_ids]

                def fetch(ids: Sequence[str]):
                    for c in self.store.get_chunks(ids):
                        yield c.id, lexical_text(docs[c.doc_id].title, docs[c.doc_id].date, c.text)

                if self.cache_dir:
                    bm25 = load_or_update(self.cache_dir, stamp, current, fetch)
                else:
                    bm25 = BM25Index([], []).updated(current, fetch)
                self._snap = _Snapshot(stamp, docs, bm25, generation, frozenset(current))
                self._articles = {}
            self._snap.generation = generation
            return self._snap

    def _registry(self, generation: str) -> dict[str, DocInfo]:
        """The registry at `generation`: from the cache when this generation was read before."""
        if not (self.cache_dir and generation):
            return self.store.docs()
        path = self.cache_dir / f"registry-{generation}.pkl"
        docs = cache.load(path)
        if not isinstance(docs, dict):
            docs = self.store.docs()
            cache.save(path, docs, replace_glob="registry-*.pkl")
        return docs

    @property
    def sentence_embedder(self) -> Embedder:
        """The embedder for the retrieved paragraphs' sentences: the store's kept vectors first,
        when ingest keeps them for this embedder."""
        if keeps_sentences(self.embedder):
            return KeptSentences(self.embedder, self.store.sentence_vectors)
        return self.embedder

    def idf(self, term: str) -> float:
        """How rare a term is in what is stored (BM25's idf; unseen terms count as rare)."""
        snap = self._snap or self.snapshot()
        return snap.bm25.term_idf(term)

    def docs(self) -> dict[str, DocInfo]:
        return self.snapshot().docs

    def articles(self, doc_ids: Sequence[str]) -> dict[str, Article]:
        missing = list(dict.fromkeys(d for d in doc_ids if d not in self._articles))
        if missing:
            self._articles.update(self.store.articles(missing))
        return {d: self._articles[d] for d in doc_ids if d in self._articles}

    def article(self, doc_id: str) -> Article:
        art = self.articles([doc_id]).get(doc_id)
        if art is None:
            raise NotIngested.no_document(doc_id)
        return art

    # ---- search ---------------------------------------------------------------------------------
    def allowed_docs(self, snap: _Snapshot, filters: Filters | None) -> list[str]:
        if filters is None or not filters.active():
            return list(snap.docs)
        if filters.doc_ids:
            unknown = [d for d in filters.doc_ids if d not in snap.docs]
            if unknown:
                raise NotIngested.no_document(unknown[0])
        out = []
        for d in snap.docs.values():
            if filters.doc_ids and d.doc_id not in filters.doc_ids:
                continue
            if d.doc_id in filters.exclude_doc_ids:
                continue
            if filters.since and (not d.date or d.date < filters.since):
                continue
            if filters.until and (not d.date or d.date > filters.until):
                continue
            if filters.categories and not set(filters.categories) & set(d.categories):
                continue
            out.append(d.doc_id)
        return out

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """Top-k paragraphs (best chunk of each) for the query, best first."""
        snap = self.snapshot()
        if not snap.docs:
            raise NotIngested.empty()
        allowed_docs = self.allowed_docs(snap, filters)
        if not allowed_docs:
            return []
        restricted = filters is not None and filters.active()
        allowed = (
            {cid for d in allowed_docs for cid in snap.docs[d].chunk_ids} if restricted else snap.current
        )
        n = max(MIN_CANDIDATES, k * CANDIDATES_PER_HIT)
        chinese = has_cjk(query)

        dense_ranked: list[str] = []
        if self.use_dense:
            self.store.check_embedder(self.embedder.name)
            vec = self.embedder.embed([query], kind="query")[0]
            where = None
            if restricted:  # the shorter list: a few posts left out of many, or a few kept
                kept = set(allowed_docs)
                left_out = [d for d in snap.docs if d not in kept]
                if left_out:
                    where = (
                        {"doc_id": {"$nin": left_out}}
                        if len(left_out) < len(allowed_docs)
                        else {"doc_id": {"$in": allowed_docs}}
                    )
            dense_ranked = [cid for cid, _ in self.store.dense(vec, n * 2, where) if cid in allowed]
            dense_ranked = dense_ranked[:n]
        lexical_ranked: list[str] = []
        if self.use_lexical:
            in_index = allowed if restricted else None  # the index holds exactly the current chunks
            found = (
                snap.bm25.search(query, n, in_index)
                if chinese
                else snap.bm25.search_groups(_english_groups(query, self.language), n, in_index)
            )
            lexical_ranked = [cid for cid, _ in found]

        fused: dict[str, float] = {}
        ranks: dict[str, list[int | None]] = {}
        lexical_vote, doc_share = self.fusion.weights(chinese)
        weights = (1.0, lexical_vote)
        for side, ranked in enumerate((dense_ranked, lexical_ranked)):
            for rank, cid in enumerate(ranked, start=1):
                fused[cid] = fused.get(cid, 0.0) + weights[side] / (RRF_K + rank)
                ranks.setdefault(cid, [None, None])[side] = rank
        fused = _favour_strong_documents(fused, doc_share)
        if NAME_WEIGHT and chinese:
            fused = _favour_named_documents(fused, snap.bm25.docs_with_all(_names(query)))
        order = sorted(fused, key=lambda c: -fused[c])

        chunks = {c.id: c for c in self.store.get_chunks(order[: n * 2])}
        best: list[Chunk] = []
        seen_paragraphs: set[tuple[str, int]] = set()
        for cid in order:
            chunk = chunks.get(cid)
            if chunk is None or (chunk.doc_id, chunk.paragraph) in seen_paragraphs:
                continue
            seen_paragraphs.add((chunk.doc_id, chunk.paragraph))
            best.append(chunk)
            if len(best) >= k:
                break
        # The registry's first read in a process costs ~0.4 s at 10,000 posts: a paragraph is put
        # together from its chunks (one read of the chunk collection, already open), and only
        # when that cannot be done (a store written before chunks knew their place) is it read.
        texts = self._paragraphs(best, snap)
        self.articles([c.doc_id for c in best if c.id not in texts])
        return [self._hit(c, snap.docs[c.doc_id], fused[c.id], ranks[c.id], texts.get(c.id)) for c in best]

    def search_all(self, queries: Sequence[str], k: int, filters: Filters | None = None) -> list[Hit]:
        """Top-k paragraphs for several wordings of one question (an English question and the
        model's Chinese wording of it), each searched alone and fused by reciprocal rank."""
        if len(queries) == 1:
            return self.search(queries[0], k, filters)
        fused: dict[str, float] = {}
        first: dict[str, Hit] = {}
        for query in queries:
            for rank, hit in enumerate(self.search(query, k, filters), start=1):
                fused[hit.ref] = fused.get(hit.ref, 0.0) + 1 / (RRF_K + rank)
                first.setdefault(hit.ref, hit)
        order = sorted(fused, key=lambda ref: -fused[ref])[:k]
        return [replace(first[ref], score=fused[ref]) for ref in order]

    def _paragraphs(self, best: Sequence[Chunk], snap: _Snapshot) -> dict[str, str]:
        """The whole paragraph of each chunk, from the chunks of its paragraph, where possible."""
        siblings = {
            c.id: [i for i in snap.docs[c.doc_id].chunk_ids if i.startswith(f"{c.doc_id}:p{c.paragraph}:")]
            for c in best
        }
        wanted = sorted({i for ids in siblings.values() if len(ids) > 1 for i in ids})
        parts = {p.id: p for p in self.store.get_chunks(wanted)} if wanted else {}
        out = {}
        for c in best:
            if len(siblings[c.id]) == 1:
                out[c.id] = c.text
            elif text := _joined([parts[i] for i in siblings[c.id] if i in parts]):
                out[c.id] = text
        return out

    def _hit(
        self, chunk: Chunk, info: DocInfo, score: float, ranks: list[int | None], text: str | None
    ) -> Hit:
        text = text if text is not None else self.article(chunk.doc_id).paragraph(chunk.paragraph)
        return Hit(
            chunk=chunk,
            score=score,
            title=info.title,
            date=info.date,
            paragraph_text=text,
            dense_rank=ranks[0],
            lexical_rank=ranks[1],
        )

    def paragraph_hit(self, doc_id: str, paragraph: int) -> Hit:
        """A Hit for a whole paragraph (used by summaries, which read every paragraph)."""
        art = self.article(doc_id)
        text = art.paragraph(paragraph)
        return Hit(
            chunk=Chunk(
                id=f"{doc_id}:p{paragraph}", doc_id=doc_id, paragraph=paragraph, part=0, text=text, tokens=0
            ),
            score=0.0,
            title=art.title,
            date=art.date,
            paragraph_text=text,
        )


def _joined(parts: Sequence[Chunk]) -> str | None:
    """A split paragraph from its parts, each placed where it starts; None unless they cover
    it exactly (a part without a known place, a gap, or a length that differs). A gap of one
    character is the space between two sentences that the split dropped: a paragraph's
    whitespace is collapsed to single spaces when it is read (loader), so nothing else fits it."""
    text = ""
    for p in sorted(parts, key=lambda p: p.part):
        if p.start == len(text) + 1 and text:
            text += " "
        if p.start < 0 or p.start > len(text):
            return None
        text = text[: p.start] + p.text
    return text if parts and len(text) == parts[0].paragraph_chars else None


def _favour_strong_documents(fused: dict[str, float], weight: float) -> dict[str, float]:
    """Fused scores raised, up to `weight`×, in proportion to the evidence of each chunk's post
    (see Fusion.doc)."""
    if not weight:
        return fused
    by_doc: dict[str, list[float]] = {}
    for cid, score in fused.items():
        by_doc.setdefault(doc_of(cid), []).append(score)
    evidence = {d: sum(sorted(v, reverse=True)[:DOC_TOP]) for d, v in by_doc.items()}
    best = max(evidence.values(), default=0.0) or 1.0
    return {cid: score * (1.0 + weight * evidence[doc_of(cid)] / best) for cid, score in fused.items()}


def _names(query: str) -> list[str]:
    """The names in a Chinese query (places, people, bodies: jieba's proper-noun tags) as index terms."""
    return [t for name in sorted(tagged_nouns(query)[1]) for t in _whole(name)]


def _favour_named_documents(fused: dict[str, float], named: set[str] | None) -> dict[str, float]:
    """Fused scores raised for the chunks of the posts that hold every name of the question
    (None: the question names nothing the index knows, so nothing is raised)."""
    if not named:
        return fused
    return {
        cid: score * (1.0 + NAME_WEIGHT) if doc_of(cid) in named else score for cid, score in fused.items()
    }


def _english_groups(query: str, language: Language) -> list[list[str]]:
    """BM25 terms of an English query: per word, the word and its Chinese senses."""
    return [[t for w in group for t in _whole(w)] for group in term_groups(query, language.english())]


def _whole(word: str) -> list[str]:
    """A translation as one index term when the index has it whole (交通枢纽, not also 交通)."""
    toks = index_tokens(word)
    return [word] if word in toks else toks
