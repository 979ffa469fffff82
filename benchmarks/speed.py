"""Speed benchmark of the detector: one scheduled cycle, and causal backtests.

Rerun from the repository root (single process, nothing is written to disk)::

    /work/venv/bin/python benchmarks/speed.py                # table
    /work/venv/bin/python benchmarks/speed.py --json         # machine-readable
    /work/venv/bin/python benchmarks/speed.py --repeat 9 --data /path/to/shared/data

Every figure is the median wall-clock time (``time.perf_counter``) of ``--repeat`` runs; the
fastest and slowest run are shown next to it. The figures:

(a) **cycle: 1,000 services x 24 h at 1-min bins** (target <= 2 s). What one scheduled run does
    for a day of per-minute counts of 1,000 services: load each service's stored baseline
    (``json.loads`` + :meth:`SeasonalBaseline.from_dict`) and run
    ``SurgeDetector(baseline=...).predict(counts, service)``. Not timed: making the synthetic
    counts and fitting the baselines on 14 days of history per service (a scheduled run keeps
    fitted baselines, see :meth:`SeasonalBaseline.to_dict`). The synthetic services have volumes
    spread log-uniformly from 0.01 to 50 posts/min, a daily cycle with a random peak hour and
    Poisson noise; about 2 % carry an injected surge. Also printed: milliseconds per service,
    the share of the cycle spent loading baselines, and the surges found (all of them, and how
    many of the injected ones were found).
(b) **backtest: 55-day series at 5-min bins** (target <= 10 s). ``read_count_csv`` of NAB's
    ``realTweets/Twitter_volume_AAPL.csv`` (real tweet counts, 15,902 bins) and
    ``backtest_counts`` with ``Replay(step=5min)``: the causal replay, refitting the baseline
    every UTC day and running the detector as a run every 5 minutes would have. If the file is
    missing, a synthetic 55-day 5-minute series of similar volume is used instead, and the table
    says so.
(c) **backtest: 30-day synthetic series at 1-min bins, step 1 min** (no target, for
    information): the same replay on 43,200 one-minute bins of one synthetic service, with a run
    every minute.

The data directory defaults to ``shared/data`` beside the repository
(``Path(__file__).resolve().parents[2] / "shared/data"``); ``--data DIR`` overrides it. The
machine (platform, processor, CPU count, Python and library versions) is printed with the
figures, since timings only compare on the same machine. Exit status is 0 unless ``--check`` is
given and a target fails.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from machine import describe

from outage_signals.backtesting import Replay, backtest_counts, read_count_csv
from outage_signals.baseline import SeasonalBaseline
from outage_signals.detecting import Surge, SurgeDetector

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
AAPL = Path("nab-realtweets") / "Twitter_volume_AAPL.csv"
WINDOWS_MIN = (5, 15, 30, 60, 120)
CYCLE_DAY = "2025-03-03"
HISTORY_DAYS = 14
CYCLE_TARGET_S = 2.0
BACKTEST_TARGET_S = 10.0


@dataclass
class Figure:
    """One timed figure: the run times, its target (if any) and extra facts to print."""

    name: str
    runs: list[float]
    target_s: float | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs)

    @property
    def passed(self) -> bool | None:
        return None if self.target_s is None else self.median_s <= self.target_s

    def to_dict(self) -> dict[str, Any]:
        return {"figure": self.name, "median_s": round(self.median_s, 4),
                "runs_s": [round(r, 4) for r in self.runs], "target_s": self.target_s,
                "passed": self.passed, "notes": self.notes, **self.extra}


def daily_cycle(index: pd.DatetimeIndex, peak_hour: float, amplitude: float = 0.6) -> np.ndarray:
    """Activity factor (mean 1) for each bin: a cosine over the UTC day peaking at ``peak_hour``."""
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60.0
    return 1.0 + amplitude * np.cos(2 * np.pi * (hours - peak_hour) / 24.0)


def surge_shape(n: int, start: int, length: int, onset_bins: float) -> np.ndarray:
    """0 outside ``[start, start + length)``; inside, a fast rise to 1 (outage-like onset)."""
    shape = np.zeros(n)
    t = np.arange(length, dtype=float)
    stop = min(n, start + length)
    shape[start:stop] = (1.0 - np.exp(-t / max(onset_bins, 0.5)))[: stop - start]
    return shape


# --- (a) one scheduled cycle -------------------------------------------------------------------

@dataclass
class CycleData:
    """Inputs of the cycle: stored baselines (JSON text), today's counts, injected surges."""

    stored: dict[str, str]
    counts: list[tuple[str, pd.Series]]
    injected: dict[str, tuple[pd.Timestamp, pd.Timestamp]]
    prepare_s: float


