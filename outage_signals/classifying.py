"""Relevance: does a post report a problem with the service it is counted for?

The model is a scikit-learn :class:`~sklearn.pipeline.Pipeline` over *masked* text: the
target service's names become ``__svc__`` and other services' names ``__other__``
(:meth:`Catalog.mask`), so "Discord is down so I'm on ChatGPT" reads as
"__other__ is down so I'm on __svc__" for chatgpt (not a report) and the reverse for discord (a
report), and what is learnt transfers to services the corpus never named. Features are hashed
word 1–2-grams, character 3–5-grams and the words around the service's name
(:class:`~outage_signals.text_features.HashedTextFeatures`); the classifier blends two
linear support-vector machines (one on columns weighted by how well they separated the classes
in training) and complement naive Bayes into one weight vector
(:class:`~outage_signals.feature_weights.LinearBlend`), whose scores become probabilities by
Platt scaling fitted on predictions for services the fit never saw; the decision threshold is
the one that maximises F1 on out-of-fold calibrated predictions, again grouped by service.

The bundled model ``data/relevance-model.skops`` is built from the corpus in ``data/corpus``
(written for this project; see ``docs/labeling.md``) by ``outage-signals train`` and read with
skops, which refuses any type not on :data:`TRUSTED_TYPES` (no pickle from files).
"""

from __future__ import annotations

import hashlib
import json
import platform
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from outage_signals import __version__
from outage_signals.catalog import Catalog, services_for
from outage_signals.errors import InputError
from outage_signals.feature_weights import LinearBlend
from outage_signals.records import Post
from outage_signals.text_features import HashedTextFeatures

#: File name of the bundled model inside the package's ``data`` directory.
BUNDLED_MODEL = "relevance-model.skops"
#: Folds of the service-grouped cross-validation (calibration and threshold choice).
FOLDS = 5
#: The only types a model file may contain; anything else is refused at load.
TRUSTED_TYPES = [
    "outage_signals.text_features.HashedTextFeatures",
    "outage_signals.feature_weights.LinearBlend",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.pipeline.Pipeline",
    "sklearn.model_selection._split.GroupKFold",
    "builtins.slice",
]


def build_pipeline(splits: Sequence | None = None, c: float = 0.5) -> Pipeline:
    """The untrained relevance pipeline: masked text in, calibrated P(relevant) out.

    ``splits``: the (train, test) index pairs the calibration predicts out of fold (grouped
    by service, so the calibration sees the model on services it was not fitted on).
    """
    # The label-dependent column weights are refitted inside each calibration fold, so the
    # Platt scaling sees scores of posts whose labels the weights never saw.
    model = LinearBlend(C=c)
    calibrated = CalibratedClassifierCV(model, method="sigmoid", ensemble=False,
                                        cv=list(splits) if splits is not None else 3)
    return Pipeline([("features", HashedTextFeatures()), ("model", calibrated)])


@dataclass
class LabeledExample:
    """One training or evaluation example: text, the service it is judged for, 0/1 label."""

    text: str
    service: str
    label: int
    kind: str | None = None
    lang: str | None = None


def corpus_files() -> list[Path]:
    """The bundled corpus's JSON Lines files (``data/corpus`` of the source tree), sorted."""
    try:
        root = resources.files("outage_signals.corpus")
        files = sorted((Path(str(f)) for f in root.iterdir() if f.name.endswith(".jsonl")),
                       key=lambda f: f.name)
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        files = []
    if not files:
        raise InputError("the bundled corpus (data/corpus/*.jsonl) is not installed; "
                         "reinstall outage-signals or pass labelled files")
    return files


def load_labeled(path: str | Path | None = None) -> list[LabeledExample]:
    """Labelled examples from a JSON Lines file or a directory of them (default: the
    bundled corpus).

    Each line needs ``text``, ``service`` and ``label`` (0 or 1); ``kind`` and ``lang`` are
    optional, other fields are ignored. A bad line raises :class:`InputError` naming file and
    line.
    """
    if path is None:
        files = corpus_files()
    else:
        path = Path(path)
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    examples = []
    for name in files:
        try:
            lines = Path(name).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"{name}: cannot read: {exc.strerror}") from None
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
        raise InputError(f"{path or 'the bundled corpus'}: no labelled examples")
    return examples


