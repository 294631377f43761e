"""Fit the extractive reader on the **train** split, choose on **dev**, write rag/data/extractive.json.

    python scripts/train.py                   # fit both families, print dev figures, write the winner
    python scripts/train.py --family trees    # only one family (logistic | trees)
    python scripts/train.py --fraction 0.5    # the first half of the train items (learning curve)
    python scripts/train.py --dry-run         # print, write nothing
    RAG_EMBEDDER=sentence-transformers:models/embeddinggemma-300m python scripts/train.py \
        --sets seed,crud,english --rerank-top 10  # the quality profile's reader (its own file)

Train questions (eval/train: CRUD-RAG items the eval never asks) are asked against the train
corpus (their posts and the eval corpus's unused distractor posts, eval.corpus.train_home): every
sentence of the top-k paragraphs is an example, positive when it holds the reference answer. The
benchmark's 无法推断 questions, and every answerable question asked again without its posts, give
negatives only. Three scorers are fitted, each a file the package reads without scikit-learn
(rag.answering.learned): the sentence scorer (first stage), the second stage on the likeliest few
sentences (first-stage logit and the question ↔ sentence similarity of the profile's embedder:
RAG_EMBEDDER's, the bundled e5 for the light profile), and the gate on each question's best
sentence (answerable or not). Each profile's reader is its own file (rag.answering.extractive.model_file). Dev questions (eval corpus, seed
and CRUD-RAG sets, never test) choose the family, the answer bar (the best balanced accuracy whose
false not-found stays at or under MAX_FALSE_NOT_FOUND in each set) and the list ratio. Nothing
random is left unseeded: two runs on the same data write the same file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.corpus import corpus_home, train_home  # noqa: E402
from eval.data import SETS, TRAIN_QUESTIONS, Item, load_sets, load_train  # noqa: E402
from eval.score import fact_found  # noqa: E402
from rag.answering.extractive import RERANK_TOP, profile_file, similarity_signal  # noqa: E402
from rag.answering.learned import Scorer, logit, sigmoid  # noqa: E402

# The answer bar keeps false not-found on dev's answerable questions, in each set, at or under this
# share (a wrong "not found" costs the user the whole answer), then is the best balanced accuracy.
MAX_FALSE_NOT_FOUND = 0.05
FAMILIES = ("logistic", "trees")
FOLDS = 5
L2 = 1e-3  # weak ridge: a few dozen signals, tens of thousands of sentences
STEPS, RATE = 3000, 0.5
# Trees: shallow and slow-learning, ~20k sentences but only ~700 questions for the gate
TREES = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}
GATE_TREES = {**TREES, "max_iter": 100, "max_depth": 3}


@dataclass
class Asked:
    """One question as asked (with or without its posts): its candidates' signals and labels."""

    id: str
    set: str
    question: str
    answerable: bool
    is_set: bool
    x: list[dict[str, float]] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def ask_all(home: Path, items: Sequence[Item], k: int, log=print) -> list[Asked]:
    """Every item asked with its posts and, when answerable with known posts, without them."""
    from rag.analysis.evidence import gather
    from rag.analysis.question import analyse
    from rag.answering.extractive import candidates
    from rag.config import load_settings
    from rag.interfaces.service import Service
    from rag.language.timewords import annotate
    from rag.records import Filters

    svc = Service.from_settings(load_settings(RAG_HOME=home))
    idf = svc.retriever.idf
    runs = [(it, None) for it in items] + [
        (it, Filters(exclude_doc_ids=it.rejection_exclude))
        for it in items
        if it.answerable and it.rejection_exclude
    ]
    out = []
    for i, (it, filters) in enumerate(runs):
        profile = analyse(it.question, idf, svc.retriever.language)
        hits = svc.retriever.search(it.question, k=k, filters=filters)
        answerable = it.answerable and filters is None
        a = Asked(it.id + ("/rejection" if filters else ""), it.set, it.question, answerable, profile.is_set)
        for c in candidates(profile, gather(hits)):
            text = annotate(c.sentence.text, c.ev.hit.date)
            a.x.append(c.x)
            a.y.append(float(answerable and any(fact_found(f, text) for f in it.facts)))
            a.text.append(c.sentence.text)
        out.append(a)
        if (i + 1) % 200 == 0:
            log(f"  {i + 1} of {len(runs)} asked")
    return out


