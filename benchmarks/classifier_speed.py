"""Speed benchmark of the relevance classifier: short posts classified per second, one core.

Rerun from the repository root::

    /work/venv/bin/python benchmarks/classifier_speed.py [--posts 50000] [--repeat 5] [--json]

The posts are the bundled sample streams (``data/samples/*.jsonl.gz``: simulated posts of
varied wording, 30 to 200 characters) cycled to ``--posts``, each with a unique tail
(`` #n``) so no two texts are equal and every run meets unseen tokens, as a live stream does.
Timed: :meth:`RelevanceModel.predict_proba` on the whole batch with the bundled model, i.e.
masking service names, hashing word and character n-grams, TF-IDF weighting, the logistic
regression and its calibration; the figure is the median of ``--repeat`` runs, each with a
fresh token cache. For comparison the same batch goes through the naive
``FeatureUnion`` of two scikit-learn ``TfidfVectorizer`` (word 1–2-grams, ``char_wb``
2–5-grams) with a logistic regression, fitted on the bundled corpus. Target: >= 25,000 posts
per second. Single process; threads of numerical libraries are pinned to one.
"""

from __future__ import annotations

import argparse
import json
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from machine import describe, one_line  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import FeatureUnion, Pipeline  # noqa: E402

from outage_signals import classifying  # noqa: E402
from outage_signals.catalog import load_catalog  # noqa: E402
from outage_signals.jsonl import read_posts  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
TARGET = 25_000


def batch(n: int) -> tuple[list[str], list[str]]:
    """``n`` (text, service) pairs from the sample streams, each text made unique."""
    posts = [p for f in sorted(SAMPLES.glob("*.jsonl.gz")) for p in read_posts(str(f))]
    pairs = [(p.text, p.service or "chatgpt") for p in posts]
    texts = [f"{pairs[i % len(pairs)][0]} #{i}" for i in range(n)]
    return texts, [pairs[i % len(pairs)][1] for i in range(n)]


def timed(func, repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    catalog = load_catalog()
    model = classifying.default_model(catalog)
    texts, services = batch(args.posts)

    def ours():
        model.pipeline.named_steps["features"].__dict__.pop("_cache", None)
        model.predict_proba(texts, services)

    ours_s = timed(ours, args.repeat)
    examples = classifying.load_labeled()
    naive = Pipeline([
        ("features", FeatureUnion([
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ])),
        ("model", LogisticRegression(max_iter=2000)),
    ]).fit([catalog.mask(e.text, e.service) for e in examples], [e.label for e in examples])
    naive_s = timed(lambda: naive.predict_proba(
        [catalog.mask(t, s) for t, s in zip(texts, services, strict=True)]), max(1, args.repeat // 2))
    result = {"posts": args.posts, "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
              "ours_posts_per_s": round(args.posts / ours_s),
              "naive_posts_per_s": round(args.posts / naive_s), "target": TARGET,
              "machine": one_line(describe())}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.posts:,} posts (mean {result['mean_chars']} characters), one core")
        print(f"bundled model      {result['ours_posts_per_s']:>8,} posts/s  (target {TARGET:,})")
        print(f"naive FeatureUnion {result['naive_posts_per_s']:>8,} posts/s")
        print(f"machine: {result['machine']}")
    return 0 if result["ours_posts_per_s"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