@dataclass
class RelevanceModel:
    """A fitted pipeline plus the threshold and facts about its training.

    ``threshold``: calibrated P(relevant) at or above which a post counts as relevant.
    ``info``: library versions, training-data hash and size, cross-validated metrics.
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

    def save(self, path: str | Path) -> None:
        """Write the model with skops (pipeline, threshold, info), atomically."""
        import skops.io

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        skops.io.dump({"pipeline": self.pipeline, "threshold": self.threshold,
                       "info": json.dumps(self.info, sort_keys=True)},
                      tmp, compression=zipfile.ZIP_DEFLATED)
        tmp.replace(path)


def load_model(path: str | Path, catalog: Catalog) -> RelevanceModel:
    """Read a model written by :meth:`RelevanceModel.save`; only :data:`TRUSTED_TYPES` load."""
    import skops.io

    try:
        unknown = [t for t in skops.io.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
        if unknown:
            raise InputError(f"{path}: refusing to load a model with unexpected types: "
                             + ", ".join(unknown))
        state = skops.io.load(path, trusted=TRUSTED_TYPES)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such model file") from None
    except Exception as exc:  # skops raises many kinds on a damaged or foreign file
        raise InputError(f"{path}: not a relevance model ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or "pipeline" not in state:
        raise InputError(f"{path}: not a relevance model written by `outage-signals train`")
    return RelevanceModel(pipeline=state["pipeline"], catalog=catalog,
                          threshold=float(state["threshold"]), info=json.loads(state["info"]))


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


def data_hash(examples: Sequence[LabeledExample]) -> str:
    """SHA-256 (first 16 hex digits) of the examples' label, service, kind, lang and text."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(f"{e.label}\t{e.service}\t{e.kind}\t{e.lang}\t{e.text}\n".encode())
    return digest.hexdigest()[:16]


def _grouped_splits(groups: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    n = min(folds, len(set(groups.tolist())))
    return list(GroupKFold(n_splits=n).split(np.zeros(len(groups)), groups=groups))


def fit(examples: Sequence[LabeledExample], catalog: Catalog, folds: int = FOLDS,
        progress=None) -> RelevanceModel:
    """Train on ``examples``: calibrated pipeline, threshold and metrics, all grouped by service.

    ``other_service`` examples are mirrored first (:func:`mirror_other_service`). The threshold
    maximises F1 over out-of-fold calibrated probabilities: each fold's pipeline (with its own
    grouped calibration) predicts services it never saw. Deterministic for the same examples.
    """
    say = progress or (lambda _: None)
    examples = mirror_other_service(examples, catalog)
    texts = [catalog.mask(e.text, e.service) for e in examples]
    y = np.array([e.label for e in examples])
    groups = np.array([e.service for e in examples])
    if len(set(groups.tolist())) < 3 or len(set(y.tolist())) < 2:
        raise InputError("training needs both labels and at least 3 services")
    oof = np.zeros(len(examples))
    outer = _grouped_splits(groups, folds)
    for n, (train, test) in enumerate(outer, 1):
        say(f"fold {n}/{len(outer)}: fitting on {len(train):,} examples, "
            f"predicting {len(test):,} of unseen services")
        inner = _grouped_splits(groups[train], folds)
        pipe = build_pipeline(inner).fit([texts[i] for i in train], y[train])
        oof[test] = pipe.predict_proba([texts[i] for i in test])[:, 1]
    candidates = np.round(np.arange(0.05, 0.951, 0.01), 2)
    f1s = [f1_score(y, oof >= t) for t in candidates]
    threshold = float(candidates[int(np.argmax(f1s))])
    say(f"final fit on {len(examples):,} examples (threshold {threshold:.2f})")
    pipeline = build_pipeline(_grouped_splits(groups, folds)).fit(texts, y)
    info = {
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "examples": len(examples), "positives": int(y.sum()), "services": len(set(groups.tolist())),
        "data_sha256": data_hash(examples), "threshold": threshold,
        "grouped_cv": {"folds": len(outer), "f1": round(float(max(f1s)), 4),
                       "precision": round(float(precision_score(y, oof >= threshold)), 4),
                       "recall": round(float(recall_score(y, oof >= threshold)), 4),
                       "pr_auc": round(float(average_precision_score(y, oof)), 4)},
        "versions": {"outage_signals": __version__, "scikit-learn": sklearn.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
    }
    return RelevanceModel(pipeline=pipeline, catalog=catalog, threshold=threshold, info=info)


_DEFAULT_MODELS: dict[tuple, RelevanceModel] = {}


def bundled_model_path() -> Path:
    """Where the bundled model file lives (inside the installed package)."""
    return Path(str(resources.files("outage_signals") / "data" / BUNDLED_MODEL))


def default_model(catalog: Catalog) -> RelevanceModel:
    """The bundled model, loaded once per process and catalog content."""
    key = tuple(sorted(catalog.services.items()))
    if key not in _DEFAULT_MODELS:
        path = bundled_model_path()
        if not path.exists():
            raise InputError(f"the bundled model {path} is missing; build it with "
                             "`outage-signals train -o outage_signals/data/relevance-model.skops`")
        _DEFAULT_MODELS[key] = load_model(path, catalog)
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
