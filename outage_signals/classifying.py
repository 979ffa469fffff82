"""Relevance: does a post report a problem with the service it is counted for?

The model is a scikit-learn :class:`~sklearn.pipeline.Pipeline` over *masked* text: the
target service's names become ``__svc__`` and other services' names ``__other__``
(:meth:`Catalog.mask`), so "Discord is down so I'm on ChatGPT" reads as
"__other__ is down so I'm on __svc__" for chatgpt (not a report) and the reverse for discord (a
report). Features are word 1–2-grams and character 2–5-grams (within word boundaries, which
copes with typos and languages without spaces); the classifier is a logistic regression whose
decision threshold is chosen on out-of-fold predictions grouped by service, i.e. on services the
fold never trained on.

The default model is trained from the packaged labelled corpus ``data/labeled_posts.jsonl``
(written for this project) the first time it is needed in a process; training takes about a
second and is deterministic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from outage_signals.catalog import Catalog, services_for
from outage_signals.errors import InputError
from outage_signals.records import Post


def build_pipeline() -> Pipeline:
    """The untrained relevance pipeline: masked text in, P(relevant) out."""
    features = FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1,
                                  sublinear_tf=True, token_pattern=r"(?u)\b\w+\b|[?!¿¡]")),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                  sublinear_tf=True, max_features=60000)),
    ])
    model = LogisticRegression(C=8.0, class_weight="balanced", max_iter=2000)
    return Pipeline([("features", features), ("model", model)])


@dataclass
class LabeledExample:
    """One training or evaluation example: text, the service it is judged for, 0/1 label."""

    text: str
    service: str
    label: int
    kind: str | None = None
    lang: str | None = None


def load_labeled(path: str | None = None) -> list[LabeledExample]:
    """Labelled examples from a JSON Lines file (default: the packaged corpus).

    Each line needs ``text``, ``service`` and ``label`` (0 or 1); ``kind`` and ``lang`` are
    optional. A bad line raises :class:`InputError` naming file and line.
    """
    if path is None:
        ref = resources.files("outage_signals") / "data" / "labeled_posts.jsonl"
        lines = ref.read_text(encoding="utf-8").splitlines()
        name = "packaged labeled_posts.jsonl"
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
        name = path
    examples = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            label = obj["label"]
            if label not in (0, 1, True, False):
                raise ValueError("label must be 0 or 1")
            examples.append(LabeledExample(text=str(obj["text"]), service=str(obj["service"]),
                                           label=int(label), kind=obj.get("kind"),
                                           lang=obj.get("lang")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{name}:{lineno}: not a labelled example ({exc})") from None
    if not examples:
        raise InputError(f"{name}: no labelled examples")
    return examples


@dataclass
class RelevanceModel:
    """A fitted pipeline plus the threshold and facts about its training.

    ``threshold``: P(relevant) at or above which a post counts as relevant.
    ``info``: training-set size, data hash and cross-validated F1 at the threshold.
    """

    pipeline: Pipeline
    catalog: Catalog
    threshold: float = 0.5
    info: dict[str, Any] = field(default_factory=dict)

    def predict_proba(self, texts: Sequence[str], services: Sequence[str]) -> np.ndarray:
        """P(relevant) for each (text, service) pair, shape ``(n,)``."""
        if len(texts) == 0:
            return np.zeros(0)
        masked = [self.catalog.mask(t, s) for t, s in zip(texts, services, strict=True)]
        return self.pipeline.predict_proba(masked)[:, 1]


def mirror_other_service(examples: Sequence[LabeledExample],
                         catalog: Catalog) -> list[LabeledExample]:
    """Add the other side of each "``A`` is down so I'm on ``B``" example.

    Such a post, labelled 0 for ``B`` (kind ``other_service``), is a report about ``A``. Adding
    it as a positive for ``A`` teaches the model that the *position* of the masked names
    matters, not the phrase alone. Only posts naming exactly one other service are mirrored.
    """
    mirrored = list(examples)
    for e in examples:
        if e.kind != "other_service" or e.label != 0:
            continue
        others = [k for k in catalog.match(e.text) if k != e.service]
        if len(others) == 1:
            mirrored.append(LabeledExample(e.text, others[0], 1, "other_service_mirror", e.lang))
    return mirrored


def fit(examples: Sequence[LabeledExample], catalog: Catalog, folds: int = 4,
        seed: int = 0) -> RelevanceModel:
    """Train on ``examples``; choose the threshold on service-grouped out-of-fold predictions.

    ``other_service`` examples are mirrored first (:func:`mirror_other_service`).
    """
    examples = mirror_other_service(examples, catalog)
    texts = [catalog.mask(e.text, e.service) for e in examples]
    y = np.array([e.label for e in examples])
    groups = np.array([e.service for e in examples])
    oof = np.zeros(len(examples))
    n_groups = len(set(groups))
    if n_groups >= folds:
        for train, test in GroupKFold(n_splits=folds).split(texts, y, groups):
            pipe = build_pipeline().fit([texts[i] for i in train], y[train])
            oof[test] = pipe.predict_proba([texts[i] for i in test])[:, 1]
        candidates = np.linspace(0.2, 0.8, 61)
        scores = [f1_score(y, oof >= t) for t in candidates]
        threshold = round(float(candidates[int(np.argmax(scores))]), 3)
        cv_f1 = float(max(scores))
    else:
        threshold, cv_f1 = 0.5, float("nan")
    pipeline = build_pipeline().fit(texts, y)
    digest = hashlib.sha256("\n".join(f"{e.label}\t{e.service}\t{e.text}" for e in examples)
                            .encode()).hexdigest()[:16]
    info = {"examples": len(examples), "positives": int(y.sum()), "data_sha256": digest,
            "grouped_cv_f1": round(cv_f1, 4), "threshold": threshold}
    return RelevanceModel(pipeline=pipeline, catalog=catalog, threshold=threshold, info=info)


_DEFAULT_MODELS: dict[tuple, RelevanceModel] = {}


def default_model(catalog: Catalog) -> RelevanceModel:
    """The model trained on the packaged corpus, built once per process and catalog content."""
    key = tuple(sorted(catalog.services.items()))
    if key not in _DEFAULT_MODELS:
        _DEFAULT_MODELS[key] = fit(load_labeled(), catalog)
    return _DEFAULT_MODELS[key]


def score_posts(posts: Iterable[Post], model: RelevanceModel) -> list[tuple[Post, str, float]]:
    """``(post, service, P(relevant))`` for each service each post counts for.

    A post with ``service`` is scored for that service only; one without it is scored for every
    service its text names (see :func:`~outage_signals.catalog.services_for`). Posts that name
    no service produce no rows.
    """
    pairs = [(p, s) for p in posts for s in services_for(p.service, p.text, model.catalog)]
    probs = model.predict_proba([p.text for p, _ in pairs], [s for _, s in pairs])
    return [(p, s, float(pr)) for (p, s), pr in zip(pairs, probs, strict=True)]


def annotate(posts: Iterable[Post], model: RelevanceModel) -> list[Post]:
    """Add ``relevance`` (0–1) and ``relevant`` (bool at the model threshold) to each post.

    For posts without ``service``, ``relevance`` is the highest over the services the text
    names and ``services`` lists them; a post naming no service gets relevance 0.
    """
    posts = list(posts)
    best: dict[int, float] = {}
    named: dict[int, list[str]] = {}
    for post, service, prob in score_posts(posts, model):
        best[id(post)] = max(best.get(id(post), 0.0), prob)
        named.setdefault(id(post), []).append(service)
    for post in posts:
        prob = best.get(id(post), 0.0)
        post.extra["relevance"] = round(prob, 4)
        post.extra["relevant"] = bool(prob >= model.threshold)
        if post.service is None:
            post.extra["services"] = named.get(id(post), [])
    return posts
