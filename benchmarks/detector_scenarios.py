"""Score the causal backtest on the seeded count scenarios of ``outage_signals.simulation.count_scenarios``.

Rerun from the repository root:

    /work/venv/bin/python benchmarks/detector_scenarios.py [--seeds 20] [--quiet-seeds N]
        [--only NAME] [--jobs 1] [--json] [--set FIELD=VALUE ...]

For each scenario and seed 0..N-1 the relevant counts are replayed with
``Replay(step=1min).run(relevant, "svc", chatter)`` (the chatter guard on), turned into
incidents with ``counts_incident`` and scored with ``metrics.score`` at the ``likely`` level.
Columns (pooled over seeds):

* recall: share of true outages hit by a likely incident (start within 30 min before the
  outage's start up to its end);
* FA/day: false likely incidents per service-day, over the days after the 1-day warm-up. A
  false incident is an unmatched likely incident starting outside every outage's window (30 min
  before its start to 30 min after its end); extra incidents inside a window are counted by
  inc/ev instead;
* |err| med, p90: median and 90th percentile of |estimated start − true start|, in minutes;
* cover: share of hit outages whose true start lies inside [start_low, start_high];
* delay: median of detected_at − true start, in minutes, over hit outages;
* inc/ev: likely incidents starting inside an outage's window, per outage (1.0 is right; two
  close outages merged give 0.5, one bumpy outage split in two gives 2.0); exact: share of
  outages with exactly one;
* FA/day w/o chatter: the viral scenario replayed again with ``chatter=None`` (guard off).

Runs are independent and seeded, so the numbers do not depend on ``--jobs``. All times UTC.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import sys
import time
from dataclasses import fields
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from machine import describe, one_line

from outage_signals.backtesting import Replay, counts_incident
from outage_signals.detecting import SurgeDetector
from outage_signals.metrics import score
from outage_signals.records import parse_time
from outage_signals.simulation.count_scenarios import SCENARIOS, Scenario, get, make

SERVICE = "svc"
WINDOW = timedelta(minutes=30)  # before an outage's start and after its end


def replay(settings: dict[str, float] | None = None) -> Replay:
    """The replay under test: a run every minute, ``SurgeDetector`` with ``settings`` changed."""
    detector = partial(SurgeDetector, **(settings or {}))
    return Replay(step=pd.Timedelta("1min"), detector=detector)


def parse_settings(pairs: list[str]) -> dict[str, float]:
    """``["likely_score=7", ...]`` as ``SurgeDetector`` keyword arguments (numbers only)."""
    known = {f.name: f.type for f in fields(SurgeDetector)}
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in known or key in ("baseline", "windows_min"):
            raise SystemExit(f"--set {pair!r}: expected FIELD=NUMBER with FIELD one of "
                             + ", ".join(k for k in known if k not in ("baseline", "windows_min")))
        out[key] = int(value) if known[key] == "int" else float(value)
    return out


def run_one(task: tuple[str, int, dict[str, float]]) -> dict[str, Any]:
    """Replay and score one (scenario name, seed, detector settings); plain numbers only, so it
    can cross processes."""
    name, seed, settings = task
    runner = replay(settings)
    scenario = get(name)
    relevant, chatter, events = make(scenario, seed, SERVICE)
    days = scenario.days - runner.warmup_days
    out: dict[str, Any] = {"name": name, "seed": seed, "events": len(events), "days": days}
    incidents = [counts_incident(s, relevant) for s in runner.run(relevant, SERVICE, chatter)]
    result = score(incidents, events, level="likely")
    out["hits"] = [[m.start_error_min, bool(m.covered), m.delay_min]
                   for m in result.matches if m.incident is not None]
    out["false"] = len(_false(result.false_alarms, events))
    likely_starts = [parse_time(i["start"]) for i in incidents if i["level"] == "likely"]
    out["per_event"] = [sum(e.start - WINDOW <= t <= e.end + WINDOW for t in likely_starts)
                        for e in events]
    if scenario.viral_per_day > 0:
        blind = [counts_incident(s, relevant) for s in runner.run(relevant, SERVICE, None)]
        out["false_no_chatter"] = len(_false(score(blind, events).false_alarms, events))
    return out


def _false(unmatched: list[dict], events: list) -> list[dict]:
    """Unmatched likely incidents that start outside every outage's window."""
    return [i for i in unmatched
            if not any(e.start - WINDOW <= parse_time(i["start"]) <= e.end + WINDOW for e in events)]


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def summarize(scenario: Scenario, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled metrics of one scenario over its seeds (NaN where undefined)."""
    hits = [h for r in runs for h in r["hits"]]
    events = sum(r["events"] for r in runs)
    days = sum(r["days"] for r in runs)
    errors = [abs(h[0]) for h in hits]
    per_event = [n for r in runs for n in r["per_event"]]
    row = {
        "name": scenario.name, "description": scenario.description, "seeds": len(runs),
        "events": events, "days": days,
        "recall": len(hits) / events if events else math.nan,
        "false_per_day": sum(r["false"] for r in runs) / days,
        "err_median": _median(errors),
        "err_p90": float(np.percentile(errors, 90)) if errors else math.nan,
        "coverage": sum(h[1] for h in hits) / len(hits) if hits else math.nan,
        "delay_median": _median([h[2] for h in hits]),
        "incidents_per_event": float(np.mean(per_event)) if per_event else math.nan,
        "exact_one": float(np.mean([n == 1 for n in per_event])) if per_event else math.nan,
        "false_per_day_no_chatter": math.nan,
    }
    if any("false_no_chatter" in r for r in runs):
        row["false_per_day_no_chatter"] = sum(r["false_no_chatter"] for r in runs) / days
    return row


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, each with the scenarios it applies to and those that miss it."""
    by_name = {r["name"]: r for r in rows}
    scen = {s.name: s for s in SCENARIOS if s.name in by_name}
    strong = [n for n, s in scen.items() if s.outages and (s.magnitude is None or s.magnitude >= 2.5)]
    x5 = [n for n, s in scen.items() if s.outages and s.magnitude == 5 and s.onset_min <= 2]
    quiet = [n for n, s in scen.items() if not s.outages and s.viral_per_day == 0]
    shapes = [n for n, s in scen.items() if s.outages > 1 or s.lull_at_min is not None]

    def check(label: str, names: list[str], key: str, ok) -> dict[str, Any]:
        failed = [(n, by_name[n][key]) for n in names if not ok(by_name[n][key])]
        return {"target": label, "scenarios": len(names), "failed": failed}

    return [
        check("recall >= 0.95 (x2.5 or more)", strong, "recall", lambda v: v >= 0.95),
        check("median |start error| <= 3 min (x2.5 or more)", strong, "err_median",
              lambda v: v <= 3),
        check("p90 |start error| <= 10 min (x2.5 or more)", strong, "err_p90", lambda v: v <= 10),
        check("interval coverage >= 90 % (x2.5 or more)", strong, "coverage", lambda v: v >= 0.9),
        check("median delay <= 5 min (x5, 2-min onset)", x5, "delay_median", lambda v: v <= 5),
        check("<= 1 false likely per 30 quiet days", quiet, "false_per_day",
              lambda v: v * 30 <= 1),
        check("exactly one incident per outage (two outages, bumpy)", shapes, "exact_one",
              lambda v: v >= 0.95),
    ]


def _plain(value: Any) -> Any:
    """``value`` with NaN turned into ``None``, for strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value: float, spec: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(
        value, spec)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (f"{'scenario':<18} {'seeds':>5} {'events':>6} {'recall':>6} {'FA/day':>7} "
            f"{'|err| med':>9} {'|err| p90':>9} {'cover':>6} {'delay':>6} {'inc/ev':>6} "
            f"{'FA/day w/o chatter':>18}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['name']:<18} {r['seeds']:>5} {r['events']:>6} {_cell(r['recall'], '.2f'):>6} "
              f"{_cell(r['false_per_day'], '.3f'):>7} {_cell(r['err_median'], '.1f'):>9} "
              f"{_cell(r['err_p90'], '.1f'):>9} {_cell(r['coverage'], '.2f'):>6} "
              f"{_cell(r['delay_median'], '.1f'):>6} {_cell(r['incidents_per_event'], '.2f'):>6} "
              f"{_cell(r['false_per_day_no_chatter'], '.3f'):>18}")


def print_targets(results: list[dict[str, Any]]) -> None:
    print("\nTargets")
    for t in results:
        verdict = ("n/a" if not t["scenarios"] else "PASS" if not t["failed"]
                   else f"FAIL {len(t['failed'])}/{t['scenarios']}")
        print(f"  {verdict:<10} {t['target']}")
        for name, value in t["failed"]:
            print(f"             {name}: {_cell(value, '.3f')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 per scenario")
    parser.add_argument("--quiet-seeds", type=int, default=None,
                        help="seeds for the 30-day scenarios (default: --seeds)")
    parser.add_argument("--only", default=None, help="scenarios whose name contains this")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="change one SurgeDetector setting (repeatable), to measure a trade-off")
    args = parser.parse_args(argv)
    settings = parse_settings(args.set)
    chosen = [s for s in SCENARIOS if args.only is None or args.only in s.name]
    if not chosen:
        print(f"no scenario matches {args.only!r}", file=sys.stderr)
        return 2
    quiet_seeds = args.seeds if args.quiet_seeds is None else args.quiet_seeds
    tasks = [(s.name, seed, settings) for s in chosen
             for seed in range(quiet_seeds if s.days > 8 else args.seeds)]
    began = time.perf_counter()
    if args.jobs > 1:
        # Long runs first so the workers finish together; results are regrouped by name below.
        order = sorted(tasks, key=lambda t: -get(t[0]).days)
        with multiprocessing.Pool(args.jobs) as pool:
            runs = pool.map(run_one, order, chunksize=1)
    else:
        runs = [run_one(t) for t in tasks]
    wall = time.perf_counter() - began
    grouped: dict[str, list[dict[str, Any]]] = {s.name: [] for s in chosen}
    for run in sorted(runs, key=lambda r: (r["name"], r["seed"])):
        grouped[run["name"]].append(run)
    rows = [summarize(s, grouped[s.name]) for s in chosen]
    checks = targets(rows)
    if args.json:
        print(json.dumps(_plain({"machine": one_line(describe()), "wall_s": round(wall, 1), "jobs": args.jobs,
                                 "seeds": args.seeds, "quiet_seeds": quiet_seeds, "settings": settings,
                                 "scenarios": rows, "targets": checks}), indent=1))
        return 0
    changed = ", ".join(f"{k}={v:g}" for k, v in settings.items()) or "none"
    print(f"Causal replay (1-min step, chatter guard on) on count scenarios; seeds: {args.seeds} "
          f"(30-day scenarios: {quiet_seeds}); detector settings changed: {changed}\n")
    print_table(rows)
    print_targets(checks)
    print(f"\nwall time {wall:.1f} s with {args.jobs} job(s); machine: {one_line(describe())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
