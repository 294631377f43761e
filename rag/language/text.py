"""Chinese-first text helpers: normalization, sentences, word tokens and numbers."""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Mapping
from functools import lru_cache, partial
from pathlib import Path

from rag import cache

# A sentence ends at a full-width or ASCII terminator, with any closing quotes that follow it.
# ASCII '.' ends a sentence only before whitespace/end, so 2.5万亿 stays whole.
_SENT_END = re.compile(r"([。！？；!?;]+[”’」』）)\"']*|\.(?=\s|$)[”’」』）)\"']*|\n+)")

_WS = re.compile(r"\s+")


def nfkc(text: str) -> str:
    """NFKC-normalize (full-width digits and letters become ASCII) and collapse whitespace."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def clean_whitespace(text: str) -> str:
    return _WS.sub(" ", text.replace("\u3000", " ").replace("\xa0", " ")).strip()


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends (。！？；and ASCII forms), keeping each terminator with its sentence."""
    parts = _SENT_END.split(text)
    out: list[str] = []
    buf = ""
    for i, piece in enumerate(parts):
        buf += piece
        if i % 2 == 1:  # a terminator closes the sentence
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


# A shorter piece ("一是", "1.") is a list marker, not a sentence the reader may quote.
MIN_SENTENCE_CHARS = 4


def readable_sentences(text: str) -> list[str]:
    """The sentences of a paragraph the reader weighs (see `evidence.gather`)."""
    return [s for s in split_sentences(text) if len(nfkc(s)) >= MIN_SENTENCE_CHARS]


# ---- words ------------------------------------------------------------------------------------

_jieba_lock = threading.Lock()
_jieba_ready = False


class _JiebaHome:
    """jieba's tokenizer is the library's process-wide state, and so are the caches it reads: they
    live under the first RAG_HOME the process uses (`use_jieba_home`); with none, in memory."""

    home: Path | None = None


def use_jieba_home(home: Path) -> None:
    """Keep jieba's caches under `home` (the process's first RAG_HOME; later ones share them)."""
    if _JiebaHome.home is None:
        _JiebaHome.home = home


# Function words and question words that carry no topic. Kept small on purpose: BM25's IDF
# already discounts common words; this list only keeps questions from matching on grammar.
STOPWORDS = frozenset(
    """的 了 和 与 及 是 在 有 为 对 将 要 把 被 等 也 都 而 并 或 之 其 这 那 个 上 下 中 以 于 到 从 由 向 让 使
    什么 哪些 哪个 哪 多少 几 怎么 怎样 如何 是否 吗 呢 吧 啊 请问 请 提出 提到 文中 文章 报道 根据 关于 方面 情况 主要 哪里 谁 何时 什么时候
    a an the of to in on at for by with and or is are was were be been what which who whom whose when where why how
    many much does do did it its this that these those as from into about than then there their they he she his her
    article report say says said mention mentioned according should would will can could may might must shall""".split()
)

_WORD_RE = re.compile(r"[\w\u4e00-\u9fff]")


WORDS_VERSION = 2
# After this many distinct look-ups in the memory-mapped word list (~4 µs each, ~0.8 s in all; a
# repeated one is answered from memory) a process is tokenizing in bulk (an index update, a
# server): it loads jieba's own dict (0.6 s) and continues with that (~0.05 µs a look-up). A
# question's six paragraphs need a few thousand (6,000 for six long CRUD-RAG paragraphs).
LOOKUPS_BEFORE_FULL_DICT = 200_000


class _SortedWords(Mapping):
    """jieba's prefix dictionary (word → frequency) as two sorted arrays memory-mapped from
    RAG_HOME: a question's few thousand look-ups cost milliseconds, where unmarshalling the
    500,000-entry dict costs ~0.6 s at every process start. Read-only; the same mapping, so
    the same tokens."""

    def __init__(self, keys, values, cast=int, upgrade: bool = True) -> None:
        self._words, self._freqs, self.lookups = keys, values, 0
        self._cast, self._upgrade = cast, upgrade
        # jieba asks for the same fragments again and again (each character, and each fragment
        # twice: "in", then its frequency): six long paragraphs make 58,622 look-ups of 6,002
        self._rows: dict[str, int] = {}

    def _row(self, word: object) -> int:
        if not isinstance(word, str):
            return -1
        i = self._rows.get(word)
        if i is not None:
            return i
        self.lookups += 1
        if self._upgrade and self.lookups == LOOKUPS_BEFORE_FULL_DICT:
            threading.Thread(target=_load_full_dict, daemon=True).start()
        import numpy as np

        i = int(np.searchsorted(self._words, word))
        i = i if i < len(self._words) and self._words[i] == word else -1
        self._rows[word] = i
        return i

    def __getitem__(self, word: str) -> int:
        i = self._row(word)
        if i < 0:
            raise KeyError(word)
        return self._cast(self._freqs[i])

    def __contains__(self, word: object) -> bool:
        return self._row(word) >= 0

    def get(self, word, default=None):
        i = self._row(word)
        return self._cast(self._freqs[i]) if i >= 0 else default

    def __iter__(self):
        return iter(map(str, self._words))

    def __len__(self) -> int:
        return len(self._words)