def make_cycle_data(n_services: int, seed: int) -> CycleData:
    """Synthetic services, their 14-day history fitted into baselines, and one day to scan."""
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    day = pd.date_range(CYCLE_DAY, periods=1440, freq="min", tz="UTC")
    history = pd.date_range(day[0] - pd.Timedelta(days=HISTORY_DAYS), periods=HISTORY_DAYS * 1440,
                            freq="min", tz="UTC")
    volumes = np.geomspace(0.01, 50.0, n_services)
    peaks = rng.uniform(0, 24, n_services)
    n_surges = max(1, round(0.02 * n_services))
    surged = set(rng.choice(n_services, size=n_surges, replace=False).tolist())
    stored: dict[str, str] = {}
    counts: list[tuple[str, pd.Series]] = []
    injected: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
    for i in range(n_services):
        key = f"svc{i:04d}"
        past = rng.poisson(volumes[i] * daily_cycle(history, peaks[i])).astype(float)
        base = SeasonalBaseline().fit(pd.Series(past, index=history), windows_min=WINDOWS_MIN)
        stored[key] = json.dumps(base.to_dict())
        rate = volumes[i] * daily_cycle(day, peaks[i])
        if i in surged:
            start = int(rng.integers(120, 1440 - 240))
            length = int(rng.integers(30, 180))
            # A few posts a minute on the quietest services, x3-x4 on the busiest.
            rate = rate + max(2.0, 3.0 * volumes[i]) * surge_shape(len(day), start, length, 2.0)
            injected[key] = (day[start], day[min(start + length, len(day) - 1)])
        counts.append((key, pd.Series(rng.poisson(rate).astype(float), index=day)))
    return CycleData(stored, counts, injected, time.perf_counter() - began)


def run_cycle(data: CycleData) -> tuple[float, float, list[Surge]]:
    """One cycle over all services: ``(total seconds, seconds loading baselines, surges)``."""
    surges: list[Surge] = []
    loading = 0.0
    began = time.perf_counter()
    for key, series in data.counts:
        t0 = time.perf_counter()
        base = SeasonalBaseline.from_dict(json.loads(data.stored[key]))
        loading += time.perf_counter() - t0
        surges.extend(SurgeDetector(baseline=base).predict(series, key))
    return time.perf_counter() - began, loading, surges


def bench_cycle(n_services: int, repeat: int, seed: int) -> Figure:
    data = make_cycle_data(n_services, seed)
    runs, loads = [], []
    surges: list[Surge] = []
    for _ in range(repeat):
        total, loading, surges = run_cycle(data)
        runs.append(total)
        loads.append(loading)
    found_injected = sum(
        any(s.service == key and s.start <= end and (s.end is None or s.end >= start)
            for s in surges)
        for key, (start, end) in data.injected.items())
    likely = sum(s.level == "likely" for s in surges)
    elsewhere = [s for s in surges if s.service not in data.injected]
    elsewhere_likely = sum(s.level == "likely" for s in elsewhere)
    median = statistics.median(runs)
    figure = Figure(f"(a) cycle: {n_services:,} services x 24 h at 1-min bins", runs, CYCLE_TARGET_S)
    figure.notes = [
        f"{1000 * median / n_services:.2f} ms per service; loading baselines "
        f"(json + from_dict) {statistics.median(loads):.3f} s of it",
        f"surges found: {len(surges)} ({likely} likely); injected {len(data.injected)}, "
        f"found {found_injected}; on services without one: {len(elsewhere)} "
        f"({elsewhere_likely} likely)",
        f"not timed: synthetic data + {n_services:,} baseline fits on {HISTORY_DAYS} days "
        f"of history ({data.prepare_s:.1f} s)",
    ]
    figure.extra = {"services": n_services, "ms_per_service": round(1000 * median / n_services, 3),
                    "load_median_s": round(statistics.median(loads), 4),
                    "surges_found": len(surges), "surges_likely": likely,
                    "injected": len(data.injected), "injected_found": found_injected,
                    "surges_elsewhere": len(elsewhere), "surges_elsewhere_likely": elsewhere_likely,
                    "prepare_s": round(data.prepare_s, 2)}
    return figure


# --- (b), (c) causal backtests -----------------------------------------------------------------

