"""The library behind the notebooks: finding data, scoring the detector and the classifier,
comparing ruptures searches, and the API reference script."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from outage_signals import changepoint_eval, datasets, detector_eval, relevance_errors
from outage_signals.classifying import LabeledExample, default_model
from outage_signals.errors import InputError
from outage_signals.records import post_from_dict
from tests.conftest import SAMPLES, record

ROOT = Path(__file__).resolve().parent.parent


# ---- datasets ----------------------------------------------------------------------------------

def test_samples_are_found_from_any_folder_of_the_checkout(tmp_path):
    assert datasets.samples_dir(ROOT / "notebooks") == SAMPLES
    assert datasets.samples_dir(ROOT) == SAMPLES
    with pytest.raises(InputError, match="no data/samples above"):
        datasets.samples_dir(tmp_path)
    (event,) = datasets.sample_truth("chatgpt-replay", ROOT)
    assert event.service == "chatgpt" and event.start.isoformat() == "2024-12-26T18:40:00+00:00"


def test_shared_data_is_found_beside_the_checkout_or_named(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.SHARED_DATA_ENV, raising=False)
    checkout = tmp_path / "work" / "main" / "notebooks"
    checkout.mkdir(parents=True)
    assert datasets.shared_data_dir(checkout) is None
    shared = tmp_path / "work" / "shared" / "data"
    shared.mkdir(parents=True)
    assert datasets.shared_data_dir(checkout) == shared
    monkeypatch.setenv(datasets.SHARED_DATA_ENV, str(tmp_path / "elsewhere"))
    assert datasets.shared_data_dir(checkout) is None  # named but absent: skip, do not guess
    assert datasets.nab_realtweets() is None


def _tiny_nab(folder: Path, rows: int = 400) -> None:
    """Five 5-minute series (naive UTC times, as NAB's) with one label and window each."""
    folder.mkdir(parents=True)
    times = pd.date_range("2015-03-01 00:02:53", periods=rows, freq="5min")
    labels, windows = {}, {}
    for n, name in enumerate(datasets.NAB_FILES):
        values = np.full(rows, 10 + n)
        values[300:320] = 200
        lines = ["timestamp,value", *(f"{t:%Y-%m-%d %H:%M:%S},{v}"
                                      for t, v in zip(times, values, strict=True))]
        (folder / name).write_text("\n".join(lines) + "\n")
        labels[name] = [f"{times[300]:%Y-%m-%d %H:%M:%S}"]
        windows[name] = [[f"{times[280]:%Y-%m-%d %H:%M:%S.%f}", f"{times[330]:%Y-%m-%d %H:%M:%S.%f}"]]
    (folder / "labels.json").write_text(json.dumps(labels))
    (folder / "windows.json").write_text(json.dumps(windows))


def test_nab_series_are_read_with_labels_windows_and_probation(tmp_path):
    _tiny_nab(tmp_path / "nab")
    series = datasets.nab_realtweets(tmp_path / "nab")
    assert [s.name for s in series] == ["AAPL", "AMZN", "CRM", "FB", "IBM"]
    aapl = series[0]
    assert aapl.counts.index.tz is not None and str(aapl.counts.index.tz) == "UTC"
    assert len(aapl.counts) == 400 and aapl.probation == 60  # 15 % of 400 rows
    assert aapl.labels == (aapl.counts.index[300],)
    assert aapl.windows == ((aapl.counts.index[280], aapl.counts.index[330]),)
    assert aapl.scored_from == aapl.counts.index[60]
    (tmp_path / "nab" / "windows.json").unlink()
    assert datasets.nab_realtweets(tmp_path / "nab") is None  # incomplete: skipped


# ---- detector evaluation -----------------------------------------------------------------------

def test_scenario_runs_find_a_big_surge_and_count_no_false_alarm():
    events, runs = detector_eval.scenario_runs(["surge-x10-5", "quiet-0.05"], [0])
    assert events["scenario"].tolist() == ["surge-x10-5"]
    row = events.iloc[0]
    assert row["found"] and abs(row["start_error_min"]) <= 3 and row["covered"] and row["delay_min"] < 10
    assert runs["false_alarms"].tolist() == [0, 0] and runs["days"].tolist() == [7.0, 29.0]
    summary = detector_eval.summarize_scenarios(events, runs)
    assert summary.loc["surge-x10-5", "recall"] == 1.0
    assert np.isnan(summary.loc["quiet-0.05", "recall"]) and summary.loc["quiet-0.05", "false_per_day"] == 0


def test_labelled_scoring_counts_hits_false_alarms_and_probation(tmp_path):
    _tiny_nab(tmp_path / "nab")
    series = datasets.nab_realtweets(tmp_path / "nab")[0]
    at = series.counts.index

    def alarm(i: int, level: str = "likely") -> dict:
        return {"level": level, "detected_at": f"{at[i]:%Y-%m-%dT%H:%M:%SZ}"}

    incidents = [alarm(10), alarm(150), alarm(302), alarm(310), alarm(250, "possible")]
    figures = detector_eval.score_labelled(series, incidents)
    assert figures["hit"] == 1 and figures["windows"] == 1
    assert figures["label_to_alarm_min"] == [10.0]  # first alarm in the window, 2 bins late
    assert figures["false_alarms"] == 1  # bin 150; bin 10 is in the probation
    assert detector_eval.score_labelled(series, incidents, level="possible")["false_alarms"] == 2


# ---- ruptures searches -------------------------------------------------------------------------

def _step(before: int = 40, after: int = 15, low: float = 1.0,
          high: float = 12.0) -> changepoint_eval.OnsetWindow:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.poisson(low, before), rng.poisson(high, after)]).astype(float)
    return changepoint_eval.OnsetWindow("step", values, before, 1.0)


