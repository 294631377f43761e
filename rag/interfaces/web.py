"""The Gradio page: chat with live citations, summaries, the article as ingested, settings.

A thin layer over the same library calls as the CLI. Every piece of article text and model
output is HTML-escaped here before it reaches the page.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import queue
import threading
from collections.abc import Iterator

from rag.answering.answer import answer
from rag.answering.summarize import summarize
from rag.config import TOP_K_MAX, TOP_K_MIN, quiet_third_parties
from rag.errors import NotIngested, RagError
from rag.interfaces.service import Service
from rag.records import Answer, Filters

log = logging.getLogger("rag.interfaces.web")

EXAMPLES = [
    "到2025年的目标是什么？",
    "到2025年上市企业超过多少家？",
    "Who chaired the meeting?",
    "What are the targets for 2025?",
    "常州2022年第一季度GDP增速是多少？",
]
CONCURRENCY = 4  # answers at once: retrieval and extractive answers take ~50 ms, LLM calls wait on I/O
ALL_DOCS = "(all posts)"

CSS = """
.rag-sources { font-size: 0.92em; }
.rag-source { margin: 0.4em 0 0.8em 0; padding: 0.4em 0.6em; border-left: 3px solid #999; }
.rag-source mark { background: #ffe066; color: inherit; }
.rag-label { display: inline-block; font-size: 0.8em; padding: 0 0.5em; border-radius: 0.6em; background: #e8eef8; color: #223; }
.rag-notfound { background: #fde2e2; color: #611; }
.rag-error { color: #a00; }
ol.rag-article li { margin-bottom: 0.6em; }
"""

e = html.escape


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mode_badge(ans: Answer) -> str:
    out = f'<span class="rag-label rag-mode">{e(ans.mode_label)}</span>'
    if ans.confidence_label:
        why = "the offline reader's probability that the retrieved paragraphs answer the question"
        out += f' <span class="rag-label rag-confidence" title="{e(why)}">{e(ans.confidence_label)}</span>'
    if ans.status == "not_found":
        out += ' <span class="rag-label rag-notfound">not found · 文中未提及</span>'
    elif ans.status == "partial":
        out += ' <span class="rag-label rag-notfound">partial answer</span>'
    return out


def highlight(text: str, quote: str) -> str:
    """The paragraph, escaped, with the quoted span in <mark>."""
    i = text.find(quote) if quote else -1
    if i < 0:
        return e(text)
    return e(text[:i]) + f'<mark class="rag-quote">{e(quote)}</mark>' + e(text[i + len(quote) :])


def sources_html(ans: Answer) -> str:
    if not ans.citations:
        return ""
    items = "".join(
        f'<div class="rag-source" data-ref="{e(c.ref)}"><b>[{c.n}] 《{e(c.title)}》 {e(c.date)} ¶{c.paragraph}</b> '
        f"<small>{e(c.ref)}</small><br>{highlight(c.text, c.quote)}</div>"
        for c in ans.citations
    )
    return f'<details class="rag-sources" open><summary>Sources ({len(ans.citations)})</summary>{items}</details>'


def answer_message(ans: Answer) -> str:
    """One chat message: mode label, the answer, its sources, warnings — all escaped."""
    parts = [mode_badge(ans), f'<div class="rag-answer">{e(ans.answer)}</div>', sources_html(ans)]
    if ans.warnings:
        parts.append("<small>" + "<br>".join(e(str(w)) for w in ans.warnings[:5]) + "</small>")
    return "\n".join(p for p in parts if p)


def draft_message(ans: Answer) -> str:
    """The extractive answer shown while the model writes, labelled as such."""
    return (
        '<p class="rag-draft"><small>the model is writing… meanwhile, the extractive answer:</small></p>\n'
        + answer_message(ans)
    )


def error_message(exc: BaseException, what: str = "answer") -> str:
    """A readable message for the page; unexpected errors go to the server log with their traceback."""
    if isinstance(exc, RagError):
        return f'<span class="rag-error">⚠ {e(str(exc))}</span>'
    log.error("%s failed", what, exc_info=exc)
    return '<span class="rag-error">⚠ internal error; the server log has the details</span>'


def article_html(svc: Service, doc_id: str | None) -> str:
    docs = svc.retriever.docs()
    if not docs:
        return f"<p>{e(str(NotIngested.empty()))}</p>"
    doc_id = doc_id if doc_id in docs else sorted(docs)[0]
    art = svc.retriever.article(doc_id)
    items = "".join(
        f'<li id="p{i}" value="{i}"><small>¶{i}</small> {e(p)}</li>' for i, p in enumerate(art.paragraphs, 1)
    )
    src = f"<p><small>source: {e(art.source_url)}</small></p>" if art.source_url else ""
    return f'<h3>{e(art.title)}</h3><p>{e(art.date)} · {e(", ".join(art.categories))} · <code>{e(doc_id)}</code></p><ol class="rag-article">{items}</ol>{src}'


def build_app(svc: Service):
    """The Blocks app. `svc` is shared; per-user state lives in the session's components."""
    quiet_third_parties()
    import gradio as gr

    llm_available = svc.settings.llm_configured
    doc_choices = [ALL_DOCS] + sorted(svc.retriever.docs()) if _safe_docs(svc) else [ALL_DOCS]

    def filters_from(doc: str, since: str, until: str) -> Filters:
        return Filters.build((doc,) if doc and doc != ALL_DOCS else (), since, until)

    def chat_model(mode: str):
        return svc.llm() if (mode == "llm" and llm_available) else None

    def respond(
        message: str, history: list, k: float, doc: str, since: str, until: str, mode: str
    ) -> Iterator[tuple[str, list]]:
        history = list(history or [])
        message = (message or "").strip()
        if not message:
            yield "", history
            return
        asked = [m["content"] for m in history if m.get("role") == "user"]
        history += [{"role": "user", "content": e(message)}, {"role": "assistant", "content": "…"}]
        yield "", history
        pieces: queue.Queue = queue.Queue()
        result: dict = {}

        def work() -> None:
            try:
                result["answer"] = answer(
                    message,
                    retriever=svc.retriever,
                    settings=svc.settings,
                    llm=chat_model(mode),
                    filters=filters_from(doc, since, until),
                    k=int(k),
                    on_token=pieces.put,
                    history=[html.unescape(a) for a in asked],
                    on_draft=pieces.put,
                )
            except Exception as exc:  # noqa: BLE001 - shown as a message; logged by error_message
                result["error"] = exc
            finally:
                pieces.put(None)

        threading.Thread(target=work, daemon=True).start()
        streamed, draft = "", ""
        while True:
            piece = pieces.get()
            if piece is None:
                break
            if isinstance(piece, Answer):  # the extractive answer, at once
                draft = draft_message(piece)
                history[-1] = {"role": "assistant", "content": draft}
                yield "", history
                continue
            streamed += piece
            shown = (
                e(streamed) if not draft else f'{draft}\n<hr><div class="rag-streaming">{e(streamed)}</div>'
            )
            history[-1] = {"role": "assistant", "content": shown}
            yield "", history
        if "error" in result:
            history[-1] = {"role": "assistant", "content": error_message(result["error"])}
        else:
            history[-1] = {"role": "assistant", "content": answer_message(result["answer"])}
        yield "", history

    def api_ask(question: str, k: int | None = None, doc: str = "", mode: str = "extractive") -> dict:
        """The JSON contract, for gradio_client: the same answer and citations as the chat."""
        try:
            return answer(
                question,
                retriever=svc.retriever,
                settings=svc.settings,
                llm=chat_model(mode),
                filters=filters_from(doc or ALL_DOCS, "", ""),
                k=min(max(int(k), TOP_K_MIN), TOP_K_MAX) if k else None,
            ).model_dump(exclude={"usage"})
        except RagError as exc:
            return {"question": question, "error": str(exc)}

    def do_summary(doc: str, mode: str) -> str:
        try:
            return answer_message(
                summarize(
                    retriever=svc.retriever,
                    settings=svc.settings,
                    llm=chat_model(mode),
                    doc_id=None if doc == ALL_DOCS else doc,
                )
            )
        except Exception as exc:  # noqa: BLE001 - readable message on the page
            return error_message(exc, "summary")

    def show_article(doc: str) -> str:
        try:
            return article_html(svc, None if doc == ALL_DOCS else doc)
        except Exception as exc:  # noqa: BLE001 - readable message on the page
            return error_message(exc, "article")

    with gr.Blocks(title="rag — cited answers", analytics_enabled=False) as demo:
        gr.Markdown(
            "## rag — cited answers over Chinese news\nEvery claim carries a [n] citation; its source paragraph is shown under the answer with the quoted span highlighted."
        )
        with gr.Tab("Chat"):
            chat = gr.Chatbot(
                label="Answers", height=520, sanitize_html=True, elem_id="rag-chat", buttons=["copy"]
            )
            with gr.Row():
                box = gr.Textbox(
                    placeholder="问一个关于文章的问题… / ask about the article",
                    show_label=False,
                    scale=8,
                    elem_id="rag-question",
                )
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
            gr.Examples(EXAMPLES, inputs=box)
            with gr.Accordion("Settings", open=False):
                k = gr.Slider(
                    TOP_K_MIN,
                    TOP_K_MAX,
                    value=svc.settings.top_k,
                    step=1,
                    label="paragraphs of context (top-k)",
                )
                doc = gr.Dropdown(doc_choices, value=ALL_DOCS, label="document")
                with gr.Row():
                    since = gr.Textbox(label="since (YYYY-MM-DD)")
                    until = gr.Textbox(label="until (YYYY-MM-DD)")
                mode = gr.Radio(
                    ["extractive", "llm"],
                    value="llm" if llm_available else "extractive",
                    label="mode" + ("" if llm_available else " (no LLM configured: extractive only)"),
                    interactive=llm_available,
                )
            inputs = [box, chat, k, doc, since, until, mode]
            send.click(respond, inputs, [box, chat], api_visibility="private")
            box.submit(respond, inputs, [box, chat], api_visibility="private")
        with gr.Tab("Summary"):
            sdoc = _doc_picker(doc_choices, "rag-summary-doc")
            sbtn = gr.Button("Summarize", elem_id="rag-summarize")
            sout = gr.HTML(elem_id="rag-summary")
            sbtn.click(do_summary, [sdoc, mode], sout, api_name="summarize")
        with gr.Tab("Article"):
            adoc = _doc_picker(doc_choices, "rag-article-doc")
            aout = gr.HTML(elem_id="rag-article")
            adoc.change(show_article, adoc, aout, api_visibility="private")
            demo.load(show_article, adoc, aout, api_visibility="private")
        gr.api(api_ask, api_name="ask")
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def _doc_picker(doc_choices: list[str], elem_id: str):
    """A document dropdown opened on the first post (the first choice is "all documents")."""
    import gradio as gr

    return gr.Dropdown(
        doc_choices,
        value=doc_choices[1] if len(doc_choices) > 1 else ALL_DOCS,
        label="document",
        elem_id=elem_id,
    )


def _safe_docs(svc: Service) -> bool:
    try:
        return bool(svc.retriever.docs())
    except RagError:
        return False


def serve(
    svc: Service,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    block: bool = True,
):
    """Launch the page; returns (app, url) when not blocking (tests)."""
    quiet_third_parties()
    import gradio as gr

    demo = build_app(svc)
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        prevent_thread_lock=not block,
        show_error=False,
        quiet=True,
        footer_links=["api"],
        css=CSS,
        theme=gr.themes.Default(),
    )
    return demo, url
