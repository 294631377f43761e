"""Chat model over the official openai SDK: any OpenAI-compatible endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rag.config import Settings
from rag.errors import LLMError, first_line
from rag.records import Notice

OnToken = Callable[[str], None]


@dataclass
class Reply:
    text: str
    model: str
    usage: dict[str, int] = field(default_factory=dict)
    truncated: bool = False  # the reply reached max_tokens; `text` keeps its whole sentences only


# A reply cut by the token limit ends mid-sentence ("…要前瞻[3]"), and a verbatim prefix of a source
# sentence would pass verification as a claim: keep up to the last sentence end and its markers.
_WHOLE_SENTENCES = re.compile(
    r".*(?:[。！？；!?;]|\.(?=\s|$)|\n)[”’」』）)\"']*(?:\s*[\[［【][\d\s,，、;；]+[\]］】])*", re.S
)


def truncated_warning(max_tokens: int) -> Notice:
    return Notice(
        "llm_truncated",
        f"the model's reply reached the {max_tokens}-token limit (RAG_LLM_MAX_TOKENS); its unfinished last sentence was dropped",
    )


def whole_sentences(text: str) -> str:
    """`text` up to its last finished sentence (with the markers after it); "" if none finished."""
    m = _WHOLE_SENTENCES.match(text)
    return m.group(0).rstrip() if m else ""


class ChatModel(Protocol):
    model: str

    def complete(self, system: str, user: str, max_tokens: int, on_token: OnToken | None = None) -> Reply:
        """The model's reply; `on_token` receives streamed pieces as they arrive."""
        ...


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


class OpenAIChat:
    """Streaming chat completions with timeouts and retries (the SDK backs off and honours
    Retry-After on 429/5xx). Failures become LLMError with one line that never holds the key."""

    def __init__(self, client, model: str, secret: str | None = None) -> None:
        self.client = client
        self.model = model
        self._secret = secret

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIChat:
        return cls(settings.openai_client(settings.openai_base_url), settings.llm_model, settings.api_key)

    def complete(self, system: str, user: str, max_tokens: int, on_token: OnToken | None = None) -> Reply:
        import openai

        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        try:
            if on_token is None:
                resp = self.client.chat.completions.create(
                    model=self.model, messages=messages, max_tokens=max_tokens, temperature=0
                )
                if not resp.choices:
                    raise LLMError("the model returned no choices")
                text = resp.choices[0].message.content or ""
                finish = resp.choices[0].finish_reason
                usage = (
                    resp.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"})
                    if resp.usage
                    else {}
                )
                model = resp.model or self.model
            else:
                text, usage, model, finish = self._stream(messages, max_tokens, on_token)
        except openai.APITimeoutError:
            raise LLMError(f"the model endpoint did not answer within {self.client.timeout} s") from None
        except openai.APIConnectionError as exc:
            raise LLMError(
                f"cannot reach the model endpoint at {self.client.base_url}: {first_line(_redact(str(exc.__cause__ or exc), self._secret))}"
            ) from None
        except openai.RateLimitError:
            raise LLMError("the model endpoint is rate-limiting (429) and retries were used up") from None
        except openai.APIStatusError as exc:
            raise LLMError(f"the model endpoint answered HTTP {exc.status_code}") from None
        except openai.OpenAIError as exc:
            raise LLMError(
                f"the model endpoint failed: {type(exc).__name__}: {first_line(_redact(str(exc), self._secret))}"
            ) from None
        except (ValueError, KeyError, AttributeError) as exc:  # malformed JSON or fields
            raise LLMError(f"the model endpoint sent a malformed reply ({type(exc).__name__})") from None
        if not text.strip():
            raise LLMError("the model returned an empty reply")
        if finish == "length":
            text = whole_sentences(text)
            if not text:
                raise LLMError(
                    f"the model's reply reached the {max_tokens}-token limit before its first sentence ended"
                )
        return Reply(text=text, model=model, usage=usage, truncated=finish == "length")

    def _stream(
        self, messages, max_tokens: int, on_token: OnToken
    ) -> tuple[str, dict[str, int], str, str | None]:
        import httpx

        parts: list[str] = []
        usage: dict[str, int] = {}
        model = self.model
        finish: str | None = None
        try:
            stream = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                max_tokens=max_tokens,
                temperature=0,
                stream=True,
                stream_options={"include_usage": True},
            )
            for event in stream:
                model = event.model or model
                if event.usage:
                    usage = event.usage.model_dump(
                        include={"prompt_tokens", "completion_tokens", "total_tokens"}
                    )
                for choice in event.choices or []:
                    piece = choice.delta.content if choice.delta else None
                    if piece:
                        parts.append(piece)
                        on_token(piece)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise LLMError(
                f"the model's stream was cut after {len(parts)} pieces ({type(exc).__name__})"
            ) from None
        if finish is None and parts:
            raise LLMError(f"the model's stream ended without finishing after {len(parts)} pieces")
        return "".join(parts), usage, model, finish
