"""Seeded count-level scenarios with known outages, to evaluate the causal backtest.

Each scenario gives per-minute counts (UTC minute index, ``freq="min"``) of *relevant posts*
(what the classifier keeps) and of *chatter* (the service's other mentions, which the classifier
rejects), plus the true outages. Per minute, with rates in posts per minute:

* relevant = NB(background × cycle, dispersion) + Poisson(outage reports)
  + Poisson(leak × chatter extra);
* chatter = NB(chatter rate × cycle × viral factor − the leaked part, dispersion).

``cycle`` is the daily and weekly rhythm of :func:`~outage_signals.simulation.profiles.cycle`
(mean about 1), the viral factor comes from
:func:`~outage_signals.simulation.profiles.viral_bursts`, and the *chatter extra* is the chatter
above its usual level, chatter rate × cycle × (viral factor − 1): the steady share of ordinary
chatter that the classifier keeps is already part of the background, so only bursts add to it.
``leak`` is the share of chatter the classifier wrongly keeps.

Magnitude ×R: the expected total relevant rate at the outage's peak minute is R times the
expected background at the outage's start, i.e. the expected report rate peaks at
(R − 1) × background. :func:`~outage_signals.simulation.profiles.outage_shape` peaks below 1
(about 0.9 for a 2-minute onset, about 0.5 for a 30-minute ramp), so the event's nominal
``peak_per_min`` is scaled up by the shape's maximum to make that peak exact.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from outage_signals.simulation.profiles import (
    OutageEvent,
    ServiceProfile,
    cycle,
    minute_grid,
    outage_shape,
    overdispersed_counts,
    viral_bursts,
)

#: Every scenario starts at this UTC midnight (a Monday).
START = pd.Timestamp("2025-01-06", tz="UTC")
#: Outages start on this day of the series or later (day 0 is the first).
FIRST_OUTAGE_DAY = 3
#: Minutes left after the last outage's end, so the replay can close the incident.
TAIL_MIN = 180


@dataclass(frozen=True)
class Scenario:
    """One synthetic service and its true outages. Rates in posts per minute, hours in UTC.

    ``background_per_min``: mean relevant posts per minute outside outages on a weekday (the
    daily cycle swings around it, weekends are ``weekend_factor`` of it). ``magnitude``: R of
    ×R (see the module docstring); ``peak_per_min`` instead sets the report rate at the peak in
    absolute terms (sparse services). ``onset_min``: minutes to about two thirds of the peak.
    ``hour_utc``: hour the outage starts in (a random minute of it), ``None`` for any minute.
    ``outages``: how many (0: a quiet scenario); ``gap_min``: minutes between consecutive starts.
    ``lull_at_min``: if set, the reports fall to ``lull_level`` of their rate for ``lull_min``
    minutes from that many minutes after the start (one bumpy outage). ``chatter_multiple``:
    usual chatter relative to the background; ``viral_per_day`` bursts of ``viral_factor``
    times the chatter. ``dispersion``: gamma shape of the NB noise (smaller is burstier).
    """

    name: str
    description: str
    background_per_min: float
    magnitude: float | None = 5.0
    onset_min: float = 2.0
    duration_min: float = 60.0
    hour_utc: float | None = None
    dispersion: float = 6.0
    days: int = 8
    outages: int = 1
    gap_min: float = 180.0
    viral_per_day: float = 0.0
    viral_factor: float = 4.0
    chatter_multiple: float = 20.0
    leak: float = 0.03
    peak_per_min: float | None = None
    peak_hour_utc: float = 17.0
    daily_amplitude: float = 0.6
    weekend_factor: float = 0.8
    lull_at_min: float | None = None
    lull_min: float = 20.0
    lull_level: float = 0.3

    def profile(self, service: str = "svc") -> ServiceProfile:
        """The :class:`ServiceProfile` that sets the rhythm and viral bursts."""
        return ServiceProfile(service=service, chatter_per_min=self.background_per_min
                              * self.chatter_multiple, complaints_per_min=self.background_per_min,
                              outage_peak_per_min=self.peak_per_min or 0.0,
                              peak_hour_utc=self.peak_hour_utc,
                              daily_amplitude=self.daily_amplitude,
                              weekend_factor=self.weekend_factor, viral_per_day=self.viral_per_day,
                              viral_factor=self.viral_factor, dispersion=self.dispersion)


def _rng(scenario: Scenario, seed: int) -> np.random.Generator:
    """A generator for (scenario, seed): stable across runs and independent between scenarios."""
    return np.random.default_rng([seed, zlib.crc32(scenario.name.encode())])


def _first_start(scenario: Scenario, rng: np.random.Generator) -> int:
    """Minute (from :data:`START`) of the first outage: day 3 or later, room for all of them."""
    span = (scenario.outages - 1) * scenario.gap_min + scenario.duration_min
    latest = int(scenario.days * 1440 - span - TAIL_MIN)
    earliest = FIRST_OUTAGE_DAY * 1440
    if latest < earliest:
        raise ValueError(f"{scenario.name}: {scenario.days} days leave no room for the outages")
    if scenario.hour_utc is None:
        return int(rng.integers(earliest, latest + 1))
    offset = round(scenario.hour_utc * 60)
    days = [d for d in range(FIRST_OUTAGE_DAY, scenario.days) if d * 1440 + offset + 59 <= latest]
    return int(rng.choice(days)) * 1440 + offset + int(rng.integers(0, 60))


def _lull(grid: pd.DatetimeIndex, scenario: Scenario, start: pd.Timestamp) -> np.ndarray:
    """Multiplier on the reports of one outage: ``lull_level`` inside the lull, 1 elsewhere."""
    if scenario.lull_at_min is None:
        return np.ones(len(grid))
    lo = start + pd.Timedelta(minutes=scenario.lull_at_min)
    inside = (grid >= lo) & (grid < lo + pd.Timedelta(minutes=scenario.lull_min))
    return np.where(inside, scenario.lull_level, 1.0)


def rates(scenario: Scenario, seed: int, service: str = "svc"
          ) -> tuple[pd.DataFrame, list[OutageEvent], np.random.Generator]:
    """Expected rates (posts per minute) behind :func:`make`, the true outages, and the generator.

    Columns: ``background``, ``outage`` (reports), ``leak`` (chatter kept by the classifier),
    ``chatter`` (chatter rejected by it). The generator is returned in the state :func:`make`
    draws the counts from.
    """
    rng = _rng(scenario, seed)
    grid = minute_grid(START, START + pd.Timedelta(days=scenario.days))
    profile = scenario.profile(service)
    rhythm = cycle(grid, profile)
    background = scenario.background_per_min * rhythm
    outage = np.zeros(len(grid))
    events: list[OutageEvent] = []
    first = _first_start(scenario, rng) if scenario.outages else 0
    for k in range(scenario.outages):
        at = first + round(k * scenario.gap_min)
        start = grid[at]
        unit = OutageEvent(service, start.to_pydatetime(),
                           (start + pd.Timedelta(minutes=scenario.duration_min)).to_pydatetime(),
                           peak_per_min=1.0, onset_min=scenario.onset_min,
                           event_id=f"{scenario.name}/{seed}/{k}")
        shape = outage_shape(grid, unit) * _lull(grid, scenario, start)
        if scenario.peak_per_min is not None:
            target = scenario.peak_per_min
        else:
            target = (scenario.magnitude - 1.0) * background[at]
        event = replace(unit, peak_per_min=target / shape.max())
        outage += event.peak_per_min * shape
        events.append(event)
    usual_chatter = profile.chatter_per_min * rhythm
    viral = viral_bursts(grid, profile, rng)
    leak = scenario.leak * usual_chatter * (viral - 1.0)
    frame = pd.DataFrame({"background": background, "outage": outage, "leak": leak,
                          "chatter": usual_chatter * viral - leak}, index=grid)
    return frame, events, rng


def make(scenario: Scenario, seed: int, service: str = "svc"
         ) -> tuple[pd.Series, pd.Series, list[OutageEvent]]:
    """``(relevant, chatter, events)`` of one seeded run of ``scenario``.

    Both series are counts per minute on a UTC minute index (``freq="min"``), starting at
    :data:`START` and lasting ``scenario.days``; ``events`` are the true outages for ``service``.
    """
    frame, events, rng = rates(scenario, seed, service)
    relevant = (overdispersed_counts(frame["background"].to_numpy(), scenario.dispersion, rng)
                + rng.poisson(frame["outage"].to_numpy()) + rng.poisson(frame["leak"].to_numpy()))
    chatter = overdispersed_counts(frame["chatter"].to_numpy(), scenario.dispersion, rng)
    return (pd.Series(relevant, index=frame.index, name="relevant"),
            pd.Series(chatter, index=frame.index, name="chatter"), events)


def _surges() -> list[Scenario]:
    out = []
    for r in (2, 2.5, 3, 5, 10, 20):
        for rate in (0.05, 0.5, 5):
            out.append(Scenario(f"surge-x{r:g}-{rate:g}", f"×{r:g} surge for 60 min, 2-min onset, "
                                f"{rate:g} posts/min background", rate, magnitude=r))
    return out


def _quiet() -> list[Scenario]:
    out = [Scenario(f"quiet-{rate:g}", f"30 quiet days at {rate:g} posts/min", rate,
                    magnitude=None, days=30, outages=0) for rate in (0.05, 0.5, 5, 300)]
    out.append(Scenario("quiet-bursty-0.5", "30 quiet days at 0.5 posts/min, dispersion 1.5",
                        0.5, magnitude=None, days=30, outages=0, dispersion=1.5))
    return out


#: The suite: surges at three volumes, then the special cases, then the quiet weeks.
SCENARIOS: list[Scenario] = [
    *_surges(),
    Scenario("ramp30-x5", "×5 outage reached over a 30-minute ramp, 0.5 posts/min", 0.5,
             onset_min=30),
    Scenario("blip15-x5", "×5 outage of 15 minutes, 0.5 posts/min", 0.5, duration_min=15),
    Scenario("night-4am-x5", "×5 outage at 04 UTC, the daily trough (peak hour 16), 0.5 posts/min",
             0.5, hour_utc=4, peak_hour_utc=16),
    Scenario("sparse-3/day", "3 posts/day background; outage peaking at 1 post/min for 60 min",
             3 / 1440, magnitude=None, peak_per_min=1.0),
    Scenario("viral-chatter", "no outage; 3 viral chatter bursts/day ×10, chatter 20× background, "
             "3 % leak, 0.5 posts/min", 0.5, magnitude=None, outages=0, viral_per_day=3,
             viral_factor=10),
    Scenario("two-outages-3h", "two ×10 60-min outages whose starts are 3 h apart, 0.5 posts/min",
             0.5, magnitude=10, outages=2, gap_min=180),
    Scenario("bumpy-90min", "one ×10 90-min outage with a 20-min lull at 30 % (minutes 35-55), "
             "0.5 posts/min", 0.5, magnitude=10, duration_min=90, lull_at_min=35),
    *_quiet(),
]


def get(name: str) -> Scenario:
    """The scenario of :data:`SCENARIOS` called ``name``."""
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(name)