def _words_dir() -> Path | None:
    home = _JiebaHome.home
    return home / "cache" / f"jieba-words-v{WORDS_VERSION}" if home is not None else None


def _load_full_dict() -> None:
    """jieba's own dictionary (its marshal cache under RAG_HOME, else built from its word list)."""
    import jieba

    with _jieba_lock:
        if isinstance(jieba.dt.FREQ, dict) and jieba.dt.initialized:
            return
        home = _JiebaHome.home
        if home is not None:
            try:
                home.mkdir(parents=True, exist_ok=True)
                jieba.dt.tmp_dir = str(home)
            except OSError:
                pass  # read-only home: jieba falls back to rebuilding in memory
        jieba.dt.initialized = False
        jieba.initialize()


def _save_words(folder: Path, freq: dict[str, int], total: int) -> None:
    import numpy as np

    keys = sorted(freq)
    _save_arrays(
        folder,
        [
            ("total.npy", np.array(total)),
            ("freqs.npy", np.array([freq[k] for k in keys], dtype=np.int64)),
            ("keys.npy", np.array(keys)),
        ],
    )


_posseg_lock = threading.Lock()
_posseg = None


def posseg():
    """jieba.posseg, its word → part-of-speech table memory-mapped from RAG_HOME once saved
    there: at import it otherwise parses jieba's whole word list (0.45 s a process)."""
    global _posseg
    if _posseg is None:
        ensure_jieba()
        with _posseg_lock:  # never hand out a module another thread is still importing
            if _posseg is None:
                _posseg = _import_posseg()
    return _posseg


_WORK_TITLE = re.compile(r"《([^》]{1,40})》")


def named(text: str) -> dict[str, frozenset[str]]:
    """The places (jieba's ns tag, two characters or more) and the works (titles in 《》) a text
    names, lower case, NFKC: {"place": {湖北省}, "work": {求佛}}. (Bodies and people are left out:
    jieba tags common nouns as bodies, and people's names come in many transliterations.)"""
    t = nfkc(text).lower()
    out = {
        "place": frozenset(w for w, flag in posseg().lcut(t) if flag == "ns" and len(w) >= 2),
        "work": frozenset(m.group(1) for m in _WORK_TITLE.finditer(t)),
    }
    return {k: v for k, v in out.items() if v}


def _import_posseg():
    import jieba

    folder = _words_dir()
    try:
        import numpy as np

        assert folder is not None
        tags = _SortedWords(
            np.load(folder / "tag-words.npy", mmap_mode="r"),
            np.load(folder / "tags.npy", mmap_mode="r"),
            str,
            upgrade=False,
        )
    except (AssertionError, OSError, ValueError):
        import jieba.posseg as pseg

        if folder is not None and folder.is_dir():
            _save_tags(folder, pseg.dt.word_tag_tab)
        return pseg
    with _jieba_lock:
        saved = jieba.dt.dictionary
        jieba.dt.dictionary = os.devnull  # what posseg reads its tags from at import: nothing, here
        try:
            import jieba.posseg as pseg
        finally:
            jieba.dt.dictionary = saved
    pseg.dt.word_tag_tab = tags
    return pseg


def _save_tags(folder: Path, table: dict[str, str]) -> None:
    import numpy as np

    words = sorted(table)
    _save_arrays(
        folder, [("tags.npy", np.array([table[w] for w in words])), ("tag-words.npy", np.array(words))]
    )


def _save_arrays(folder: Path, arrays: list) -> None:
    """Each (name, array) saved atomically, in order: the last one present means all are."""
    import numpy as np

    for name, arr in arrays:
        if not cache.write_atomically(folder / name, partial(np.save, arr=arr)):
            return  # a read-only home: a cache only


