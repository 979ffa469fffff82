"""Which ruptures search and cost places an outage's start best, and how fast: the comparison
behind :mod:`outage_signals.changepoint`'s choice (exact ``Dynp`` with a Poisson cost).

The task is the one the detector gives ruptures: a window of counts ending shortly after an
alarm, holding one true start; find it. :func:`scenario_windows` cuts such windows around the
true starts of the simulator's count scenarios; :func:`labelled_windows` around the labels of a
labelled real series (NAB realTweets). Each window begins a random 30–90 minutes (scenarios)
before the start and ends 10–30 minutes after it, so no method can win by guessing a fixed
position; the draws are seeded.

:class:`Search` is one (search method, cost) pair. Searches that take a number of changes get
``n_bkps=1``. ``Pelt`` takes a penalty instead: a BIC-like ``2 log n`` in the cost's units
(times a robust noise variance for ``l2``, its square root for ``l1``, times the window's
dispersion index for ``poisson``), and its estimate is the first change up to a segment at
least 1.5 times as high as the one before (an outage start is a rise). ``KernelCPD`` is
ruptures' compiled exact search for the ``linear`` (same optimum as ``l2``) and ``rbf``
kernels.

:func:`run_searches` times and scores every search on every window; :func:`summarize_searches`
reduces that to one row per search. Errors are in minutes (estimate minus truth; positive is
late).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import ruptures as rpt

from outage_signals.changepoint import CostPoisson
from outage_signals.datasets import LabelledSeries
from outage_signals.simulation.count_scenarios import get, make

#: Costs compared for the Python searches; kernels for KernelCPD.
COSTS = ("poisson", "l2", "l1", "normal", "rbf")
KERNELS = ("linear", "rbf")
MIN_SIZE = 2
#: A Pelt change counts as the start when the next segment is this many times as high.
RISE = 1.5


@dataclass(frozen=True)
class OnsetWindow:
    """Counts around one true start. ``truth``: index of the first bin after the start;
    ``bin_minutes``: bin width; ``source``: where the window comes from (scenario and seed,
    or series and label)."""

    source: str
    values: np.ndarray
    truth: int
    bin_minutes: float


def _cut(source: str, counts: pd.Series, at: pd.Timestamp, before: int, after: int,
         bin_minutes: float) -> OnsetWindow | None:
    i = int(counts.index.searchsorted(at))
    lo, hi = i - before, i + after
    if lo < 0 or hi > len(counts):
        return None
    return OnsetWindow(source, counts.to_numpy(dtype=float)[lo:hi], before, bin_minutes)


def scenario_windows(names: Sequence[str], seeds: Sequence[int], seed: int = 0,
                     before_min: tuple[int, int] = (30, 90),
                     after_min: tuple[int, int] = (10, 30)) -> list[OnsetWindow]:
    """A window around every true start of the named count scenarios (one-minute bins).

    ``before_min``/``after_min``: ranges the window's minutes before and after the start are
    drawn from (uniformly, with ``seed``).
    """
    rng = np.random.default_rng(seed)
    out = []
    for name in names:
        for run in seeds:
            relevant, _, events = make(get(name), run)
            for event in events:
                window = _cut(f"{name}/{run}", relevant, pd.Timestamp(event.start),
                              int(rng.integers(before_min[0], before_min[1] + 1)),
                              int(rng.integers(after_min[0], after_min[1] + 1)), 1.0)
                if window is not None:
                    out.append(window)
    return out


def labelled_windows(series: Sequence[LabelledSeries], seed: int = 0,
                     before_min: tuple[int, int] = (180, 540),
                     after_min: tuple[int, int] = (30, 120)) -> list[OnsetWindow]:
    """A window around every label of labelled series (their own bin width). The defaults
    span hours, as NAB's five-minute bins and slow news surges need."""
    rng = np.random.default_rng(seed)
    out = []
    for line in series:
        minutes = (line.counts.index[1] - line.counts.index[0]) / pd.Timedelta(minutes=1)
        for label in line.labels:
            before = round(int(rng.integers(before_min[0], before_min[1] + 1)) / minutes)
            after = round(int(rng.integers(after_min[0], after_min[1] + 1)) / minutes)
            window = _cut(f"{line.name}/{label:%m-%d %H:%M}", line.counts, label, before, after,
                          minutes)
            if window is not None:
                out.append(window)
    return out


def _robust_variance(values: np.ndarray) -> float:
    """Noise variance from first differences (median absolute deviation), immune to one level
    shift; at least the median count (Poisson) and 0.25."""
    diffs = np.diff(values)
    mad = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2)
    return max(mad ** 2, float(np.median(values)), 0.25)


