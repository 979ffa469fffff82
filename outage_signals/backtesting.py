"""Causal replay: what a scheduled run every ``step`` would have reported, seeing only the past.

For each UTC day after a warm-up, the baseline is refitted on the history before that day
(at most ``history_days``), leaving out the bins of incidents already found, so a past outage
never raises the baseline and the day's expectation never peeks at the day itself. Alert scores
use trailing windows, so the alarm flag of a bin depends on data up to that bin only.

A run at time ``t`` sees every bin that ended by ``t``. Runs happen at multiples of ``step``
(UTC, aligned to midnight), so a bin's evidence is first seen at the end of the bin rounded up
to the next run. Per service, a small state machine follows the runs:

* no incident open and a ``possible`` (or ``likely``) alarm: an incident opens;
* open, and a ``likely`` alarm: it is raised to ``likely`` (``detected_at`` is that run);
* open, and no elevated bin (causal 15-minute window) for ``merge_gap_min``: it closes, and
  its start, interval, peak and end are estimated from the data seen by the closing run.

Incidents still open at the end of the data have ``end`` ``None``. Each incident also carries
``possible_at`` (the run that first saw it) and ``start_at_detection`` (the start as estimated
by the run at ``detected_at``, what an alert would have said).

Inputs: :func:`read_count_csv` for count series, or per-service relevant and chatter counts
from posts (see :func:`backtest_posts`). All times are UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from outage_signals.baseline import SeasonalBaseline, bin_minutes
from outage_signals.csv_input import open_csv
from outage_signals.detecting import ELEVATED_WINDOW_MIN, Surge, SurgeDetector
from outage_signals.errors import InputError, InvalidRecordError
from outage_signals.incidents import build_incident, surge_fields
from outage_signals.pipeline import count_posts

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Replay:
    """Settings of the causal replay (see the module docstring)."""

    step: pd.Timedelta = field(default_factory=lambda: pd.Timedelta("5min"))
    warmup_days: float = 1.0
    history_days: float = 28.0
    detector: Callable[[], SurgeDetector] = SurgeDetector

    def run(self, counts: pd.Series, service: str,
            chatter: pd.Series | None = None) -> list[Surge]:
        """Incidents of one service, oldest first, as the scheduled runs would have seen them.

        ``counts``: relevant posts per bin (UTC index with a fixed spacing, no gaps);
        ``chatter``: the service's other mentions on the same bins, or ``None``.
        """
        if len(counts) == 0:
            return []
        index = counts.index
        minutes = bin_minutes(index)
        bin_delta = pd.Timedelta(minutes=minutes)
        detector = self.detector()
        observed = counts.to_numpy(dtype=float)
        talk = None if chatter is None else chatter.to_numpy(dtype=float)
        expected = np.full(len(counts), np.nan)
        talk_expected = np.full(len(counts), np.nan)
        exclude = np.zeros(len(counts), dtype=bool)
        longest = max(max(detector.windows_min), ELEVATED_WINDOW_MIN, detector.chatter_window_min)
        context = round(longest / minutes) + 1
        gap = round(detector.merge_gap_min / minutes)
        tracker = _Tracker(detector, service, index, gap, self.step, bin_delta)
        tracker.longest = round(max(detector.windows_min) / minutes)

        # Scores of every bin seen so far, filled one day at a time.
        tracker.columns = {"observed": observed, "expected": expected,
                           "score": np.zeros(len(counts)),
                           "possible": np.zeros(len(counts), dtype=bool),
                           "likely": np.zeros(len(counts), dtype=bool),
                           "recent": np.zeros(len(counts), dtype=bool)}
        for lo, hi in self._days(index):
            history = slice(max(0, lo - round(self.history_days * 1440 / minutes)), lo)
            detector.baseline = SeasonalBaseline()
            detector.fit(counts.iloc[history], exclude[history])
            expected[lo:hi] = detector.baseline.expected(index[lo:hi])
            if talk is not None:
                talk_base = SeasonalBaseline().fit(chatter.iloc[history])
                talk_expected[lo:hi] = talk_base.expected(index[lo:hi])
            if np.isnan(expected[:lo]).any():  # the warm-up: judged by the first baseline
                expected[:lo] = detector.baseline.expected(index[:lo])
                if talk is not None:
                    talk_expected[:lo] = talk_base.expected(index[:lo])
            # Trailing windows need the bins just before the day as context.
            a = max(0, lo - context)
            pair = None if talk is None else (talk[a:hi], talk_expected[a:hi])
            table = detector.scores(counts.iloc[a:hi], expected[a:hi], pair)
            flags = detector.elevated(table, causal=True)[lo - a:]
            for name in ("score", "possible", "likely", "recent"):
                tracker.columns[name][lo:hi] = table[name].to_numpy()[lo - a:]
            tracker.seen = hi
            possible = table["possible"].to_numpy()[lo - a:]
            likely = table["likely"].to_numpy()[lo - a:]
            recent = table["recent"].to_numpy()[lo - a:]
            for i in range(lo, hi):
                j = i - lo
                if possible[j] or flags[j] or tracker.open is not None:
                    tracker.step_bin(i, bool(possible[j]), bool(likely[j]), bool(flags[j]),
                                     bool(recent[j]))
                else:
                    tracker.run_of_elevated = -1
            # Incidents seen so far stay out of tomorrow's baseline.
            for start_i, stop_i in tracker.spans():
                exclude[start_i:stop_i] = True
        return tracker.finish()

    def _days(self, index: pd.DatetimeIndex) -> list[tuple[int, int]]:
        """``[lo, hi)`` bin ranges of each UTC day after the warm-up."""
        first = (index[0] + pd.Timedelta(days=self.warmup_days)).ceil("D")
        bounds = pd.date_range(first, index[-1] + pd.Timedelta(days=1), freq="D", tz="UTC")
        cuts = index.searchsorted(bounds)
        cuts = np.unique(np.clip(cuts, 0, len(index)))
        return [(int(a), int(b)) for a, b in pairwise(cuts) if b > a]


class _Tracker:
    """The per-service state machine of the replay; ``table`` holds the scores seen so far."""

    def __init__(self, detector: SurgeDetector, service: str, index: pd.DatetimeIndex,
                 gap: int, step: pd.Timedelta, bin_delta: pd.Timedelta):
        self.detector, self.service, self.index = detector, service, index
        self.gap, self.step, self.bin_delta = gap, step, bin_delta
        self.columns: dict[str, np.ndarray] = {}
        self.seen = 0  # bins scored so far
        self.done: list[Surge] = []
        self.done_spans: list[tuple[int, int]] = []
        self.open: dict | None = None
        self.run_of_elevated = -1  # first bin of the current causal elevated run, or -1
        self.quiet_until = 0  # first bin whose long windows no longer see a closed incident
        self.floor = 0  # first bin a new incident's start may take: after the last one closed
        self.longest = 0  # bins of the longest alarm window (set by Replay.run)

    def view(self, n: int | None = None) -> pd.DataFrame:
        """The score table of the first ``n`` bins (default: all scored so far)."""
        n = self.seen if n is None else n
        return pd.DataFrame({k: v[:n] for k, v in self.columns.items()}, index=self.index[:n])

    def seen_at(self, i: int) -> pd.Timestamp:
        """The first run that sees bin ``i``: the bin's end rounded up to a run time."""
        end = self.index[i] + self.bin_delta
        return end.ceil(self.step) if self.step > pd.Timedelta(0) else end

    def step_bin(self, i: int, possible: bool, likely: bool, elevated: bool,
                 recent: bool = True) -> None:
        """Advance over bin ``i`` with its flags (``recent``: a short-window alarm)."""
        if elevated or possible:
            if self.run_of_elevated < 0:
                self.run_of_elevated = i
        else:
            self.run_of_elevated = -1
        inc = self.open
        if inc is None:
            # Long windows still hold a closed incident's posts for a while; until they have
            # slid past it, only short-window alarms may open a new incident.
            if (possible or likely) and (recent or i >= self.quiet_until):
                self.open = {"lo": self.run_of_elevated if self.run_of_elevated >= 0 else i,
                             "last": i, "level": "possible", "alarm": i,
                             "possible_at": self.seen_at(i), "detected_at": self.seen_at(i)}
                if likely:
                    self._raise(i)
                else:
                    self._estimate_start(i)
            return
        if elevated:  # a lingering long-window alarm alone does not extend it
            inc["last"] = i
        if likely and inc["level"] == "possible":
            self._raise(i)
        if i - inc["last"] > self.gap:
            self._close(i + 1)

    def _raise(self, i: int) -> None:
        inc = self.open
        inc["level"], inc["alarm"], inc["detected_at"] = "likely", i, self.seen_at(i)
        self._estimate_start(i)

    def _estimate_start(self, i: int) -> None:
        """What an alert at bin ``i`` would have said: the start from data up to this run."""
        inc = self.open
        early = self.detector.time_surge(self.service, self.view(i + 1), inc["lo"], i + 1, i,
                                         inc["level"], inc["detected_at"], not_before=self.floor)
        inc["start_at_detection"] = early.start

    def _store(self, seen: int, hi: int) -> tuple[dict, Surge]:
        """Time the open incident (extent up to bin ``hi``) with the ``seen`` bins the run
        had, store it and return it."""
        inc, self.open = self.open, None
        surge = self.detector.time_surge(self.service, self.view(seen), inc["lo"], hi,
                                         inc["alarm"], inc["level"], inc["detected_at"],
                                         not_before=self.floor)
        self.done.append(replace(surge, possible_at=inc["possible_at"],
                                 start_at_detection=inc["start_at_detection"]))
        return inc, surge

    def _close(self, seen: int) -> None:
        """Store the open incident as the closing run (``seen`` bins) saw it."""
        inc, surge = self._store(seen, self.open["last"] + 1)
        self.quiet_until = inc["last"] + 1 + self.longest
        self.floor = inc["last"] + 1
        if surge.level == "likely":
            start_i = int(self.index.searchsorted(surge.start))
            self.done_spans.append((start_i, inc["last"] + 1))

    def spans(self) -> list[tuple[int, int]]:
        """Bin ranges of ``likely`` incidents so far, the open one up to its last elevated bin.

        Only ``likely`` ones: leaving every small ``possible`` bump out of the history would
        feed back (a calmer-looking history, a tighter noise model, more bumps flagged).
        """
        spans = list(self.done_spans)
        if self.open is not None and self.open["level"] == "likely":
            spans.append((self.open["lo"], self.open["last"] + 1))
        return spans

    def finish(self) -> list[Surge]:
        """Every incident, the one still open at the end of the data with ``end`` ``None``."""
        if self.open is not None:
            self._store(self.seen, self.seen)
        return self.done


