"""The fitted reader's scorers (rag.answering.learned) and the script that fits them (scripts/train.py):
the package reads what the script writes without scikit-learn, and a fit is the same run to run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.answering.extractive import MODEL_FILE, load_model
from rag.answering.learned import Scorer

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("train_script", ROOT / "scripts" / "train.py")
assert _spec and _spec.loader
train = importlib.util.module_from_spec(_spec)
sys.modules["train_script"] = train  # (its dataclasses look their module up)
_spec.loader.exec_module(train)


def _data(seed: int = 7, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Invented rows: the label follows two of three signals, with noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 3))
    y = ((X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.random(n)) > 0.9).astype(float)
    return X, y


def test_a_logistic_scorer_is_the_sigmoid_of_its_weighted_sum():
    s = Scorer.from_json({"kind": "logistic", "features": ["a", "b"], "weights": [2.0, -1.0], "bias": 0.5})
    assert s.raw({"a": 1.0, "b": 3.0}) == pytest.approx(2.0 - 3.0 + 0.5)
    assert s.probability({"a": 1.0}) == pytest.approx(1 / (1 + np.exp(-2.5)))  # a missing signal reads 0


def test_a_tree_scorer_sends_a_row_left_at_or_under_the_threshold():
    # one stump: a <= 0.5 → -1, else +2; baseline 0.25
    tree = [[0, 0.5, 1, 2, 0.0], [0, 0.0, -1, -1, -1.0], [0, 0.0, -1, -1, 2.0]]
    s = Scorer.from_json({"kind": "trees", "features": ["a"], "baseline": 0.25, "trees": [tree, tree]})
    assert s.raw({"a": 0.5}) == pytest.approx(0.25 - 2.0)
    assert s.raw({"a": 0.51}) == pytest.approx(0.25 + 4.0)
    with pytest.raises(ValueError, match="kind"):
        Scorer.from_json({"kind": "forest", "features": []})


@pytest.mark.integration
@pytest.mark.parametrize("family", ["logistic", "trees"])
def test_a_small_fit_is_the_same_run_to_run_and_read_back_alike(family):
    X, y = _data()
    features = ("a", "b", "c")

    def fit() -> Scorer:
        if family == "logistic":
            return train.fit_logistic(X, y, features)
        return train.fit_trees(X, y, features, {**train.TREES, "max_iter": 20, "min_samples_leaf": 10})

    first, second = fit(), fit()
    assert json.dumps(train.to_json(first)) == json.dumps(train.to_json(second))
    again = Scorer.from_json(json.loads(json.dumps(train.to_json(first))))
    rows = X[:50]
    assert np.allclose(train.scores(again, rows), [again.raw(dict(zip(features, r))) for r in rows])
    # …and it learned the rule it was shown: the most likely rows hold the label more often
    z = train.scores(again, X)
    top, bottom = y[np.argsort(-z)[:100]].mean(), y[np.argsort(z)[:100]].mean()
    assert top > bottom + 0.5


def test_the_shipped_model_says_what_made_it():
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    model = load_model()
    assert data["source"].startswith("scripts/train.py") and "train split" in data["source"]
    assert data["family"] in train.FAMILIES and set(data["dev"]) == {"crud", "seed"}
    assert 0 < model.answer_bar < 1 and 0.5 <= model.list_ratio < 1
    assert model.rerank is not None and model.rerank.features == ("logit", "similarity")
