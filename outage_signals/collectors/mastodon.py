"""Mastodon through Mastodon.py: hashtag timelines and status search on several instances.

Queries, per configured instance: the service's hashtag timelines (#slack, #slackdown), which
servers serve to anyone, and, on an instance whose access token we hold, full-text status
search for each catalog search term (Mastodon only searches statuses for a logged-in user).
Listings come newest first, at most 40 statuses a page, and have no date parameter: a pass pages
until the statuses are older than its window. The cursor is the next page's ``max_id``, read
from the ``Link: <…?max_id=…>; rel="next"`` header; search sends no Link header, so its cursor
is the page's smallest id (statuses search returns newest first) and an empty page ends it.

Records: reblogs are skipped (the original is what was said, and when). Status ids are local
to each server, so a post is keyed by its ActivityPub ``uri``, the same on every instance it
reached: read through two instances, it is stored once. ``content`` HTML becomes plain text
(:mod:`outage_signals.collectors.html_text`), a content warning is kept as the first paragraph,
and the author is ``user@instance`` (local accounts get their server's host).

Rate limits: clients run with ``ratelimit_method="throw"``, so Mastodon.py never sleeps by
itself. A 429 waits until ``X-RateLimit-Reset``, and a response announcing
``X-RateLimit-Remaining: 0`` makes the next request to that server wait as well; the driver
does the waiting, logs it and honours ``--max-wait``. 5xx and network failures back off.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
    MastodonVersionError,
)

from outage_signals import __version__
from outage_signals.catalog import Service
from outage_signals.collectors.base import Collector, Page, Query, QueryUnavailable, Window
from outage_signals.collectors.html_text import html_to_text
from outage_signals.collectors.http import ClientSession
from outage_signals.collectors.pacing import Pacer, RateLimitHit
from outage_signals.collectors.terms import hashtags, search_terms
from outage_signals.records import Post, format_time, parse_time
from outage_signals.retrying import Verdict
from outage_signals.source_settings import DEFAULT_USER_AGENT, MastodonInstance, MastodonSettings, redact_logs

#: Pages holding nothing but reblogs read on within one fetch, up to this many requests.
MAX_SKIP_PAGES = 10
_API_ERROR = "Mastodon API returned error"


class NotMastodon(Exception):
    """The configured URL does not answer like a Mastodon server."""


class MastodonCollector(Collector):
    """Collects statuses for a service through real ``mastodon.Mastodon`` clients, one per
    instance. ``timeout``: seconds per request."""

    source = "mastodon"
    page_size = 40

    def __init__(self, settings: MastodonSettings, *, timeout: float = 30.0,
                 now=lambda: datetime.now(UTC)):
        self.instances: dict[str, MastodonInstance] = {i.url: i for i in settings.instances}
        self.clients: dict[str, Mastodon] = {
            i.url: Mastodon(api_base_url=i.url,
                            access_token=str(i.access_token) if i.access_token else None,
                            ratelimit_method="throw", request_timeout=timeout,
                            session=ClientSession(timeout), user_agent=DEFAULT_USER_AGENT)
            for i in settings.instances}
        redact_logs(*(str(i.access_token) for i in settings.instances if i.access_token))
        self._checked: set[str] = set()
        self._pacer = Pacer()
        self._now = now

    # -- queries -----------------------------------------------------------------------------

    def queries(self, service: Service) -> list[Query]:
        found = []
        for instance in self.instances.values():
            found += [Query(f"tag:{instance.host}:{tag}", {"instance": instance.url, "tag": tag})
                      for tag in hashtags(service)]
            if instance.access_token:
                found += [Query(f"search:{instance.host}:{term}", {"instance": instance.url, "q": term})
                          for term in search_terms(service)]
        return found

    # -- fetching ----------------------------------------------------------------------------

    def fetch(self, query: Query, service: Service, window: Window, cursor: str | None,
              limit: int) -> Page:
        url = query.params["instance"]
        instance, client = self.instances[url], self.clients[url]
        self._check_instance(instance, client)
        self._pacer.check(url, f"Mastodon {instance.host}")
        posts: list[Post] = []
        billed, oldest = 0, None
        for _ in range(MAX_SKIP_PAGES):
            statuses, cursor = self._page(query, instance, client, cursor, min(limit, self.page_size))
            billed += len(statuses)
            posts += [p for p in (self._post(s, instance, service, query) for s in statuses) if p]
            times = [_time(s["created_at"]) for s in statuses]
            oldest = min([*times, oldest] if oldest else times, default=None)
            # A page of reblogs only would look like the end of the listing to the driver.
            if posts or not statuses or cursor is None:
                break
        return Page(posts=posts, cursor=cursor, oldest=oldest, billed=billed)

    def _page(self, query: Query, instance: MastodonInstance, client: Mastodon, cursor: str | None,
              limit: int) -> tuple[list[Any], str | None]:
        """One request: the statuses and the next page's cursor (``None`` at the end)."""
        if "tag" in query.params and not client.timeline_is_available(
                "hashtag", with_auth=instance.access_token is not None):
            # Read from the instance description Mastodon.py already fetched: no refused request.
            who = "this account" if instance.access_token else "anonymous readers (not public)"
            raise QueryUnavailable(f"{instance.host} does not serve hashtag timelines to {who}")
        try:
            if "tag" in query.params:
                result = client.timeline_hashtag(query.params["tag"], max_id=cursor, limit=limit)
                statuses = list(result)
                following = _link_max_id(result)
            else:
                result = client.search_v2(query.params["q"], result_type="statuses", resolve=False,
                                          max_id=cursor, limit=limit)
                statuses = list(result.get("statuses") or [])
                # Search sends no Link header (Mastodon.py's own next page is an offset, which
                # new posts shift); servers cap pages differently, so only an empty page ends it.
                following = min((str(s["id"]) for s in statuses), key=_id_order) if statuses else None
        except MastodonRatelimitError:
            raise _rate_limited(instance, client) from None
        except MastodonUnauthorizedError as exc:
            if instance.access_token:
                raise
            raise QueryUnavailable(f"{instance.host} requires a login for this"
                                   f"{_message(exc)}") from None
        except (MastodonNotFoundError, MastodonVersionError):
            what = "hashtag timelines" if "tag" in query.params else "status search"
            raise QueryUnavailable(f"{instance.host} does not serve {what}") from None
        self._pacer.observe(instance.url, client.ratelimit_remaining, client.ratelimit_reset)
        return statuses, following

    def _check_instance(self, instance: MastodonInstance, client: Mastodon) -> None:
        """Ask the server for its version once: a clear error for a URL that is no Mastodon
        server, and the version Mastodon.py needs to choose v2 search (not the removed v1)."""
        if instance.url in self._checked:
            return
        try:
            client.retrieve_mastodon_version(fail_hard=True)
        except MastodonVersionError as exc:
            cause = exc.__cause__
            if isinstance(cause, MastodonRatelimitError):
                raise _rate_limited(instance, client) from None
            if isinstance(cause, MastodonUnauthorizedError) and not instance.access_token:
                raise QueryUnavailable(f"{instance.host} requires a login") from None
            if isinstance(cause, MastodonNetworkError | MastodonServerError | MastodonUnauthorizedError):
                raise cause from None  # judged like any request: retried or refused
            if isinstance(cause, MastodonAPIError) and cause.args[:1] == (_API_ERROR,):
                why = f"GET /api/v1/instance/ answered {cause.args[1]}"
            elif isinstance(cause, MastodonAPIError):
                why = "GET /api/v1/instance/ is not JSON"
            else:
                why = "GET /api/v1/instance/ names no version"
            raise NotMastodon(f"{instance.url} is not a Mastodon server ({why}): check "
                              "--instance / MASTODON_INSTANCES") from None
        self._checked.add(instance.url)
        self._pacer.observe(instance.url, client.ratelimit_remaining, client.ratelimit_reset)

    # -- conversion --------------------------------------------------------------------------

    def _post(self, status: Any, instance: MastodonInstance, service: Service,
              query: Query) -> Post | None:
        if status.get("reblog"):
            return None
        text = html_to_text(status.get("content"))
        warning = (status.get("spoiler_text") or "").strip()
        if warning:
            text = f"{warning}\n\n{text}" if text else warning
        account = status.get("account") or {}
        acct = account.get("acct") or account.get("username")
        if acct and "@" not in acct:
            # A local account: its server is the host of its profile page (or this instance).
            acct = f"{acct}@{urlsplit(account.get('url') or instance.url).hostname}"
        what = f"#{query.params['tag']}" if "tag" in query.params else query.params["q"]
        return Post(
            id=status.get("uri") or status.get("url") or f"{instance.url}/statuses/{status['id']}",
            source=self.source, service=service.key, text=text,
            created_at=_time(status["created_at"]), author=acct or None,
            url=status.get("url") or status.get("uri"), lang=status.get("language") or None,
            meta={"collector": "mastodon", "version": __version__, "query": what,
                  "instance": instance.host, "retrieved_at": format_time(self._now())},
        )

    # -- failures ----------------------------------------------------------------------------

    def failure_group(self, query: Query) -> str | None:
        """Instances fail on their own: one down must not stop the others' queries."""
        return self.instances[query.params["instance"]].host

    def judge(self, exc: BaseException) -> Verdict | None:
        if isinstance(exc, RateLimitHit):
            return Verdict(exc.reason, wait=exc.wait)
        if isinstance(exc, NotMastodon):
            return Verdict(str(exc), retry=False)
        if isinstance(exc, MastodonRatelimitError):
            return Verdict("rate limited by Mastodon (429)")
        if isinstance(exc, MastodonNetworkError):
            inner = exc.__context__
            if inner is not None and "NameResolution" in repr(inner):
                return Verdict("the instance's host name does not resolve: check --instance / "
                               "MASTODON_INSTANCES", retry=False)
            return Verdict(f"connection to Mastodon failed ({type(inner or exc).__name__})")
        if isinstance(exc, MastodonServerError):
            return Verdict(f"Mastodon server error ({_status(exc)})")
        if isinstance(exc, MastodonUnauthorizedError):
            return Verdict(f"Mastodon refused the access token (401{_message(exc)}): check "
                           "MASTODON_ACCESS_TOKEN", retry=False)
        if isinstance(exc, MastodonAPIError):
            if exc.args[:1] != (_API_ERROR,):
                return Verdict("Mastodon sent a malformed body")
            return Verdict(f"Mastodon answered {_status(exc)}{_message(exc)}", retry=False)
        return None