def read_count_csv(path: str | Path, service: str | None = None) -> tuple[str, pd.Series]:
    """A count series from a CSV with ``timestamp`` and ``count`` (or ``value``) columns.

    Naive timestamps are UTC; rows are sorted; the spacing must be regular (the median gap),
    and missing rows become zero counts. Returns ``(service, counts)``; the service defaults to
    the file name without extension. A bad row raises an error naming file and line.
    """
    path = Path(path)
    with open_csv(path) as reader:
        fields = reader.fieldnames or []
        column = "count" if "count" in fields else "value" if "value" in fields else None
        if "timestamp" not in fields or column is None:
            raise InputError(f"{path}: a count CSV needs columns timestamp and count (or value); "
                             f"it has {', '.join(fields) or 'none'}")
        times, values = [], []
        for row in reader:
            try:
                stamp = pd.Timestamp(row["timestamp"])
                number = float(row[column])
            except (ValueError, TypeError):
                raise InvalidRecordError(f"bad timestamp or {column} "
                                         f"({row.get('timestamp')!r}, {row.get(column)!r})",
                                         str(path), reader.line_num) from None
            if not np.isfinite(number) or number < 0:
                raise InvalidRecordError(f"{column} must be a count >= 0, not {row[column]!r}",
                                         str(path), reader.line_num)
            times.append(stamp.tz_localize("UTC") if stamp.tzinfo is None else
                         stamp.tz_convert("UTC"))
            values.append(number)
    if len(times) < 3:
        raise InputError(f"{path}: needs at least 3 rows, has {len(times)}")
    series = pd.Series(values, index=pd.DatetimeIndex(times).as_unit("ns")).sort_index()
    series = series.groupby(level=0).sum()
    # Regular rows with some missing: the smallest gap is the spacing.
    spacing = pd.Timedelta(series.index.to_series().diff().min())
    if spacing < pd.Timedelta("1min") or spacing > pd.Timedelta("1h"):
        raise InputError(f"{path}: rows are {spacing} apart; 1 minute to 1 hour is supported")
    full = pd.date_range(series.index[0], series.index[-1], freq=spacing)
    off_grid = ~series.index.isin(full)
    if off_grid.any():
        raise InputError(f"{path}: timestamp {series.index[off_grid][0]} is off the "
                         f"{spacing} grid that starts at {series.index[0]}")
    return service or path.name.split(".")[0], series.reindex(full, fill_value=0.0)


