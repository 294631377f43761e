"""The `rag` command: thin commands over library calls; errors become one line at this edge."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps

import click

from . import __version__
from .errors import RagError
from .models import Filters

EXIT_OK, EXIT_INTERNAL, EXIT_USER, EXIT_NOT_FOUND = 0, 1, 2, 3


def _err(msg: str) -> None:
    click.echo(f"error: {msg}", err=True)


def handle_errors(func: Callable) -> Callable:
    """Library errors → one line on stderr and the contract's exit code; no tracebacks for users."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RagError as exc:
            _err(str(exc))
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _err("interrupted")
            sys.exit(130)

    return wrapper


def _service():
    from .service import Service

    return Service.from_settings()


def _filters(doc: tuple[str, ...], since: str | None, until: str | None, category: tuple[str, ...] = ()) -> Filters:
    import datetime as dt

    from .errors import UserError

    for name, value in (("--since", since), ("--until", until)):
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise UserError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None
    return Filters(doc_ids=tuple(doc), since=since, until=until, categories=tuple(category))


filter_options = [
    click.option("--doc", "doc", multiple=True, metavar="ID", help="Only this document (repeatable)."),
    click.option("--since", metavar="YYYY-MM-DD", help="Only posts dated on or after this day."),
    click.option("--until", metavar="YYYY-MM-DD", help="Only posts dated on or before this day."),
    click.option("--category", multiple=True, metavar="NAME", help="Only posts in this category (repeatable)."),
]


def with_filters(func: Callable) -> Callable:
    for opt in reversed(filter_options):
        func = opt(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rag")
def main() -> None:
    """Cited answers and summaries over Chinese news posts.

    Offline by default (local embeddings, extractive answers); set OPENAI_API_KEY and/or
    OPENAI_BASE_URL to have an LLM write them.
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help="Stop at the first bad file instead of skipping it.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@handle_errors
def ingest(paths: tuple[str, ...], strict: bool, as_json: bool) -> None:
    """Ingest post files and folders (default: seeds/). Re-running adds only what changed."""
    from .ingest import home_lock, ingest as run_ingest

    svc = _service()
    paths = paths or ("seeds",)
    with home_lock(svc.settings.home), _progress(enabled=not as_json) as progress:
        report = run_ingest(paths, store=svc.store, embedder=svc.embedder, budget=svc.settings.chunk_tokens, strict=strict, progress=progress)
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    for e in report.errors:
        _err(e)
    if as_json:
        click.echo(json.dumps(report.__dict__, ensure_ascii=False))
    else:
        click.echo(
            f"{report.documents} documents, {report.paragraphs} paragraphs; chunks: "
            f"{report.added} added, {report.unchanged} unchanged, {report.removed} removed"
            + (f" ({len(report.removed_docs)} documents gone: {', '.join(report.removed_docs)})" if report.removed_docs else "")
        )
    if report.errors:
        sys.exit(EXIT_USER)


class _progress:
    """A rich progress bar on stderr when there are many files; nothing when few or not a TTY."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None

    def __enter__(self):
        return self.update

    def update(self, i: int, n: int, path: str) -> None:
        if not self.enabled or n < 5:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("ingest", total=n)
        self.bar.update(self.task, completed=i - 1)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


@main.command()
@click.argument("query")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 100), help="Number of paragraphs.")
@with_filters
@click.option("--json", "as_json", is_flag=True, help="Print {query, hits:[…]} as JSON.")
@handle_errors
def search(query: str, k: int, doc, since, until, category, as_json: bool) -> None:
    """Show the paragraphs that best match QUERY (dense + BM25, fused)."""
    from .errors import QuestionError
    from .text import nfkc

    if not nfkc(query):
        raise QuestionError("the query is empty")
    filters = _filters(doc, since, until, category)
    hits = _service().retriever.search(query, k=k, filters=filters)
    if as_json:
        out = {"query": query, "hits": [{"doc_id": h.chunk.doc_id, "paragraph": h.chunk.paragraph, "ref": h.ref, "title": h.title, "date": h.date, "text": h.paragraph_text, "score": round(h.score, 6)} for h in hits]}
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    if not hits:
        click.echo("no matching paragraphs")
        return
    for i, h in enumerate(hits, 1):
        click.echo(click.style(f"[{i}] {h.title} · {h.date} · ¶{h.chunk.paragraph}  ({h.ref}, score {h.score:.4f})", bold=True))
        click.echo(f"    {h.paragraph_text}\n")


@main.command()
@click.argument("doc_id")
@handle_errors
def remove(doc_id: str) -> None:
    """Remove one document (and all its chunks) from the store."""
    from .ingest import home_lock, remove as run_remove

    svc = _service()
    with home_lock(svc.settings.home):
        n = run_remove(doc_id, svc.store)
    click.echo(f"removed {doc_id} ({n} chunks)")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def docs(as_json: bool) -> None:
    """List the ingested documents."""
    infos = sorted(_service().store.docs().values(), key=lambda d: (d.date, d.doc_id))
    if as_json:
        click.echo(json.dumps([{"doc_id": d.doc_id, "title": d.title, "date": d.date, "categories": list(d.categories), "paragraphs": d.n_paragraphs, "chunks": len(d.chunk_ids)} for d in infos], ensure_ascii=False))
        return
    if not infos:
        click.echo("the store is empty: run `rag ingest`")
    for d in infos:
        click.echo(f"{d.doc_id}  {d.date}  ¶1-{d.n_paragraphs}  {len(d.chunk_ids)} chunks  {d.title}")


if __name__ == "__main__":
    main()