def test_every_single_change_search_finds_a_clear_step():
    window = _step()
    candidates = changepoint_eval.searches()
    assert {s.method for s in candidates} == {"Dynp", "Binseg", "BottomUp", "Pelt", "KernelCPD"}
    runs = changepoint_eval.run_searches([window], candidates)
    assert not runs["failed"].any()
    exact = runs[runs["method"] != "Pelt"]
    assert (exact["error_min"].abs() <= 1).all(), exact[["search", "error_min"]]
    assert runs.loc[runs["search"] == "Pelt/poisson", "error_min"].abs().item() <= 1
    assert (runs["ms"] > 0).all()


def test_search_summary_ranks_by_closeness_and_records_failures():
    windows = [_step(), changepoint_eval.OnsetWindow("tiny", np.array([1.0, 5.0]), 1, 1.0)]
    runs = changepoint_eval.run_searches(windows, [changepoint_eval.Search("Binseg", "poisson"),
                                                   changepoint_eval.Search("KernelCPD", "linear")])
    assert runs.loc[runs["window"] == "tiny", "failed"].all()  # too short for two segments
    table = changepoint_eval.summarize_searches(runs)
    assert set(table.index) == {"Binseg/poisson", "KernelCPD/linear"}
    assert (table["found"] == 0.5).all() and (table["within"] == 0.5).all()


def test_windows_hold_the_true_start_at_a_random_offset():
    windows = changepoint_eval.scenario_windows(["surge-x5-5", "two-outages-3h"], [0, 1])
    assert len(windows) == 2 + 4  # two outages in each run of the second scenario
    offsets = {w.truth for w in windows}
    assert len(offsets) > 1 and all(30 <= w.truth <= 90 for w in windows)
    for window in windows:
        assert 10 <= len(window.values) - window.truth <= 30
        rise = window.values[window.truth:].mean() > window.values[:window.truth].mean()
        assert rise, window.source


# ---- classifier error analysis -----------------------------------------------------------------

class _FixedModel:
    """Stands in for a RelevanceModel: a fixed probability per text."""

    threshold = 0.5

    def __init__(self, table: dict[str, float]):
        self.table = table

    def predict_proba(self, texts, services):
        return np.array([self.table[t] for t in texts])


EXAMPLES = [LabeledExample("down again", "slack", 1, "report", "en"),
            LabeledExample("love it", "slack", 0, "chatter", "en"),
            LabeledExample("kaputt", "zoom", 1, "report", "de"),
            LabeledExample("is it me", "zoom", 0, "own_fault", "en"),
            LabeledExample("lol down bad", "slack", 0, "lookalike", "en")]
PROBS = {"down again": 0.9, "love it": 0.1, "kaputt": 0.3, "is it me": 0.7, "lol down bad": 0.95}


