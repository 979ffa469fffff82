"""Change-point location for count series: a Poisson cost for ruptures, and its confidence set.

ruptures finds the change point (:class:`CostPoisson` plugged into its exact ``Dynp`` search);
:func:`locate_change` adds the interval: every split whose profile log-likelihood is within
``delta`` of the best one. That set is what the incident's ``start_low``/``start_high`` report.

A step is the wrong shape for reports that build up over half an hour: its change lands partway
up the climb. :func:`locate_onset` fits an onset followed by a linear ramp (of several lengths,
a step among them) on top of the expected level, for the start and a wider, honest interval.
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


#: Ramp lengths (bins) :func:`locate_onset` tries; 0 is a step.
RAMP_BINS = (0, 3, 6, 10, 15, 20, 30, 45)


def locate_onset(values: np.ndarray, expected: np.ndarray, delta: float = 3.0,
                 ramps: tuple[int, ...] = RAMP_BINS,
                 iterations: int = 25) -> tuple[int, int, int, int] | None:
    """Where reports began to rise, for rises that build up over minutes as well as steps.

    Model, per bin ``t`` of ``values`` (counts): Poisson with rate ``c * expected[t] + A * g[t]``
    where ``g`` is 0 before the onset ``s``, climbs linearly to 1 over ``r`` bins and stays
    there; ``c >= 0`` (how the series' level compares with the baseline) and ``A >= 0`` (the
    extra rate) are fitted for every ``(s, r)`` by the multiplicative EM updates for a Poisson
    mixture of two known shapes. ``ramps`` lists the ``r`` tried (0: a step).

    Returns ``(best, low, high, ramp)``: the onset with the highest likelihood over all ramps,
    the range of onsets whose profile log-likelihood (maximised over ``r``) is within ``delta``
    of it, and the best onset's ramp length, or ``None`` when the window is too short. A step
    model puts a slow ramp's change halfway up; this one puts it where the climb starts, and
    its interval widens when the data cannot tell a late step from an early ramp.
    """
    x = np.asarray(values, dtype=float)
    e = np.maximum(np.asarray(expected, dtype=float), 1e-6)
    n = len(x)
    if n < 4:
        return None
    t = np.arange(n, dtype=float)
    s = np.arange(1, n - 1, dtype=float)  # at least one bin before and after the onset
    r = np.asarray(ramps, dtype=float)
    # g[s, r, t]: share of the extra rate reached in bin t.
    g = np.clip((t[None, None, :] - s[:, None, None] + 1) / (r[None, :, None] + 1), 0.0, 1.0)
    c = np.full(g.shape[:2], max(x.sum(), 1.0) / e.sum() / 2)
    amp = np.maximum(x.mean(), 1e-3) * np.ones_like(c)
    g_sum, e_sum = g.sum(axis=2), e.sum()
    for _ in range(iterations):
        rate = c[..., None] * e + amp[..., None] * g
        share = x / np.maximum(rate, 1e-12)
        c = c * (share * e).sum(axis=2) / e_sum
        amp = amp * (share * g).sum(axis=2) / np.maximum(g_sum, 1e-12)
    rate = np.maximum(c[..., None] * e + amp[..., None] * g, 1e-12)
    loglik = (x * np.log(rate) - rate).sum(axis=2)
    profile = loglik.max(axis=1)
    best = int(np.argmax(profile))
    inside = np.flatnonzero(profile >= profile[best] - delta)
    ramp = int(r[int(np.argmax(loglik[best]))])
    return int(s[best]), int(s[inside.min()]), int(s[inside.max()]), ramp