def balanced(y: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Sample weights under which positives and negatives weigh the same (times `weight`)."""
    pos = max(1.0, y.sum())
    sw = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * max(1.0, len(y) - pos)))
    return sw if weight is None else sw * weight


def fit_logistic(
    X: np.ndarray, y: np.ndarray, features: Sequence[str], weight: np.ndarray | None = None
) -> Scorer:
    """Class-balanced logistic regression by plain gradient descent (deterministic, no library)."""
    sw = balanced(y, weight)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        g = (p - y) * sw
        w -= RATE * (X.T @ g / len(y) + L2 * w)
        b -= RATE * g.mean()
    return Scorer("logistic", tuple(features), tuple(round(float(v), 5) for v in w), round(float(b), 5))


def fit_trees(X: np.ndarray, y: np.ndarray, features: Sequence[str], params: dict, weight=None) -> Scorer:
    """Gradient-boosted trees (scikit-learn), exported as nodes rag.answering.learned reads."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    sw = balanced(y, weight)
    clf = HistGradientBoostingClassifier(early_stopping=False, random_state=0, **params)
    clf.fit(X, y, sample_weight=sw)
    trees = []
    for (predictor,) in clf._predictors:  # one tree per iteration for a binary classifier
        nodes = []
        for n in predictor.nodes:
            if n["is_leaf"]:
                nodes.append([0, 0.0, -1, -1, round(float(n["value"]), 7)])
            else:
                nodes.append(
                    [int(n["feature_idx"]), float(n["num_threshold"]), int(n["left"]), int(n["right"]), 0.0]
                )
        trees.append(nodes)
    scorer = Scorer.from_json(
        {
            "kind": "trees",
            "features": list(features),
            "baseline": float(clf._baseline_prediction[0][0]),
            "trees": trees,
        }
    )
    sample = X[:: max(1, len(X) // 200)]
    ours = np.array([scorer.raw(dict(zip(features, row))) for row in sample])
    assert np.allclose(ours, clf.decision_function(sample), atol=1e-4), "tree export disagrees with sklearn"
    return scorer


def to_json(s: Scorer) -> dict:
    if s.kind == "logistic":
        return {"kind": "logistic", "features": list(s.features), "weights": list(s.weights), "bias": s.bias}
    return {
        "kind": "trees",
        "features": list(s.features),
        "baseline": s.bias,
        "trees": [list(map(list, t)) for t in s.trees],
    }


def matrix(rows: Sequence[dict[str, float]], features: Sequence[str]) -> np.ndarray:
    return np.array([[r.get(f, 0.0) for f in features] for r in rows], dtype=float).reshape(
        len(rows), len(features)
    )


def scores(s: Scorer, X: np.ndarray) -> np.ndarray:
    """Log-odds of many rows at once (the same arithmetic as Scorer.raw, vectorized)."""
    if s.kind == "logistic":
        return X @ np.array(s.weights) + s.bias
    total = np.full(len(X), s.bias)
    rows = np.arange(len(X))
    for tree in s.trees:
        f, t, left, right, value = (np.array(col) for col in zip(*tree))
        at = np.zeros(len(X), dtype=int)
        while (inner := left[at] >= 0).any():
            go_left = X[rows, f[at]] <= t[at]
            at = np.where(inner, np.where(go_left, left[at], right[at]), at)
        total += value[at]
    return total


class Reader:
    """Three scorers applied as rag.answering.extractive applies them, over pre-computed candidates."""

    def __init__(self, sentence: Scorer, rerank: Scorer | None, gate: Scorer | None, similarity, top: int):
        self.sentence, self.rerank, self.gate, self.similarity, self.top = (
            sentence,
            rerank,
            gate,
            similarity,
            top,
        )

    def first(self, a: Asked) -> np.ndarray:
        return scores(self.sentence, matrix(a.x, self.sentence.features)) if a.x else np.zeros(0)

    def ranked(self, a: Asked) -> list[tuple[int, float]]:
        """(candidate index, probability), best first: the top few re-scored by the second stage."""
        z = self.first(a)
        order = sorted(range(len(z)), key=lambda i: -z[i])
        ps = {i: sigmoid(float(z[i])) for i in order}
        if self.rerank is None or not order:
            return [(i, ps[i]) for i in order]
        top = order[: self.top]
        sims = self.similarity(a.question, [a.text[i] for i in top])
        for i, c in zip(top, sims):
            a.x[i]["similarity"] = similarity_signal(c)  # as rag.answering.extractive.scored sets it
            ps[i] = self.rerank.probability({"logit": logit(ps[i]), "similarity": similarity_signal(c)})
        return sorted(((i, ps[i]) for i in top), key=lambda t: -t[1]) + [
            (i, ps[i]) for i in order[self.top :]
        ]

    def gate_row(self, a: Asked, ranked: list[tuple[int, float]]) -> dict[str, float]:
        i, p = ranked[0]
        return {**a.x[i], "logit": logit(p)}


def cached_similarity(similarity, memo: dict[tuple[str, str], float] | None = None):
    memo = {} if memo is None else memo

    def sim(question: str, sentences: Sequence[str]) -> list[float]:
        new = [s for s in sentences if (question, s) not in memo]
        if new:
            memo.update({(question, s): c for s, c in zip(new, similarity(question, new))})
        return [memo[(question, s)] for s in sentences]

    return sim


def fit_reader(family: str, train: list[Asked], similarity, top: int) -> Reader:
    from rag.answering.extractive import FEATURES, GATE_FEATURES, GATE_ONLY

    sent_features = [f for f in FEATURES if f not in GATE_ONLY]
    rows = [x for a in train for x in a.x]
    y = np.array([v for a in train for v in a.y])
    X = matrix(rows, sent_features)
    sentence = (
        fit_logistic(X, y, sent_features) if family == "logistic" else fit_trees(X, y, sent_features, TREES)
    )
    reader = Reader(sentence, None, None, similarity, top)
    # the second stage: logistic on (first-stage logit, similarity) of each question's likeliest few
    RX, Ry = [], []
    for a in train:
        z = reader.first(a)
        top_i = sorted(range(len(z)), key=lambda i: -z[i])[:top]
        for i, c in zip(top_i, similarity(a.question, [a.text[i] for i in top_i])):
            RX.append([float(z[i]), similarity_signal(c)])
            Ry.append(a.y[i])
    reader.rerank = fit_logistic(np.array(RX), np.array(Ry), ("logit", "similarity"))
    # the gate, on each question's best sentence: answerable (1) or not (0)
    gate_features = list(GATE_FEATURES)
    G, Gy = [], []
    for a in train:
        if a.x:
            G.append(reader.gate_row(a, reader.ranked(a)))
            Gy.append(float(a.answerable))
    GX = matrix(G, gate_features)
    reader.gate = (
        fit_logistic(GX, np.array(Gy), gate_features)
        if family == "logistic"
        else fit_trees(GX, np.array(Gy), gate_features, GATE_TREES)
    )
    return reader


@dataclass
class Judged:
    asked: Asked
    gate: float  # the gate's probability (0 with nothing retrieved)
    best_right: bool  # the best sentence holds a fact
    ranked: list[tuple[int, float]]


def judge(reader: Reader, questions: list[Asked]) -> list[Judged]:
    out = []
    for a in questions:
        ranked = reader.ranked(a)
        if not ranked:
            out.append(Judged(a, 0.0, False, ranked))
            continue
        g = reader.gate.probability(reader.gate_row(a, ranked)) if reader.gate else 1.0
        out.append(Judged(a, g, a.y[ranked[0][0]] > 0, ranked))
    return out


def at_bar(judged: list[Judged], bar: float) -> dict[str, dict[str, float]]:
    """Per set: answered right (best sentence holds a fact, gate passed), false not-found, rejected."""
    out = {}
    for name in sorted({j.asked.set for j in judged}):
        ans = [j for j in judged if j.asked.set == name and j.asked.answerable]
        una = [j for j in judged if j.asked.set == name and not j.asked.answerable]
        out[name] = {
            "best_right": sum(j.best_right for j in ans) / max(1, len(ans)),
            "answered_right": sum(j.best_right and j.gate >= bar for j in ans) / max(1, len(ans)),
            "false_not_found": sum(j.gate < bar for j in ans) / max(1, len(ans)),
            "rejected": sum(j.gate < bar for j in una) / max(1, len(una)),
            "answerable": len(ans),
            "unanswerable": len(una),
        }
    return out


def choose_bar(judged: list[Judged]) -> float:
    """The bar of the best mean balanced accuracy over sets whose false not-found stays in bounds."""
    best = (-1.0, 0.01)  # (no bar keeps false not-found in bounds: the lowest, which answers most)
    for bar in np.arange(0.01, 0.96, 0.01):
        figs = at_bar(judged, float(bar))
        if max(f["false_not_found"] for f in figs.values()) > MAX_FALSE_NOT_FOUND:
            continue
        score = float(np.mean([(f["answered_right"] + f["rejected"]) / 2 for f in figs.values()]))
        if score > best[0] + 1e-9:
            best = (score, round(float(bar), 2))
    return best[1]


def choose_list_ratio(judged: list[Judged], bar: float) -> float:
    """The share of the best item's probability a list's further item needs (dev sentence F1)."""
    groups = [
        [(p, j.asked.y[i]) for i, p in j.ranked]
        for j in judged
        if j.asked.answerable and j.asked.is_set and j.gate >= bar and j.ranked
    ]

    def f1(t: float) -> float:
        tp = fp = fn = 0
        for g in groups:
            for p, yy in g[1:]:
                if p >= g[0][0] * t:
                    tp += yy > 0
                    fp += yy == 0
                else:
                    fn += yy > 0
        return 2 * tp / max(1e-9, 2 * tp + fn + fp)

    return round(float(max(np.arange(0.5, 1.0, 0.01), key=f1)), 2)


def data_hash(asked: Sequence[str]) -> str:
    """The train file and the ids of the questions fitted on (as asked)."""
    h = hashlib.sha256(TRAIN_QUESTIONS.read_bytes())
    for qid in sorted(asked):
        h.update(qid.encode())
    return h.hexdigest()[:12]


def item_of(a: Asked) -> str:
    """The item a question belongs to: a CRUD-RAG item's questions (and their English wordings)
    share its id and its posts; any other question is its own."""
    base = a.id.split("/")[0]
    item = re.search(r"\b[0-9a-f]{24}\b", base)
    return item.group(0) if item else base


def out_of_fold(family: str, train: list[Asked], dev: list[Asked], similarity, top: int) -> list[Judged]:
    """Dev judged fold by fold, each by a fit on train and the other folds (folds by item hash)."""
    fold = {a.id: int(hashlib.sha256(item_of(a).encode()).hexdigest(), 16) % FOLDS for a in dev}
    out: list[Judged] = []
    for k in range(FOLDS):
        reader = fit_reader(family, train + [a for a in dev if fold[a.id] != k], similarity, top)
        out += judge(reader, [a for a in dev if fold[a.id] == k])
    return out


def main(argv: Sequence[str] | None = None) -> None:
    from rag.config import load_settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", choices=FAMILIES, action="append", help="the families to fit (default: both)")
    ap.add_argument("--fraction", type=float, default=1.0, help="share of the train items to fit on")
    ap.add_argument("--compare", help="a model file to report dev figures for, beside the fits")
    ap.add_argument(
        "--examples",
        help="a file keeping the asked questions between runs (for trying choices; delete it when the code changes)",
    )
    ap.add_argument(
        "--train-only",
        action="store_true",
        help="fit on train alone (default: train and dev, chosen out of fold)",
    )
    ap.add_argument(
        "--out", type=Path, help="where to write the reader (default: the profile's file in rag/data)"
    )
    ap.add_argument(
        "--sets", default=",".join(SETS), help="the dev sets asked (comma-separated; english is on request)"
    )
    ap.add_argument("--rerank-top", type=int, default=RERANK_TOP, help="sentences the second stage re-scores")
    ap.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    ap.add_argument("-k", type=int, default=load_settings().top_k, help="paragraphs retrieved per question")
    args = ap.parse_args(argv)
    families = args.family or list(FAMILIES)

    items = load_train()
    if args.fraction < 1.0:  # whole items, chosen by a hash of the item id (a fixed order)
        keyed = sorted(
            {it.extra["item"] for it in items}, key=lambda s: hashlib.sha256(s.encode()).hexdigest()
        )
        kept = set(keyed[: round(len(keyed) * args.fraction)])
        items = [it for it in items if it.extra["item"] in kept]
    sets = tuple(args.sets.split(","))
    dev_items = [it for name, its in load_sets(sets).items() for it in its if it.split == "dev"]
    print(f"train: {len(items)} questions; dev: {len(dev_items)} questions")
    from rag.answering.extractive import embedding_similarity, load_model
    from rag.store.embeddings import make_embedder

    if args.examples and Path(args.examples).exists():  # the questions as asked by an earlier run
        import pickle

        train, dev = pickle.loads(Path(args.examples).read_bytes())
        wanted = {it.id for it in items}
        train = [a for a in train if a.id.split("/")[0] in wanted]
        dev = [a for a in dev if a.set in sets]
    else:
        train = ask_all(train_home(), items, args.k)
        dev = ask_all(corpus_home(), dev_items, args.k)
        if args.examples:
            import pickle

            Path(args.examples).write_bytes(pickle.dumps((train, dev)))
    # the second stage reads the profile's embedder (the light profile's is the bundled e5)
    embedder = make_embedder(load_settings())
    out_file = args.out or profile_file(embedder.name)
    memo: dict[tuple[str, str], float] = {}
    sims_file = Path(f"{args.examples}.sims") if args.examples else None
    if sims_file and sims_file.exists():
        import pickle

        memo = pickle.loads(sims_file.read_bytes())
    similarity = cached_similarity(embedding_similarity(embedder), memo)
    if args.compare:  # a shipped model file, read as the package reads it (dev figures at its own bars)
        old = load_model(Path(args.compare))
        reader = Reader(old.sentence, old.rerank, old.gate, similarity, old.rerank_top)
        figs = at_bar(judge(reader, dev), old.answer_bar)
        print(f"\n{args.compare}: answer bar {old.answer_bar}")
        for name, f in figs.items():
            print(
                f"  {name:6} "
                + "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in f.items())
            )

    results = {}
    for family in families:
        if args.train_only:  # dev was never fitted on: its figures judge the fit as it stands
            reader = fit_reader(family, train, similarity, args.rerank_top)
            judged = judge(reader, dev)
            how = "dev, never fitted on"
        else:  # each dev question judged by a fit that never saw its item; the file's fit sees all
            judged = out_of_fold(family, train, dev, similarity, args.rerank_top)
            reader = fit_reader(family, train + dev, similarity, args.rerank_top)
            how = f"dev, out of fold ({FOLDS} folds by item)"
        bar = choose_bar(judged)
        ratio = choose_list_ratio(judged, bar)
        figs = at_bar(judged, bar)
        results[family] = (reader, bar, ratio, figs)
        print(f"\n{family}: answer bar {bar}, list ratio {ratio}  ({how}; in-sample for the bars)")
        for name, f in figs.items():
            print(
                f"  {name:6} best sentence right {f['best_right']:.3f}  answered right {f['answered_right']:.3f}"
                f"  false not-found {f['false_not_found']:.3f}  rejected {f['rejected']:.3f}"
                f"  ({f['answerable']} answerable, {f['unanswerable']} not)"
            )
    score = {
        fam: float(np.mean([(f["answered_right"] + f["rejected"]) / 2 for f in r[3].values()]))
        for fam, r in results.items()
    }
    if sims_file:
        import pickle

        sims_file.write_bytes(pickle.dumps(memo))
    winner = max(score, key=lambda fam: (score[fam], fam == "logistic"))  # a tie goes to the simpler
    print(f"\nchosen on dev: {winner} ({', '.join(f'{f} {s:.3f}' for f, s in score.items())})")
    if args.dry_run:
        return
    reader, bar, ratio, figs = results[winner]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    fitted = train if args.train_only else train + dev
    n_pos = int(sum(sum(a.y) for a in fitted))
    also = "" if args.train_only else f" and the dev split ({len(dev_items)} questions of {', '.join(sets)})"
    chosen = "on dev" if args.train_only else f"on dev out of fold ({FOLDS} folds by item)"
    out = {
        "source": (
            f"scripts/train.py on {dt.date.today().isoformat()} at commit {commit}: fitted on the train split "
            f"({len(items)} questions of {len({it.extra['item'] for it in items})} items){also}, data "
            f"{data_hash([a.id for a in fitted])}; {sum(len(a.x) for a in fitted)} sentences, {n_pos} holding "
            f"the answer; k = {args.k}; family and bars chosen {chosen}"
        ),
        "family": winner,
        "dev": {
            name: {k: round(v, 3) if isinstance(v, float) else v for k, v in f.items()}
            for name, f in figs.items()
        },
        "answer_bar": bar,
        "list_ratio": ratio,
        "sentence": to_json(reader.sentence),
        "rerank": to_json(reader.rerank),
        "rerank_embedder": embedder.name,
        "rerank_top": args.rerank_top,
        "gate": to_json(reader.gate),
    }
    out_file.write_text(
        json.dumps(out, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"wrote {out_file}")


if __name__ == "__main__":
    main()
