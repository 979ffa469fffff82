"""The relevance quality report: figures checked by hand on a tiny test set, and its rendering."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

from outage_signals.relevance_report import KEYWORDS, build_report, keyword_rule, render_report

# Eight examples, threshold 0.5. Flagged: 0, 1, 3, 6. TP = 0, 1, 6; FN = 2; FP = 3; TN = 4, 5, 7.
Y = [1, 1, 1, 0, 0, 0, 1, 0]
PROB = [0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.7, 0.4]
LANGS = ["en", "es", "es", "en", "en", "ja", "ja", "en"]
KINDS = ["report", "report", "slow", "download", "download", "calm_down", "report", "calm_down"]
CATEGORIES = ["games", "ai", "ai", "ai", "ai", "games", "games", "games"]
# Baseline flags 0, 2, 3: TP = 0, 2; FP = 3; FN = 1, 6; TN = 4, 5, 7.
BASELINE = [1, 0, 1, 1, 0, 0, 0, 0]


@pytest.fixture
def report():
    return build_report(Y, PROB, 0.5, langs=LANGS, kinds=KINDS, categories=CATEGORIES,
                        baseline_pred=BASELINE)


def test_overall_figures(report):
    assert report["n"] == 8
    assert report["positives"] == 4
    assert report["threshold"] == 0.5
    assert report["confusion"] == {"tp": 3, "fp": 1, "fn": 1, "tn": 3}
    assert report["precision"] == pytest.approx(3 / 4)
    assert report["recall"] == pytest.approx(3 / 4)
    assert report["f1"] == pytest.approx(3 / 4)
    assert report["accuracy"] == pytest.approx(6 / 8)
    assert report["false_positive_rate"] == pytest.approx(1 / 4)
    # Ranked: 1 1 1 0 0 1 0 0 -> precision at each report 1, 1, 1, 4/6.
    assert report["pr_auc"] == pytest.approx((1 + 1 + 1 + 4 / 6) / 4)


def test_baseline_figures(report):
    base = report["baseline"]
    assert base["confusion"] == {"tp": 2, "fp": 1, "fn": 2, "tn": 3}
    assert base["precision"] == pytest.approx(2 / 3)
    assert base["recall"] == pytest.approx(1 / 2)
    assert base["f1"] == pytest.approx(4 / 7)
    # A 0/1 score: recall·precision + (1 - recall)·base rate.
    assert base["pr_auc"] == pytest.approx(1 / 2 * 2 / 3 + 1 / 2 * 1 / 2)


def test_by_language(report):
    by_lang = report["by_lang"]
    assert list(by_lang) == ["en", "es", "ja"]  # largest first, then by name
    en = by_lang["en"]  # labels 1 0 0 0, flagged 1 1 0 0
    assert (en["n"], en["positives"]) == (4, 1)
    assert en["precision"] == pytest.approx(1 / 2)
    assert en["recall"] == 1.0
    assert en["f1"] == pytest.approx(2 / 3)
    assert en["baseline_f1"] == pytest.approx(2 / 3)
    es = by_lang["es"]  # reports only: recall is the figure, precision and F1 undefined
    assert (es["n"], es["positives"], es["recall"]) == (2, 2, 0.5)
    assert es["precision"] is None and es["f1"] is None and es["baseline_f1"] is None
    assert es["false_positive_rate"] is None
    ja = by_lang["ja"]  # labels 0 1: model right on both, baseline flags neither
    assert (ja["precision"], ja["recall"], ja["f1"]) == (1.0, 1.0, 1.0)
    assert ja["baseline_f1"] == 0.0


def test_by_category(report):
    assert list(report["by_category"]) == ["ai", "games"]  # catalog order, not input order
    ai = report["by_category"]["ai"]  # labels 1 1 0 0, flagged 1 0 1 0
    assert (ai["n"], ai["positives"]) == (4, 2)
    assert (ai["precision"], ai["recall"], ai["f1"]) == (0.5, 0.5, 0.5)
    games = report["by_category"]["games"]  # labels 1 0 1 0, flagged 1 0 1 0
    assert (games["precision"], games["recall"], games["f1"], games["accuracy"]) == (1, 1, 1, 1)


def test_kinds_with_one_class(report):
    by_kind = report["by_kind"]
    assert list(by_kind) == ["report", "slow", "calm_down", "download"]  # reports first
    assert by_kind["report"]["label"] == 1
    assert by_kind["report"]["recall"] == 1.0
    assert by_kind["slow"]["recall"] == 0.0
    download = by_kind["download"]
    assert download["label"] == 0
    assert (download["n"], download["positives"]) == (2, 0)
    assert download["false_positive_rate"] == 0.5
    assert download["accuracy"] == 0.5
    assert download["precision"] is None and download["recall"] is None and download["f1"] is None
    assert by_kind["calm_down"]["false_positive_rate"] == 0.0


def test_mixed_kind_and_unknown_groups():
    report = build_report([1, 0, 1], [0.9, 0.8, 0.1], 0.5, langs=[None, None, "en"],
                          kinds=["x", "x", "x"], categories=["cloud", "zzz", None])
    assert "baseline" not in report
    assert report["by_kind"]["x"]["label"] is None
    assert report["by_kind"]["x"]["f1"] == 0.5  # TP 1, FP 1, FN 1
    assert list(report["by_lang"]) == ["unknown", "en"]
    assert list(report["by_category"]) == ["cloud", "unknown", "zzz"]
    assert "baseline_f1" not in report["by_lang"]["en"]


def test_undefined_overall_figures_are_none():
    report = build_report(np.array([0, 0]), np.array([0.1, 0.2]), 0.5, langs=["en", "en"],
                          kinds=["a", "b"], categories=["ai", "ai"])
    assert report["pr_auc"] is None and report["precision"] is None and report["recall"] is None
    assert report["false_positive_rate"] == 0.0


def test_report_is_json_ready(report):
    text = json.dumps(report, allow_nan=False)
    assert json.loads(text) == report


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"probability": PROB[:-1]}, "probability has 7 entries but y_true has 8"),
        ({"langs": LANGS[:-1]}, "langs has 7 entries"),
        ({"kinds": [*KINDS, "x"]}, "kinds has 9 entries"),
        ({"categories": []}, "categories has 0 entries"),
        ({"baseline_pred": BASELINE[:3]}, "baseline_pred has 3 entries"),
        ({"y_true": [2, *Y[1:]]}, "y_true must be a flat sequence of 0/1 labels"),
        ({"baseline_pred": [0.5] * 8}, "baseline_pred must be a flat sequence of 0/1"),
        ({"probability": [1.5, *PROB[1:]]}, "probability must be"),
        ({"probability": [float("nan"), *PROB[1:]]}, "probability must be"),
        ({"threshold": 1.2}, "threshold must be in"),
        ({"y_true": [], "probability": []}, "no examples"),
    ],
)
def test_bad_input_raises(change, message):
    args = {"y_true": Y, "probability": PROB, "threshold": 0.5, "langs": LANGS, "kinds": KINDS,
            "categories": CATEGORIES, "baseline_pred": BASELINE, **change}
    with pytest.raises(ValueError, match=message):
        build_report(args.pop("y_true"), args.pop("probability"), args.pop("threshold"), **args)


@pytest.mark.parametrize(
    "text",
    [
        "is chatgpt down?", "Discord DOWN again", "calm down, it's fine",  # naive on purpose
        "steam having issues", "outlook keeps crashing", "I can’t log in to netflix",
        "cant  login to roblox", "WhatsApp no funciona", "se cayó instagram",
        "netflix fora do ar", "Störung bei der Telekom", "YouTube geht nicht",
        "Instagram est HS", "youtube ne marche plus", "Netflix non funziona",
        "Instagram è giù", "YouTube ligt eruit", "KPN storing", "LINEが落ちてる",
        "ディスコード繋がらない",
    ],
)
def test_keyword_rule_hits(text):
    assert keyword_rule([text]).tolist() == [1]


@pytest.mark.parametrize(
    "text",
    [
        "download the new app", "downvoted into oblivion", "countdown to launch",
        "lockdown memories", "terror movie night", "this plateau is nice", "bugatti spotted",
        "chatgpt is slow today", "Problematic take", "",
    ],
)
def test_keyword_rule_misses(text):
    assert keyword_rule([text]).tolist() == [0]


def test_keyword_rule_shape_and_docstring():
    result = keyword_rule(["down", "fine", "エラー"])
    assert result.dtype.kind == "i" and result.tolist() == [1, 0, 1]
    assert keyword_rule([]).shape == (0,)
    assert set(KEYWORDS) == {"en", "es", "pt", "de", "fr", "it", "ja", "nl"}
    doc = inspect.cleandoc(keyword_rule.__doc__)
    for lang, words in KEYWORDS.items():
        item = next(i for i in doc.split("\n- ") if i.startswith(f"{lang}:"))
        line = item.split("\n\n")[0]
        listed = {w.strip() for w in " ".join(line.split())[len(lang) + 1:].split(",")}
        assert listed >= set(words), lang  # the docstring lists every keyword


def test_render_report(report):
    text = render_report(report)
    lines = text.splitlines()
    assert lines[0] == "Relevance classifier on 8 labelled examples (4 reports), threshold 0.500"
    assert _row(lines, "model") == ["0.750", "0.750", "0.750", "0.917"]
    assert _row(lines, "keyword baseline") == ["0.667", "0.500", "0.571", "0.583"]
    assert _row(lines, "report") == ["3", "1"]
    assert _row(lines, "not a report") == ["1", "3"]
    assert _row(lines, "en") == ["4", "1", "0.500", "1.000", "0.667", "0.667"]
    assert _row(lines, "es") == ["2", "2", "-", "0.500", "-", "-"]
    assert _row(lines, "ai") == ["4", "2", "0.500", "0.500", "0.500"]
    assert _row(lines, "slow") == ["1", "0.000"]
    assert _row(lines, "download") == ["2", "0.500"]
    assert lines.index("kind (reports)      n  recall") < lines.index(
        "kind (not reports)      n  wrongly flagged")
    assert lines.index("language      n  reports  precision  recall     F1  baseline F1") > 0
    assert all(len(line) <= 80 for line in lines)
    assert "\x1b" not in text
    assert render_report(json.loads(json.dumps(report))) == text


def test_render_without_baseline_and_with_mixed_kinds():
    report = build_report([1, 0, 1], [0.9, 0.8, 0.1], 0.5, langs=["en"] * 3, kinds=["x"] * 3,
                          categories=["ai"] * 3)
    lines = render_report(report).splitlines()
    assert not any(line.startswith("keyword baseline") for line in lines)
    assert not any("baseline F1" in line for line in lines)
    assert "kind (mixed)      n  reports  precision  recall     F1" in lines
    assert _row(lines, "x") == ["3", "2", "0.500", "0.500", "0.500"]


def _row(lines: list[str], name: str) -> list[str]:
    """The cells of the first row named ``name`` (names may contain one space)."""
    for line in lines:
        if line.startswith(name + "  "):
            return line[len(name):].split()
    raise AssertionError(f"no row {name!r} in:\n" + "\n".join(lines))


def test_probability_at_the_threshold_is_flagged():
    report = build_report([1, 0], [0.5, 0.49], 0.5, langs=["en"] * 2, kinds=["a", "b"],
                          categories=["ai"] * 2)
    assert report["confusion"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 1}
