"""Score the causal backtest on the NAB realTweets development subset (5 files, 15 windows).

Rerun from the repository root:

    /work/venv/bin/python benchmarks/nab_realtweets.py [--step 5min] [--data DIR] [--json]

The data (see PROVENANCE.md there) is read from ``../shared/data/nab-realtweets`` next to the
repository root, or from ``--data DIR``; if it is missing the script says "skipped" and exits 0.
Each file is replayed with ``backtest_counts`` and ``Replay(step=--step)``, then scored:

* Alarms, at two levels. ``likely``: the ``detected_at`` of each incident that reached
  ``likely``. ``possible``: the ``possible_at`` of every incident (the first run that saw it).
* Probation (as NAB): alarms before row min(15% of the file's rows, 750) are ignored.
* hit: a window [start, end] of windows.json is hit when at least one alarm lies inside it.
* false alarms: alarms outside every window (one per incident, not per row); "FA/30d" is
  false alarms per 30 days of scored data (after probation, to the end of the file);
  ">=x10": false alarms whose incident peaked at ten times its expected volume or more
  (bursts NAB leaves unlabelled, which an outage detector is meant to report).
* median min: median over hit windows of (first alarm in the window - the window's label)
  in minutes; negative means the alarm came before the label.
* <=60 min: share of hit windows with |first alarm - label| <= 60 minutes;
  0..60 min: share with the first alarm at or after the label and at most 60 minutes late.
* backtest s: wall-clock seconds of the backtest of the file.

The published figures printed for comparison are NAB's, on all ten realTweets files (33
windows), and count thresholded alarm points rather than incidents, so the comparison is rough:
hit share and false alarms per file (published false positives / 10) are the fairest pairs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from outage_signals.backtesting import Replay, backtest_counts, read_count_csv

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/nab-realtweets"
FILES = [f"Twitter_volume_{name}.csv" for name in ("AAPL", "AMZN", "CRM", "FB", "IBM")]
LEVELS = ("likely", "possible")
# (detector, windows hit of 33, false-positive points) on all ten realTweets files.
PUBLISHED = [("ARTime", 33, 75), ("contextOSE", 27, 9), ("Numenta HTM", 27, 59),
             ("Twitter ADVec", 29, 148), ("Bayesian changepoint", 19, 304)]
PUBLISHED_FILES, PUBLISHED_WINDOWS = 10, 33

Window = tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]  # start, end, label


def utc(text: str) -> pd.Timestamp:
    """A timestamp in UTC; naive text (the NAB files) is taken as UTC."""
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def load_windows(data: Path) -> dict[str, list[Window]]:
    """Windows per file with their label; checks that each window holds exactly one label."""
    labels = json.loads((data / "labels.json").read_text())
    windows = json.loads((data / "windows.json").read_text())
    out: dict[str, list[Window]] = {}
    for name in FILES:
        marks = [utc(t) for t in labels[name]]
        out[name] = []
        for start, end in windows[name]:
            start, end = utc(start), utc(end)
            inside = [m for m in marks if start <= m <= end]
            assert len(inside) == 1, f"{name}: window {start}..{end} holds {len(inside)} labels"
            out[name].append((start, end, inside[0]))
        assert len(marks) == len(out[name]), f"{name}: a label lies outside every window"
    return out


def alarm_times(incidents: list[dict], level: str) -> list[tuple[pd.Timestamp, float]]:
    """``(alarm time, peak ratio)`` of the incidents at ``level``, oldest first."""
    if level == "likely":
        return sorted((utc(inc["detected_at"]), inc["ratio"]) for inc in incidents
                      if inc["level"] == "likely")
    return sorted((utc(inc["possible_at"]), inc["ratio"]) for inc in incidents)


def score(alarms: list[tuple[pd.Timestamp, float]], windows: list[Window],
          scored_from: pd.Timestamp) -> dict:
    """Hits, false alarms (and those peaking at ×10 or more) and label-to-first-alarm minutes
    of one file at one level."""
    alarms = [(t, r) for t, r in alarms if t >= scored_from]
    deltas = []
    for start, end, label in windows:
        inside = [t for t, _ in alarms if start <= t <= end]
        if inside:
            deltas.append((inside[0] - label) / pd.Timedelta(minutes=1))
    false = [r for t, r in alarms if not any(s <= t <= e for s, e, _ in windows)]
    return {"windows": len(windows), "hit": len(deltas), "false_alarms": len(false),
            "false_x10": sum(r >= 10 for r in false), "deltas": deltas}


def figures(parts: list[dict], days: float, seconds: float) -> dict[str, Any]:
    """The reported figures of one file, or of several files summed."""
    deltas = [d for p in parts for d in p["deltas"]]
    false = sum(p["false_alarms"] for p in parts)
    share = (lambda n: n / len(deltas)) if deltas else (lambda n: None)
    return {"windows": sum(p["windows"] for p in parts), "hit": len(deltas),
            "false_alarms": false, "false_x10": sum(p["false_x10"] for p in parts),
            "false_per_30d": false * 30 / days, "scored_days": days,
            "median_min": statistics.median(deltas) if deltas else None,
            "within_60": share(sum(abs(d) <= 60 for d in deltas)),
            "after_0_60": share(sum(0 <= d <= 60 for d in deltas)),
            "deltas_min": deltas, "backtest_s": seconds}


def run(data: Path, step: pd.Timedelta, step_text: str) -> dict[str, Any]:
    windows = load_windows(data)
    levels: dict[str, dict[str, dict]] = {level: {} for level in LEVELS}
    parts: dict[str, list[dict]] = {level: [] for level in LEVELS}
    days_total = seconds_total = 0.0
    for name in FILES:
        service, counts = read_count_csv(data / name)
        began = time.perf_counter()
        incidents = backtest_counts([(service, counts)], Replay(step=step))
        seconds = time.perf_counter() - began
        probation = min(int(0.15 * len(counts)), 750)
        scored_from = counts.index[probation]
        days = (counts.index[-1] + (counts.index[1] - counts.index[0]) - scored_from) / pd.Timedelta(days=1)
        days_total, seconds_total = days_total + days, seconds_total + seconds
        for level in LEVELS:
            part = score(alarm_times(incidents, level), windows[name], scored_from)
            parts[level].append(part)
            levels[level][name] = figures([part], days, seconds)
    for level in LEVELS:
        levels[level]["total"] = figures(parts[level], days_total, seconds_total)
    published = [{"detector": d, "hit": h, "windows": PUBLISHED_WINDOWS, "false_positives": fp,
                  "false_per_file": fp / PUBLISHED_FILES} for d, h, fp in PUBLISHED]
    return {"data": str(data), "step": step_text, "files": len(FILES),
            "windows": sum(len(w) for w in windows.values()), "levels": levels, "published": published}


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def print_report(summary: dict[str, Any]) -> None:
    print(f"NAB realTweets dev subset: {summary['files']} files, {summary['windows']} windows, "
          f"runs every {summary['step']} ({summary['data']})")
    for level, rows in summary["levels"].items():
        print(f"\nlevel {level} (alarm = {'detected_at' if level == 'likely' else 'possible_at'})")
        print(f"{'file':<8}{'hit':>7}{'false':>7}{'>=x10':>7}{'FA/30d':>8}{'median min':>12}"
              f"{'<=60 min':>10}{'0..60 min':>11}{'backtest s':>12}")
        for name, f in rows.items():
            median = "-" if f["median_min"] is None else f"{f['median_min']:+.0f}"
            label = name.removeprefix("Twitter_volume_").removesuffix(".csv")
            print(f"{label:<8}{f['hit']:>3}/{f['windows']:<3}{f['false_alarms']:>7}{f['false_x10']:>7}"
                  f"{f['false_per_30d']:>8.1f}{median:>12}{pct(f['within_60']):>10}"
                  f"{pct(f['after_0_60']):>11}{f['backtest_s']:>12.1f}")
    n = summary["files"]
    print(f"\nPublished (NAB, all {PUBLISHED_FILES} realTweets files, {PUBLISHED_WINDOWS} windows, "
          f"false-positive alarm points); ours: {n} dev files, {summary['windows']} windows, "
          "false alarms = incidents.")
    print(f"{'detector':<22}{'hit':>8}{'hit %':>7}{'FP':>6}{'FP/file':>9}")
    for p in summary["published"]:
        print(f"{p['detector']:<22}{p['hit']:>5}/{p['windows']:<2}{pct(p['hit'] / p['windows']):>7}"
              f"{p['false_positives']:>6}{p['false_per_file']:>9.1f}")
    for level, rows in summary["levels"].items():
        t = rows["total"]
        print(f"{'ours, ' + level:<22}{t['hit']:>5}/{t['windows']:<2}{pct(t['hit'] / t['windows']):>7}"
              f"{t['false_alarms']:>6}{t['false_alarms'] / n:>9.1f}")
    print("Published median label->first in-window detection: within about +-0.1 h (6 min) "
          "for the best detectors.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", default="5min",
                        help="time between scheduled runs of the replay (default 5min)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the nab-realtweets directory")
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of tables")
    args = parser.parse_args(argv)
    needed = [args.data / name for name in [*FILES, "labels.json", "windows.json"]]
    missing = next((path for path in needed if not path.is_file()), None)
    if missing is not None:
        print(f"skipped: NAB realTweets data not found ({missing})")
        return 0
    try:
        step = pd.Timedelta(args.step)
    except ValueError:
        parser.error(f"--step: not a duration: {args.step!r}")
    summary = run(args.data, step, args.step)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print_report(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
