"""How well *could* a count-based detector do on each scenario? An oracle scan, for scale.

Rerun from the repository root:

    /work/venv/bin/python benchmarks/detector_bound.py [--seeds 40] [--null-days 240]
        [--only NAME] [--jobs 2]

The detector's recall on a quiet, low-volume service is limited by the counts themselves,
not only by the method. To show where that limit lies, this script runs an *oracle*: a scan
over the detector's windows (5 to 120 minutes) that knows each minute's true expected rate and
the true noise (the simulator's negative binomial), so it pays nothing for estimating a
baseline. For each outage scenario of ``outage_signals.simulation.count_scenarios``:

1. Null: the same service without outages (``outages=0``) for ``--null-days`` days. Per day,
   the highest score ``-log10 P(X >= O)`` over every window and minute; the alarm threshold is
   the score exceeded on one day in 30 (the issue's budget of one false alarm per 30 quiet
   days, spent entirely on this one test).
2. Outages: ``--seeds`` seeded runs; an outage is found when some window ending inside it
   (start to end, UTC minutes) passes the threshold; delay = minutes from the true start to
   the end of the first such minute.

Columns: threshold (score), oracle recall, oracle median delay (minutes). A real detector
must also estimate the baseline and its noise from history, so it stays below these figures;
where the oracle itself misses the 0.95 recall target, no detector with that false-alarm
budget can meet it. Seeds are independent of the main benchmark's (the null runs use seeds
from 1000). All times UTC.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from dataclasses import replace

import numpy as np
import pandas as pd
from machine import describe, one_line

from outage_signals.baseline import tail_score
from outage_signals.detecting import trailing_sum
from outage_signals.simulation.count_scenarios import SCENARIOS, Scenario, get, rates
from outage_signals.simulation.profiles import overdispersed_counts

WINDOWS_MIN = (5, 15, 30, 60, 120)
NULL_SEED0 = 1000


def oracle_scores(counts: np.ndarray, expected: np.ndarray, dispersion: float) -> np.ndarray:
    """Per minute, the best window's ``-log10 P(X >= O)`` under the true noise.

    A sum of independent NB(mean e_i, shape k) minutes is matched by an NB of the same mean and
    variance: shape ``(sum e)**2 / sum(e**2 / k)``.
    """
    best = np.zeros(len(counts))
    for w in WINDOWS_MIN:
        obs, exp = trailing_sum(counts, w), trailing_sum(expected, w)
        shape = exp ** 2 / np.maximum(trailing_sum(expected ** 2, w) / dispersion, 1e-12)
        todo = (obs >= 2) & (obs > exp)
        score = np.zeros(len(counts))
        # tail_score takes one shape; group minutes by rounded shape to keep it vectorised.
        rounded = np.round(np.log(np.maximum(shape, 1e-6)), 1)
        for value in np.unique(rounded[todo]):
            pick = todo & (rounded == value)
            score[pick] = tail_score(obs[pick], exp[pick], float(np.exp(value)))
        best = np.maximum(best, score)
    return best


def _draw(frame: pd.DataFrame, scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    return (overdispersed_counts(frame["background"].to_numpy(), scenario.dispersion, rng)
            + rng.poisson(frame["outage"].to_numpy()) + rng.poisson(frame["leak"].to_numpy()))


def null_daily_max(task: tuple[str, int, int]) -> list[float]:
    """Highest oracle score of each day of one quiet run (scenario name, seed, days)."""
    name, seed, days = task
    quiet = replace(get(name), outages=0, days=days)
    frame, _, rng = rates(quiet, seed)
    scores = oracle_scores(_draw(frame, quiet, rng), (frame["background"] + frame["leak"]).to_numpy(),
                           quiet.dispersion)
    return scores[: days * 1440].reshape(days, 1440).max(axis=1).tolist()


def outage_run(task: tuple[str, int]) -> tuple[str, list[list[float]]]:
    """Per outage of one seeded run, the oracle's per-minute scores from its start to its end
    (the threshold is applied later, once the null runs have set it)."""
    name, seed = task
    scenario = get(name)
    frame, events, rng = rates(scenario, seed)
    scores = oracle_scores(_draw(frame, scenario, rng),
                           (frame["background"] + frame["leak"]).to_numpy(), scenario.dispersion)
    out = []
    for event in events:
        lo = frame.index.searchsorted(pd.Timestamp(event.start))
        hi = frame.index.searchsorted(pd.Timestamp(event.end))
        out.append(scores[lo:hi].tolist())
    return name, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="outage runs per scenario")
    parser.add_argument("--null-days", type=int, default=240,
                        help="quiet days simulated per scenario for the threshold")
    parser.add_argument("--only", default=None, help="scenarios whose name contains this")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if s.outages and (args.only is None or args.only in s.name)]
    if not chosen:
        print(f"no outage scenario matches {args.only!r}", file=sys.stderr)
        return 2
    chunk = 30
    null_tasks = [(s.name, NULL_SEED0 + i, min(chunk, args.null_days - i * chunk))
                  for s in chosen for i in range(math.ceil(args.null_days / chunk))]
    outage_tasks = [(s.name, seed) for s in chosen for seed in range(args.seeds)]
    began = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        nulls = pool.map(null_daily_max, null_tasks, chunksize=1)
        runs = pool.map(outage_run, outage_tasks, chunksize=4)
    daily: dict[str, list[float]] = {s.name: [] for s in chosen}
    for (name, _, _), maxima in zip(null_tasks, nulls, strict=True):
        daily[name].extend(maxima)
    inside: dict[str, list[list[float]]] = {s.name: [] for s in chosen}
    for name, events in runs:
        inside[name].extend(events)
    print(f"Oracle scan (true expected rate and noise, windows {WINDOWS_MIN} min), threshold "
          f"= score exceeded on 1 quiet day in 30; {args.seeds} outage runs and "
          f"{args.null_days} quiet days per scenario\n")
    head = f"{'scenario':<18} {'threshold':>9} {'recall':>6} {'delay':>6}"
    print(head)
    print("-" * len(head))
    for s in chosen:
        threshold = float(np.quantile(daily[s.name], 1 - 1 / 30))
        delays = []
        for scores in inside[s.name]:
            over = np.flatnonzero(np.asarray(scores) >= threshold)
            if len(over):
                delays.append(over[0] + 1)
        recall = len(delays) / len(inside[s.name])
        delay = f"{np.median(delays):.1f}" if delays else "-"
        print(f"{s.name:<18} {threshold:>9.1f} {recall:>6.2f} {delay:>6}")
    print(f"\nwall time {time.perf_counter() - began:.1f} s with {args.jobs} job(s); "
          f"machine: {one_line(describe())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
