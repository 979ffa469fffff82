"""The causal replay: honest detected_at, no peeking, count CSV input, stored baselines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from outage_signals import baseline_store
from outage_signals.backtesting import Replay, backtest_counts, read_count_csv
from outage_signals.cli import main
from outage_signals.detecting import SurgeDetector
from outage_signals.errors import InputError, InvalidRecordError
from tests.conftest import SAMPLES, add_outage, daily_rate

INDEX = pd.date_range("2025-01-06", periods=5 * 1440, freq="min", tz="UTC")  # Mon-Fri
START = pd.Timestamp("2025-01-09 14:20", tz="UTC")


def quiet_rate(level: float = 0.4) -> np.ndarray:
    return daily_rate(INDEX, level, peak_hour=16)


def with_outage(rate: np.ndarray, start: pd.Timestamp, minutes: int, peak: float) -> np.ndarray:
    return add_outage(rate, INDEX, start, minutes, peak, plateau=0.4, decay_min=40)


def counts(rate: np.ndarray, seed: int = 0) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).poisson(rate).astype(float), index=INDEX)


@pytest.mark.parametrize("step", ["1min", "5min"])
def test_replay_raises_the_outage_at_an_honest_time(step):
    series = counts(with_outage(quiet_rate(), START, 120, 12.0))
    (surge,) = [s for s in Replay(step=pd.Timedelta(step)).run(series, "svc")
                if s.level == "likely"]
    # A run every step sees bins that ended by then: detected_at is on the step grid, after
    # the start, and soon after it.
    assert surge.detected_at == surge.detected_at.ceil(step)
    assert START < surge.detected_at <= START + pd.Timedelta(minutes=10)
    assert surge.possible_at <= surge.detected_at
    assert abs(surge.start - START) <= pd.Timedelta(minutes=3)
    assert abs(surge.start_at_detection - START) <= pd.Timedelta(minutes=5)
    assert surge.start_low <= START <= surge.start_high
    assert abs(surge.end - (START + pd.Timedelta(minutes=120))) <= pd.Timedelta(minutes=20)


def test_replay_does_not_see_the_future():
    """Whatever happens after a time cannot change what was raised before it."""
    full = counts(with_outage(quiet_rate(), START, 120, 12.0), seed=3)
    later = full.copy()
    later[START + pd.Timedelta(hours=3) <= INDEX] *= 5  # a wild future
    cut = START + pd.Timedelta(minutes=30)
    first = [(s.detected_at, s.level) for s in Replay().run(full, "svc") if s.detected_at < cut]
    second = [(s.detected_at, s.level) for s in Replay().run(later, "svc") if s.detected_at < cut]
    assert first == second and first


@pytest.mark.parametrize("seed", range(3))
def test_quiet_series_raises_no_likely_incident(seed):
    series = counts(quiet_rate() * np.random.default_rng(seed).gamma(6, 1 / 6, len(INDEX)), seed)
    assert [s for s in Replay().run(series, "svc") if s.level == "likely"] == []


def test_nothing_is_raised_during_the_warm_up():
    series = counts(with_outage(quiet_rate(), pd.Timestamp("2025-01-06 12:00", tz="UTC"), 60, 20))
    assert all(s.detected_at >= pd.Timestamp("2025-01-07", tz="UTC")
               for s in Replay().run(series, "svc"))


def test_a_past_outage_does_not_raise_later_baselines():
    """The same small surge is found the day after a long outage as on a clean history."""
    small = pd.Timestamp("2025-01-10 15:00", tz="UTC")
    clean = with_outage(quiet_rate(), small, 40, 6.0)
    dirty = with_outage(clean, pd.Timestamp("2025-01-09 10:00", tz="UTC"), 600, 15.0)
    for rate in (clean, dirty):
        found = [s for s in Replay().run(counts(rate, 7), "svc")
                 if abs(s.start - small) <= pd.Timedelta(minutes=10)]
        assert [s.level for s in found] == ["likely"]


def test_chatter_guard_holds_back_a_viral_burst():
    chatter_rate = 20 * quiet_rate()
    burst = slice(INDEX.get_loc(START), INDEX.get_loc(START) + 60)
    chatter_rate[burst] *= 8
    relevant_rate = quiet_rate() + 0.05 * (chatter_rate - 20 * quiet_rate())
    relevant, chatter = counts(relevant_rate, 1), counts(chatter_rate, 2)
    blind = [s for s in Replay().run(relevant, "svc") if s.level == "likely"]
    guarded = [s for s in Replay().run(relevant, "svc", chatter) if s.level == "likely"]
    assert blind and not guarded


def write_csv(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_count_csv_naive_times_are_utc_and_gaps_become_zero(tmp_path):
    path = write_csv(tmp_path / "svc.csv", ["timestamp,value", "2015-03-01 00:00:00,4",
                                            "2015-03-01 00:05:00,5", "2015-03-01 00:15:00,7"])
    service, series = read_count_csv(path)
    assert service == "svc"
    assert str(series.index.tz) == "UTC" and series.index.freq == pd.Timedelta("5min")
    assert series.tolist() == [4, 5, 0, 7]


def test_count_csv_errors_name_file_and_line(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["timestamp,count", "2015-03-01T00:00Z,4",
                                           "2015-03-01T00:01Z,many", "2015-03-01T00:02Z,1"])
    with pytest.raises(InvalidRecordError, match=r"bad\.csv.*3"):
        read_count_csv(bad)
    cols = write_csv(tmp_path / "cols.csv", ["time,count", "2015-03-01T00:00Z,4"])
    with pytest.raises(InputError, match="timestamp and count"):
        read_count_csv(cols)


def test_backtest_command_on_a_count_csv(tmp_path):
    series = counts(with_outage(quiet_rate(), START, 120, 12.0))
    path = tmp_path / "shop.csv"
    series.rename("count").to_csv(path, index_label="timestamp")
    result = CliRunner().invoke(main, ["backtest", str(path), "--step", "5min",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    incidents = json.loads(result.stdout)
    likely = [i for i in incidents if i["level"] == "likely"]
    assert [i["service"] for i in likely] == ["shop"]
    assert {"possible_at", "start_at_detection", "detected_at"} <= set(likely[0])
    assert likely[0]["posts"] > 100 and likely[0]["regions"] == []
    # The library call gives the same incidents.
    assert backtest_counts([("shop", read_count_csv(path)[1])], Replay()) == incidents


def test_backtest_command_rejects_a_bad_step(tmp_path):
    result = CliRunner().invoke(main, ["backtest", "x.csv", "--step", "often"])
    assert result.exit_code == 2 and "time span" in result.output


def test_stored_baseline_round_trips_and_judges_new_data(tmp_path):
    history = counts(quiet_rate(), 11)[: 3 * 1440]
    fitted = baseline_store.fit_service(history)
    path = tmp_path / "baselines.json"
    baseline_store.save(path, {"svc": fitted}, (history.index[0], history.index[-1]))
    loaded = baseline_store.load(path)["svc"]
    assert np.allclose(loaded.relevant.hourly_per_min, fitted.relevant.hourly_per_min, rtol=1e-4)
    assert loaded.relevant.window_dispersion == pytest.approx(fitted.relevant.window_dispersion)
    day = counts(with_outage(quiet_rate(), START, 60, 10.0), 12)[3 * 1440:]
    surges = SurgeDetector(baseline=loaded.relevant).predict(day, "svc")
    assert [s.level for s in surges] == ["likely"]


def test_a_damaged_baselines_file_is_a_clear_error(tmp_path):
    path = write_csv(tmp_path / "b.json", ['{"format": "something else"}'])
    with pytest.raises(InputError, match="not a baselines file"):
        baseline_store.load(path)


def test_baseline_command_writes_a_file_detect_can_use(tmp_path):
    out = tmp_path / "baselines.json"
    runner = CliRunner()
    result = runner.invoke(main, ["baseline", str(SAMPLES / "chatgpt-replay.jsonl.gz"),
                                  "--service", "chatgpt", "-o", str(out)])
    assert result.exit_code == 0, result.output
    stored = baseline_store.load(out)
    assert set(stored) == {"chatgpt"} and stored["chatgpt"].chatter is not None
    result = runner.invoke(main, ["detect", str(SAMPLES / "chatgpt-replay.jsonl.gz"),
                                  "--service", "chatgpt", "--baseline", str(out),
                                  "--format", "json"])
    assert result.exit_code == 0, result.output
    likely = [i for i in json.loads(result.stdout) if i["level"] == "likely"]
    assert [i["start"][:15] for i in likely] == ["2024-12-26T18:4"]
