"""Post files → chunks → vectors in the store. Idempotent and incremental."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .chunking import chunk_article, embed_text
from .embeddings import Embedder
from .errors import InputFileError, UserError
from .locks import file_lock
from .loader import find_posts, load_article
from .models import Article, DocInfo, IngestReport
from .store import Store

Progress = Callable[[int, int, str], None]


def home_lock(home: Path, on_wait: Callable[[], None] | None = None):
    """One writer at a time per RAG_HOME: a second `rag ingest` waits for the first."""
    return file_lock(home / "write.lock", on_wait=on_wait)


def sync_article(article: Article, store: Store, embedder: Embedder, budget: int, report: IngestReport, previous: DocInfo | None = None) -> None:
    """Write one article: new chunks first, then the registry entry, then the stale chunks go.

    A run killed at any point leaves the previous version current (or the new one), and the
    next run finds leftovers through `stored_chunk_ids` and deletes them.
    """
    chunks = chunk_article(article, budget)
    existing = store.stored_chunk_ids(article.doc_id)
    new = [c for c in chunks if c.id not in existing]
    if new:
        vectors = embedder.embed([embed_text(article, c.text) for c in new], kind="passage")
        store.claim_embedder(embedder.name, len(vectors[0]))
        store.add_chunks(article, new, vectors)
    current = {c.id for c in chunks}
    stale = existing - current
    if new or stale or not _same_record(previous, article, [c.id for c in chunks]):
        store.put_doc(article, [c.id for c in chunks])
    store.delete_chunks(stale)
    report.documents += 1
    report.paragraphs += len(article.paragraphs)
    report.added += len(new)
    report.unchanged += len(chunks) - len(new)
    report.removed += len(stale)


def _same_record(previous: DocInfo | None, article: Article, chunk_ids: list[str]) -> bool:
    """The registry already says exactly this (an unchanged re-ingest writes nothing)."""
    return previous is not None and (previous.title, previous.date, previous.categories, previous.tags, previous.source_url, previous.path, previous.n_paragraphs, previous.chunk_ids) == (
        article.title, article.date, article.categories, article.tags, article.source_url, article.path, len(article.paragraphs), tuple(chunk_ids))


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

    known = store.docs()
    seen: dict[str, str] = {}
    for i, path in enumerate(files, start=1):
        if progress:
            progress(i, len(files), str(path))
        abspath = str(path.resolve())
        try:
            article = load_article(path, report.warnings)
        except InputFileError as err:
            fail(err)
            continue
        article = Article(**{**article.__dict__, "path": abspath})
        if article.doc_id in seen:
            fail(InputFileError(path, f"duplicate doc id '{article.doc_id}': also in {seen[article.doc_id]}; rename one file"))
            continue
        old = known.get(article.doc_id)
        if old and old.path and old.path != abspath and Path(old.path).exists():
            fail(InputFileError(path, f"duplicate doc id '{article.doc_id}': already ingested from {old.path}; rename one file or `rag remove {article.doc_id}`"))
            continue
        seen[article.doc_id] = str(path)
        sync_article(article, store, embedder, budget, report, known.get(article.doc_id))

    # A folder ingested again is the truth about its contents: posts gone from it are removed.
    for folder in folders:
        for doc_id, info in known.items():
            if doc_id not in seen and info.path and _under(info.path, folder) and not Path(info.path).exists():
                report.removed += store.delete_doc(doc_id)
                report.removed_docs.append(doc_id)
    return report


def remove(doc_id: str, store: Store) -> int:
    """Remove one document; returns the number of chunks removed."""
    from .errors import NotIngested

    if doc_id not in store.docs() and not store.stored_chunk_ids(doc_id):
        raise NotIngested(f"no document '{doc_id}' in the store (see `rag docs`)")
    return store.delete_doc(doc_id)


def reembed(store: Store, embedder: Embedder, budget: int, progress: Progress | None = None) -> IngestReport:
    """Re-embed every stored post with `embedder`, into a side store that replaces the old one
    only when complete: a run killed half-way leaves the old store as it was."""
    report = IngestReport()
    side = Store(store.client, store.name + "-reembed")
    side.drop()  # a leftover of a killed run
    docs = store.docs()
    articles = store.articles(sorted(docs))
    for i, doc_id in enumerate(sorted(articles), start=1):
        if progress:
            progress(i, len(articles), doc_id)
        sync_article(articles[doc_id], side, embedder, budget, report)
    if not articles:
        side.claim_embedder(embedder.name, 0)
    store.replace_with(side)
    return report
