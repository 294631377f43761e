"""Server mode against a real `chroma run` on 127.0.0.1, started by the test."""

import subprocess

import pytest
from click.testing import CliRunner

from rag.interfaces.cli import main

from .conftest import ROOT, free_port, start_chroma

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    yield f"http://127.0.0.1:{port}", proc
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
    monkeypatch.setenv("RAG_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    res = CliRunner().invoke(main, ["search", "上市企业"])
    assert res.exit_code == 1
    assert res.output.startswith("error: ") and "vector store" in res.output and "Traceback" not in res.output
