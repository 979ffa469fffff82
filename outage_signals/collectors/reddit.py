"""Reddit through praw: catalog searches over r/all, the service's own subreddits, and the
comments of outage threads.

Listings come newest first, 100 items a request, and Reddit serves at most about 1000 items per
listing; there is no date parameter, so a pass reads pages until the posts are older than its
window (``t=hour|day|...`` only narrows the search). Pages are requested with ``Reddit.get`` on
the same paths praw's ``Subreddit.search`` and ``Subreddit.new`` use, which gives the driver one
page per call and a cursor (``after``, the last item's fullname) to resume from.

praw does the OAuth token, the ``x-ratelimit-*`` pacing and two quick retries of 5xx and
dropped connections; the driver adds backoff over those, 429 ``Retry-After`` waits and resuming.
Items become :class:`~outage_signals.records.Post` here and nowhere else; attributes are read
from the parsed JSON (``vars``), never through praw's lazy attribute fetch.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import praw
import prawcore
from praw.exceptions import MissingRequiredAttributeException

from outage_signals import __version__
from outage_signals.catalog import Service
from outage_signals.collectors.base import Collector, Page, Query, QueryUnavailable, Window
from outage_signals.collectors.http import ClientSession
from outage_signals.errors import ConfigError, CredentialsError
from outage_signals.records import Post, format_time
from outage_signals.retrying import Verdict
from outage_signals.source_settings import SECRET_KEYS, RedditSettings, redact_logs

WEB = "https://www.reddit.com"
#: Words that make a thread title look like an outage thread worth reading the comments of.
THREAD_TITLE = re.compile(r"\b(down|outage|not working|issues?|problems?|megathread|status)\b", re.I)
_PROBLEM_WORDS = ('down', 'outage', '"not working"', 'error', '"is it down"')


def _time_filter(since: datetime, now: datetime) -> str:
    """The narrowest of Reddit's ``t`` values that still reaches back to ``since``."""
    age = (now - since).total_seconds()
    for name, seconds in (("hour", 3600), ("day", 86400), ("week", 7 * 86400),
                          ("month", 31 * 86400), ("year", 366 * 86400)):
        if age <= seconds:
            return name
    return "all"


def alias_query(service: Service, max_length: int = 512) -> str:
    """A Lucene query: any of the service's names AND any problem word, within ``max_length``."""
    problems = " OR ".join(_PROBLEM_WORDS)
    names: list[str] = []
    for alias in (*service.cased_aliases, *service.aliases):
        if alias.startswith(("@", "#")) or not alias.isascii():
            continue
        term = f'"{alias}"' if " " in alias or "." in alias else alias
        candidate = f"({' OR '.join([*names, term])}) AND ({problems})"
        if len(candidate) > max_length:
            break
        names.append(term)
    return f"({' OR '.join(names)}) AND ({problems})" if names else ""


