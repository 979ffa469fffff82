"""Bluesky through the atproto SDK: ``app.bsky.feed.searchPosts``, logged in.

One query per catalog search term (and per ``--lang`` language when given). Bluesky's search
ANDs the words of a query, so "slack down" finds posts holding both. The window goes to the API
as ``since`` (inclusive) and ``until`` (exclusive), ISO 8601 UTC; results come newest first, up to
100 a page, and the opaque ``cursor`` leads to the next page and is what a pass resumes from.

The public AppView refuses unauthenticated searches, so the client logs in with a handle and an
app password at the configured server (``https://bsky.social`` by default; the login may move the
client to the account's own PDS, which proxies ``app.bsky.*``). Logins are scarce (300 a day),
so the session is kept in a private file between runs and refreshed, not recreated; a saved
session the server no longer accepts is replaced by a fresh login.

atproto neither retries nor waits. Every response carries ``ratelimit-remaining`` and
``ratelimit-reset`` (epoch seconds): a spent budget makes the next request wait until the reset,
and a 429 waits for ``retry-after`` or the reset; 5xx, timeouts and dropped connections back off.
Times: ``created_at`` is the post's ``sortAt``, the earlier of its ``createdAt`` (the client's
clock) and ``indexedAt`` (the server's), which is also what ``since``/``until`` filter on.
"""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime
from typing import Any

import httpx
from atproto import AtUri, Client, Request, Session, SessionEvent, models
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_core.exceptions import AtProtocolError

from outage_signals import __version__
from outage_signals.catalog import Service
from outage_signals.collectors.base import Collector, Page, Query, StaleCursor, Window
from outage_signals.collectors.pacing import Pacer, RateLimitHit, header_int
from outage_signals.collectors.terms import search_terms
from outage_signals.errors import ConfigError, InvalidRecordError
from outage_signals.jsonl import atomic_replace
from outage_signals.records import Post, format_time, parse_time
from outage_signals.retrying import Verdict
from outage_signals.source_settings import BlueskySettings, redact_logs

WEB = "https://bsky.app"
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
#: Error names of an access or refresh token the server no longer accepts.
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})


class LoginRefused(Exception):
    """``createSession`` refused the handle and app password (the server's words attached)."""


class BadBody(Exception):
    """A response that is not the JSON searchPosts promises."""


