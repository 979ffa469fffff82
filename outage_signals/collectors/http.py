"""The ``requests.Session`` handed to the client libraries: our timeout, and optionally a
different host.

praw and tweepy both accept a session. prawcore always passes its own 16 s timeout and tweepy
passes none (a stalled server would hang a cron job forever), so the session caps every
request at ``timeout`` seconds. tweepy has no host setting; ``rebase`` maps its fixed
``https://api.twitter.com`` onto the configured base URL.
"""

from __future__ import annotations

import requests


class ClientSession(requests.Session):
    """A session with a per-request ``timeout`` (seconds) and an optional URL prefix rewrite
    ``rebase = (from_prefix, to_prefix)``."""

    def __init__(self, timeout: float, rebase: tuple[str, str] | None = None):
        super().__init__()
        self.timeout = timeout
        self.rebase = rebase

    def request(self, method, url, *args, **kwargs):
        if self.rebase and url.startswith(self.rebase[0]) and self.rebase[0] != self.rebase[1]:
            url = self.rebase[1] + url[len(self.rebase[0]):]
        given = kwargs.get("timeout")
        kwargs["timeout"] = self.timeout if given is None else min(given, self.timeout)
        return super().request(method, url, *args, **kwargs)