def counts_incident(surge: Surge, counts: pd.Series) -> dict:
    """The contract's incident for a surge found in a bare count series (no posts behind it).

    ``posts`` is the sum of counts inside the incident; regions, sources and examples are
    empty because counts carry no posts.
    """
    stop = surge.end if surge.end is not None else counts.index[-1] + pd.Timedelta(1)
    inside = counts[(counts.index >= surge.start) & (counts.index < stop)]
    fields = surge_fields(surge)
    fields.update(posts=round(inside.sum()), regions=[], sources={}, examples=[])
    return fields


def backtest_counts(series: Sequence[tuple[str, pd.Series]], replay: Replay,
                    progress: Progress = _quiet) -> list[dict]:
    """Incidents (contract objects) from count series, ordered by start."""
    incidents = []
    for service, counts in series:
        progress(f"replaying {service}: {len(counts):,} bins, a run every {_span(replay.step)}")
        incidents.extend(counts_incident(s, counts) for s in replay.run(counts, service))
    incidents.sort(key=lambda inc: (inc["start"], inc["service"]))
    return incidents


def backtest_posts(posts: Sequence, catalog, replay: Replay, *, model=None,
                   services: Sequence[str] | None = None, bin_size: str = "1min",
                   progress: Progress = _quiet) -> list[dict]:
    """Incidents (contract objects, with evidence) from posts, ordered by start.

    Posts are classified once up front (the model does not learn from them), counted per
    service into relevant and chatter series, and each service is replayed with :class:`Replay`.
    """
    counted = count_posts(posts, catalog, model=model, services=services, bin_size=bin_size,
                          progress=progress)
    if counted is None:
        return []
    index, rows = counted.counts.index, counted.rows
    incidents = []
    for key in counted.services:
        progress(f"replaying {key}: {len(index):,} bins, a run every {_span(replay.step)}")
        for surge in replay.run(counted.counts[key], key, counted.chatter[key]):
            incidents.append(build_incident(surge, rows[rows["service"] == key], counted.until))
    incidents.sort(key=lambda inc: (inc["start"], inc["service"]))
    return incidents


def _span(delta: pd.Timedelta) -> str:
    """``0 days 00:05:00`` -> ``5min``, for messages."""
    minutes = delta.total_seconds() / 60
    return f"{minutes:g}min" if minutes < 120 else f"{minutes / 60:g}h"