class RedditCollector(Collector):
    """Collects submissions (and optionally comments) for a service through a real praw client.

    ``settings``: resolved credentials and endpoints; ``requestor_kwargs`` passes a
    ``requests.Session`` to prawcore (proxies); ``timeout`` in seconds per request.
    """

    source = "reddit"
    page_size = 100
    listing_cap = 1000

    def __init__(self, settings: RedditSettings, *, requestor_kwargs: dict[str, Any] | None = None,
                 timeout: float = 30.0, now=lambda: datetime.now(UTC)):
        kwargs = settings.praw_kwargs()
        kwargs["requestor_kwargs"] = {"session": ClientSession(timeout), **(requestor_kwargs or {})}
        try:
            self.reddit = praw.Reddit(site_name=settings.site_name, **kwargs)
        except MissingRequiredAttributeException:
            raise CredentialsError(
                "no Reddit credentials: set REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET (or run "
                "`outage-signals configure reddit`, or put them in praw.ini)"
            ) from None
        except configparser.NoSectionError:
            raise ConfigError(f"praw.ini has no [{settings.site_name}] section") from None
        redact_logs(*(str(v) for k, v in settings.values.items() if k in SECRET_KEYS))
        self._now = now

    # -- queries -----------------------------------------------------------------------------

    def queries(self, service: Service) -> list[Query]:
        found = [Query(f"search:all:{term}", {"sub": "all", "q": term})
                 for term in service.search_terms]
        combined = alias_query(service)
        if combined:
            found.append(Query(f"search:all:{combined}", {"sub": "all", "q": combined}))
        found += [Query(f"new:{sub}", {"sub": sub}) for sub in service.subreddits]
        return found

    def thread_queries(self, posts: Iterable[Post], limit: int) -> list[Query]:
        """Comment queries for the ``limit`` newest outage-looking threads among ``posts``."""
        threads = [p for p in posts if p.source == self.source and p.extra.get("kind") == "submission"
                   and p.extra.get("num_comments", 0) > 0 and THREAD_TITLE.search(p.text.split("\n")[0])]
        threads.sort(key=lambda p: p.created_at, reverse=True)
        return [Query(f"thread:{p.id}", {"thread": p.id}) for p in threads[:limit]]

    # -- fetching ----------------------------------------------------------------------------

    def fetch(self, query: Query, service: Service, window: Window, cursor: str | None,
              limit: int) -> Page:
        if "thread" in query.params:
            return self._thread(query, service)
        sub = query.params["sub"]
        params: dict[str, Any] = {"limit": limit}
        if "q" in query.params:
            path = f"r/{sub}/search/"
            params.update(q=query.params["q"], sort="new", syntax="lucene",
                          restrict_sr=sub != "all", t=_time_filter(window.since, self._now()))
        else:
            path = f"r/{sub}/new"
        if cursor:
            params["after"] = cursor
        try:
            listing = self.reddit.get(path, params=params)
        except (prawcore.Redirect, prawcore.NotFound, prawcore.Forbidden) as exc:
            # Reddit redirects unknown subreddits to its search page; private ones give 403.
            raise QueryUnavailable(f"r/{sub} is not readable ({type(exc).__name__})") from None
        items = [c for c in getattr(listing, "children", []) if isinstance(c, praw.models.Submission)]
        posts = [self._submission(item, service, query) for item in items]
        oldest = min((p.created_at for p in posts), default=None)
        return Page(posts=posts, cursor=getattr(listing, "after", None), oldest=oldest,
                    billed=len(items))

    def _thread(self, query: Query, service: Service) -> Page:
        submission = self.reddit.submission(query.params["thread"])
        try:
            forest = submission.comments
            forest.replace_more(limit=0)
            comments = forest.list()
        except (prawcore.NotFound, prawcore.Forbidden) as exc:
            raise QueryUnavailable(f"thread {query.params['thread']} is gone "
                                   f"({type(exc).__name__})") from None
        posts = [self._comment(c, service, query) for c in comments]
        posts = [p for p in posts if p is not None]
        return Page(posts=posts, cursor=None, billed=len(comments))

    # -- conversion --------------------------------------------------------------------------

    def _meta(self, query: Query) -> dict[str, Any]:
        return {"collector": "reddit", "version": __version__,
                "query": query.params.get("q") or query.key,
                "retrieved_at": format_time(self._now())}

    def _submission(self, item: praw.models.Submission, service: Service, query: Query) -> Post:
        raw = vars(item)
        body = raw.get("selftext") or ""
        text = raw.get("title") or ""
        if body and body not in ("[removed]", "[deleted]"):
            text = f"{text}\n\n{body}"
        return self._post(raw, text, service, query,
                          {"kind": "submission", "num_comments": int(raw.get("num_comments") or 0)})

    def _comment(self, item: Any, service: Service, query: Query) -> Post | None:
        raw = vars(item)
        body = raw.get("body") or ""
        if body in ("", "[removed]", "[deleted]"):
            return None
        return self._post(raw, body, service, query, {"kind": "comment", "link_id": raw.get("link_id")})

    def _post(self, raw: dict[str, Any], text: str, service: Service, query: Query,
              extra: dict[str, Any]) -> Post:
        return Post(
            id=raw["id"], source=self.source, service=service.key, text=text,
            created_at=datetime.fromtimestamp(float(raw["created_utc"]), UTC),
            author=_name(raw.get("author")),
            url=WEB + raw["permalink"] if raw.get("permalink") else None,
            subreddit=_name(raw.get("subreddit")),
            meta=self._meta(query),
            extra=extra,
        )

    # -- failures ----------------------------------------------------------------------------

    def judge(self, exc: BaseException) -> Verdict | None:
        if isinstance(exc, prawcore.TooManyRequests):
            wait = float(exc.retry_after) if exc.retry_after is not None else None
            return Verdict("rate limited by Reddit (429)", wait=wait)
        if isinstance(exc, prawcore.ServerError):
            return Verdict(f"Reddit server error ({exc.response.status_code})")
        if isinstance(exc, prawcore.BadJSON):
            return Verdict("Reddit sent a malformed JSON body")
        if isinstance(exc, prawcore.RequestException):
            return Verdict(f"connection to Reddit failed ({type(exc.original_exception).__name__})")
        if isinstance(exc, prawcore.OAuthException | prawcore.InvalidToken):
            return Verdict("Reddit refused the credentials: check REDDIT_CLIENT_ID and "
                           "REDDIT_CLIENT_SECRET (or praw.ini)", retry=False)
        if isinstance(exc, prawcore.ResponseException):
            status = exc.response.status_code
            if status == 401:
                return Verdict("Reddit refused the credentials (401): check REDDIT_CLIENT_ID and "
                               "REDDIT_CLIENT_SECRET (or praw.ini)", retry=False)
            if status == 408:
                return Verdict("Reddit timed out (408)")
            return Verdict(f"Reddit answered {status}", retry=False)
        return None


def _name(value: Any) -> str | None:
    """A praw Redditor/Subreddit (or the raw string) as its name; ``None`` for deleted."""
    # Read the name praw set at construction: any other attribute would trigger a lazy fetch.
    if value is None:
        return None
    if isinstance(value, praw.models.Subreddit):
        name = vars(value).get("display_name")
    elif isinstance(value, praw.models.Redditor):
        name = vars(value).get("name")
    else:
        name = str(value)
    return None if not name or name == "[deleted]" else name
