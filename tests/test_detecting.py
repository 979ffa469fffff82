"""Baseline, change-point location and surge detection on synthetic count series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outage_signals.baseline import SeasonalBaseline
from outage_signals.changepoint import CostPoisson, locate_change, locate_onset
from outage_signals.counting import bin_index, count_series
from outage_signals.detecting import SurgeDetector, _merge_runs
from tests.conftest import add_outage, daily_rate, utc

INDEX = bin_index(utc(2025, 1, 6), utc(2025, 1, 9))  # 3 days of minutes


def rate(level: float = 0.3) -> np.ndarray:
    return daily_rate(INDEX, level, peak_hour=17)


def with_outage(base: np.ndarray, start: pd.Timestamp, minutes: int, peak: float) -> np.ndarray:
    return add_outage(base, INDEX, start, minutes, peak, plateau=0.3, decay_min=60)


def series(expected: np.ndarray, seed: int) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).poisson(expected), index=INDEX)


def test_cost_and_change_location():
    values = np.r_[np.zeros(30) + 1, np.zeros(20) + 9]
    cost = CostPoisson().fit(values)
    assert cost.error(0, 30) == pytest.approx(-(30 * np.log(1) - 30))
    best, low, high = locate_change(values)
    assert (best, low, high) == (30, 30, 30)
    noisy = np.random.default_rng(0).poisson(np.r_[np.full(60, 0.5), np.full(30, 6.0)])
    best, low, high = locate_change(noisy)
    assert low <= 60 <= high and abs(best - 60) <= 2
    assert locate_change(np.array([1.0, 2.0])) is None


def test_onset_of_a_slow_ramp_is_where_the_climb_starts():
    rng = np.random.default_rng(3)
    expected = np.full(100, 1.0)
    climb = np.clip((np.arange(100) - 50 + 1) / 30, 0, 1)  # reports from bin 50, full at 79
    hits = []
    for _ in range(20):
        values = rng.poisson(expected + 6 * climb)
        best, low, high, _ramp = locate_onset(values, expected)
        step, _, _ = locate_change(values)
        hits.append((low <= 50 <= high, abs(best - 50), abs(step - 50)))
    assert sum(h[0] for h in hits) >= 18  # the interval holds the true onset
    # the onset model is closer than a step, which lands partway up the climb
    assert np.median([h[1] for h in hits]) < np.median([h[2] for h in hits])
    assert np.median([h[1] for h in hits]) <= 5


def test_onset_of_a_step_is_sharp():
    values = np.random.default_rng(4).poisson(np.r_[np.full(60, 0.5), np.full(30, 8.0)])
    best, low, high, ramp = locate_onset(values, np.full(90, 0.5))
    assert ramp == 0 and low <= 60 <= high and high - low <= 3 and abs(best - 60) <= 1
    assert locate_onset(np.array([1.0, 0.0, 2.0]), np.ones(3)) is None


def test_baseline_ignores_one_days_incident():
    quiet = series(rate(), 1)
    noisy = series(with_outage(rate(), pd.Timestamp("2025-01-07 18:00", tz="UTC"), 240, 30), 1)
    a = SeasonalBaseline().fit(quiet).hourly_per_min
    b = SeasonalBaseline().fit(noisy).hourly_per_min
    assert np.allclose(a, b, rtol=0.35, atol=0.05)
    assert a[17] > 2 * a[5]  # the daily cycle is learnt


def test_sparse_service_has_a_floor():
    counts = pd.Series(0, index=INDEX)
    counts.iloc[::480] = 1  # three posts a day
    base = SeasonalBaseline().fit(counts)
    assert (base.expected(INDEX) > 0).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_outage_one_likely_incident_with_timing(seed):
    start = pd.Timestamp("2025-01-07 18:40", tz="UTC")
    counts = series(with_outage(rate(), start, 300, 25.0), seed)
    surges = SurgeDetector().fit_predict(counts, "svc")
    assert [s.level for s in surges] == ["likely"]
    s = surges[0]
    assert abs((s.start - start).total_seconds()) <= 120
    assert s.start_low <= start <= s.start_high
    assert abs((s.end - (start + pd.Timedelta(minutes=300))).total_seconds()) <= 15 * 60
    assert start < s.detected_at <= start + pd.Timedelta(minutes=5)
    assert s.ratio > 10 and s.peak_at < start + pd.Timedelta(minutes=30)


def test_two_outages_hours_apart_are_two_incidents():
    a = pd.Timestamp("2025-01-07 09:00", tz="UTC")
    b = pd.Timestamp("2025-01-07 15:00", tz="UTC")
    counts = series(with_outage(with_outage(rate(), a, 60, 15.0), b, 60, 15.0), 4)
    surges = SurgeDetector().fit_predict(counts, "svc")
    assert [s.level for s in surges] == ["likely", "likely"]
    assert abs((surges[0].start - a).total_seconds()) <= 120
    assert abs((surges[1].start - b).total_seconds()) <= 120


def test_a_start_never_reaches_back_into_the_previous_incident():
    a = pd.Timestamp("2025-01-07 09:00", tz="UTC")
    counts = series(with_outage(rate(), a, 60, 15.0), 4)
    detector = SurgeDetector().fit(counts)
    table = detector.scores(counts)
    lo = int(INDEX.searchsorted(a + pd.Timedelta(minutes=20)))  # an extent inside the outage
    free = detector.time_surge("svc", table, lo, lo + 30, lo + 5, "likely")
    assert free.start < INDEX[lo]  # left alone, the start goes back to the outage's rise
    held = detector.time_surge("svc", table, lo, lo + 30, lo + 5, "likely", not_before=lo)
    assert held.start >= INDEX[lo] and held.start_low >= INDEX[lo]


def test_a_one_minute_burst_is_not_an_outage():
    counts = series(rate(), 6)
    at = int(INDEX.searchsorted(pd.Timestamp("2025-01-08 12:00", tz="UTC")))
    counts.iloc[at - 5:at + 5] = 0  # the minutes around it as calm as usual, so only the
    counts.iloc[at] = 60  # burst's own minute stands out
    ruled = SurgeDetector().fit_predict(counts, "svc")
    unruled = SurgeDetector(spread_score=0).fit_predict(counts, "svc")
    assert [s.level for s in unruled] == ["likely"]  # the rule, not the score, holds it back
    assert [s for s in ruled if s.level == "likely"] == []


@pytest.mark.parametrize("seed", range(5))
def test_quiet_series_has_no_likely_incident(seed):
    counts = series(rate() * np.random.default_rng(seed).gamma(6, 1 / 6, len(INDEX)), seed)
    assert [s for s in SurgeDetector().fit_predict(counts, "svc") if s.level == "likely"] == []


def test_ongoing_outage_has_no_end():
    start = pd.Timestamp("2025-01-08 23:00", tz="UTC")
    counts = series(with_outage(rate(), start, 60, 20.0), 5)
    (surge,) = SurgeDetector().fit_predict(counts, "svc")
    assert surge.end is None


def test_merge_runs():
    flags = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1], dtype=bool)
    assert _merge_runs(flags, 2) == [(1, 6), (10, 11)]


def test_count_series_counts_each_author_once_per_bin():
    rows = pd.DataFrame({
        "service": ["a", "a", "a", "a", "b"],
        "created_at": pd.to_datetime(["2025-01-06T00:00:05Z", "2025-01-06T00:00:50Z",
                                      "2025-01-06T00:01:10Z", "2025-01-06T00:00:30Z",
                                      "2025-01-06T00:02:00Z"], utc=True),
        "author": ["u1", "u1", "u1", None, "u1"],
        "source": ["twitter"] * 5, "id": ["1", "2", "3", "4", "5"]})
    counts = count_series(rows, bin_index(utc(2025, 1, 6), utc(2025, 1, 6, 0, 4)))
    assert counts["a"].tolist() == [2, 1, 0, 0]
    assert counts["b"].tolist() == [0, 0, 1, 0]