def synthetic_series(days: int, bin_min: int, per_min: float, seed: int,
                     start: str = "2025-01-06") -> pd.Series:
    """One service's counts: daily cycle, negative-binomial noise (k = 6), two surges."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days * 1440 // bin_min, freq=f"{bin_min}min", tz="UTC")
    rate = per_min * bin_min * daily_cycle(index, 16.0)
    for day in (days // 3, 2 * days // 3):
        at = (day * 1440 + 14 * 60) // bin_min
        rate = rate + 4 * per_min * bin_min * surge_shape(len(index), at, 90 // bin_min, 1.0)
    noise = rng.gamma(6.0, 1.0 / 6.0, size=len(index))
    return pd.Series(rng.poisson(rate * noise).astype(float), index=index)


def time_runs(repeat: int, job: Callable[[], list[dict]]) -> tuple[list[float], list[dict]]:
    runs: list[float] = []
    result: list[dict] = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = job()
        runs.append(time.perf_counter() - began)
    return runs, result


def summarize(incidents: list[dict]) -> str:
    likely = sum(i["level"] == "likely" for i in incidents)
    return f"{len(incidents)} incidents ({likely} likely)"


def bench_aapl(data_dir: Path, repeat: int, seed: int) -> Figure:
    path = data_dir / AAPL
    replay = Replay(step=pd.Timedelta("5min"))
    if path.is_file():
        def job() -> list[dict]:
            service, counts = read_count_csv(path)
            return backtest_counts([(service, counts)], replay)

        runs, incidents = time_runs(repeat, job)
        bins = len(read_count_csv(path)[1])
        source = f"{path} (read_count_csv timed too)"
    else:
        # AAPL averages about 86 tweets per 5 minutes: 17 per minute.
        counts = synthetic_series(55, 5, 17.0, seed)

        def job() -> list[dict]:
            return backtest_counts([("synthetic", counts)], replay)

        runs, incidents = time_runs(repeat, job)
        bins = len(counts)
        source = f"SYNTHETIC 55-day series: {path} is missing"
    name = "(b) backtest: 55-day series at 5-min bins, step 5 min"
    if not path.is_file():
        name += " (SYNTHETIC)"
    figure = Figure(name, runs, BACKTEST_TARGET_S)
    figure.notes = [f"data: {source}", f"{bins:,} bins; {summarize(incidents)}"]
    figure.extra = {"data": str(path) if path.is_file() else "synthetic", "bins": bins,
                    "incidents": len(incidents)}
    return figure


def bench_month(repeat: int, seed: int) -> Figure:
    counts = synthetic_series(30, 1, 2.0, seed + 1)
    replay = Replay(step=pd.Timedelta("1min"))
    runs, incidents = time_runs(repeat, lambda: backtest_counts([("synthetic", counts)], replay))
    figure = Figure("(c) backtest: 30-day synthetic series at 1-min bins, step 1 min", runs)
    figure.notes = [f"{len(counts):,} bins, 2 posts/min on average, 2 injected surges; "
                    f"{summarize(incidents)}"]
    figure.extra = {"bins": len(counts), "incidents": len(incidents)}
    return figure


# --- output ------------------------------------------------------------------------------------

def print_table(figures: list[Figure], info: dict[str, Any], repeat: int) -> None:
    print(f"outage_signals speed benchmark (median of {repeat} runs, single process)")
    print(f"machine: {info['platform']}; processor {info['processor']}; "
          f"{info['cpu_count']} CPUs; Python {info['python']} "
          f"(numpy {info['numpy']}, pandas {info['pandas']}, scipy {info['scipy']})")
    print()
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'median':>8}  {'min-max':>15}  {'target':>8}  result")
    print("-" * (width + 46))
    for f in figures:
        target = f"<= {f.target_s:g} s" if f.target_s is not None else "-"
        result = {True: "PASS", False: "FAIL", None: "info"}[f.passed]
        spread = f"{min(f.runs):.2f}-{max(f.runs):.2f} s"
        print(f"{f.name:<{width}}  {f.median_s:>6.2f} s  {spread:>15}  {target:>8}  {result}")
    print()
    for f in figures:
        print(f.name)
        for note in f.notes:
            print(f"    {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median reported)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"shared data directory (default {DEFAULT_DATA})")
    parser.add_argument("--services", type=int, default=1000, help="services in the cycle (a)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target fails")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.services < 1:
        parser.error("--repeat and --services must be at least 1")

    figures = [bench_cycle(args.services, args.repeat, args.seed),
               bench_aapl(args.data, args.repeat, args.seed),
               bench_month(args.repeat, args.seed)]
    info = describe()
    if args.json:
        print(json.dumps({"machine": info, "repeat": args.repeat,
                          "figures": [f.to_dict() for f in figures]}, indent=2))
    else:
        print_table(figures, info, args.repeat)
    failed = any(f.passed is False for f in figures)
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