def test_scored_examples_mistakes_and_error_rates():
    frame = relevance_errors.scored_examples(EXAMPLES, _FixedModel(PROBS))
    assert frame["outcome"].tolist() == ["tp", "tn", "fn", "fp", "fp"]
    worst = relevance_errors.mistakes(frame, 5)
    assert worst["text"].tolist() == ["lol down bad", "is it me", "kaputt"]
    by_lang = relevance_errors.error_rates(frame, "lang")
    assert by_lang.index.tolist() == ["en", "de"]
    assert by_lang.loc["en"].to_dict() == pytest.approx(
        {"n": 4, "reports": 1, "fp": 2, "fn": 0, "errors": 2, "error_rate": 0.5,
         "precision": 1 / 3, "recall": 1.0})
    assert np.isnan(by_lang.loc["de", "precision"]) and by_lang.loc["de", "recall"] == 0


def test_threshold_table_trades_precision_for_recall():
    frame = relevance_errors.scored_examples(EXAMPLES, _FixedModel(PROBS))
    table = relevance_errors.threshold_table(frame, [0.2, 0.5, 0.92])
    assert table.loc[0.2].to_dict() == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "flagged": 0.8})
    assert table.loc[0.5, "recall"] == 0.5 and table.loc[0.92, "precision"] == 0.0
    assert np.isnan(table.loc[0.92, "f1"])


def test_scored_posts_use_the_true_label_and_skip_unlabelled(catalog):
    posts = [post_from_dict(record(1, text="is slack down?", service="slack", label=1, kind="report")),
             post_from_dict(record(2, text="zoom call at 3", label=0, kind="chatter")),
             post_from_dict(record(3, text="nothing here", label=0)),
             post_from_dict(record(4, text="is slack down?", service="slack"))]
    frame = relevance_errors.scored_posts(posts, default_model(catalog))
    assert frame["text"].tolist() == ["is slack down?", "zoom call at 3", "nothing here"]
    assert frame["service"].tolist()[:2] == ["slack", "zoom"] and pd.isna(frame["service"].iloc[2])
    assert frame["label"].tolist() == [1, 0, 0] and frame["probability"].iloc[2] == 0
    flagged = frame["probability"] >= default_model(catalog).threshold
    assert frame["predicted"].tolist() == flagged.astype(int).tolist()
    assert frame["outcome"].iloc[0] == ("tp" if flagged.iloc[0] else "fn")
    assert frame["outcome"].iloc[1] == ("fp" if flagged.iloc[1] else "tn")
    assert frame["outcome"].iloc[2] == "tn"


# ---- the API reference -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api_script():
    path = ROOT / "scripts" / "build-api-docs"
    loader = importlib.machinery.SourceFileLoader("build_api_docs", str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_api_reference_has_a_page_per_module_with_signatures(api_script, tmp_path, capsys):
    assert api_script.main(["--output", str(tmp_path)]) == 0
    pages = {p.name for p in tmp_path.glob("*.md")}
    assert {"README.md", "outage_signals.timeline.md", "outage_signals.detecting.md",
            "outage_signals.simulation.count_scenarios.md"} <= pages
    assert not any(p.startswith("outage_signals.cli") for p in pages)
    page = (tmp_path / "outage_signals.timeline.md").read_text()
    assert '<a id="timelines"></a>' in page and "    bin_size: str = '1min',\n" in page
    assert "[`pipeline.detect`](outage_signals.pipeline.md#detect)" in page
    assert " at 0x" not in "".join(p.read_text() for p in tmp_path.glob("*.md"))
    index = (tmp_path / "README.md").read_text()
    assert "| [`outage_signals.plotting`](outage_signals.plotting.md) |" in index
    assert api_script.main(["--output", str(tmp_path), "--check"]) == 0
    (tmp_path / "outage_signals.timeline.md").write_text("stale")
    assert api_script.main(["--output", str(tmp_path), "--check"]) == 1
    assert "outage_signals.timeline.md" in capsys.readouterr().out


def test_api_reference_turns_rst_habits_into_markdown(api_script):
    linker = api_script.Linker({"outage_signals.metrics": {"score"}})
    doc = """Score with :func:`~outage_signals.metrics.score` and ``level``.

    Rerun from the root::

        python benchmarks/x.py --seeds 20

    Then :class:`Unknown` stays code."""
    assert api_script.to_markdown(doc, "outage_signals.other", linker) == (
        "Score with [`score`](outage_signals.metrics.md#score) and `level`.\n\n"
        "Rerun from the root:\n\n```\npython benchmarks/x.py --seeds 20\n```\n\n"
        "Then `Unknown` stays code.\n")


def test_the_committed_api_reference_is_current(api_script, capsys):
    # Rebuild with `python scripts/build-api-docs` after changing a docstring.
    assert api_script.main(["--output", str(ROOT / "docs" / "api"), "--check"]) == 0, (
        capsys.readouterr().out)
