"""Prompt templates kept as files in prompts/; variables are checked when a template is loaded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from rag.analysis.question import sentinel_for
from rag.config import Settings
from rag.errors import ConfigError, QuestionError
from rag.language import tokens
from rag.records import Hit, Notice

PROMPT_MARGIN = 64  # tokens for chat-format overhead (role tags, separators) the template does not show
_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# Each template and the variables it must use, no more and no fewer.
TEMPLATES: dict[str, frozenset[str]] = {
    "system": frozenset({"markers", "sentinel"}),
    "answer": frozenset({"context", "question"}),
    "summary": frozenset({"context", "language", "sentences"}),
    "translate": frozenset(),  # the system message; the user message is the question itself
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


@dataclass
class Budget:
    window: int
    reply: int

    def room(self, fixed_tokens: int) -> int:
        """Tokens left for context blocks after the fixed prompt, the reply and the chat format."""
        return self.window - self.reply - fixed_tokens - PROMPT_MARGIN

    def pack(
        self, hits: Sequence[Hit], fixed_tokens: int, model: str | None
    ) -> tuple[list[Hit], list[Notice]]:
        """As many hits (best first) as fit the window after the fixed prompt and the reply."""
        room = self.room(fixed_tokens)
        if room <= 0:
            raise QuestionError(f"the question leaves no room for context in a {self.window}-token window")
        kept: list[Hit] = []
        warnings: list[Notice] = []
        used = 0
        for i, h in enumerate(hits, 1):
            cost = tokens.count(context_block(i, h), model) + 2
            if used + cost > room:
                if not kept:  # the best block alone is too long: cut it rather than answer blind
                    text = tokens.truncate(h.chunk.text, max(16, room - 48), model)
                    kept.append(replace(h, chunk=replace(h.chunk, text=text)))
                    warnings.append(Notice("context_truncated", f"block 1 cut to fit {self.window} tokens"))
                else:
                    warnings.append(
                        Notice(
                            "context_truncated",
                            f"{len(hits) - len(kept)} of {len(hits)} blocks left out to fit {self.window} tokens",
                        )
                    )
                break
            kept.append(h)
            used += cost
        return kept, warnings


def system_prompt(settings: Settings, n_blocks: int, question: str) -> str:
    markers = ", ".join(f"[{i}]" for i in range(1, n_blocks + 1)) if n_blocks else "none"
    return load_template("system", settings.prompts_dir).render(
        markers=markers, sentinel=sentinel_for(question)
    )
