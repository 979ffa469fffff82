"""Scoring the detector where the answers are known: the simulator's count scenarios, and
labelled real series such as NAB realTweets. For notebooks; the full benchmarks with their
published tables are ``benchmarks/detector_scenarios.py`` and ``benchmarks/nab_realtweets.py``.

Scenarios (:func:`scenario_runs`): each ``(scenario, seed)`` of
:mod:`outage_signals.simulation.count_scenarios` is replayed causally (:class:`Replay`, a run
every ``step``, the chatter guard on), its incidents matched to the true outages by
:func:`outage_signals.metrics.score` at the ``likely`` level. A false alarm is an unmatched
``likely`` incident starting outside every outage's span widened by :data:`FALSE_MARGIN`;
days are counted after the replay's warm-up.

Labelled series (:func:`score_labelled`): NAB's way, alarms (``detected_at`` of ``likely``
incidents) after the probation rows count; a window is hit when an alarm falls inside it,
alarms outside every window are false.

All times are UTC; errors and delays in minutes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from outage_signals.backtesting import Replay, counts_incident
from outage_signals.datasets import LabelledSeries
from outage_signals.metrics import score
from outage_signals.records import parse_time
from outage_signals.simulation.count_scenarios import get, make

#: Incidents starting this close before an outage's start or after its end are not false.
FALSE_MARGIN = timedelta(minutes=30)
SERVICE = "svc"


def scenario_runs(names: Sequence[str], seeds: Sequence[int],
                  replay: Replay | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(events, runs)`` frames for every named scenario and seed.

    ``events``: one row per true outage: ``scenario``, ``seed``, ``found`` (bool),
    ``start_error_min`` (estimated minus true start), ``covered`` (interval holds the true
    start), ``delay_min`` (``detected_at`` minus true start); NaN where not found.
    ``runs``: one row per ``(scenario, seed)``: ``days`` scored, ``false_alarms``,
    ``seconds`` (wall clock of the replay). ``replay`` defaults to a run every minute.
    """
    replay = replay or Replay(step=pd.Timedelta("1min"))
    events, runs = [], []
    for name in names:
        scenario = get(name)
        for seed in seeds:
            relevant, chatter, truth = make(scenario, seed, SERVICE)
            began = time.perf_counter()
            incidents = [counts_incident(s, relevant) for s in replay.run(relevant, SERVICE, chatter)]
            seconds = time.perf_counter() - began
            result = score(incidents, truth, level="likely")
            for match in result.matches:
                events.append({"scenario": name, "seed": seed, "found": match.incident is not None,
                               "start_error_min": _nan(match.start_error_min),
                               "covered": match.covered, "delay_min": _nan(match.delay_min)})
            false = [i for i in result.false_alarms
                     if not any(e.start - FALSE_MARGIN <= parse_time(i["start"]) <= e.end + FALSE_MARGIN
                                for e in truth)]
            runs.append({"scenario": name, "seed": seed,
                         "days": scenario.days - replay.warmup_days,
                         "false_alarms": len(false), "seconds": seconds})
    return (pd.DataFrame(events, columns=["scenario", "seed", "found", "start_error_min", "covered",
                                          "delay_min"]),
            pd.DataFrame(runs, columns=["scenario", "seed", "days", "false_alarms", "seconds"]))


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def summarize_scenarios(events: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario (in the order first seen): ``seeds``, ``events``, ``recall``,
    ``false_per_day``, ``abs_error_median``, ``abs_error_p90`` (minutes), ``coverage`` (of
    found outages), ``delay_median`` (minutes), ``seconds_per_run``."""
    rows = []
    for name in pd.unique(runs["scenario"]):
        ev = events[events["scenario"] == name]
        found = ev[ev["found"].astype(bool)]
        run = runs[runs["scenario"] == name]
        errors = found["start_error_min"].abs()
        rows.append({
            "scenario": name, "seeds": len(run), "events": len(ev),
            "recall": found.shape[0] / len(ev) if len(ev) else np.nan,
            "false_per_day": run["false_alarms"].sum() / run["days"].sum(),
            "abs_error_median": errors.median() if len(found) else np.nan,
            "abs_error_p90": errors.quantile(0.9) if len(found) else np.nan,
            "coverage": found["covered"].astype(float).mean() if len(found) else np.nan,
            "delay_median": found["delay_min"].median() if len(found) else np.nan,
            "seconds_per_run": run["seconds"].mean(),
        })
    return pd.DataFrame(rows).set_index("scenario")


def alarms(incidents: Sequence[dict[str, Any]], level: str = "likely") -> list[pd.Timestamp]:
    """Alarm times of incidents, oldest first: ``detected_at`` of those that reached
    ``likely``; with ``level="possible"``, ``possible_at`` (else ``detected_at``) of every one."""
    if level == "likely":
        times = [i["detected_at"] for i in incidents if i["level"] == "likely"]
    else:
        times = [i.get("possible_at") or i["detected_at"] for i in incidents]
    return sorted(pd.Timestamp(parse_time(t, "alarm")) for t in times)


def score_labelled(series: LabelledSeries, incidents: Sequence[dict[str, Any]],
                   level: str = "likely") -> dict[str, Any]:
    """NAB-style figures of one labelled series: ``windows``, ``hit``, ``false_alarms``,
    ``false_per_30d`` (per 30 days after the probation), and ``label_to_alarm_min``: per hit
    window, minutes from the label to the first alarm inside it (negative: before the label)."""
    counted = [t for t in alarms(incidents, level) if t >= series.scored_from]
    deltas = []
    for (start, end), label in zip(series.windows, _window_labels(series), strict=True):
        inside = [t for t in counted if start <= t <= end]
        if inside:
            deltas.append((inside[0] - label) / pd.Timedelta(minutes=1))
    false = [t for t in counted if not any(a <= t <= b for a, b in series.windows)]
    step = series.counts.index[1] - series.counts.index[0]
    days = (series.counts.index[-1] + step - series.scored_from) / pd.Timedelta(days=1)
    return {"series": series.name, "windows": len(series.windows), "hit": len(deltas),
            "false_alarms": len(false), "false_per_30d": len(false) * 30 / days,
            "label_to_alarm_min": deltas}


def _window_labels(series: LabelledSeries) -> list[pd.Timestamp]:
    """The label inside each window (NAB centres each window on one label)."""
    out = []
    for start, end in series.windows:
        inside = [t for t in series.labels if start <= t <= end]
        out.append(inside[0] if inside else start + (end - start) / 2)
    return out
