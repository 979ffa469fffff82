"""Change-point location for count series: a Poisson cost for ruptures, and its confidence set.

ruptures finds the change point (:class:`CostPoisson` plugged into its exact ``Dynp`` search);
:func:`locate_change` adds the interval: every split whose profile log-likelihood is within
``delta`` of the best one. That set is what the incident's ``start_low``/``start_high`` report.
"""

from __future__ import annotations

import numpy as np
import ruptures as rpt
from ruptures.base import BaseCost


class CostPoisson(BaseCost):
    """Negative Poisson log-likelihood of a segment at its own maximum-likelihood rate.

    Signal: shape ``(n,)`` or ``(n, 1)`` of non-negative counts per bin. Constant terms
    (``log x!``) are dropped; they cancel between segmentations.
    """

    model = "poisson"
    min_size = 2

    def fit(self, signal: np.ndarray) -> CostPoisson:
        values = np.asarray(signal, dtype=float).reshape(len(signal), -1)[:, 0]
        self.cumsum = np.concatenate([[0.0], np.cumsum(values)])
        self.signal = values
        return self

    def error(self, start: int, end: int) -> float:
        total = self.cumsum[end] - self.cumsum[start]
        length = end - start
        if total <= 0:
            return 0.0
        return float(-(total * np.log(total / length) - total))


def _split_costs(values: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cost of every two-segment split ``[0, k) + [k, n)``; returns (splits, costs)."""
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    n = len(values)
    ks = np.arange(min_size, n - min_size + 1)
    left, right = cumsum[ks], cumsum[n] - cumsum[ks]
    with np.errstate(divide="ignore", invalid="ignore"):
        c_left = np.where(left > 0, -(left * np.log(left / ks) - left), 0.0)
        c_right = np.where(right > 0, -(right * np.log(right / (n - ks)) - right), 0.0)
    return ks, c_left + c_right


def locate_change(values: np.ndarray, delta: float = 3.0,
                  min_size: int = 2) -> tuple[int, int, int] | None:
    """The single most likely change in ``values`` and its confidence set.

    Returns ``(best, low, high)`` as indices of the first bin of the new regime, or ``None``
    when the series is too short. ``delta`` is in log-likelihood units: larger, wider sets.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2 * min_size:
        return None
    algo = rpt.Dynp(custom_cost=CostPoisson(), min_size=min_size, jump=1).fit(values)
    best = int(algo.predict(n_bkps=1)[0])
    ks, costs = _split_costs(values, min_size)
    best_cost = float(costs[ks == best][0]) if np.any(ks == best) else float(costs.min())
    inside = ks[costs <= best_cost + delta]
    return best, int(inside.min()), int(inside.max())
