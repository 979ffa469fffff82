"""Seasonal baseline: how many relevant posts to expect in each bin, and how noisy they are.

The expected rate is a time-of-day profile (UTC hours, smoothed across neighbouring hours)
scaled by a day-of-week factor once there is enough history:

* under 7 days of history: time of day only; from 1 day on, the median across days makes an
  incident on one day of three leave the profile untouched;
* 7 to 13 days: a weekday/weekend factor as well;
* 14 days or more: one factor per day of the week.

Robustness to past incidents comes from medians (across days for each hour, across hours for
the overall level) and from capping any hour at :attr:`SeasonalBaseline.max_hour_factor` times
the typical hour. A floor keeps the expectation positive for services with a few posts a day,
so one post is not an infinite surprise.

Noise model: counts summed over a window are negative binomial with mean ``mu`` and variance
``mu + mu**2 / k``; ``k`` is estimated from the history for each detection window (moment
estimator, robust to a few unlabelled incidents) and defaults to :attr:`dispersion` with under a
day of history. Scale matters here: three posts a day and three hundred a minute are judged by
the same tail probabilities, and a bursty series by its own burstiness.

:meth:`SeasonalBaseline.fit` takes an ``exclude`` mask (bins of known incidents), and
:meth:`to_dict`/:meth:`from_dict` let a scheduled run keep a fitted baseline instead of
recomputing months of history each time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class SeasonalBaseline:
    """Expected counts per bin from history, with a negative-binomial noise model.

    Settings: ``dispersion`` (gamma shape ``k`` used before any is estimated; larger is closer
    to Poisson), ``floor_per_day`` (minimum expected posts per day), ``max_hour_factor`` (cap on
    an hour of the profile relative to the median hour).

    After :meth:`fit`: ``hourly_per_min`` holds 24 expected rates in posts per minute (UTC hour
    of day), ``weekday_factor`` 7 multipliers (Monday first), ``history_days`` the span fitted
    and ``window_dispersion`` the ``k`` estimated from the history for sums over windows of that
    many minutes (see :meth:`dispersion_for`).
    """

    dispersion: float = 4.0
    floor_per_day: float = 1.0
    max_hour_factor: float = 4.0
    hourly_per_min: np.ndarray = field(default_factory=lambda: np.zeros(24))
    weekday_factor: np.ndarray = field(default_factory=lambda: np.ones(7))
    level_per_min: float = 0.0
    history_days: float = 0.0
    window_dispersion: dict[int, float] = field(default_factory=dict)

    def fit(self, counts: pd.Series, exclude: np.ndarray | None = None,
            windows_min: tuple[int, ...] = (5, 15, 30)) -> SeasonalBaseline:
        """Learn the profile from ``counts`` (index: UTC bin starts with a fixed frequency).

        ``exclude``: boolean mask of bins to leave out (known incidents), so they cannot raise
        the baseline. ``windows_min``: window lengths whose dispersion is estimated.
        """
        if len(counts) == 0:
            return self
        minutes = bin_minutes(counts.index)
        values = counts.astype(float)
        if exclude is not None:
            values = values.mask(np.asarray(exclude, dtype=bool))
        per_min = values / minutes
        grouped = per_min.resample("1h")
        coverage = grouped.count() * minutes
        hourly = grouped.mean()[coverage >= 30]  # hours mostly seen and not excluded
        self.history_days = len(counts) * minutes / 1440.0
        if hourly.empty:
            return self
        table = pd.DataFrame({"rate": hourly.to_numpy(), "hour": hourly.index.hour,
                              "day": hourly.index.normalize()})
        by_hour = table.groupby("hour")["rate"].median().reindex(range(24))
        by_hour = by_hour.fillna(by_hour.median() if by_hour.notna().any() else 0.0)
        level = float(np.median(table["rate"]))
        # Trimmed mean as a second opinion for sparse services, whose median hour is zero.
        trimmed = float(np.mean(np.sort(table["rate"])[: max(1, int(len(table) * 0.9))]))
        self.level_per_min = max(level, trimmed)
        profile = by_hour.to_numpy()
        profile = np.minimum(profile, self.max_hour_factor * max(np.median(profile), trimmed))
        # Circular smoothing over neighbouring hours damps the noise of few days.
        profile = 0.25 * np.roll(profile, 1) + 0.5 * profile + 0.25 * np.roll(profile, -1)
        floor = max(self.floor_per_day / 1440.0, 0.25 * trimmed)
        self.hourly_per_min = np.maximum(profile, floor)
        self.weekday_factor = self._weekday_factor(table)
        self.window_dispersion = self._estimate_dispersion(values, windows_min)
        return self

    def _estimate_dispersion(self, values: pd.Series, windows_min: tuple[int, ...]) -> dict[int, float]:
        """Moment estimate of ``k`` for sums over each window, from non-excluded history.

        With mean ``mu`` and variance ``mu + mu**2 / k``:
        ``1 / k = sum((x - mu)**2 - x) / sum(mu**2)``. Needs a day of history; clipped to
        [0.5, 1000] (1000 is Poisson for practical purposes).
        """
        if self.history_days < 1:
            return {}
        minutes = bin_minutes(values.index)
        expected = pd.Series(self.expected(values.index), index=values.index)
        out = {}
        for window_min in windows_min:
            w = max(1, round(window_min / minutes))
            # Non-overlapping windows keep the terms independent.
            group = np.arange(len(values)) // w
            obs = values.groupby(group).sum(min_count=w)
            exp = expected.groupby(group).sum()
            ok = obs.notna()
            obs, exp = obs[ok].to_numpy(), exp[ok].to_numpy()
            if len(obs) < 24:
                continue
            # A robust version: drop the top 1 % of squared residuals (unlabelled incidents).
            resid = (obs - exp) ** 2 - obs
            keep = resid <= np.quantile(resid, 0.99)
            inv_k = float(np.sum(resid[keep]) / max(np.sum(exp[keep] ** 2), 1e-12))
            out[window_min] = float(np.clip(1.0 / max(inv_k, 1e-3), 0.5, 1000.0))
        return out

    def dispersion_for(self, window_min: int) -> float:
        """``k`` for counts summed over ``window_min`` minutes (estimated, else the default)."""
        return self.window_dispersion.get(window_min, self.dispersion)

    def _weekday_factor(self, table: pd.DataFrame) -> np.ndarray:
        if self.history_days < 7:
            return np.ones(7)
        daily = table.groupby("day")["rate"].median()
        dow = daily.index.day_of_week
        overall = float(np.median(daily)) or 1.0
        if self.history_days < 14:
            weekend = daily[dow >= 5]
            weekday = daily[dow < 5]
            if weekend.empty or weekday.empty:
                return np.ones(7)
            ratio = float(np.median(weekend)) / max(float(np.median(weekday)), 1e-9)
            ratio = float(np.clip(ratio, 0.3, 3.0))
            return np.array([1.0] * 5 + [ratio] * 2)
        per_dow = daily.groupby(dow).median().reindex(range(7)).fillna(overall)
        return np.clip(per_dow.to_numpy() / overall, 0.3, 3.0)

    def expected(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Expected count in each bin of ``index`` (same units as the fitted counts)."""
        minutes = bin_minutes(index)
        per_min = self.hourly_per_min[index.hour] * self.weekday_factor[index.day_of_week]
        return per_min * minutes

    def to_dict(self) -> dict:
        """JSON-ready state, so a scheduled run can reuse a baseline instead of refitting."""
        return {
            "hourly_per_min": [round(float(v), 6) for v in self.hourly_per_min],
            "weekday_factor": [round(float(v), 4) for v in self.weekday_factor],
            "level_per_min": self.level_per_min,
            "history_days": round(self.history_days, 3),
            "dispersion": self.dispersion,
            "window_dispersion": {str(k): v for k, v in self.window_dispersion.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> SeasonalBaseline:
        """Inverse of :meth:`to_dict`."""
        return cls(
            dispersion=float(data.get("dispersion", 4.0)),
            hourly_per_min=np.asarray(data["hourly_per_min"], dtype=float),
            weekday_factor=np.asarray(data.get("weekday_factor", [1.0] * 7), dtype=float),
            level_per_min=float(data.get("level_per_min", 0.0)),
            history_days=float(data.get("history_days", 0.0)),
            window_dispersion={int(k): float(v)
                               for k, v in data.get("window_dispersion", {}).items()},
        )


def bin_minutes(index: pd.DatetimeIndex) -> float:
    """Width of the bins of ``index`` in minutes (its frequency, else the median spacing)."""
    if index.freq is not None:
        return pd.Timedelta(index.freq).total_seconds() / 60.0
    if len(index) > 1:
        return float(np.median(np.diff(index.as_unit("ns").asi8))) / 60e9
    return 1.0
