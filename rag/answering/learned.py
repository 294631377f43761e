"""Fitted scorers read from JSON: a probability from a row of named signals, without the library
that fitted them (scripts/train.py writes them; start-up imports nothing heavier than json).

Two kinds, each one dict:
- `{"kind": "logistic", "features": [...], "weights": [...], "bias": b}`;
- `{"kind": "trees", "features": [...], "baseline": b, "trees": [[node, ...], ...]}`, a
  gradient-boosted ensemble (scikit-learn's HistGradientBoostingClassifier) whose node is
  `[feature index, threshold, left, right, leaf value]`, a leaf when `left` is -1; a row goes left
  when its value is at most the threshold, as scikit-learn sends it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

Node = tuple[int, float, int, int, float]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Scorer:
    kind: str
    features: tuple[str, ...]
    weights: tuple[float, ...] = ()
    bias: float = 0.0
    trees: tuple[tuple[Node, ...], ...] = ()

    def raw(self, x: Mapping[str, float]) -> float:
        """The log-odds for a row of signals (a signal the row lacks reads as 0)."""
        row = [float(x.get(f, 0.0)) for f in self.features]
        if self.kind == "logistic":
            return self.bias + sum(w * v for w, v in zip(self.weights, row))
        total = self.bias
        for tree in self.trees:
            i = 0
            while tree[i][2] >= 0:
                feature, threshold, left, right, _ = tree[i]
                i = left if row[feature] <= threshold else right
            total += tree[i][4]
        return total

    def probability(self, x: Mapping[str, float]) -> float:
        return sigmoid(self.raw(x))

    @classmethod
    def from_json(cls, data: Mapping) -> Scorer:
        kind = data["kind"]
        if kind == "logistic":
            return cls(kind, tuple(data["features"]), tuple(data["weights"]), float(data["bias"]))
        if kind == "trees":
            trees = tuple(
                tuple((int(f), float(t), int(lo), int(hi), float(v)) for f, t, lo, hi, v in tree)
                for tree in data["trees"]
            )
            return cls(kind, tuple(data["features"]), bias=float(data["baseline"]), trees=trees)
        raise ValueError(f"scorer kind {kind!r} is not logistic or trees")
