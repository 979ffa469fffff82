"""Retries with capped exponential backoff and jitter, and waits for rate limits.

Collectors wrap each API request in :func:`call`. The collector says what a failure means
(:class:`Verdict`): wait a known time (a rate limit that names its reset), retry after a backoff
(a 5xx, a timeout, a dropped connection, a garbled body), or give up (bad credentials, a
missing resource). Every wait is reported through ``log`` with its reason, as an operator
reading a cron log needs to know why a run took twenty minutes.

``sleep`` and ``rng`` are injectable so tests run without real waiting and are seeded.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from outage_signals.errors import CollectError, RateLimited

T = TypeVar("T")


@dataclass(frozen=True)
class Verdict:
    """What to do about one failure.

    ``wait``: seconds the server asked for (rate limits), or ``None`` to use the backoff.
    ``retry``: ``False`` means give up at once. ``reason``: a few words for the log.
    """

    reason: str
    retry: bool = True
    wait: float | None = None


@dataclass
class RetryPolicy:
    """How hard to try.

    ``attempts``: tries per request, the first included (rate-limit waits do not use them up,
    up to ``max_rate_waits``). ``base`` and ``cap``: backoff in seconds, ``base * 2**n`` capped
    at ``cap``, each multiplied by a random factor in [0.5, 1.0] so that many clients retrying
    together spread out. ``max_wait``: the longest rate-limit wait accepted, in seconds; a
    longer one stops the collect with :class:`RateLimited` (run it again later to resume).
    """

    attempts: int = 6
    base: float = 1.0
    cap: float = 60.0
    max_wait: float = 900.0
    max_rate_waits: int = 20
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=lambda: random.Random())

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (1-based)."""
        ceiling = min(self.cap, self.base * 2 ** (failures - 1))
        return ceiling * self.rng.uniform(0.5, 1.0)


def call(
    request: Callable[[], T],
    *,
    judge: Callable[[BaseException], Verdict | None],
    policy: RetryPolicy,
    what: str,
    log: Callable[[str], None] = lambda message: None,
) -> T:
    """Run ``request()`` until it succeeds or the policy gives up.

    ``judge(exc)`` returns a :class:`Verdict` for failures it understands and ``None`` for the
    rest, which propagate unchanged (bugs keep their traceback). ``what`` names the request in
    log lines and errors ("reddit search 'slack down' page 3").
    """
    failures = 0
    rate_waits = 0
    while True:
        try:
            return request()
        except Exception as exc:
            verdict = judge(exc)
            if verdict is None:
                raise
            if not verdict.retry:
                raise CollectError(f"{what}: {verdict.reason}") from None
            if verdict.wait is not None:
                rate_waits += 1
                if verdict.wait > policy.max_wait:
                    raise RateLimited(
                        f"{what}: {verdict.reason}; the limit resets in {verdict.wait / 60:.0f} min, "
                        f"longer than the {policy.max_wait / 60:.0f} min this run may wait. "
                        "Everything so far is saved; run again later to resume",
                        verdict.wait,
                    ) from None
                if rate_waits > policy.max_rate_waits:
                    raise CollectError(f"{what}: still rate limited after {rate_waits - 1} waits") from None
                delay = max(0.0, verdict.wait)
            else:
                failures += 1
                if failures >= policy.attempts:
                    raise CollectError(
                        f"{what}: {verdict.reason}; gave up after {failures} attempts. "
                        "Everything so far is saved; run again to resume"
                    ) from None
                delay = policy.backoff(failures)
            log(f"{what}: {verdict.reason}; waiting {delay:.1f} s")
            policy.sleep(delay)