@dataclass(frozen=True)
class Search:
    """One ruptures search method (``Dynp``, ``Binseg``, ``BottomUp``, ``Pelt`` or
    ``KernelCPD``) with one cost (:data:`COSTS`) or kernel (:data:`KERNELS`)."""

    method: str
    cost: str

    @property
    def name(self) -> str:
        return f"{self.method}/{self.cost}"

    def _algo(self):
        if self.method == "KernelCPD":
            return rpt.KernelCPD(kernel=self.cost, min_size=MIN_SIZE, jump=1)
        if self.cost == "poisson":
            settings = {"custom_cost": CostPoisson()}
        elif self.cost == "normal":
            with warnings.catch_warnings():  # ruptures announces its constant-segment bias
                warnings.simplefilter("ignore")
                settings = {"custom_cost": rpt.costs.CostNormal()}
        else:
            settings = {"model": self.cost}
        return getattr(rpt, self.method)(min_size=MIN_SIZE, jump=1, **settings)

    def penalty(self, values: np.ndarray) -> float:
        """Pelt's penalty for ``values`` (see the module docstring)."""
        base = 2 * np.log(len(values))
        if self.cost == "poisson":
            mean = max(float(np.mean(values)), 1e-9)
            return base * max(1.0, float(np.var(values[: len(values) // 2])) / mean)
        if self.cost == "l2":
            return base * _robust_variance(values)
        if self.cost == "l1":
            return base * np.sqrt(_robust_variance(values))
        return base

    def locate(self, values: np.ndarray) -> tuple[int | None, int]:
        """``(estimated start index or None, number of changes found)`` in ``values``."""
        signal = np.asarray(values, dtype=float).reshape(-1, 1)
        algo = self._algo().fit(signal)
        if self.method == "Pelt":
            changes = algo.predict(pen=self.penalty(signal[:, 0]))[:-1]
            return _first_rise(signal[:, 0], changes), len(changes)
        changes = algo.predict(n_bkps=1)[:-1]
        return (int(changes[0]) if changes else None), len(changes)


def _first_rise(values: np.ndarray, changes: Sequence[int]) -> int | None:
    edges = [0, *changes, len(values)]
    for k in range(1, len(edges) - 1):
        before = values[edges[k - 1]:edges[k]].mean()
        after = values[edges[k]:edges[k + 1]].mean()
        if after > 0 and after >= RISE * before:
            return int(edges[k])
    return None


def searches(methods: Sequence[str] = ("Dynp", "Binseg", "BottomUp", "Pelt", "KernelCPD"),
             costs: Sequence[str] = COSTS, kernels: Sequence[str] = KERNELS) -> list[Search]:
    """Every (method, cost) pair to compare; ``Dynp`` (exact, Python costs, slow) only with
    the Poisson cost the detector uses, ``Pelt`` with ``poisson``, ``l2`` and ``rbf``."""
    out = []
    for method in methods:
        if method == "KernelCPD":
            out += [Search(method, kernel) for kernel in kernels]
        elif method == "Dynp":
            out += [Search(method, "poisson")] if "poisson" in costs else []
        elif method == "Pelt":
            out += [Search(method, cost) for cost in costs if cost in ("poisson", "l2", "rbf")]
        else:
            out += [Search(method, cost) for cost in costs]
    return out


def run_searches(windows: Sequence[OnsetWindow], candidates: Sequence[Search]) -> pd.DataFrame:
    """One row per (search, window): ``search``, ``method``, ``cost``, ``window`` (source),
    ``error_min`` (NaN when nothing was found or the search failed), ``changes``, ``ms``
    (wall-clock milliseconds of fit and predict), ``failed`` (the search raised)."""
    rows = []
    for search in candidates:
        for window in windows:
            began = time.perf_counter()
            failed = False
            try:
                with np.errstate(all="ignore"):
                    found, changes = search.locate(window.values)
            except (ValueError, ArithmeticError, rpt.exceptions.NotEnoughPoints,
                    rpt.exceptions.BadSegmentationParameters):
                found, changes, failed = None, 0, True
            ms = 1000 * (time.perf_counter() - began)
            error = np.nan if found is None else (found - window.truth) * window.bin_minutes
            rows.append({"search": search.name, "method": search.method, "cost": search.cost,
                         "window": window.source, "error_min": error, "changes": changes,
                         "ms": ms, "failed": failed})
    return pd.DataFrame(rows)


def summarize_searches(runs: pd.DataFrame, close_min: float = 5.0) -> pd.DataFrame:
    """Per search, best first: ``found`` (share of windows with an estimate),
    ``within`` (share of all windows within ``close_min`` minutes of the truth),
    ``abs_error_median`` and ``abs_error_p90`` (minutes, over found windows), ``bias_median``
    (signed median), ``ms_per_window`` (mean). Ordered by ``within``, then median error."""
    def one(group: pd.DataFrame) -> pd.Series:
        errors = group["error_min"].dropna()
        return pd.Series({
            "found": len(errors) / len(group),
            "within": float((errors.abs() <= close_min).sum()) / len(group),
            "abs_error_median": errors.abs().median() if len(errors) else np.nan,
            "abs_error_p90": errors.abs().quantile(0.9) if len(errors) else np.nan,
            "bias_median": errors.median() if len(errors) else np.nan,
            "ms_per_window": group["ms"].mean(),
        })

    table = pd.DataFrame({name: one(group) for name, group in runs.groupby("search", sort=False)}).T
    table.index.name = "search"
    return table.sort_values(["within", "abs_error_median"], ascending=[False, True])
