"""Surge detection on one service's count series against its seasonal baseline.

Three steps, each with its own settings on :class:`SurgeDetector`:

1. **Alert score.** For windows of 5, 15 and 30 minutes ending at each bin, the observed
   count ``O`` is compared with the expected ``E`` under the baseline's negative-binomial noise
   model; the score is ``-log10 P(X >= O)``. A bin is a ``possible`` alarm when some window's
   score, count and ratio pass the ``possible_*`` settings, ``likely`` when they pass the
   ``likely_*`` settings for ``likely_bins`` bins in a row (the duration rule). Scores only use
   data up to the bin, so the first alarm time is causal given the baseline.
2. **Extent.** The surge spans the contiguous run of elevated bins (a centred 15-minute window
   at least ``elevated_ratio`` above expectation) around the alarms; runs closer than
   ``merge_gap_min`` merge, so one bumpy outage stays one incident while two outages hours
   apart stay two.
3. **Timing.** ruptures (:mod:`outage_signals.changepoint`) places the start in the
   ``lookback_min`` before the extent up to shortly after the first alarm, with an interval;
   the end is the change back down near the extent's end, or ``None`` while the surge is still
   going at the end of the data. The start then moves back over bins that are individually
   significant (the first minutes of a ramp), and the interval reaches back ``report_lag_min``
   because reports trail the moment a service breaks.

All times are UTC; rates in :class:`Surge` are posts per minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from outage_signals.baseline import SeasonalBaseline, bin_minutes
from outage_signals.changepoint import locate_change

LEVELS = ("possible", "likely")


@dataclass(frozen=True)
class Surge:
    """One detected surge of one service (times are UTC ``pd.Timestamp``)."""

    service: str
    start: pd.Timestamp
    start_low: pd.Timestamp
    start_high: pd.Timestamp
    detected_at: pd.Timestamp
    peak_at: pd.Timestamp
    end: pd.Timestamp | None
    level: str
    baseline_per_min: float
    peak_per_min: float
    ratio: float
    score: float


@dataclass
class SurgeDetector:
    """Find surges in a count series; see the module docstring for the method.

    Use :meth:`fit` on history (fits the :class:`SeasonalBaseline`) then :meth:`predict` on the
    series to scan (they may be the same), or :meth:`fit_predict`.
    """

    windows_min: tuple[int, ...] = (5, 15, 30)
    possible_score: float = 4.0
    possible_ratio: float = 2.0
    possible_count: int = 5
    likely_score: float = 8.0
    likely_ratio: float = 3.0
    likely_count: int = 12
    likely_bins: int = 3
    elevated_ratio: float = 1.5
    merge_gap_min: int = 30
    lookback_min: int = 60
    start_delta: float = 3.0
    report_lag_min: float = 2.0
    baseline: SeasonalBaseline | None = None

    def fit(self, counts: pd.Series) -> SurgeDetector:
        """Fit the baseline on ``counts`` (index: UTC bins with a fixed frequency)."""
        self.baseline = (self.baseline or SeasonalBaseline()).fit(counts)
        return self

    def fit_predict(self, counts: pd.Series, service: str) -> list[Surge]:
        return self.fit(counts).predict(counts, service)

    def scores(self, counts: pd.Series) -> pd.DataFrame:
        """Per-bin ``expected``, best ``score``, and the ``possible``/``likely`` alarm flags."""
        if self.baseline is None:
            raise RuntimeError("call fit() before predict()")
        minutes = bin_minutes(counts.index)
        observed = counts.to_numpy(dtype=float)
        expected = self.baseline.expected(counts.index)
        k = self.baseline.dispersion
        best = np.zeros(len(counts))
        possible = np.zeros(len(counts), dtype=bool)
        likely = np.zeros(len(counts), dtype=bool)
        for window_min in self.windows_min:
            w = max(1, round(window_min / minutes))
            obs = _trailing_sum(observed, w)
            exp = _trailing_sum(expected, w)
            score = _tail_score(obs, exp, k)
            ratio = obs / np.maximum(exp, 1e-9)
            best = np.maximum(best, score)
            possible |= ((score >= self.possible_score) & (ratio >= self.possible_ratio)
                         & (obs >= self.possible_count))
            likely |= ((score >= self.likely_score) & (ratio >= self.likely_ratio)
                       & (obs >= self.likely_count))
        likely = _runs_at_least(likely, self.likely_bins)
        return pd.DataFrame({"observed": observed, "expected": expected, "score": best,
                             "possible": possible | likely, "likely": likely}, index=counts.index)

    def predict(self, counts: pd.Series, service: str) -> list[Surge]:
        """Surges in ``counts``, oldest first."""
        if len(counts) == 0:
            return []
        table = self.scores(counts)
        minutes = bin_minutes(counts.index)
        bin_delta = pd.Timedelta(minutes=minutes)
        elevated = self._elevated(table, minutes)
        surges = []
        for lo, hi in _merge_runs(elevated, round(self.merge_gap_min / minutes)):
            part = table.iloc[lo:hi]
            if not part["possible"].any():
                continue
            level = "likely" if part["likely"].any() else "possible"
            first_alarm = lo + int(np.argmax(part[level].to_numpy()))
            surges.append(self._time_surge(service, table, lo, hi, first_alarm, level,
                                           minutes, bin_delta))
        return surges

    def _dispersion(self) -> float:
        return self.baseline.dispersion if self.baseline else 4.0

    def _elevated(self, table: pd.DataFrame, minutes: float) -> np.ndarray:
        w = max(1, round(15 / minutes))
        obs = table["observed"].rolling(w, center=True, min_periods=1).sum().to_numpy()
        exp = table["expected"].rolling(w, center=True, min_periods=1).sum().to_numpy()
        return ((obs >= self.elevated_ratio * exp) & (_tail_score(obs, exp, self._dispersion()) >= 2.0)) | (
            table["possible"].to_numpy())

    def _time_surge(self, service: str, table: pd.DataFrame, lo: int, hi: int, first_alarm: int,
                    level: str, minutes: float, bin_delta: pd.Timedelta) -> Surge:
        index = table.index
        observed = table["observed"].to_numpy()
        lookback = round(self.lookback_min / minutes)
        # Start: one change in [lo - lookback, first alarm + a few bins].
        a = max(0, lo - lookback)
        b = min(len(table), first_alarm + max(3, round(10 / minutes)) + 1)
        found = locate_change(observed[a:b], delta=self.start_delta)
        start_i, low_i, high_i = (a + found[0], a + found[1], a + found[2]) if found else (lo,) * 3
        # A step model puts the change after the first bins of a ramp; walk back over bins that
        # are themselves clearly above expectation (P <= 1 %), as those already carry reports.
        single = _tail_score(observed, table["expected"].to_numpy(), self._dispersion())
        while start_i > a and single[start_i - 1] >= 2.0:
            start_i -= 1
        # People post a minute or two after they notice; the true start can precede the first
        # report by that lag, so the interval reaches back by it.
        low_i = max(0, min(low_i, start_i) - round(self.report_lag_min / minutes))
        high_i = max(high_i, start_i)
        # End: one change near the end of the elevated run, unless it runs to the data's end.
        end = None
        if hi < len(table):
            ea = max(start_i + 1, hi - 2 * lookback)
            eb = min(len(table), hi + lookback // 2)
            found_end = locate_change(observed[ea:eb], delta=self.start_delta)
            end_i = ea + found_end[0] if found_end else hi
            end = index[min(end_i, len(table) - 1)]
        smooth = table["observed"].rolling(max(1, round(5 / minutes)), center=True,
                                           min_periods=1).mean().to_numpy()
        span_end = hi if end is None else max(index.get_loc(end), start_i + 1)
        peak_i = start_i + int(np.argmax(smooth[start_i:span_end]))
        baseline = float(np.mean(table["expected"].to_numpy()[start_i:span_end])) / minutes
        peak = float(smooth[peak_i]) / minutes
        return Surge(
            service=service,
            start=index[start_i],
            start_low=index[low_i],
            start_high=index[high_i],
            # A run at the end of the alarm bin is the first that could have seen it.
            detected_at=index[first_alarm] + bin_delta,
            peak_at=index[peak_i],
            end=end,
            level=level,
            baseline_per_min=baseline,
            peak_per_min=peak,
            ratio=peak / max(baseline, 1e-9),
            score=float(table["score"].to_numpy()[lo:hi].max()),
        )


def _trailing_sum(values: np.ndarray, w: int) -> np.ndarray:
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(1, len(values) + 1)
    return cumsum[idx] - cumsum[np.maximum(idx - w, 0)]


def _tail_score(observed: np.ndarray, expected: np.ndarray, dispersion: float) -> np.ndarray:
    """``-log10 P(X >= observed)`` for X negative binomial with the given mean."""
    mean = np.maximum(expected, 1e-9)
    if np.isinf(dispersion):
        logsf = stats.poisson.logsf(observed - 1, mean)
    else:
        logsf = stats.nbinom.logsf(observed - 1, dispersion, dispersion / (dispersion + mean))
    return np.where(observed > 0, -logsf / np.log(10), 0.0)


def _runs_at_least(flags: np.ndarray, length: int) -> np.ndarray:
    """Keep only the True bins that end a run of at least ``length`` consecutive Trues."""
    if length <= 1:
        return flags
    run = np.zeros(len(flags), dtype=int)
    count = 0
    for i, flag in enumerate(flags):
        count = count + 1 if flag else 0
        run[i] = count
    return run >= length


def _merge_runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` index ranges of True runs, merging runs separated by ``gap`` bins or fewer."""
    runs: list[list[int]] = []
    i, n = 0, len(flags)
    while i < n:
        if flags[i]:
            j = i
            while j < n and flags[j]:
                j += 1
            if runs and i - runs[-1][1] <= gap:
                runs[-1][1] = j
            else:
                runs.append([i, j])
            i = j
        else:
            i += 1
    return [(lo, hi) for lo, hi in runs]
