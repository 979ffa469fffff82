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

Noise model: counts are negative binomial with mean ``mu`` and variance ``mu + mu**2 / k``
(``k`` = :attr:`dispersion`); ``k = inf`` is Poisson. Scale matters here: three posts a day and
three hundred a minute are judged by the same tail probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class SeasonalBaseline:
    """Expected counts per bin from history, with a negative-binomial noise model.

    Settings: ``dispersion`` (gamma shape ``k``; larger is closer to Poisson),
    ``floor_per_day`` (minimum expected posts per day), ``max_hour_factor`` (cap on an hour of
    the profile relative to the median hour).

    After :meth:`fit`, ``hourly_per_min`` holds 24 expected rates in posts per minute (UTC hour
    of day), ``weekday_factor`` 7 multipliers (Monday first) and ``history_days`` the span fitted.
    """

    dispersion: float = 4.0
    floor_per_day: float = 1.0
    max_hour_factor: float = 4.0
    hourly_per_min: np.ndarray = field(default_factory=lambda: np.zeros(24))
    weekday_factor: np.ndarray = field(default_factory=lambda: np.ones(7))
    level_per_min: float = 0.0
    history_days: float = 0.0

    def fit(self, counts: pd.Series) -> SeasonalBaseline:
        """Learn the profile from ``counts`` (index: UTC bin starts with a fixed frequency)."""
        if len(counts) == 0:
            return self
        minutes = bin_minutes(counts.index)
        hourly = counts.resample("1h").sum() / 60.0  # posts per minute in each hour
        bins_per_hour = counts.resample("1h").size() * minutes
        hourly = hourly[bins_per_hour >= 30]  # ignore hours mostly outside the history
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
        return self

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

    def variance(self, mean: np.ndarray) -> np.ndarray:
        """Variance of a count with the given mean under the noise model."""
        if np.isinf(self.dispersion):
            return mean
        return mean + mean**2 / self.dispersion


def bin_minutes(index: pd.DatetimeIndex) -> float:
    """Width of the bins of ``index`` in minutes (its frequency, else the median spacing)."""
    if index.freq is not None:
        return pd.Timedelta(index.freq).total_seconds() / 60.0
    if len(index) > 1:
        return float(np.median(np.diff(index.asi8))) / 60e9
    return 1.0
