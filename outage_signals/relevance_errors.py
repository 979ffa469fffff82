"""Error analysis of the relevance classifier: every example scored, the mistakes ranked, and
how precision and recall trade off against the threshold.

:mod:`outage_signals.relevance_report` gives the headline figures; this module gives the rows
behind them, for a notebook or a spreadsheet. :func:`scored_examples` scores labelled examples
(the corpus format); :func:`scored_posts` scores post records that carry a true ``label`` (as
``outage-signals simulate --labels`` writes them), a post without ``service`` taking the
highest relevance over the services its text names, as ``classify`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from outage_signals import classifying
from outage_signals.records import Post

#: Columns of the frames returned by :func:`scored_examples` and :func:`scored_posts`.
COLUMNS = ("text", "service", "lang", "kind", "label", "probability", "predicted", "outcome")


def _frame(records: list[tuple], threshold: float) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS[:6]))
    frame["predicted"] = (frame["probability"] >= threshold).astype(int)
    outcome = np.select(
        [(frame["label"] == 1) & (frame["predicted"] == 1), (frame["label"] == 0) & (frame["predicted"] == 1),
         (frame["label"] == 1) & (frame["predicted"] == 0)], ["tp", "fp", "fn"], default="tn")
    frame["outcome"] = pd.Categorical(outcome, categories=["tp", "fp", "fn", "tn"])
    return frame


def scored_examples(examples: Sequence[classifying.LabeledExample],
                    model: classifying.RelevanceModel) -> pd.DataFrame:
    """One row per example with the model's ``probability`` (0–1), ``predicted`` (0/1 at the
    model's threshold) and ``outcome`` (``tp``, ``fp``, ``fn``, ``tn``); see :data:`COLUMNS`."""
    probability = model.predict_proba([e.text for e in examples], [e.service for e in examples])
    records = [(e.text, e.service, e.lang, e.kind, int(e.label), float(p))
               for e, p in zip(examples, probability, strict=True)]
    return _frame(records, model.threshold)


def scored_posts(posts: Sequence[Post], model: classifying.RelevanceModel) -> pd.DataFrame:
    """Like :func:`scored_examples` for posts with a true ``label`` (and optional ``kind``).

    ``service`` is the post's own, else the best-scoring service its text names, else
    ``None`` (probability 0: the post names no catalog service). Posts without a label are
    left out.
    """
    best: dict[int, tuple[str, float]] = {}
    for post, service, prob in classifying.score_posts(posts, model):
        if id(post) not in best or prob > best[id(post)][1]:
            best[id(post)] = (service, prob)
    records = []
    for post in posts:
        label = post.extra.get("label")
        if label not in (0, 1, True, False):
            continue
        service, prob = best.get(id(post), (post.service, 0.0))
        records.append((post.text, service, post.lang, post.extra.get("kind"), int(label), prob))
    return _frame(records, model.threshold)


def mistakes(frame: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` most confident mistakes of each kind: false positives with the highest
    probability, then false negatives with the lowest."""
    fp = frame[frame["outcome"] == "fp"].sort_values("probability", ascending=False).head(n)
    fn = frame[frame["outcome"] == "fn"].sort_values("probability").head(n)
    return pd.concat([fp, fn])


def error_rates(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per value of column ``by``: ``n``, ``reports`` (label 1), ``fp``, ``fn``, ``errors``,
    ``error_rate`` (share wrong), ``precision`` and ``recall`` (NaN where undefined); most
    errors first (where fixing would help most), then highest error rate."""
    def one(group: pd.DataFrame) -> pd.Series:
        counts = group["outcome"].value_counts()
        tp, fp, fn = (int(counts.get(k, 0)) for k in ("tp", "fp", "fn"))
        return pd.Series({"n": len(group), "reports": int(group["label"].sum()), "fp": fp, "fn": fn,
                          "errors": fp + fn, "error_rate": (fp + fn) / len(group),
                          "precision": tp / (tp + fp) if tp + fp else np.nan,
                          "recall": tp / (tp + fn) if tp + fn else np.nan})

    keys = frame[by].fillna("unknown")
    table = pd.DataFrame({key: one(group) for key, group in frame.groupby(keys, sort=False)}).T
    table.index.name = by
    for column in ("n", "reports", "fp", "fn", "errors"):
        table[column] = table[column].astype(int)
    return table.sort_values(["errors", "error_rate"], ascending=[False, False], kind="stable")


def threshold_table(frame: pd.DataFrame,
                    thresholds: Sequence[float] = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2))
                    ) -> pd.DataFrame:
    """Precision, recall, F1 and the share flagged at each threshold on ``probability``."""
    y = frame["label"].to_numpy()
    p = frame["probability"].to_numpy()
    rows = []
    for t in thresholds:
        flagged = p >= t
        tp = int((flagged & (y == 1)).sum())
        precision = tp / flagged.sum() if flagged.any() else np.nan
        recall = tp / (y == 1).sum() if (y == 1).any() else np.nan
        f1 = (2 * precision * recall / (precision + recall)
              if precision and recall and not np.isnan(precision + recall) else np.nan)
        rows.append({"threshold": float(t), "precision": precision, "recall": recall, "f1": f1,
                     "flagged": float(flagged.mean())})
    return pd.DataFrame(rows).set_index("threshold")
