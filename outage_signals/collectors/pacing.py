"""Rate-limit budgets announced in response headers, for clients that do not honour them.

Bluesky (``ratelimit-remaining`` / ``ratelimit-reset``) and Mastodon (``X-RateLimit-Remaining`` /
``X-RateLimit-Reset``) say in every response how many requests are left and when the window
resets. Neither atproto nor Mastodon.py in ``throw`` mode waits before a request: the next
request would simply get a 429. A :class:`Pacer` remembers a spent budget per server and, on the
next request there, raises :class:`RateLimitHit`; the collector's judge turns it into a wait
(:class:`outage_signals.retrying.Verdict` with ``wait``), so the driver sleeps, logs the reason
and honours ``--max-wait`` exactly as for a 429.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimitHit(Exception):
    """Wait ``wait`` seconds (``None``: unknown, back off) before asking ``server`` again."""

    def __init__(self, reason: str, wait: float | None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class Pacer:
    """Spent budgets per server. ``clock``: epoch seconds (``time.time``; the reset headers are
    epoch times, so the clock must be the real one, not a test's frozen ``now``)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._resume_at: dict[str, float] = {}

    def observe(self, server: str, remaining: int | None, reset_at: float | None) -> None:
        """Note a response's budget: with nothing ``remaining`` before ``reset_at`` (epoch s),
        the next request to ``server`` waits."""
        if (remaining is not None and remaining <= 0 and reset_at is not None
                and reset_at > self._clock()):
            self._resume_at[server] = reset_at
        else:
            self._resume_at.pop(server, None)

    def check(self, server: str, name: str) -> None:
        """Raise :class:`RateLimitHit` once if ``server``'s budget is spent; ``name`` ("Bluesky",
        "Mastodon mastodon.social") goes into the reason."""
        resume_at = self._resume_at.pop(server, None)
        if resume_at is None:
            return
        wait = resume_at - self._clock()
        if wait > 0:
            raise RateLimitHit(f"{name} rate limit used up (ratelimit-remaining 0)", wait + 1)


def header_int(headers: dict[str, str], *names: str) -> int | None:
    """The first of ``names`` present in ``headers`` (lower-case keys) as an int, else ``None``."""
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return int(float(value))
            except ValueError:
                return None
    return None
