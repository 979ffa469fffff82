"""Expected post rates per minute for a simulated service: cycles, bursts and outages.

All rates are posts per minute on a UTC minute grid. Three streams are modelled separately
because they behave differently in real data:

* chatter: ordinary mentions of the service (what the classifier must reject), with daily and
  weekly cycles and occasional viral bursts that are *not* outages;
* background complaints: the steady trickle of individual problem reports, same cycles;
* outage reports: zero outside outages; inside, a fast onset (people notice within minutes),
  a peak, a decay towards a plateau while the service stays down, and a quick fall after the
  true end, followed by a small wave of "it's back" posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from outage_signals.records import format_time


@dataclass(frozen=True)
class OutageEvent:
    """A true outage. ``start``/``end`` are aware UTC datetimes.

    ``peak_per_min``: report rate at the peak, in posts per minute (before daily cycles);
    ``None`` lets the service profile choose. ``onset_min``: minutes from start to about two
    thirds of the peak (a slow ramp uses 30). ``plateau``: share of the peak still reporting
    while the outage lasts.
    """

    service: str
    start: datetime
    end: datetime
    peak_per_min: float | None = None
    onset_min: float = 2.0
    plateau: float = 0.3
    decay_min: float = 60.0
    event_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "service": self.service,
            "start": format_time(self.start),
            "end": format_time(self.end),
            "peak_per_min": self.peak_per_min,
            "onset_min": self.onset_min,
        }


@dataclass(frozen=True)
class ServiceProfile:
    """Volume and rhythm of one simulated service (rates in posts per minute, UTC hours).

    ``peak_hour_utc``: hour of day when activity is highest; ``daily_amplitude``: relative swing
    of the daily cycle (0.6 means 40 % to 160 % of the mean); ``weekend_factor``: activity on
    Saturday and Sunday relative to weekdays; ``viral_per_day``: expected number of chatter
    bursts (news, memes) per day, each lasting ``viral_minutes`` at ``viral_factor`` times the
    usual chatter.
    """

    service: str
    chatter_per_min: float = 3.0
    complaints_per_min: float = 0.2
    outage_peak_per_min: float = 40.0
    peak_hour_utc: float = 17.0
    daily_amplitude: float = 0.6
    weekend_factor: float = 0.8
    viral_per_day: float = 0.5
    viral_factor: float = 4.0
    viral_minutes: int = 40
    dispersion: float = 6.0


def minute_grid(start: datetime, end: datetime) -> pd.DatetimeIndex:
    """UTC minutes from ``start`` (floored) up to but excluding ``end``."""
    return pd.date_range(pd.Timestamp(start).floor("min"), pd.Timestamp(end), freq="min",
                         inclusive="left", tz="UTC")


def cycle(grid: pd.DatetimeIndex, profile: ServiceProfile) -> np.ndarray:
    """Daily and weekly activity factor (mean about 1) for each minute of ``grid``."""
    hours = grid.hour.to_numpy() + grid.minute.to_numpy() / 60.0
    daily = 1.0 + profile.daily_amplitude * np.cos(2 * np.pi * (hours - profile.peak_hour_utc) / 24)
    weekend = np.where(grid.day_of_week.to_numpy() >= 5, profile.weekend_factor, 1.0)
    return daily * weekend


def outage_shape(grid: pd.DatetimeIndex, event: OutageEvent) -> np.ndarray:
    """Share of the event's peak report rate in each minute (0 outside the event's reach)."""
    t = (grid - pd.Timestamp(event.start)).total_seconds().to_numpy() / 60.0
    duration = (pd.Timestamp(event.end) - pd.Timestamp(event.start)).total_seconds() / 60.0
    shape = np.zeros(len(grid))
    inside = t >= 0
    tau_on = max(event.onset_min, 0.5)
    onset = 1.0 - np.exp(-t[inside] / tau_on)
    decay = event.plateau + (1 - event.plateau) * np.exp(-t[inside] / event.decay_min)
    level = onset * decay
    # After the true end the reports stop within minutes (people notice it works again).
    after = t[inside] - duration
    level = np.where(after > 0, level * np.exp(-after / 6.0), level)
    shape[inside] = level
    return np.where(shape < 1e-4, 0.0, shape)


def recovery_shape(grid: pd.DatetimeIndex, event: OutageEvent) -> np.ndarray:
    """Relative rate of "it's back" posts: a bump in the half hour after the true end."""
    t = (grid - pd.Timestamp(event.end)).total_seconds().to_numpy() / 60.0
    return np.where((t >= 0) & (t < 45), np.exp(-t / 12.0), 0.0)


def viral_bursts(grid: pd.DatetimeIndex, profile: ServiceProfile,
                 rng: np.random.Generator) -> np.ndarray:
    """Multiplier (>= 1) on chatter from random non-outage bursts of attention."""
    factor = np.ones(len(grid))
    days = len(grid) / 1440.0
    for _ in range(rng.poisson(profile.viral_per_day * days)):
        at = int(rng.integers(0, len(grid)))
        span = np.arange(at, min(at + profile.viral_minutes, len(grid)))
        rise = np.exp(-(span - at) / (profile.viral_minutes / 2.5))
        factor[span] += (profile.viral_factor - 1.0) * rise
    return factor


def overdispersed_counts(rate: np.ndarray, dispersion: float,
                         rng: np.random.Generator) -> np.ndarray:
    """Counts per minute from a gamma-Poisson (negative binomial) process with mean ``rate``.

    ``dispersion`` is the gamma shape: smaller means burstier; ``inf`` gives plain Poisson.
    """
    if np.isinf(dispersion):
        return rng.poisson(rate)
    noise = rng.gamma(dispersion, 1.0 / dispersion, size=len(rate))
    return rng.poisson(rate * noise)
