"""The `rag` command: thin commands over library calls; errors become one line at this edge."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial, wraps
from typing import TYPE_CHECKING, Any

import click

from rag import __version__
from rag.config import TOP_K_MAX, TOP_K_MIN, load_settings
from rag.errors import ConfigError, NotIngested, QuestionError, RagError
from rag.language.text import nfkc
from rag.records import Filters, embedder_profile

# The pipeline's modules (service, ingest, answer, summarize, web) are imported by the commands that
# use them, so that `rag --help` and a bad argument answer before numpy, jieba or the store load.

if TYPE_CHECKING:
    from rag.answering.llm import OnToken
    from rag.records import Answer

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


def _service(**changes: object):
    """The service from the settings, with the command line's `changes` to them."""
    from rag.interfaces.service import Service

    return Service.from_settings(load_settings().model_copy(update=changes))


def _say_waiting() -> None:
    click.echo("waiting for another rag ingest/remove on this RAG_HOME to finish…", err=True)


def _filters(
    doc: tuple[str, ...], since: str | None, until: str | None, category: tuple[str, ...] = ()
) -> Filters:
    return Filters.build(doc, since, until, category)


filter_options = [
    click.option("--doc", "doc", multiple=True, metavar="ID", help="Only this document (repeatable)."),
    click.option("--since", metavar="YYYY-MM-DD", help="Only posts dated on or after this day."),
    click.option("--until", metavar="YYYY-MM-DD", help="Only posts dated on or before this day."),
    click.option(
        "--category", multiple=True, metavar="NAME", help="Only posts in this category (repeatable)."
    ),
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
@click.option(
    "--reembed",
    is_flag=True,
    help="Re-embed everything stored with the current RAG_EMBEDDER first (after changing embedders).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@handle_errors
def ingest(paths: tuple[str, ...], strict: bool, reembed: bool, as_json: bool) -> None:
    """Ingest post files and folders (default: seeds/). Re-running adds only what changed."""
    from rag.ingest.pipeline import home_lock
    from rag.ingest.pipeline import ingest as run_ingest
    from rag.ingest.pipeline import reembed as run_reembed

    svc = _service()
    paths = paths or ("seeds",)
    with home_lock(svc.settings.home, _say_waiting), _progress(enabled=not as_json) as progress:
        if reembed:
            done = run_reembed(svc.store, svc.embedder, svc.settings.chunk_tokens, progress)
            click.echo(
                f"re-embedded {done.documents} documents ({done.added} chunks) with {svc.embedder.name}",
                err=True,
            )
        report = run_ingest(
            paths,
            store=svc.store,
            embedder=svc.embedder,
            budget=svc.settings.chunk_tokens,
            strict=strict,
            progress=progress,
        )
        if report.added >= INDEX_AT_INGEST or report.removed:
            svc.retriever.snapshot()  # the lexical index updated now, not by the first question
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
    for e in report.errors:
        _err(e)
    if as_json:
        out = {**report.__dict__, "warnings": [asdict(w) for w in report.warnings]}
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        click.echo(
            f"{report.documents} documents, {report.paragraphs} paragraphs; chunks: "
            f"{report.added} added, {report.unchanged} unchanged, {report.removed} removed"
            + (
                f" ({len(report.removed_docs)} documents gone: {', '.join(report.removed_docs)})"
                if report.removed_docs
                else ""
            )
        )
    if report.errors:
        sys.exit(EXIT_USER)


# The lexical index takes new chunks at the first question after an ingest, or at the ingest
# itself when there are many: tokenizing costs ~0.8 ms a chunk (37,042 in 30 s), and loading
# jieba's dictionary to do it ~0.6 s, so below ~750 new chunks the first question (which loads
# jieba anyway) updates it for less than the ingest would; 10,000 posts would cost it 30 s.
INDEX_AT_INGEST = 500


class _progress:
    """A progress bar on stderr for many posts: posts written, chunks embedded, chunks/s and the
    time left. Nothing when few posts or when stderr is not a terminal (rich is not imported)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None  # rich's Progress, imported only when a bar is shown
        self.started = time.monotonic()

    def __enter__(self):
        return self.update

    def update(self, written: int, total: int, embedded: int) -> None:
        if not self.enabled or total < 5:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("ingest"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("posts · {task.fields[chunks]}"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("ingest", total=total, chunks="")
        rate = embedded / max(time.monotonic() - self.started, 1e-9)
        self.bar.update(self.task, completed=written, chunks=f"{embedded:,} chunks embedded, {rate:.1f}/s")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


@main.command()
@click.argument("query")
@click.option(
    "-k", "k", type=click.IntRange(TOP_K_MIN, TOP_K_MAX), help="Number of paragraphs (default RAG_TOP_K)."
)
@with_filters
@click.option("--json", "as_json", is_flag=True, help="Print {query, hits:[…]} as JSON.")
@handle_errors
def search(query: str, k: int, doc, since, until, category, as_json: bool) -> None:
    """Show the paragraphs that best match QUERY (dense + BM25, fused)."""
    if not nfkc(query):
        raise QuestionError("the query is empty")
    filters = _filters(doc, since, until, category)
    svc = _service()
    hits = svc.retriever.search(query, k=k or svc.settings.top_k, filters=filters)
    if as_json:
        out = {
            "query": query,
            "hits": [
                {
                    "doc_id": h.chunk.doc_id,
                    "paragraph": h.chunk.paragraph,
                    "ref": h.ref,
                    "title": h.title,
                    "date": h.date,
                    "text": h.paragraph_text,
                    "score": round(h.score, 6),
                }
                for h in hits
            ],
        }
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    if not hits:
        click.echo("no matching paragraphs")
        return
    for i, h in enumerate(hits, 1):
        click.echo(
            click.style(
                f"[{i}] {h.title} · {h.date} · ¶{h.chunk.paragraph}  ({h.ref}, score {h.score:.4f})",
                bold=True,
            )
        )
        click.echo(f"    {h.paragraph_text}\n")


@main.command()
@click.argument("doc_id")
@handle_errors
def remove(doc_id: str) -> None:
    """Remove one document (and all its chunks) from the store."""
    from rag.ingest.pipeline import home_lock
    from rag.ingest.pipeline import remove as run_remove

    svc = _service()
    with home_lock(svc.settings.home, _say_waiting):
        n = run_remove(doc_id, svc.store)
    click.echo(f"removed {doc_id} ({n} chunks)")


def _highlight(text: str, quote: str) -> str:
    i = text.find(quote) if quote else -1
    if i < 0:
        return text
    return text[:i] + click.style(quote, fg="yellow", bold=True, underline=True) + text[i + len(quote) :]


def print_sources(ans) -> None:
    if not ans.citations:
        return
    click.echo(click.style("\nSources", bold=True))
    for c in ans.citations:
        click.echo(click.style(f"[{c.n}] 《{c.title}》 {c.date} ¶{c.paragraph}  ({c.ref})", bold=True))
        click.echo(f"    {_highlight(c.text, c.quote)}")


def _label(ans) -> str:
    return " · ".join(x for x in (ans.mode_label, ans.confidence_label) if x)


def print_answer(ans, streamed: str | None = None, drafted: bool = False) -> None:
    """Human-readable answer: label, text (unless already streamed unchanged), status, sources.
    `drafted`: the extractive answer was shown while the model wrote."""
    if streamed is None:
        click.echo(click.style(f"[{_label(ans)}]", dim=True))
        click.echo(ans.answer)
    elif ans.mode != "llm" and drafted:  # the model's answer was not used: the draft stands
        click.echo(
            click.style(
                "\n— the model's answer was not used (see the warnings); the extractive one above stands —",
                fg="magenta",
            )
        )
    elif ans.mode != "llm":  # the model failed mid-way: say so, then the offline answer
        click.echo(
            click.style(f"\n— the model's answer was not used; instead: [{ans.mode_label}] —", fg="magenta")
        )
        click.echo(ans.answer)
    elif nfkc(streamed) != nfkc(ans.answer):
        click.echo(click.style("\n— after citation checks —", dim=True))
        click.echo(ans.answer)
    else:
        click.echo()
    if ans.status != "answered":
        click.echo(
            click.style(
                f"status: {ans.status}"
                + (
                    " — the article does not contain the answer"
                    if ans.status == "not_found"
                    else " — only part of the question is answered"
                ),
                fg="magenta",
            )
        )
    print_sources(ans)
    if ans.usage:
        click.echo(
            click.style(
                "tokens: " + ", ".join(f"{k.replace('_tokens', '')} {v}" for k, v in ans.usage.items()),
                dim=True,
            ),
            err=True,
        )
    for w in ans.warnings:
        click.echo(click.style(f"warning: {w}", fg="red"), err=True)


def _echo_stream(llm, streamed: list[str]) -> OnToken | None:
    """With a model: its label, then each piece of the reply as it comes (kept in `streamed`)."""
    if llm is None:
        return None

    def echo(piece: str) -> None:
        if not streamed:
            click.echo(click.style(f"[LLM · {llm.model}]", dim=True))
        streamed.append(piece)
        click.echo(piece, nl=False)

    return echo


def _echo_draft(drafts: list[Answer]) -> Callable[[Answer], None]:
    """The extractive answer, shown at once while the model writes (kept in `drafts`)."""

    def echo(draft: Answer) -> None:
        drafts.append(draft)
        click.echo(click.style(f"[{_label(draft)} — while the model writes]", dim=True))
        click.echo(draft.answer)
        click.echo()

    return echo


def _shown(
    svc, llm, as_json: bool, produce: Callable[..., Answer], stream: bool = True, draft: bool = False
) -> Answer:
    """Run one answer or summary (`produce`, given the service's collaborators) and print it: with
    `draft`, the extractive answer at once; the model's reply streamed as it comes, then the
    verified text with its sources; or the JSON object."""
    streamed: list[str] = []
    drafts: list[Answer] = []
    on_token = _echo_stream(llm, streamed) if stream and not as_json else None
    extra = {"on_draft": _echo_draft(drafts)} if draft and on_token is not None else {}
    ans = produce(retriever=svc.retriever, settings=svc.settings, llm=llm, on_token=on_token, **extra)
    if as_json:
        click.echo(ans.to_json())
    else:
        print_answer(ans, "".join(streamed) if on_token is not None else None, drafted=bool(drafts))
    return ans


def _exit_for(statuses: list[str]) -> int:
    return EXIT_NOT_FOUND if statuses and all(s == "not_found" for s in statuses) else EXIT_OK


@main.command()
@click.argument("question", required=False)
@click.option(
    "--file",
    "file",
    type=click.File("r", encoding="utf-8"),
    help="Answer one question per line of this file ('-' for stdin).",
)
@click.option(
    "-k", "k", type=click.IntRange(TOP_K_MIN, TOP_K_MAX), help="Paragraphs of context (default RAG_TOP_K)."
)
@with_filters
@click.option(
    "--extractive", is_flag=True, help="Answer offline by quoting sentences, even when an LLM is configured."
)
@click.option("--model", help="LLM model name (overrides RAG_LLM_MODEL).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (JSON Lines with --file).")
@handle_errors
def ask(question, file, k, doc, since, until, category, extractive, model, as_json) -> None:
    """Answer QUESTION with cited paragraphs; no QUESTION opens an interactive session.

    Exit codes: 0 answered or partial, 3 not found, 2 bad input or configuration, 1 internal failure.
    """
    from rag.answering.answer import answer as run_answer

    svc = _service(**({"llm_model": model} if model else {}))
    llm = None if extractive else svc.llm()
    filters = _filters(doc, since, until, category)

    def one(q: str, history=None, stream: bool = True):
        return _shown(
            svc,
            llm,
            as_json,
            partial(run_answer, q, filters=filters, k=k, history=history),
            stream,
            draft=True,
        )

    if question is not None and file is not None:
        raise QuestionError("give a QUESTION or --file, not both")
    if file is not None:
        statuses = []
        for line in file:
            if line.strip():
                try:
                    statuses.append(one(line.strip()).status)
                except QuestionError as exc:
                    _err(f"{exc} (question skipped)")
                    if as_json:
                        click.echo(
                            json.dumps(
                                {"question": line.strip()[:200], "error": str(exc)}, ensure_ascii=False
                            )
                        )
        sys.exit(_exit_for(statuses))
    if question is not None:
        sys.exit(_exit_for([one(question).status]))
    _interactive(one)


def _interactive(one) -> None:
    """A small REPL: history for follow-ups, /sources, /quit."""
    try:
        import readline  # noqa: F401 - line editing and history when available
    except ImportError:
        pass
    click.echo("Ask about the ingested posts. /sources shows the last sources, /quit leaves.")
    history: list[str] = []
    last = None
    while True:
        try:
            line = input("问> ").strip()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if not line:
            continue
        if line in ("/quit", "/exit", "/q"):
            return
        if line == "/sources":
            if last is None or not last.citations:
                click.echo("no sources yet")
            else:
                print_sources(last)
            continue
        if line.startswith("/"):
            click.echo("commands: /sources, /quit")
            continue
        try:
            last = one(line, history=history)
            history.append(line)
        except RagError as exc:
            _err(str(exc))


@main.command()
@click.option("--doc", "doc_id", metavar="ID", help="The post to summarize (default: the most recent posts).")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of an LLM summary.",
)
@click.option("--extractive", is_flag=True, help="Summarize offline by quoting sentences.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (the answer contract).")
@handle_errors
def summarize(doc_id, lang, extractive, as_json) -> None:
    """A cited summary of one post (or of the most recent ones)."""
    from rag.answering.summarize import summarize as run_summary

    svc = _service()
    llm = None if extractive else svc.llm()
    language = "中文" if lang == "zh" else "English"
    _shown(svc, llm, as_json, partial(run_summary, doc_id=doc_id, language=language))


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; other than loopback needs RAG_AUTH or --no-auth.",
)
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--no-auth", is_flag=True, help="Serve a non-loopback address without a password (not recommended)."
)
@handle_errors
def serve(host: str, port: int, no_auth: bool) -> None:
    """Start the chat page (Gradio)."""
    from rag.interfaces.web import is_loopback
    from rag.interfaces.web import serve as run_serve

    svc = _service()
    auth = svc.settings.auth_pair
    if not is_loopback(host) and auth is None:
        if not no_auth:
            raise ConfigError(
                f"binding {host} exposes the page beyond this machine: set RAG_AUTH=user:password, or pass --no-auth"
            )
        click.echo(
            f"warning: serving {host}:{port} WITHOUT authentication; anyone who can reach it can use it",
            err=True,
        )
    click.echo(
        f"rag page on http://{host}:{port}  (mode: {'LLM ' + svc.settings.llm_model if svc.settings.llm_configured else 'extractive, offline'})",
        err=True,
    )
    run_serve(svc, host=host, port=port, auth=auth)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def docs(as_json: bool) -> None:
    """List the ingested documents."""
    svc = _service()
    infos = sorted(svc.store.docs().values(), key=lambda d: (d.date, d.doc_id))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "doc_id": d.doc_id,
                        "title": d.title,
                        "date": d.date,
                        "categories": list(d.categories),
                        "paragraphs": d.n_paragraphs,
                        "chunks": len(d.chunk_ids),
                    }
                    for d in infos
                ],
                ensure_ascii=False,
            )
        )
        return
    if not infos:
        click.echo(str(NotIngested.empty()))
        return
    name = svc.store.embedder_name()
    click.echo(f"{len(infos)} posts, embedded with {embedder_profile(name) if name else 'nothing yet'}")
    for d in infos:
        click.echo(f"{d.doc_id}  {d.date}  ¶1-{d.n_paragraphs}  {len(d.chunk_ids)} chunks  {d.title}")


if __name__ == "__main__":
    main()
