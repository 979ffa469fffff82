"""Replays of six real outages: how early and how precisely the causal backtest finds them.

Rerun from the repository root::

    /work/venv/bin/python benchmarks/real_outages.py                  # table
    /work/venv/bin/python benchmarks/real_outages.py --json           # machine-readable
    /work/venv/bin/python benchmarks/real_outages.py --step 1min --seed 3 --event fb-2021-10-04

These are *replays*, not recordings: the true start and end of each outage are real (from the
postmortems in ``shared/data/outage_events.csv``), but the posts around them are simulated with
the package's simulator (:func:`outage_signals.simulation.scenarios.run`: the service's usual
chatter and complaints with daily cycles and viral bursts, plus outage reports shaped by the
true start and end), because no archive of the posts of these outages is available offline.
The figures therefore measure the detector against realistic timing and durations, not against
what people actually wrote.

For each event, posts of its service are simulated from midnight UTC two days before the event's
day until half a day after its true end (at most 5 days), so the replay has a day of warm-up and
a day of baseline before the event. Then :func:`~outage_signals.backtesting.backtest_posts`
classifies the posts and replays the detector as scheduled runs every ``--step`` would have
(data cut at each run, baseline refitted each UTC day), and
:func:`~outage_signals.metrics.score` matches its ``likely`` incidents to the true outage.
Per event:

* **true start**: from the postmortem (UTC); **est. start**: the incident's ``start``;
* **err**: estimated minus true start, in minutes (positive: estimate is late);
* **interval**: ``[start_low, start_high]`` of the estimate, and whether it holds the true start;
* **detected**: ``detected_at``, the first run that raised the incident to ``likely``, and
  **delay**: minutes from the true start to it (what an on-call person would experience);
* **end err**: estimated minus true end, in minutes (blank while still open at the data's end);
* **level**: ``likely`` when matched as such; ``possible`` when only a ``possible`` incident
  matched (then not counted in the recall); ``missed`` otherwise;
* **false**: ``likely`` incidents of the service in the simulated window matching no outage;
* **posts**: posts simulated; **sim s** / **replay s**: seconds to simulate and to backtest.

Then the medians over the events found (and the recall over all events). The relevance model is
trained once before the first replay; its time is printed separately. The catalog is the packaged
one (no user config). The data directory defaults to ``shared/data`` beside the repository
(``Path(__file__).resolve().parents[2] / "shared/data"``); ``--data DIR`` overrides it. If the
events file is missing the script says so on one line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from machine import describe, one_line

from outage_signals import classifying
from outage_signals.backtesting import Replay, backtest_posts
from outage_signals.catalog import Catalog, load_catalog
from outage_signals.metrics import Match, score
from outage_signals.records import parse_time
from outage_signals.simulation import scenarios
from outage_signals.simulation.events import load_events
from outage_signals.simulation.profiles import OutageEvent

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EVENTS_FILE = "outage_events.csv"
DAYS_BEFORE = 2
AFTER_END = timedelta(hours=12)
MAX_DAYS = 5.0


def window(event: OutageEvent) -> tuple[datetime, float]:
    """Simulation start (midnight UTC, two days before the event's day) and length in days.

    The length covers the event and half a day after its end, rounded up to the hour, at most
    :data:`MAX_DAYS`.
    """
    day = event.start.astimezone(UTC)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=DAYS_BEFORE)
    hours = math.ceil((event.end + AFTER_END - start).total_seconds() / 3600)
    return start, min(MAX_DAYS, hours / 24)


def minutes(a: datetime, b: datetime) -> float:
    """``a - b`` in minutes."""
    return (a - b).total_seconds() / 60


def replay_event(event: OutageEvent, catalog: Catalog, events_file: Path, step: pd.Timedelta,
                 seed: int) -> dict[str, Any]:
    """Simulate, backtest and score one event; the row of the report as a dict."""
    start, days = window(event)
    began = time.perf_counter()
    sim = scenarios.run(catalog, [event.service], start, days, events_file=str(events_file),
                        event_ids=[event.event_id], seed=seed)
    sim_s = time.perf_counter() - began
    began = time.perf_counter()
    incidents = backtest_posts(sim.posts, catalog, Replay(step=step), services=[event.service])
    replay_s = time.perf_counter() - began

    result = score(incidents, sim.events)
    match: Match = result.matches[0]
    level = "likely"
    if match.incident is None:
        loose = score(incidents, sim.events, level="possible").matches[0]
        match, level = (loose, "possible") if loose.incident is not None else (match, "missed")
    inc = match.incident
    row: dict[str, Any] = {
        "event_id": event.event_id, "service": event.service,
        "true_start": event.start, "true_end": event.end,
        "window_start": start, "window_days": round(days, 3),
        "level": level, "posts": len(sim.posts), "incidents": len(incidents),
        "false_likely": len(result.false_alarms),
        "false_likely_starts": [i["start"] for i in result.false_alarms],
        "sim_s": sim_s, "replay_s": replay_s,
        "start": None, "start_low": None, "start_high": None, "detected_at": None, "end": None,
        "start_error_min": None, "covered": None, "delay_min": None, "end_error_min": None,
        "start_at_detection_error_min": None, "possible_delay_min": None,
    }
    if inc is not None:
        row.update(start=parse_time(inc["start"]), start_low=parse_time(inc["start_low"]),
                   start_high=parse_time(inc["start_high"]),
                   detected_at=parse_time(inc["detected_at"]),
                   end=parse_time(inc["end"]) if inc.get("end") else None,
                   start_error_min=match.start_error_min, covered=match.covered,
                   delay_min=match.delay_min, end_error_min=match.end_error_min)
        if inc.get("start_at_detection"):
            row["start_at_detection_error_min"] = minutes(parse_time(inc["start_at_detection"]),
                                                          event.start)
        if inc.get("possible_at"):
            row["possible_delay_min"] = minutes(parse_time(inc["possible_at"]), event.start)
    return row


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the events found (likely or possible), plus recall and totals."""
    found = [r for r in rows if r["level"] != "missed"]
    covered = [r["covered"] for r in found]
    return {
        "events": len(rows),
        "recall_likely": sum(r["level"] == "likely" for r in rows) / len(rows) if rows else None,
        "found_any_level": len(found),
        "median_start_error_min": median([r["start_error_min"] for r in found]),
        "median_abs_start_error_min": median(
            [abs(r["start_error_min"]) for r in found if r["start_error_min"] is not None]),
        "interval_covers": f"{sum(bool(c) for c in covered)}/{len(covered)}",
        "median_delay_min": median([r["delay_min"] for r in found]),
        "median_end_error_min": median([r["end_error_min"] for r in found]),
        "median_abs_end_error_min": median(
            [abs(r["end_error_min"]) for r in found if r["end_error_min"] is not None]),
        "false_likely_total": sum(r["false_likely"] for r in rows),
        "median_posts": median([r["posts"] for r in rows]),
        "median_seconds": median([r["sim_s"] + r["replay_s"] for r in rows]),
    }


def hhmm(at: datetime | None, day: datetime) -> str:
    """``HH:MM`` when on ``day``'s UTC date, else ``MM-DD HH:MM``; ``-`` for None."""
    if at is None:
        return "-"
    at = at.astimezone(UTC)
    return at.strftime("%H:%M" if at.date() == day.astimezone(UTC).date() else "%m-%d %H:%M")


def num(value: float | None, fmt: str = "+.0f") -> str:
    return "-" if value is None else format(value, fmt)


def print_report(rows: list[dict[str, Any]], stats: dict[str, Any], info: dict[str, Any],
                 args: argparse.Namespace, model_s: float) -> None:
    print(f"outage_signals real-outage replays: step {args.step}, seed {args.seed} "
          f"(true times from postmortems, posts SIMULATED)")
    print(f"machine: {one_line(info)}")
    print(f"relevance model loaded in {model_s:.1f} s (once, before the replays)")
    print()
    head = (f"{'service':<12} {'true start':<16} {'est.':>5} {'err':>5}  {'interval':<11} "
            f"{'cov':<3}  {'detected':>8} {'delay':>5} {'end err':>7}  {'level':<8} "
            f"{'false':>5} {'posts':>6} {'sim s':>5} {'replay s':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        day = r["true_start"]
        interval = (f"{hhmm(r['start_low'], day)}-{hhmm(r['start_high'], day)}"
                    if r["start_low"] is not None else "-")
        cov = "-" if r["covered"] is None else "yes" if r["covered"] else "no"
        end_err = num(r["end_error_min"]) if r["start"] is not None else "-"
        if r["start"] is not None and r["end"] is None:
            end_err = "open"
        print(f"{r['service']:<12} {r['true_start'].astimezone(UTC):%Y-%m-%d %H:%M} "
              f"{hhmm(r['start'], day):>5} {num(r['start_error_min']):>5}  {interval:<11} "
              f"{cov:<3}  {hhmm(r['detected_at'], day):>8} {num(r['delay_min'], '.0f'):>5} "
              f"{end_err:>7}  {r['level']:<8} {r['false_likely']:>5} {r['posts']:>6} "
              f"{r['sim_s']:>5.1f} {r['replay_s']:>8.1f}")
    print()
    print(f"events {stats['events']}: found as likely {stats['recall_likely']:.0%}, "
          f"at any level {stats['found_any_level']}/{stats['events']}")
    print(f"median start error {num(stats['median_start_error_min'], '+.1f')} min "
          f"(|error| {num(stats['median_abs_start_error_min'], '.1f')} min); "
          f"interval covers the true start {stats['interval_covers']}")
    print(f"median delay to detection {num(stats['median_delay_min'], '.1f')} min; "
          f"median end error {num(stats['median_end_error_min'], '+.1f')} min "
          f"(|error| {num(stats['median_abs_end_error_min'], '.1f')} min)")
    print(f"false likely incidents: {stats['false_likely_total']} in all; median posts simulated "
          f"{stats['median_posts']:,.0f}; median seconds per event {stats['median_seconds']:.1f}")
    print("times UTC; est./interval/detected as HH:MM on the true start's day, else MM-DD HH:MM; "
          "err/delay/end err in minutes")


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step", default="5min", help="time between replayed runs (default 5min)")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"shared data directory (default {DEFAULT_DATA})")
    parser.add_argument("--event", action="append", default=[], metavar="ID",
                        help="replay only this event (repeatable; default all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    try:
        step = pd.Timedelta(args.step)
    except ValueError:
        parser.error(f"--step {args.step!r} is not a duration such as 5min")
    if step <= pd.Timedelta(0):
        parser.error("--step must be positive")

    events_file = args.data / EVENTS_FILE
    if not events_file.is_file():
        print(f"skipped: {events_file} not found (pass --data DIR)")
        return 0
    events = load_events(events_file)
    if args.event:
        unknown = sorted(set(args.event) - {e.event_id for e in events})
        if unknown:
            parser.error(f"no event {', '.join(unknown)} in {events_file}")
        events = [e for e in events if e.event_id in args.event]

    catalog = load_catalog({})
    began = time.perf_counter()
    classifying.default_model(catalog)  # loaded once; backtest_posts reuses it
    model_s = time.perf_counter() - began
    rows = [replay_event(e, catalog, events_file, step, args.seed) for e in events]
    stats = summary(rows)
    info = describe()
    if args.json:
        print(json.dumps(jsonable({"machine": info, "step": args.step,
                                   "step_seconds": step.total_seconds(), "seed": args.seed,
                                   "events_file": str(events_file), "model_s": model_s,
                                   "note": "true times from postmortems; posts simulated",
                                   "events": rows, "summary": stats}), indent=2))
    else:
        print_report(rows, stats, info, args, model_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