class _Request(Request):
    """atproto's httpx wrapper, keeping the headers of the last successful response: the SDK's
    methods return only the parsed body, and the rate-limit budget is in the headers."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.last_headers: dict[str, str] = {}

    def get(self, *args: Any, **kwargs: Any):
        response = super().get(*args, **kwargs)
        self.last_headers = response.headers
        return response

    def post(self, *args: Any, **kwargs: Any):
        response = super().post(*args, **kwargs)
        self.last_headers = response.headers
        return response


class BlueskyCollector(Collector):
    """Collects posts for a service through a real ``atproto.Client``.

    ``languages``: only posts in these languages (BCP-47 codes; one query each), all when empty.
    ``timeout``: seconds per request.
    """

    source = "bluesky"
    page_size = 100

    def __init__(self, settings: BlueskySettings, *, languages: tuple[str, ...] = (),
                 timeout: float = 30.0, now=lambda: datetime.now(UTC)):
        for lang in languages:
            if not _LANGUAGE.match(lang):
                raise ConfigError(f"language {lang!r} is not a BCP-47 code such as en or pt-BR")
        self.settings = settings
        self.languages = tuple(dict.fromkeys(languages))
        self._request = _Request(timeout=timeout)
        self.client = Client(base_url=settings.service_url, request=self._request)
        self.client.on_session_change(self._session_changed)
        self._logged_in = False
        #: True from a password login until a search succeeds with it: a refusal then is final.
        self._fresh_login = False
        self._pacer = Pacer()
        redact_logs(str(settings.app_password))
        self._now = now

    # -- queries -----------------------------------------------------------------------------

    def queries(self, service: Service) -> list[Query]:
        found = []
        for term in search_terms(service):
            for lang in self.languages or (None,):
                key = f"search:{term}" + (f" lang:{lang}" if lang else "")
                found.append(Query(key, {"q": term, "lang": lang}))
        return found

    # -- fetching ----------------------------------------------------------------------------

    def fetch(self, query: Query, service: Service, window: Window, cursor: str | None,
              limit: int) -> Page:
        self._pacer.check("bluesky", "Bluesky")
        self._log_in()
        params = models.AppBskyFeedSearchPosts.Params(
            q=query.params["q"], sort="latest", since=format_time(window.since),
            until=format_time(window.until), lang=query.params.get("lang"),
            limit=max(1, min(limit, self.page_size)), cursor=cursor)
        try:
            response = self._search(params)
        except BadRequestError as exc:
            if cursor is not None and "cursor" in str(exc).lower():
                raise StaleCursor() from None
            raise
        except (ValueError, ModelError) as exc:
            raise BadBody(type(exc).__name__) from None
        headers = self._request.last_headers
        self._pacer.observe("bluesky", header_int(headers, "ratelimit-remaining"),
                            header_int(headers, "ratelimit-reset"))
        posts = [p for p in (self._post(view, service, query) for view in response.posts) if p]
        return Page(posts=posts, cursor=response.cursor or None,
                    oldest=min((p.created_at for p in posts), default=None),
                    billed=len(response.posts))

    def _search(self, params: models.AppBskyFeedSearchPosts.Params):
        try:
            response = self.client.app.bsky.feed.search_posts(params)
        except (UnauthorizedError, BadRequestError) as exc:
            if self._fresh_login or not _token_refused(exc):
                raise
            # The session (saved by an earlier run, or refreshed for hours) was revoked or has
            # expired for good: one password login, then the search again.
            self._forget_session()
            self._log_in()
            response = self.client.app.bsky.feed.search_posts(params)
        self._fresh_login = False
        return response

    # -- the session -------------------------------------------------------------------------

    def _log_in(self) -> None:
        if self._logged_in:
            return
        saved = self._load_session()
        if saved is not None:
            self.client.login(session_string=saved, fetch_bsky_profile=False)
            self._logged_in = True
            return
        # Log in at the configured server, not at a PDS that a stale session named.
        self.client.update_base_url(self.settings.service_url)
        try:
            self.client.login(self.settings.handle, str(self.settings.app_password),
                              fetch_bsky_profile=False)
        except (UnauthorizedError, BadRequestError) as exc:
            raise LoginRefused(_detail(exc)) from None
        self._logged_in = self._fresh_login = True

    def _load_session(self) -> str | None:
        """The saved session string, if it is this handle's at this server and decodes."""
        path = self.settings.session_file
        if path is None or not path.exists():
            return None
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            if (saved.get("handle") != self.settings.handle
                    or saved.get("service_url") != self.settings.service_url):
                return None
            session = Session.decode(saved["session"])
            if session.access_jwt_payload.exp is None:
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, AtProtocolError):
            return None  # a damaged file only costs one login
        redact_logs(session.access_jwt, session.refresh_jwt)
        return saved["session"]

    def _session_changed(self, event: SessionEvent, session: Session) -> None:
        redact_logs(session.access_jwt, session.refresh_jwt)
        path = self.settings.session_file
        if path is None or event == SessionEvent.IMPORT:
            return
        body = json.dumps({"handle": self.settings.handle, "service_url": self.settings.service_url,
                           "session": session.export()})
        try:
            with atomic_replace(path, mode=stat.S_IRUSR | stat.S_IWUSR) as tmp:
                tmp.write_text(body, encoding="utf-8")
        except OSError:
            pass  # an unsaved session only costs a login on the next run

    def _forget_session(self) -> None:
        self._logged_in = False
        path = self.settings.session_file
        if path is not None:
            path.unlink(missing_ok=True)

    # -- conversion --------------------------------------------------------------------------

    def _post(self, view: models.AppBskyFeedDefs.PostView, service: Service,
              query: Query) -> Post | None:
        record = view.record
        text = getattr(record, "text", None)
        times = [t for t in (_time(getattr(record, "created_at", None)), _time(view.indexed_at))
                 if t is not None]
        if text is None or not times:
            return None  # not a post record, or one that cannot be placed in time
        uri = AtUri.from_str(view.uri)
        handle = view.author.handle
        langs = getattr(record, "langs", None) or []
        return Post(
            id=view.uri, source=self.source, service=service.key, text=text,
            created_at=min(times),
            author=handle if handle and handle != "handle.invalid" else view.author.did,
            # The DID in the URI, not the handle: the link keeps working after a handle change.
            url=f"{WEB}/profile/{uri.host}/post/{uri.rkey}",
            lang=langs[0] if langs else None,
            meta={"collector": "bluesky", "version": __version__, "query": query.params["q"],
                  "retrieved_at": format_time(self._now())},
        )

    # -- failures ----------------------------------------------------------------------------

    def judge(self, exc: BaseException) -> Verdict | None:
        if isinstance(exc, RateLimitHit):
            return Verdict(exc.reason, wait=exc.wait)
        if isinstance(exc, LoginRefused):
            return Verdict(f"Bluesky refused the login for {self.settings.handle} ({exc}): check "
                           "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password, not the "
                           "account password)", retry=False)
        if isinstance(exc, RateLimitExceededError):
            wait = exc.retry_after
            if wait is None and exc.reset_at is not None:
                wait = max(0.0, (exc.reset_at - datetime.now(UTC)).total_seconds()) + 1
            return Verdict("rate limited by Bluesky (429)", wait=wait)
        if isinstance(exc, InvokeTimeoutError):
            return Verdict("Bluesky timed out")
        if isinstance(exc, NetworkError):
            if exc.response is not None:
                return Verdict(f"Bluesky server error ({exc.response.status_code})")
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "network error"
            return Verdict(f"connection to Bluesky failed ({cause})")
        if isinstance(exc, httpx.TransportError):
            return Verdict(f"connection to Bluesky failed ({type(exc).__name__})")
        if isinstance(exc, BadBody):
            return Verdict(f"Bluesky sent a malformed body ({exc})")
        if isinstance(exc, UnauthorizedError):
            return Verdict(f"Bluesky refused the search ({_detail(exc)}); check that "
                           f"{self.settings.handle} can log in and search", retry=False)
        if isinstance(exc, RequestErrorBase) and exc.response is not None:
            status = exc.response.status_code
            if status >= 500:
                return Verdict(f"Bluesky server error ({status})")
            if status == 404:
                return Verdict(f"Bluesky answered 404 ({_detail(exc)}): is "
                               f"{self.settings.service_url} (OUTAGE_SIGNALS_BLUESKY_URL) an "
                               "atproto server?", retry=False)
            return Verdict(f"Bluesky answered {status} ({_detail(exc)})", retry=False)
        return None


def _time(value: Any) -> datetime | None:
    """An atproto datetime string in UTC, or ``None`` when it is missing or has no zone."""
    try:
        return parse_time(value)
    except InvalidRecordError:
        return None


def _detail(exc: RequestErrorBase) -> str:
    """The server's error name and message (never a request's content)."""
    content = exc.response.content if exc.response is not None else None
    if isinstance(content, XrpcError):
        return f"{content.error}: {content.message}" if content.message else content.error
    return str(exc.response.status_code) if exc.response is not None else type(exc).__name__


def _token_refused(exc: RequestErrorBase) -> bool:
    content = exc.response.content if exc.response is not None else None
    if isinstance(content, XrpcError) and content.error in _TOKEN_ERRORS:
        return True
    return exc.response is not None and exc.response.status_code == 401
