"""How good is the relevance classifier? Figures on a labelled test set, and a keyword baseline.

:func:`build_report` scores P(relevant) against 0/1 labels and returns a JSON-ready dict;
:func:`render_report` turns that dict into a fixed-width plain-text report for the terminal.
:func:`keyword_rule` is the baseline a naive tool would use (flag any post with an outage word),
so the report can show what the model adds.

A post is *flagged* when its probability is at or above the threshold (as in
:func:`outage_signals.classifying.annotate`). A *report* is an example labelled 1. The figures:

``precision``
    Of the flagged posts, the share that are reports: TP / (TP + FP).
``recall``
    Of the reports, the share flagged: TP / (TP + FN).
``f1``
    Harmonic mean of precision and recall: 2·TP / (2·TP + FP + FN). It is 0 when there are
    reports but none is flagged (precision is then undefined).
``pr_auc``
    Area under the precision–recall curve, as scikit-learn's ``average_precision_score``: the
    precision averaged over every threshold, weighted by the recall gained. It does not depend on
    the chosen threshold; for the 0/1 baseline it is ``recall·precision + (1 − recall)·base rate``.
``accuracy``
    Share of posts judged right: (TP + TN) / n.
``false_positive_rate``
    Of the posts that are not reports, the share wrongly flagged: FP / (FP + TN).

A figure that is undefined or says nothing for a group is ``None``: ``recall`` needs reports,
``false_positive_rate`` needs non-reports, and ``precision``, ``f1`` and ``pr_auc`` need both
(in a group of reports only, precision is 1 by construction; in a group of non-reports only,
the share wrongly flagged is the figure that matters).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from outage_signals.catalog import CATEGORIES

#: Outage keywords of the baseline rule by language. Japanese ones match anywhere in the text,
#: the others only as whole words or phrases.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "en": ("down", "outage", "outages", "not working", "isn't working", "isnt working",
           "doesn't work", "doesnt work", "error", "errors", "crash", "crashed", "crashing",
           "can't log in", "cant log in", "can't login", "cant login", "can't sign in",
           "cant sign in", "problem", "problems", "issue", "issues", "broken", "offline",
           "not loading"),
    "es": ("caído", "caido", "caída", "caida", "se cayó", "se cayo", "no funciona", "no carga",
           "error", "falla"),
    "pt": ("caiu", "fora do ar", "não funciona", "nao funciona", "erro"),
    "de": ("störung", "geht nicht", "funktioniert nicht", "ausfall", "fehler", "down"),
    "fr": ("panne", "ne marche pas", "marche pas", "ne marche plus", "bug", "hs"),
    "it": ("non funziona", "giù", "disservizio", "errore"),
    "nl": ("storing", "werkt niet", "ligt eruit", "plat"),
    "ja": ("落ち", "繋がらない", "つながらない", "障害", "エラー", "ログインできない"),
}

# Languages written without spaces between words: their keywords match as substrings.
_UNBOUNDED_LANGS = frozenset({"ja"})
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})


def _alternation(keywords: Sequence[str]) -> str:
    # Any run of whitespace may separate the words of a phrase.
    phrases = (r"\s+".join(re.escape(word) for word in kw.split()) for kw in keywords)
    return "|".join(sorted(dict.fromkeys(phrases), key=len, reverse=True))


def _keyword_pattern() -> re.Pattern[str]:
    bounded = [kw for lang, kws in KEYWORDS.items() if lang not in _UNBOUNDED_LANGS for kw in kws]
    unbounded = [kw for lang in _UNBOUNDED_LANGS for kw in KEYWORDS[lang]]
    return re.compile(rf"(?<!\w)(?:{_alternation(bounded)})(?!\w)|{_alternation(unbounded)}",
                      re.IGNORECASE)


_KEYWORD_RE = _keyword_pattern()


def keyword_rule(texts: Sequence[str]) -> np.ndarray:
    """The keyword baseline: 1 for each text containing an outage keyword, else 0; shape ``(n,)``.

    This is what a naive tool does: it ignores which service is meant and whether the post
    reports a current problem ("calm down", "I'm down for pizza" and "Discord is down so I'm on
    ChatGPT" are all flagged). Matching is case-insensitive; curly apostrophes count as
    straight ones; the words of a phrase may be separated by any whitespace. Keywords in
    Latin script match only as whole words, so "download", "countdown" and "terror" do not
    match "down" or "error" (a fair baseline, not a straw man); Japanese ones match anywhere.

    The keywords, in the 8 languages of the labelled corpus:

    - en: down, outage, outages, not working, isn't working, isnt working, doesn't work,
      doesnt work, error, errors, crash, crashed, crashing, can't log in, cant log in,
      can't login, cant login, can't sign in, cant sign in, problem, problems, issue, issues,
      broken, offline, not loading
    - es: caído, caido, caída, caida, se cayó, se cayo, no funciona, no carga, error, falla
    - pt: caiu, fora do ar, não funciona, nao funciona, erro
    - de: störung, geht nicht, funktioniert nicht, ausfall, fehler, down
    - fr: panne, ne marche pas, marche pas, ne marche plus, bug, hs
    - it: non funziona, giù, disservizio, errore
    - nl: storing, werkt niet, ligt eruit, plat
    - ja: 落ち, 繋がらない, つながらない, 障害, エラー, ログインできない

    (:data:`KEYWORDS` holds the same lists.)
    """
    return np.array([int(_KEYWORD_RE.search(t.translate(_APOSTROPHES)) is not None) for t in texts],
                    dtype=np.int64)


# ---- figures ----------------------------------------------------------------------------------

def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _figures(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Counts and threshold figures of 0/1 predictions ``pred`` against labels ``y``."""
    tp = int(np.sum((y == 1) & (pred == 1)))
    fp = int(np.sum((y == 0) & (pred == 1)))
    fn = int(np.sum((y == 1) & (pred == 0)))
    tn = int(np.sum((y == 0) & (pred == 0)))
    positives, negatives = tp + fn, fp + tn
    both = positives > 0 and negatives > 0
    return {
        "n": positives + negatives,
        "positives": positives,
        "precision": _ratio(tp, tp + fp) if both else None,
        "recall": _ratio(tp, positives),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn) if both else None,
        "accuracy": _ratio(tp + tn, positives + negatives),
        "false_positive_rate": _ratio(fp, negatives),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }


def _pr_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    if y.min() == y.max():
        return None
    return float(average_precision_score(y, score))


def _labels(name: str, values: Sequence[Any], n: int) -> np.ndarray:
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries but y_true has {n}; "
                         "give one per example")
    arr = np.asarray(values)
    if arr.ndim != 1 or not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must be a flat sequence of 0/1 labels")
    return arr.astype(np.int64)


def _groups(name: str, values: Sequence[str | None], n: int) -> list[str]:
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries but y_true has {n}; "
                         "give one per example")
    return ["unknown" if v is None else str(v) for v in values]


def _by_group(keys: list[str], y: np.ndarray, pred: np.ndarray) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    idx = np.array(keys, dtype=object)
    for key in dict.fromkeys(keys):
        mask = idx == key
        figures = _figures(y[mask], pred[mask])
        del figures["confusion"]
        out[key] = figures
    return out


def _kind_label(group: dict[str, Any]) -> int | None:
    """1 for a kind of reports only, 0 for non-reports only, ``None`` when mixed."""
    if group["positives"] == group["n"]:
        return 1
    return 0 if group["positives"] == 0 else None


def _kind_order(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
    # Reports first, then mixed kinds, then non-reports; by name within each.
    return ({1: 0, None: 1, 0: 2}[item[1]["label"]], item[0])


def build_report(y_true: Sequence[int], probability: Sequence[float], threshold: float, *,
                 langs: Sequence[str | None], kinds: Sequence[str | None],
                 categories: Sequence[str | None],
                 baseline_pred: Sequence[int] | None = None) -> dict[str, Any]:
    """The quality report of a relevance classifier on a labelled test set, as a JSON-ready dict.

    ``y_true``: 0/1 labels; ``probability``: the model's P(relevant) in [0, 1]; a post is
    flagged when ``probability >= threshold``. ``langs``, ``kinds`` and ``categories`` give each
    example's language code, example kind and service category (``None`` is grouped as
    ``"unknown"``). ``baseline_pred``: optional 0/1 predictions of a baseline, usually
    :func:`keyword_rule` of the texts. All sequences have one entry per example; a length
    mismatch, a label other than 0/1 or a probability outside [0, 1] raises ``ValueError``.

    Keys (figures as described in the module docstring; ``None`` where undefined):

    - ``n``, ``positives`` (reports), ``threshold``, ``precision``, ``recall``, ``f1``,
      ``pr_auc``, ``accuracy``, ``false_positive_rate``, ``confusion`` (``tp fp fn tn``);
    - ``baseline`` (only with ``baseline_pred``): ``precision``, ``recall``, ``f1``,
      ``pr_auc``, ``accuracy``, ``false_positive_rate``, ``confusion`` of the baseline;
    - ``by_lang``, ``by_category``, ``by_kind``: group name -> ``n``, ``positives``,
      ``precision``, ``recall``, ``f1``, ``accuracy``, ``false_positive_rate``. ``by_lang``
      entries add ``baseline_f1`` when a baseline is given; ``by_kind`` entries add ``label``
      (1: reports only, 0: non-reports only, ``None``: mixed). Languages are ordered by size,
      categories as in :data:`~outage_signals.catalog.CATEGORIES`, kinds reports first.
    """
    n = len(y_true)
    if n == 0:
        raise ValueError("no examples: y_true is empty")
    y = _labels("y_true", y_true, n)
    if len(probability) != n:
        raise ValueError(f"probability has {len(probability)} entries but y_true has {n}; "
                         "give one per example")
    prob = np.asarray(probability, dtype=float)
    if prob.ndim != 1 or not np.all((prob >= 0) & (prob <= 1)):
        raise ValueError("probability must be a flat sequence of numbers in [0, 1] (no NaN)")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    lang_keys = _groups("langs", langs, n)
    kind_keys = _groups("kinds", kinds, n)
    category_keys = _groups("categories", categories, n)
    base = None if baseline_pred is None else _labels("baseline_pred", baseline_pred, n)

    pred = (prob >= threshold).astype(np.int64)
    figures = _figures(y, pred)
    report: dict[str, Any] = {"n": figures.pop("n"), "positives": figures.pop("positives"),
                              "threshold": float(threshold)}
    report.update(figures)
    report["pr_auc"] = _pr_auc(y, prob)
    if base is not None:
        baseline = _figures(y, base)
        del baseline["n"], baseline["positives"]
        baseline["pr_auc"] = _pr_auc(y, base)
        report["baseline"] = baseline

    by_lang = _by_group(lang_keys, y, pred)
    if base is not None:
        for key, group in _by_group(lang_keys, y, base).items():
            by_lang[key]["baseline_f1"] = group["f1"]
    report["by_lang"] = dict(sorted(by_lang.items(), key=lambda kv: (-kv[1]["n"], kv[0])))

    rank = {c: i for i, c in enumerate(CATEGORIES)}
    by_category = _by_group(category_keys, y, pred)
    report["by_category"] = dict(sorted(by_category.items(),
                                        key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))

    by_kind = _by_group(kind_keys, y, pred)
    for group in by_kind.values():
        group["label"] = _kind_label(group)
    report["by_kind"] = dict(sorted(by_kind.items(), key=_kind_order))
    return report


# ---- rendering --------------------------------------------------------------------------------

def _num(value: float | None) -> str:
    """A figure to 3 decimals; ``-`` when undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}"


def _table(title: str, headers: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Lines of a table: names left-aligned under ``title``, cells right-aligned under headers."""
    name_width = max([len(title), *(len(name) for name, _ in rows)]) + 2
    widths = [max(len(h), 5) for h in headers]
    for _, cells in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, cells, strict=True)]

    def line(name: str, cells: Sequence[str]) -> str:
        return (name.ljust(name_width) + "  ".join(c.rjust(w) for c, w in zip(cells, widths,
                                                                              strict=True))).rstrip()

    return [line(title, headers), *(line(name, cells) for name, cells in rows), ""]


