"""Post files → Article: front matter, numbered paragraphs, source URL."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from pathlib import Path

from rag.errors import InputFileError
from rag.language.text import clean_whitespace
from rag.records import Article, Notice

POST_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
MAX_FILE_BYTES = 10 * 1024 * 1024  # a news post is ~10 KB; 10 MB is a thousand posts in one file
_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_BARE_LINK = re.compile(r"^<?(https?:)?//\S+>?$")
_MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_AUTOLINK = re.compile(r"<((?:https?:)?//[^>\s]+)>")
_NAV_WORDS = ("返回", "上一篇", "下一篇", "back to", "home")


def find_posts(paths: Iterable[str | Path]) -> list[Path]:
    """Post files under the given files and folders, in a stable order."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputFileError(p, "no such file or folder")
        if p.is_dir():
            try:
                found.extend(
                    sorted(
                        f
                        for f in p.rglob("*")
                        if f.is_file()
                        and f.suffix.lower() in POST_SUFFIXES
                        and not any(part.startswith(".") for part in f.relative_to(p).parts)
                    )
                )
            except PermissionError as exc:
                raise InputFileError(p, f"cannot be read ({exc.strerror})") from None
        else:
            found.append(p)
    return found


def read_text(path: Path, warnings: list[Notice] | None = None) -> str:
    """Read a post's bytes as text; UTF-8 first, then GB18030 (a superset of GBK) with a warning."""
    try:
        if path.exists() and not path.is_file():
            raise InputFileError(path, "is not a regular file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputFileError(
                path,
                f"file is {size / 1e6:.1f} MB, larger than the {MAX_FILE_BYTES // 2**20} MB limit for one post",
            )
        data = path.read_bytes()
    except PermissionError:
        raise InputFileError(path, "cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise InputFileError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise InputFileError(path, "file is empty")
    if b"\x00" in data[:8192]:
        raise InputFileError(path, "looks like a binary file, not a text post")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise InputFileError(path, "is not UTF-8 or GBK/GB18030 text") from None
    if warnings is not None:
        warnings.append(Notice("not_utf8", f"{path}: decoded as GB18030/GBK"))
    return text


def _iso_date(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None:
        return ""
    m = _DATE_RE.search(str(value))
    if not m:
        raise ValueError(f"date {value!r} is not a date (expected YYYY-MM-DD)")
    return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()


def _as_list(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.replace(",", " ").split() if v)  # Jekyll: space-separated
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return (str(value),)


def _is_navigation(text: str) -> bool:
    return any(text.strip().lower().startswith(w) for w in _NAV_WORDS)


def _tail_links(tail: str) -> tuple[str, list[str]]:
    """From text after the paragraphs: the source URL and any leftover prose lines."""
    source = ""
    prose: list[str] = []
    for line in tail.splitlines():
        line = line.strip()
        if not line:
            continue
        links = _MD_LINK.findall(line)
        if links and all(_is_navigation(label) for label, _ in links):
            continue  # "[返回…](…)｜[返回首页](…)" navigation
        auto = _AUTOLINK.fullmatch(line) or (_BARE_LINK.fullmatch(line) and re.match(r"<?(\S+?)>?$", line))
        if auto:
            source = source or auto.group(1)
            continue
        prose.append(line)
    return source, prose


def _html_paragraphs(body: str) -> tuple[list[str], str, str]:
    """<p> texts in order, the text after the last </p>, and a <title>/<h1> if present."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(body)
    paras = [clean_whitespace(node.text(deep=True, separator="")) for node in tree.css("p")]
    last = body.lower().rfind("</p>")
    tail = body[last + 4 :] if last >= 0 else ""
    title_node = tree.css_first("title") or tree.css_first("h1")
    title = clean_whitespace(title_node.text()) if title_node else ""
    return paras, tail, title


def _markdown_paragraphs(body: str) -> list[str]:
    paras = []
    for block in re.split(r"\n\s*\n", body):
        lines = [ln.strip() for ln in block.strip().splitlines()]
        text = " ".join(ln.lstrip("#>*- ").strip() for ln in lines if ln)
        text = _MD_LINK.sub(lambda m: m.group(1), text)
        paras.append(clean_whitespace(html.unescape(text)))
    return paras


def parse_post(text: str, path: Path) -> Article:
    """Parse a post's text. Raises InputFileError naming the file and the problem."""
    import frontmatter
    import yaml

    try:
        meta, body = frontmatter.parse(text)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputFileError(path, f"front matter is not valid YAML{where}: {problem}") from None
    if not isinstance(meta, dict):
        raise InputFileError(path, "front matter must be a YAML mapping of fields")

    html_title = ""
    if re.search(r"<p[\s>]", body, re.IGNORECASE):
        paras, tail, html_title = _html_paragraphs(body)
        source, _ = _tail_links(tail)
    else:
        source = ""
        kept_blocks = []
        for block in re.split(r"\n\s*\n", body):
            link, prose = _tail_links(block)
            if link and not prose:
                source = source or link  # a block that is only a link: the source URL
            elif prose:
                kept_blocks.append("\n".join(prose))
        paras = _markdown_paragraphs("\n\n".join(kept_blocks))
    paras = [p for p in paras if p]
    if not paras:
        raise InputFileError(path, "has no paragraphs (empty body)")

    try:
        date = _iso_date(meta.get("date"))
    except ValueError as exc:
        raise InputFileError(path, f"front matter field 'date': {exc}") from None
    title = clean_whitespace(str(meta.get("title") or html_title or path.stem))
    return Article(
        doc_id=path.stem,
        title=title,
        date=date,
        paragraphs=tuple(paras),
        categories=_as_list(meta.get("categories") or meta.get("category")),
        tags=_as_list(meta.get("tags")),
        source_url=str(meta.get("source") or meta.get("source_url") or source or ""),
        path=str(path),
    )


def load_article(path: str | Path, warnings: list[Notice] | None = None) -> Article:
    """Read and parse one post file."""
    p = Path(path)
    return parse_post(read_text(p, warnings), p)