def _rate_limited(instance: MastodonInstance, client: Mastodon) -> RateLimitHit:
    """A 429: wait until the reset Mastodon.py read from ``X-RateLimit-Reset`` (epoch seconds,
    corrected for the server's clock), or back off when the server named none."""
    reset = client.ratelimit_reset
    wait = max(0.0, reset - time.time()) + 1 if reset else None
    return RateLimitHit(f"rate limited by Mastodon {instance.host} (429)", wait)


def _time(value: Any) -> datetime:
    """Mastodon.py gives aware datetimes; a naive one is UTC, a string is parsed."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return parse_time(value)


def _id_order(status_id: str) -> tuple[int, int | str]:
    # Mastodon ids are numeric strings of growing length; other servers' ids sort as text.
    return (0, int(status_id)) if status_id.isdigit() else (1, status_id)


def _link_max_id(result: Any) -> str | None:
    """``max_id`` of the ``rel="next"`` Link header, as Mastodon.py parsed it."""
    following = getattr(result, "_pagination_next", None) or {}
    max_id = following.get("max_id") if isinstance(following, dict) else None
    return str(max_id) if max_id is not None else None


def _status(exc: MastodonAPIError) -> Any:
    return exc.args[1] if len(exc.args) > 1 else "?"


def _message(exc: MastodonAPIError) -> str:
    """``": <the server's error text>"`` when Mastodon.py kept it (last in ``args``), else ``""``."""
    return f": {exc.args[3]}" if len(exc.args) > 3 and exc.args[3] else ""
