"""Shared fixtures: one ingested store per session, a fake OpenAI-compatible server, a clean env."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_ad50afaed758b5d7.txt"
SEED_ID = "000_ad50afaed758b5d7"

# Tests never reach a real endpoint and need no key.
for var in (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "RAG_CHROMA_URL",
    "RAG_EMBEDDER",
    "RAG_LLM_MODEL",
    "RAG_TOP_K",
    "RAG_CHUNK_TOKENS",
    "RAG_AUTH",
):
    os.environ.pop(var, None)
os.environ["ANONYMIZED_TELEMETRY"] = "False"

# Tests by layer: `unit` (plain records and files, no store), `integration` (a real Chroma store,
# the fake OpenAI-compatible server), `browser` (a real Chromium), `server` (a real `chroma run`).
# A test's layer follows from the fixtures it uses; a test that builds a store or starts a process
# itself says so with `pytest.mark.integration` (one that uses the hash embedder without a store,
# `unit`). `pytest -m unit` runs the fast layer alone.
STORE_FIXTURES = {"seeded_home", "service", "fresh_home", "copied_home", "fake_llm", "hash_embedder"}
LAYERS = ("unit", "integration", "browser", "server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(m) for m in LAYERS):
            fixtures = set(getattr(item, "fixturenames", ()))
            item.add_marker("integration" if fixtures & STORE_FIXTURES else "unit")


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory) -> Path:
    """A RAG_HOME with the seed ingested by the real local embedder (shared, read-mostly)."""
    from rag.config import load_settings
    from rag.ingest.pipeline import ingest
    from rag.interfaces.service import Service

    home = tmp_path_factory.mktemp("seeded")
    settings = load_settings(RAG_HOME=home)
    svc = Service.from_settings(settings)
    report = ingest([ROOT / "seeds"], store=svc.store, embedder=svc.embedder, budget=settings.chunk_tokens)
    assert report.documents == 1 and not report.errors
    return home


@pytest.fixture()
def service(seeded_home, monkeypatch):
    from rag.config import load_settings
    from rag.interfaces.service import Service

    monkeypatch.setenv("RAG_HOME", str(seeded_home))
    return Service.from_settings(load_settings(RAG_HOME=seeded_home))


@pytest.fixture()
def fresh_home(tmp_path, monkeypatch) -> Path:
    """An empty RAG_HOME for tests that write."""
    home = tmp_path / "home"
    monkeypatch.setenv("RAG_HOME", str(home))
    return home


@pytest.fixture()
def copied_home(seeded_home, tmp_path, monkeypatch) -> Path:
    """A private copy of the seeded store, for tests that change it."""
    home = tmp_path / "copy"
    shutil.copytree(seeded_home, home)
    monkeypatch.setenv("RAG_HOME", str(home))
    return home


@pytest.fixture()
def fake_llm():
    from eval.fake_llm import FakeLLMServer

    with FakeLLMServer() as srv:
        yield srv


def said(warnings) -> list[str]:
    """Warnings as "code: detail" lines, from the records or from their JSON."""
    return [f"{w['code']}: {w['detail']}" if isinstance(w, dict) else str(w) for w in warnings]


class HashEmbedder:
    """Deterministic stand-in for tests about ingest bookkeeping (not about ranking): counts calls."""

    name = "test-hash-embedder"
    version = "1"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts, kind="passage"):
        self.embedded.extend(texts)
        out = []
        for t in texts:
            h = hashlib.sha256(t.encode()).digest()
            v = [b / 255.0 - 0.5 for b in h[:16]]
            n = sum(x * x for x in v) ** 0.5 or 1.0
            out.append([x / n for x in v])
        return out


@pytest.fixture()
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


def write_post(
    folder: Path,
    name: str,
    title: str,
    date: str,
    paragraphs: list[str],
    categories: str = "news",
    extra_tail: str = "",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    path = folder / name
    path.write_text(
        f'---\nlayout: post\ntitle: "{title}"\ndate: {date} 10:00:00 +0800\ncategories: {categories}\ntags: 测试\n---\n{body}\n{extra_tail}',
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(data: Path, port: int, timeout: float = 60) -> subprocess.Popen:
    """A real `chroma run` on 127.0.0.1:port, returned once its heartbeat answers."""
    local = Path(sys.executable).parent / "chroma"
    exe = str(local) if local.exists() else shutil.which("chroma")
    if not exe:
        pytest.fail("the `chroma` command (from the chromadb package) is not installed")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [exe, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chroma run exited early")
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"chroma run did not start within {timeout} s")