def _import_jieba():
    """jieba, imported without pkg_resources: jieba uses it only to open its own data files and
    falls back to a plain open() without it, and importing it costs 60 ms of every cold start
    (medians of 3, after chromadb and numpy). Nothing else is changed: a later import of
    pkg_resources by anyone works as usual."""
    import sys

    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba

        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


def ensure_jieba() -> None:
    """Ready jieba once per process: its word list memory-mapped from RAG_HOME when saved there
    before (see _SortedWords), else its dictionary loaded and the word list saved for next time."""
    global _jieba_ready
    if _jieba_ready:
        return
    with _jieba_lock:
        if _jieba_ready:
            return
        jieba = _import_jieba()
        jieba.setLogLevel(logging.WARNING)
        folder = _words_dir()
        try:
            import numpy as np

            assert folder is not None
            keys = np.load(folder / "keys.npy", mmap_mode="r")
            freqs = np.load(folder / "freqs.npy", mmap_mode="r")
            jieba.dt.FREQ, jieba.dt.total = _SortedWords(keys, freqs), int(np.load(folder / "total.npy"))
            jieba.dt.initialized = True
        except (AssertionError, OSError, ValueError):
            jieba.dt.initialized = False
    if not jieba.dt.initialized:
        _load_full_dict()
        if folder is not None:
            _save_words(folder, jieba.dt.FREQ, jieba.dt.total)
    _jieba_ready = True


@lru_cache(maxsize=8192)
def _cut(text: str) -> tuple[str, ...]:
    import jieba

    return tuple(jieba.lcut_for_search(text))


def words(text: str) -> list[str]:
    """Lower-cased word tokens of Chinese and English text (jieba search mode), punctuation dropped."""
    ensure_jieba()
    out = []
    for tok in _cut(nfkc(text).lower()):
        tok = tok.strip()
        if tok and _WORD_RE.search(tok):
            out.append(tok)
    return out


@lru_cache(maxsize=8192)
def _cut_precise(text: str) -> tuple[str, ...]:
    import jieba

    return tuple(jieba.lcut(text))


def precise_words(text: str) -> list[str]:
    """Content words in jieba's precise mode: whole words only (高新技术, not also 高新 and 技术)."""
    ensure_jieba()
    return [
        t
        for t in (tok.strip() for tok in _cut_precise(nfkc(text).lower()))
        if t and _WORD_RE.search(t) and t not in STOPWORDS
    ]


def content_words(text: str) -> list[str]:
    """`words` without stopwords: what a question is about."""
    return [w for w in words(text) if w not in STOPWORDS]


def char_ngrams(text: str, n: int = 2) -> set[str]:
    """Character n-grams of the normalized text without punctuation; language-agnostic overlap."""
    s = "".join(ch for ch in nfkc(text).lower() if _WORD_RE.match(ch))
    return {s[i : i + n] for i in range(len(s) - n + 1)} if len(s) >= n else ({s} if s else set())


# ---- numbers ----------------------------------------------------------------------------------

UNIT_SCALE = {  # the multiplier of a number's unit word
    "万亿": 1e12,
    "亿": 1e8,
    "万": 1e4,
    "千": 1e3,
    "trillion": 1e12,
    "billion": 1e9,
    "million": 1e6,
    "thousand": 1e3,
}
NUMBER_RE = re.compile(
    r"(?<![0-9A-Za-z.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(万亿|亿|万|千|trillion|billion|million|thousand)?\s*(%|％|percent)?",
    re.IGNORECASE,
)


def numbers(text: str) -> list[tuple[str, float]]:
    """Numbers in `text` as (surface, value); units are applied so 2.5万亿 == 25000亿 == 2.5e12."""
    out = []
    for m in NUMBER_RE.finditer(nfkc(text)):
        whole, frac, unit, pct = m.groups()
        value = float(whole.replace(",", "") + (frac or ""))
        if unit:
            value *= UNIT_SCALE[unit.lower()]
        out.append((m.group(0).strip(), value))
    return out


def could_be_year(value: float) -> bool:
    """A whole number in 1900–2100 may be a year (2025年 is a date, not an amount)."""
    return 1900 <= value <= 2100 and value == int(value)


def number_values(text: str) -> set[float]:
    return {round(v, 6) for _, v in numbers(text)}


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def has_words(text: str) -> bool:
    """A CJK character or a Latin word of two or more letters: a header line of a date, a time
    or a lone "/" has none, and is no search hit (it stays in its article, ¶-numbered)."""
    return has_cjk(text) or bool(_LATIN_WORD.search(text))
