"""The eval is an instrument that can fail: crippled pipelines must score visibly lower."""

import json

import pytest

from eval.__main__ import main as eval_main
from eval.score import citation_checks, fact_found, normalize


def test_fact_normalization_is_chinese_aware():
    assert fact_found(["2.5万亿元"], "工业规模总量超过25000亿元")
    assert fact_found(["2.5 trillion"], "超过2.5万亿元")
    assert fact_found(["43%"], "比重稳定在４３％左右")
    assert fact_found(["2/3"], "超三分之二的星级企业")
    assert not fact_found(["150家"], "到2025年上市企业超过160家")
    assert normalize("Ａ Ｂ，１,０００") == "ab1000"


def test_citation_checks_flag_unsupported_and_ungrounded_claims():
    cite = {"n": 1, "doc_id": "d", "title": "t", "date": "2022-02-08", "paragraph": 1, "ref": "d#p1", "text": "今年，全市高企数量要达3400家左右。", "quote": "今年，全市高企数量要达3400家左右。"}
    good = citation_checks({"answer": "2022年全市高企数量要达3400家左右[1]。", "status": "answered", "citations": [cite]})
    assert good["supported_claims"] == good["claims"] == 1 and good["ungrounded_numbers"] == 0
    bad = citation_checks({"answer": "全市高企数量要达5000家[1]。学习德国[2]。", "status": "answered", "citations": [cite]})
    assert bad["ungrounded_numbers"] == 1 and bad["supported_claims"] == 0 and bad["valid_markers"] == 1 and bad["markers"] == 2


@pytest.mark.parametrize("sabotage", ["strip-citations", "random-retriever"])
def test_sabotaged_pipeline_scores_lower_and_fails(copied_home, tmp_path, sabotage, capsys):
    out = tmp_path / "out"
    assert eval_main(["--mode", "extractive", "--home", str(copied_home), "--out", str(out)]) == 0
    healthy = json.loads((out / "results-extractive.json").read_text(encoding="utf-8"))["metrics"]
    assert eval_main(["--mode", "extractive", "--home", str(copied_home), "--out", str(out), "--sabotage", sabotage]) == 1
    broken = json.loads((out / "results-extractive.json").read_text(encoding="utf-8"))["metrics"]
    assert broken["gold_paragraph_cited"] < healthy["gold_paragraph_cited"] - 0.5
    if sabotage == "random-retriever":
        assert broken["R@1"] < 0.3 and broken["fact_recall"] < healthy["fact_recall"] - 0.3
    assert "BELOW THRESHOLD" in capsys.readouterr().err
