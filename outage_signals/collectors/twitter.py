"""X (Twitter) through tweepy's API v2 ``Client``: recent search, or full-archive search.

One query per service: any of its names × any problem word, retweets excluded, within X's
query length. The window goes to the API as ``start_time`` (inclusive) and ``end_time``
(exclusive), seconds precision, UTC; pages of up to 100 posts (500 for the archive) follow
``meta.next_token``. Expansions bring the author (username, profile location) and the tagged
place (``country_code``, ``full_name``), joined to each post here. X bills per post read, so
the driver's ``--max-posts`` budget shrinks ``max_results`` on the last page.

tweepy has no setting for its host; the client gets a ``requests.Session`` that rewrites
``https://api.twitter.com`` to the configured base URL and adds a timeout, since tweepy sets
none. Rate limits are ours to handle (``wait_on_rate_limit=False``): a 429 waits until
``x-rate-limit-reset``, and the wait is logged.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from outage_signals import __version__
from outage_signals.catalog import Service
from outage_signals.collectors.base import Collector, Page, Query, StaleCursor, Window
from outage_signals.collectors.http import ClientSession
from outage_signals.records import Post, format_time
from outage_signals.retrying import Verdict
from outage_signals.source_settings import DEFAULT_X_API_URL, TwitterSettings, redact_logs

#: Problem words in the languages the catalog covers; X matches them case-insensitively.
PROBLEM_WORDS = ("down", "outage", '"not working"', "error", '"is it down"', "caído", "caiu",
                 '"fora do ar"', "störung", "panne", "storing", "落ちてる", "障害")
RECENT_DAYS = 7
#: X refuses an end_time less than 10 s ago.
END_MARGIN = timedelta(seconds=15)


def build_query(service: Service, max_length: int = 512) -> str:
    """``(name OR ...) (problem OR ...) -is:retweet``, as many names as fit in ``max_length``."""
    tail = f" ({' OR '.join(PROBLEM_WORDS)}) -is:retweet"
    names: list[str] = []
    for alias in dict.fromkeys((*service.cased_aliases, *service.aliases)):
        if alias.startswith("#"):
            continue
        term = f'"{alias}"' if " " in alias else alias
        if len(f"({' OR '.join([*names, term])}){tail}") > max_length:
            break
        names.append(term)
    return f"({' OR '.join(names)}){tail}"


class TwitterCollector(Collector):
    """Collects posts for a service through a real ``tweepy.Client``.

    ``archive``: full-archive search (X Pro or Enterprise access) instead of the last 7 days.
    """

    source = "twitter"
    min_page_size = 10

    def __init__(self, settings: TwitterSettings, *, archive: bool = False, timeout: float = 30.0,
                 now=lambda: datetime.now(UTC)):
        self.archive = archive
        self.page_size = 500 if archive else 100
        self.client = tweepy.Client(bearer_token=str(settings.bearer_token), wait_on_rate_limit=False)
        self.client.session = ClientSession(timeout, rebase=(DEFAULT_X_API_URL, settings.api_url))
        redact_logs(str(settings.bearer_token))
        self._now = now

    def queries(self, service: Service) -> list[Query]:
        query = build_query(service, max_length=1024 if self.archive else 512)
        kind = "archive" if self.archive else "recent"
        return [Query(f"{kind}:{query}", {"q": query})]

    def fetch(self, query: Query, service: Service, window: Window, cursor: str | None,
              limit: int) -> Page:
        now = self._now()
        start = window.since
        if not self.archive:
            start = max(start, now - timedelta(days=RECENT_DAYS) + timedelta(minutes=1))
        end = min(window.until, now - END_MARGIN)
        if start >= end:
            return Page(posts=[], cursor=None)
        search = self.client.search_all_tweets if self.archive else self.client.search_recent_tweets
        try:
            response = search(
                query.params["q"], start_time=start, end_time=end, next_token=cursor,
                max_results=max(self.min_page_size, min(limit, self.page_size)),
                expansions=["author_id", "geo.place_id"],
                tweet_fields=["created_at", "lang", "geo", "author_id", "note_tweet"],
                user_fields=["username", "location"],
                place_fields=["full_name", "country_code"],
            )
        except tweepy.BadRequest as exc:
            if cursor is not None and "token" in str(exc).lower():
                raise StaleCursor() from None
            raise
        includes = response.includes or {}
        users = {u.id: u for u in includes.get("users", [])}
        places = {p.id: p for p in includes.get("places", [])}
        posts = [self._post(t, users, places, service, query) for t in response.data or []]
        meta = response.meta or {}
        return Page(posts=posts, cursor=meta.get("next_token"),
                    oldest=min((p.created_at for p in posts), default=None),
                    billed=int(meta.get("result_count", len(posts))))

    def _post(self, tweet: tweepy.Tweet, users: dict[int, Any], places: dict[str, Any],
              service: Service, query: Query) -> Post:
        user = users.get(tweet.author_id)
        username = getattr(user, "username", None)
        geo = tweet.geo or {}
        place = places.get(geo.get("place_id"))
        point = geo.get("coordinates") or {}
        coordinates = None
        if point.get("type") == "Point" and len(point.get("coordinates") or ()) == 2:
            coordinates = (float(point["coordinates"][0]), float(point["coordinates"][1]))
        note = (tweet.data.get("note_tweet") or {}).get("text")
        return Post(
            id=str(tweet.id), source=self.source, service=service.key, text=note or tweet.text,
            created_at=tweet.created_at.astimezone(UTC) if tweet.created_at else self._now(),
            author=username or (str(tweet.author_id) if tweet.author_id else None),
            url=(f"https://twitter.com/{username}/status/{tweet.id}" if username
                 else f"https://twitter.com/i/web/status/{tweet.id}"),
            lang=tweet.lang,
            place=({"country_code": place.data.get("country_code"), "full_name": place.full_name}
                   if place is not None else None),
            coordinates=coordinates,
            user_location=(getattr(user, "data", {}) or {}).get("location") or None,
            meta={"collector": "twitter", "version": __version__, "query": query.params["q"],
                  "retrieved_at": format_time(self._now())},
        )

    def judge(self, exc: BaseException) -> Verdict | None:
        if isinstance(exc, tweepy.TooManyRequests):
            reset = exc.reset_time
            wait = max(0.0, reset - time.time() + 1) if reset is not None else None
            return Verdict("rate limited by X (429)", wait=wait)
        if isinstance(exc, tweepy.TwitterServerError):
            return Verdict(f"X server error ({exc.response.status_code})")
        if isinstance(exc, requests.exceptions.JSONDecodeError):
            return Verdict("X sent a malformed JSON body")
        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout
                      | requests.exceptions.ChunkedEncodingError):
            return Verdict(f"connection to X failed ({type(exc).__name__})")
        if isinstance(exc, tweepy.Unauthorized):
            return Verdict("X refused the bearer token (401): check X_BEARER_TOKEN", retry=False)
        if isinstance(exc, tweepy.Forbidden):
            hint = ("; full-archive search needs Pro or Enterprise access" if self.archive
                    else "")
            return Verdict(f"X refused access (403){hint}: {_messages(exc)}", retry=False)
        if isinstance(exc, tweepy.HTTPException):
            return Verdict(f"X answered {exc.response.status_code}: {_messages(exc)}", retry=False)
        return None


def _messages(exc: tweepy.HTTPException) -> str:
    return "; ".join(exc.api_messages) or exc.response.reason or ""

