"""Server mode against a real `chroma run` on 127.0.0.1, started by the test."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import main

from .conftest import ROOT

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_bin() -> str:
    local = Path(sys.executable).parent / "chroma"
    found = str(local) if local.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command (from the chromadb package) is not installed")
    return found


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([_chroma_bin(), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chroma run exited early")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield url, proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_ingest_and_search_through_a_chroma_server(chroma_server, fresh_home, monkeypatch):
    url, _ = chroma_server
    monkeypatch.setenv("RAG_CHROMA_URL", url)
    cli = CliRunner()
    first = cli.invoke(main, ["ingest", str(ROOT / "seeds")])
    assert first.exit_code == 0, first.output
    assert "28 paragraphs" in first.output
    again = cli.invoke(main, ["ingest", str(ROOT / "seeds")])
    assert "chunks: 0 added" in again.output
    res = cli.invoke(main, ["search", "--json", "到2025年上市企业超过多少家？"])
    assert res.exit_code == 0 and '"paragraph": 13' in res.output
    assert not (fresh_home / "chroma").exists()  # nothing written to the embedded store


def test_server_down_is_a_one_line_error(fresh_home, monkeypatch):
    monkeypatch.setenv("RAG_CHROMA_URL", f"http://127.0.0.1:{_free_port()}")
    res = CliRunner().invoke(main, ["search", "上市企业"])
    assert res.exit_code == 1
    assert res.output.startswith("error: ") and "vector store" in res.output and "Traceback" not in res.output
