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
from scipy import stats


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
        # Per hour of day: the mean across days with outlying days capped, so an incident day
        # cannot lift it; a plain median would be biased to zero for a service with a few
        # posts an hour, whose typical hour is empty.
        by_hour = table.groupby("hour")["rate"].agg(_capped_mean).reindex(range(24))
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
        """``k`` for sums over each window: a moment estimate, lowered until the tails fit.

        Moment estimate: with mean ``mu`` and variance ``mu + mu**2 / k``,
        ``1 / k = sum((x - mu)**2 - x) / sum(mu**2)`` over non-overlapping windows, dropping the
        top 1 % of squared residuals (a few unlabelled incidents). Real chatter has heavier
        tails than a negative binomial fitted to its variance, so ``k`` is then lowered until
        no more than :data:`TAIL_ALLOWANCE` times the model's share of windows reach its 1 %
        and 0.1 % tails. Needs a day of history; clipped to [0.5, 1000] (1000 is Poisson for
        practical purposes).
        """
        if self.history_days < 1:
            return {}
        minutes = bin_minutes(values.index)
        x = values.to_numpy(dtype=float)
        e = self.expected(values.index)
        out = {}
        for window_min in windows_min:
            w = max(1, round(window_min / minutes))
            n = len(x) // w
            if n < 24:
                continue
            # Non-overlapping windows keep the terms independent.
            obs = x[: n * w].reshape(n, w).sum(axis=1)  # NaN where a bin is excluded
            exp = e[: n * w].reshape(n, w).sum(axis=1)
            obs, exp = obs[~np.isnan(obs)], exp[~np.isnan(obs)]
            if len(obs) < 24:
                continue
            resid = (obs - exp) ** 2 - obs
            keep = resid <= np.quantile(resid, 0.99)
            inv_k = float(np.sum(resid[keep]) / max(np.sum(exp[keep] ** 2), 1e-12))
            k = float(np.clip(1.0 / max(inv_k, 1e-3), 0.5, 1000.0))
            out[window_min] = _fit_tails(obs, exp, k)
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


def _capped_mean(rates: pd.Series) -> float:
    """Mean of hourly ``rates`` (posts/min), each capped at twice the median plus 3 posts/hour."""
    values = rates.to_numpy()
    return float(np.minimum(values, 2.0 * np.median(values) + 3.0 / 60.0).mean())


#: How many times the model's tail share the history may show before ``k`` is lowered.
TAIL_ALLOWANCE = 1.5


def tail_score(observed: np.ndarray, expected: np.ndarray, dispersion: float) -> np.ndarray:
    """``-log10 P(X >= observed)`` for X negative binomial with mean ``expected`` and shape
    ``dispersion`` (Poisson from 1000 up); 0 where nothing was observed."""
    observed = np.asarray(observed, dtype=float)
    mean = np.maximum(np.asarray(expected, dtype=float), 1e-9)
    if np.isinf(dispersion) or dispersion >= 1000:
        logsf = stats.poisson.logsf(observed - 1, mean)
    else:
        logsf = stats.nbinom.logsf(observed - 1, dispersion, dispersion / (dispersion + mean))
    return np.where(observed > 0, -logsf / np.log(10), 0.0)


def _fit_tails(obs: np.ndarray, exp: np.ndarray, k: float) -> float:
    """The largest ``k`` (at most the given one) whose 1 % and 0.1 % tails the history respects."""
    up = obs > exp  # only these can reach an upper tail
    obs, exp, n = obs[up], exp[up], len(up)

    def fits(k_try: float) -> bool:
        scores = tail_score(obs, exp, k_try)
        return all(np.sum(scores >= level) <= TAIL_ALLOWANCE * n * 10.0 ** -level + 2
                   for level in (2.0, 3.0))

    if fits(k):
        return k
    lo, hi = np.log(0.5), np.log(k)  # fits(0.5) is assumed: nothing heavier is modelled
    for _ in range(8):
        mid = 0.5 * (lo + hi)
        if fits(float(np.exp(mid))):
            lo = mid
        else:
            hi = mid
    return float(np.exp(lo))


def bin_minutes(index: pd.DatetimeIndex) -> float:
    """Width of the bins of ``index`` in minutes (its frequency, else the median spacing)."""
    if index.freq is not None:
        return pd.Timedelta(index.freq).total_seconds() / 60.0
    if len(index) > 1:
        return float(np.median(np.diff(index.as_unit("ns").asi8))) / 60e9
    return 1.0
