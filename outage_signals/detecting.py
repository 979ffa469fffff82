"""Surge detection on one service's count series against its seasonal baseline.

Three steps, each with its own settings on :class:`SurgeDetector`:

1. **Alert score.** For windows of 5 to 120 minutes ending at each bin (a scan statistic, the
   windowed form of a likelihood-ratio test), the observed count ``O`` is compared with the
   expected ``E`` under the baseline's negative-binomial noise model for that window length;
   the score is ``-log10 P(X >= O)``. A bin is a ``possible`` alarm when some window's score,
   count and ratio ``O/E`` pass the ``possible_*`` settings, ``likely`` when they pass the
   ``likely_*`` settings and the duration rule: without its busiest bin the window must still
   be above expectation at ``spread_score`` (one bin's burst is not an outage), for
   ``likely_minutes`` in a row (1 by default: a run every minute alerts on the first minute
   that passes). Short windows catch sharp outages within minutes; long ones catch ×2–×3
   rises on quiet services, where a few minutes cannot tell a surge from noise. Scores only
   use data up to each bin.
2. **Extent.** The surge spans the contiguous run of elevated bins (a 15-minute window at least
   ``elevated_ratio`` above expectation and significant at ``elevated_score``) around the
   alarms; runs closer than ``merge_gap_min`` merge, so one bumpy outage stays one incident
   while two outages hours apart stay two.
3. **Timing.** ruptures (:mod:`outage_signals.changepoint`) places a step change in the
   ``lookback_min`` before the extent up to shortly after the first alarm, with an interval;
   an onset model (:func:`~outage_signals.changepoint.locate_onset`) also tries ramps of up
   to 45 bins, moves the start to where a climb begins when a ramp fits better, and widens
   the interval to every onset either model finds plausible. The end is the change back down
   near the extent's end, or ``None`` while the surge is still going at the end of the data.
   The start then moves back over bins that are individually significant, and the interval
   reaches back ``report_lag_min`` because reports trail the moment a service breaks. A start
   never reaches back into the previous incident.

:meth:`SurgeDetector.predict` is the retrospective scan (``detect``); the causal replay in
:mod:`outage_signals.backtesting` reuses :meth:`~SurgeDetector.scores`,
:func:`elevated` and :meth:`~SurgeDetector.time_surge` with data cut at each run.

All times are UTC; rates in :class:`Surge` are posts per minute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from outage_signals.baseline import SeasonalBaseline, bin_minutes, tail_score
from outage_signals.changepoint import locate_change, locate_onset

LEVELS = ("possible", "likely")

#: Window (minutes) of the extent rule; its own dispersion is estimated by the baseline.
ELEVATED_WINDOW_MIN = 15
#: Alarms of windows up to this long (minutes) also mark bins as inside a surge's extent.
RECENT_WINDOW_MIN = 30


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
    #: Causal replay only: when the surge first reached ``possible`` (``None`` elsewhere).
    possible_at: pd.Timestamp | None = None
    #: Causal replay only: the start as estimated from the data seen at ``detected_at``.
    start_at_detection: pd.Timestamp | None = None


@dataclass
class SurgeDetector:
    """Find surges in a count series; see the module docstring for the method.

    Use :meth:`fit` on history (fits the :class:`SeasonalBaseline`) then :meth:`predict` on the
    series to scan (they may be the same), or :meth:`fit_predict`. A baseline fitted elsewhere
    (:meth:`SeasonalBaseline.from_dict`) may be passed as ``baseline`` instead of fitting.
    """

    windows_min: tuple[int, ...] = (5, 15, 30, 60, 120)
    possible_score: float = 5.0
    possible_ratio: float = 1.5
    possible_count: int = 5
    likely_score: float = 7.0
    likely_ratio: float = 2.0
    likely_count: int = 10
    likely_minutes: float = 1.0
    spread_score: float = 2.0
    elevated_ratio: float = 1.5
    elevated_score: float = 2.0
    merge_gap_min: int = 45
    lookback_min: int = 60
    start_delta: float = 3.0
    report_lag_min: float = 2.0
    chatter_window_min: int = 30
    chatter_ratio: float = 1.5
    chatter_margin: float = 3.0
    baseline: SeasonalBaseline | None = None

    def fit(self, counts: pd.Series, exclude: np.ndarray | None = None) -> SurgeDetector:
        """Fit the baseline on ``counts`` (index: UTC bins with a fixed frequency).

        ``exclude``: boolean mask of bins (known incidents) the baseline must not learn from.
        """
        windows = tuple(sorted({*self.windows_min, ELEVATED_WINDOW_MIN}))
        self.baseline = (self.baseline or SeasonalBaseline()).fit(counts, exclude, windows)
        return self

    def fit_predict(self, counts: pd.Series, service: str,
                    chatter: pd.Series | None = None) -> list[Surge]:
        """Fit, scan, then refit without the surges found and scan again.

        The second pass matters for long outages: a multi-hour incident inside a short window
        would otherwise lift the baseline it is judged against. ``chatter``: the service's
        other mentions on the same bins (see :meth:`scores`); its own baseline is fitted here.
        """
        talk = None
        if chatter is not None:
            chatter_base = SeasonalBaseline().fit(chatter)
            talk = (chatter.to_numpy(dtype=float), chatter_base.expected(chatter.index))
        surges = self.fit(counts).predict(counts, service, chatter=talk)
        if surges:
            mask = np.zeros(len(counts), dtype=bool)
            for surge in surges:
                stop = surge.end if surge.end is not None else counts.index[-1] + pd.Timedelta(1)
                mask |= (counts.index >= surge.start) & (counts.index < stop)
            surges = self.fit(counts, exclude=mask).predict(counts, service, chatter=talk)
        return surges

    def _k(self, window_min: int) -> float:
        return self.baseline.dispersion_for(window_min) if self.baseline else 4.0

    def scores(self, counts: pd.Series, expected: np.ndarray | None = None,
               chatter: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
        """Per-bin ``observed``, ``expected``, best ``score`` and the alarm flags
        (``possible``, ``likely``, and ``recent``: a ``possible`` alarm of a short window).

        ``expected`` (same length as ``counts``) overrides the baseline's expectation, as the
        causal replay does when the baseline changes day by day. ``score`` is computed where a
        window is at least 20 % above expectation with two or more posts, and is 0 elsewhere
        (those bins can raise no alarm, and skipping them keeps a 1,000-service cycle fast).

        ``chatter``: ``(observed, expected)`` of the service's *other* mentions (posts the
        classifier judged not relevant). A bin stays below ``likely`` while that chatter is up
        ``chatter_ratio``-fold or more and the relevant posts' excess over expectation is less
        than ``chatter_margin`` times the chatter's: a viral burst of talk lifts the
        classifier's false positives in step with itself, while an outage lifts reports far
        above the talk around them.
        """
        if expected is None:
            if self.baseline is None:
                raise RuntimeError("call fit() before predict(), or pass expected")
            expected = self.baseline.expected(counts.index)
        minutes = bin_minutes(counts.index)
        observed = counts.to_numpy(dtype=float)
        expected = np.asarray(expected, dtype=float)
        best = np.zeros(len(counts))
        possible = np.zeros(len(counts), dtype=bool)
        likely = np.zeros(len(counts), dtype=bool)
        recent = np.zeros(len(counts), dtype=bool)
        for window_min in self.windows_min:
            w = max(1, round(window_min / minutes))
            obs = trailing_sum(observed, w)
            exp = trailing_sum(expected, w)
            score = _sparse_tail_score(obs, exp, self._k(window_min))
            ratio = obs / np.maximum(exp, 1e-9)
            best = np.maximum(best, score)
            alarm = ((score >= self.possible_score) & (ratio >= self.possible_ratio)
                     & (obs >= self.possible_count))
            possible |= alarm
            if window_min <= RECENT_WINDOW_MIN:
                recent |= alarm
            strong = ((score >= self.likely_score) & (ratio >= self.likely_ratio)
                      & (obs >= self.likely_count))
            likely |= self._spread(strong, observed, obs, exp, w, self._k(window_min))
        if chatter is not None:
            likely &= ~self._chatter_led(observed, expected, chatter, minutes)
        likely = _runs_at_least(likely, max(1, round(self.likely_minutes / minutes)))
        return pd.DataFrame({"observed": observed, "expected": expected, "score": best,
                             "possible": possible | likely, "likely": likely,
                             "recent": recent}, index=counts.index)

    def _spread(self, strong: np.ndarray, observed: np.ndarray, obs: np.ndarray,
                exp: np.ndarray, w: int, dispersion: float) -> np.ndarray:
        """The duration rule: ``strong`` window alarms whose excess is not one bin's alone.

        Without its busiest bin, the window must still be above expectation at
        ``spread_score``; a burst inside a single bin (a bot run, one viral minute) is not an
        outage, which keeps people posting minute after minute. Windows of one bin are left
        as they are (a 5-minute bin already spans minutes).
        """
        if w < 2 or self.spread_score <= 0 or not strong.any():
            return strong
        at = np.flatnonzero(strong)
        padded = np.concatenate([np.zeros(w - 1), observed])
        busiest = np.lib.stride_tricks.sliding_window_view(padded, w)[at].max(axis=1)
        rest, rest_expected = obs[at] - busiest, exp[at] * (w - 1) / w
        held = (rest >= 2) & (tail_score(np.maximum(rest, 0), rest_expected, dispersion)
                              >= self.spread_score)
        out = strong.copy()
        out[at[~held]] = False
        return out

    def _chatter_led(self, observed: np.ndarray, expected: np.ndarray,
                     chatter: tuple[np.ndarray, np.ndarray], minutes: float) -> np.ndarray:
        """Bins whose relevant rise is explained by a rise of chatter (see :meth:`scores`)."""
        chat_obs, chat_exp = (np.asarray(a, dtype=float) for a in chatter)
        led = np.zeros(len(observed), dtype=bool)
        # The short window judges the onset; the longest alarm window judges the tail of a
        # burst, when long-window alarms could otherwise fire after the talk has calmed.
        for window_min in {self.chatter_window_min, max(self.windows_min)}:
            w = max(1, round(window_min / minutes))
            rel = trailing_sum(observed, w) / np.maximum(trailing_sum(expected, w), 1e-9)
            chat = trailing_sum(chat_obs, w) / np.maximum(trailing_sum(chat_exp, w), 1e-9)
            led |= (chat >= self.chatter_ratio) & (rel - 1 < self.chatter_margin * (chat - 1))
        return led

    def elevated(self, table: pd.DataFrame, causal: bool = False) -> np.ndarray:
        """Bins inside a surge's extent: 15-minute window above expectation, or an alarm.

        ``causal=False`` centres the window (the retrospective view); ``causal=True`` uses the
        window ending at each bin, so a run at time t can decide from data before t alone.
        """
        minutes = bin_minutes(table.index)
        w = max(1, round(ELEVATED_WINDOW_MIN / minutes))
        if causal:
            obs = trailing_sum(table["observed"].to_numpy(), w)
            exp = trailing_sum(table["expected"].to_numpy(), w)
        else:
            obs = table["observed"].rolling(w, center=True, min_periods=1).sum().to_numpy()
            exp = table["expected"].rolling(w, center=True, min_periods=1).sum().to_numpy()
        score = _sparse_tail_score(obs, exp, self._k(ELEVATED_WINDOW_MIN))
        # Alarms of long windows linger for hours after a short outage, so only those of
        # windows up to RECENT_WINDOW_MIN extend a surge: two outages three hours apart stay
        # two incidents.
        return (((obs >= self.elevated_ratio * exp) & (score >= self.elevated_score))
                | table["recent"].to_numpy())

    def predict(self, counts: pd.Series, service: str, expected: np.ndarray | None = None,
                chatter: tuple[np.ndarray, np.ndarray] | None = None) -> list[Surge]:
        """Surges in ``counts``, oldest first (the retrospective scan)."""
        if len(counts) == 0:
            return []
        table = self.scores(counts, expected, chatter)
        minutes = bin_minutes(counts.index)
        surges = []
        previous_end = 0
        for lo, hi in _merge_runs(self.elevated(table), round(self.merge_gap_min / minutes)):
            part = table.iloc[lo:hi]
            if not part["possible"].any():
                continue
            level = "likely" if part["likely"].any() else "possible"
            first_alarm = lo + int(np.argmax(part[level].to_numpy()))
            surges.append(self.time_surge(service, table, lo, hi, first_alarm, level,
                                          not_before=previous_end))
            previous_end = hi
        return surges

    def time_surge(self, service: str, table: pd.DataFrame, lo: int, hi: int, first_alarm: int,
                   level: str, detected_at: pd.Timestamp | None = None,
                   not_before: int = 0) -> Surge:
        """Start (with interval), peak and end of the surge whose extent is bins ``[lo, hi)``.

        ``table`` comes from :meth:`scores` and may end early (the data a run has seen);
        ``first_alarm`` is the index of the first bin at ``level``. ``detected_at`` defaults to
        the end of that bin (the first moment a run could have seen it). ``not_before``: the
        first bin the start may take (the end of the previous incident, so that two incidents
        never claim the same start).
        """
        index = table.index
        minutes = bin_minutes(index)
        observed = table["observed"].to_numpy()
        expected = table["expected"].to_numpy()
        lookback = round(self.lookback_min / minutes)
        # Start: one change in [lo - lookback, first alarm + a few bins].
        a = max(0, not_before, lo - lookback)
        b = min(len(table), first_alarm + max(3, round(10 / minutes)) + 1)
        found = locate_change(observed[a:b], delta=self.start_delta)
        start_i, low_i, high_i = (a + found[0], a + found[1], a + found[2]) if found else (lo,) * 3
        # A step puts a slow build-up's change halfway up the climb. The onset model also
        # tries ramps: when one fits best its onset is the start, and the interval always
        # spans every onset either model finds plausible (a late step or an early ramp).
        onset = locate_onset(observed[a:b], expected[a:b], delta=self.start_delta)
        if onset is not None:
            if onset[3] > 0:
                start_i = a + onset[0]
            low_i, high_i = min(low_i, a + onset[1]), max(high_i, a + onset[2])
        start_i = min(start_i, first_alarm)
        # A step model puts the change after the first bins of a ramp; walk back over bins that
        # are themselves clearly above expectation (P <= 1 %), as those already carry reports.
        single = tail_score(observed, expected, self._k(round(minutes)))
        while start_i > a and single[start_i - 1] >= 2.0:
            start_i -= 1
        # People post a minute or two after they notice; the true start can precede the first
        # report by that lag, so the interval reaches back by it.
        low_i = max(0, not_before, min(low_i, start_i) - round(self.report_lag_min / minutes))
        high_i = min(max(high_i, start_i), first_alarm)
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
        baseline = float(np.mean(expected[start_i:span_end])) / minutes
        peak = float(smooth[peak_i]) / minutes
        if detected_at is None:
            detected_at = index[first_alarm] + pd.Timedelta(minutes=minutes)
        return Surge(
            service=service,
            start=index[start_i],
            start_low=index[low_i],
            start_high=index[high_i],
            detected_at=detected_at,
            peak_at=index[peak_i],
            end=end,
            level=level,
            baseline_per_min=baseline,
            peak_per_min=peak,
            ratio=peak / max(baseline, 1e-9),
            score=float(table["score"].to_numpy()[lo:hi].max()),
        )


def trailing_sum(values: np.ndarray, w: int) -> np.ndarray:
    """Sum of the ``w`` values ending at each position (fewer at the start)."""
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(1, len(values) + 1)
    return cumsum[idx] - cumsum[np.maximum(idx - w, 0)]


def _sparse_tail_score(observed: np.ndarray, expected: np.ndarray,
                       dispersion: float) -> np.ndarray:
    """:func:`~outage_signals.baseline.tail_score` where ``observed >= 2`` and
    ``observed >= 1.2 * expected``, else 0."""
    out = np.zeros(len(observed))
    todo = (observed >= 2) & (observed >= 1.2 * expected)
    if todo.any():
        out[todo] = tail_score(observed[todo], expected[todo], dispersion)
    return out


def _runs_at_least(flags: np.ndarray, length: int) -> np.ndarray:
    """Keep only the True bins that end a run of at least ``length`` consecutive Trues."""
    if length <= 1:
        return flags
    # Position of the latest False at or before each bin; run length is the distance to it.
    positions = np.arange(len(flags))
    last_false = np.maximum.accumulate(np.where(~flags, positions, -1))
    return flags & (positions - last_false >= length)


def _merge_runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` index ranges of True runs, merging runs separated by ``gap`` bins or fewer."""
    if not flags.any():
        return []
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.diff(padded)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs: list[list[int]] = []
    for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
        if runs and lo - runs[-1][1] <= gap:
            runs[-1][1] = hi
        else:
            runs.append([lo, hi])
    return [(lo, hi) for lo, hi in runs]
