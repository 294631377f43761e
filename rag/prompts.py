"""Prompt templates kept as files in prompts/; variables are checked when a template is loaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError
from .models import Hit

_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# Each template and the variables it must use, no more and no fewer.
TEMPLATES: dict[str, frozenset[str]] = {
    "system": frozenset({"markers", "sentinel"}),
    "answer": frozenset({"context", "question"}),
    "summary": frozenset({"context", "language", "sentences"}),
    "summary_reduce": frozenset({"partials", "language", "sentences"}),
}


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    variables: frozenset[str]

    def render(self, **values: object) -> str:
        missing = self.variables - values.keys()
        if missing:
            raise ValueError(f"prompt '{self.name}' needs {sorted(missing)}")
        # one pass, so text inside a value (an article quoting "{{x}}") is never substituted
        return _VAR.sub(lambda m: str(values[m.group(1)]), self.text)


@lru_cache(maxsize=32)
def load_template(name: str, folder: Path) -> Template:
    """Read prompts/NAME.md and check its variables against TEMPLATES (a ConfigError if not)."""
    path = folder / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"prompt template {path}: cannot be read ({exc.strerror})") from None
    found = frozenset(_VAR.findall(text))
    expected = TEMPLATES[name]
    if found != expected:
        extra, missing = sorted(found - expected), sorted(expected - found)
        raise ConfigError(
            f"prompt template {path}: "
            + "; ".join(
                filter(
                    None,
                    [
                        f"unknown variables {extra}" if extra else "",
                        f"missing variables {missing}" if missing else "",
                    ],
                )
            )
        )
    return Template(name, text, found)


def load_all(folder: Path) -> dict[str, Template]:
    return {name: load_template(name, folder) for name in TEMPLATES}


def context_block(n: int, hit: Hit) -> str:
    """One numbered, delimited block: a header with title, date and ¶, then the quoted text."""
    body = hit.chunk.text.replace("<<<", "< < <").replace(
        ">>>", "> > >"
    )  # the text cannot close its own block
    return f"[{n}] 《{hit.title}》 {hit.date} ¶{hit.chunk.paragraph}\n<<<\n{body}\n>>>"


def context(hits: list[Hit], start: int = 1) -> str:
    return "\n\n".join(context_block(i, h) for i, h in enumerate(hits, start))