def _group_table(title: str, groups: dict[str, dict[str, Any]], baseline: bool) -> list[str]:
    headers = ["n", "reports", "precision", "recall", "F1"] + (["baseline F1"] if baseline else [])
    rows = []
    for name, g in groups.items():
        cells = [str(g["n"]), str(g["positives"]), _num(g["precision"]), _num(g["recall"]),
                 _num(g["f1"])]
        if baseline:
            cells.append(_num(g.get("baseline_f1")))
        rows.append((name, cells))
    return _table(title, headers, rows)


def render_report(report: dict[str, Any]) -> str:
    """A plain-text report of a :func:`build_report` dict (also after a JSON round trip).

    Sections: the headline (model and, if present, keyword baseline: precision, recall, F1,
    PR-AUC), the model's confusion table at its threshold, then tables by language, by service
    category and by example kind. Kinds of reports only show recall, kinds of non-reports only
    show the share wrongly flagged (false-positive rate), mixed kinds show all figures.
    Numbers have 3 decimals, ``-`` marks a figure that is undefined for the group.
    """
    lines = [f"Relevance classifier on {report['n']} labelled examples "
             f"({report['positives']} reports), threshold {report['threshold']:.3f}", ""]

    headline = [("model", report)]
    if report.get("baseline") is not None:
        headline.append(("keyword baseline", report["baseline"]))
    lines += _table("", ["precision", "recall", "F1", "PR-AUC"],
                    [(name, [_num(f["precision"]), _num(f["recall"]), _num(f["f1"]),
                             _num(f["pr_auc"])]) for name, f in headline])

    c = report["confusion"]
    lines += _table("model", ["flagged", "not flagged"],
                    [("report", [str(c["tp"]), str(c["fn"])]),
                     ("not a report", [str(c["fp"]), str(c["tn"])])])

    has_baseline = any("baseline_f1" in g for g in report["by_lang"].values())
    lines += _group_table("language", report["by_lang"], has_baseline)
    lines += _group_table("category", report["by_category"], baseline=False)

    kinds = sorted(report["by_kind"].items(), key=_kind_order)
    reports = [(k, g) for k, g in kinds if g["label"] == 1]
    mixed = {k: g for k, g in kinds if g["label"] is None}
    others = [(k, g) for k, g in kinds if g["label"] == 0]
    if reports:
        lines += _table("kind (reports)", ["n", "recall"],
                        [(k, [str(g["n"]), _num(g["recall"])]) for k, g in reports])
    if mixed:
        lines += _group_table("kind (mixed)", mixed, baseline=False)
    if others:
        lines += _table("kind (not reports)", ["n", "wrongly flagged"],
                        [(k, [str(g["n"]), _num(g["false_positive_rate"])]) for k, g in others])
    return "\n".join(lines).rstrip() + "\n"
