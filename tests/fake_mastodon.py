"""A fake Mastodon instance on 127.0.0.1: ``/api/v1/instance/`` and ``/api/v2/instance/`` (the
probes Mastodon.py sends before timelines and search), hashtag timelines paged through the
``Link`` header's ``max_id``, and ``/api/v2/search`` for logged-in users, with snowflake ids
and the ``X-RateLimit-*`` headers, in the wire format Mastodon.py parses
(../shared/notes/collector-apis.md section 4)."""

from __future__ import annotations

import html
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from tests.fakeapi import FakeAPI, Reply

TOKEN = "masto-home-token-Zq81vLx3"


def snowflake(ts: datetime, seq: int) -> str:
    """A Mastodon id: milliseconds since the epoch, shifted 16 bits, plus a sequence."""
    return str((int(ts.timestamp() * 1000) << 16) + seq)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def status(seq: int, created: datetime, content: str, *, served_by: str, user: str = "alice",
           home: str | None = None, origin: int | None = None, tags: tuple[str, ...] = ("slack",),
           language: str | None = "en", spoiler: str = "", reblog: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    """A Status as ``served_by`` shows it. ``home``: the author's server (default: this one);
    ``origin``: the status number on its home server, which makes its ``uri`` (default ``seq``).
    The same post seen on two instances has two local ids and one ``uri``."""
    home = home or served_by
    origin = seq if origin is None else origin
    return {
        "id": snowflake(created, seq), "created_at": iso(created), "content": content,
        "spoiler_text": spoiler, "sensitive": bool(spoiler), "language": language,
        "uri": f"https://{home}/users/{user}/statuses/{origin}",
        "url": f"https://{home}/@{user}/{origin}", "visibility": "public",
        "in_reply_to_id": None, "in_reply_to_account_id": None, "reblog": reblog,
        "tags": [{"name": t, "url": f"https://{served_by}/tags/{t}"} for t in tags],
        "mentions": [], "emojis": [], "media_attachments": [], "card": None, "poll": None,
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 1,
        "account": {"id": str(1000 + len(user)), "username": user,
                    "acct": user if home == served_by else f"{user}@{home}",
                    "display_name": user.title(), "url": f"https://{home}/@{user}",
                    "created_at": "2023-01-01T00:00:00.000Z", "bot": False, "locked": False,
                    "note": "", "avatar": "", "followers_count": 1, "following_count": 1,
                    "statuses_count": 10, "fields": [], "emojis": []},
    }


def reblog_of(seq: int, created: datetime, original: dict[str, Any], *, served_by: str,
              user: str = "booster") -> dict[str, Any]:
    """A boost of ``original`` by ``user``: empty content, the original inside."""
    out = status(seq, created, "", served_by=served_by, user=user, tags=(), language=None)
    out["reblog"] = original
    out["tags"] = original["tags"]  # so the fake's tag filter finds it
    return out


def nodelay(api: FakeAPI) -> None:
    """Answer without Nagle's delay: the fake writes headers and body separately, and the
    client's delayed ACK would otherwise add 40 ms to every request. Accepted sockets inherit
    the option from the listening one."""
    api.server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _plain(content: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", content)).lower()


@dataclass
class FakeMastodon:
    api: FakeAPI
    domain: str = "mastodon.example"
    statuses: list[dict[str, Any]] = field(default_factory=list)
    #: The server's largest page (Mastodon: 40; the request's limit applies too).
    page_size: int = 40
    #: The token search requires; timelines are public.
    token: str | None = TOKEN
    #: ``configuration.timelines_access.hashtag_feeds``: public, authenticated or disabled.
    hashtag_feeds: str = "public"
    version: str = "4.3.2"
    #: ``X-RateLimit-Remaining`` on every response.
    remaining: int = 299

    def __post_init__(self) -> None:
        nodelay(self.api)
        self.api.route("GET", "/api/v1/instance/")(self._instance_v1)
        self.api.route("GET", "/api/v2/instance/")(self._instance_v2)
        self.api.route("GET", r"/api/v1/timelines/tag/(?P<tag>[^/]+)")(self._tag)
        self.api.route("GET", "/api/v2/search")(self._search)

    def rate_headers(self, remaining: int | None = None, reset_in: float = 300) -> dict[str, str]:
        reset = datetime.now(UTC) + timedelta(seconds=reset_in)
        return {"X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": str(self.remaining if remaining is None else remaining),
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}

    def _auth(self, req) -> bool | Reply:
        """True for our token, False for none; a 401 reply for a wrong one (as on any route)."""
        given = req.headers.get("authorization")
        if given is None:
            return False
        if self.token is not None and given == f"Bearer {self.token}":
            return True
        return Reply(401, {"error": "The access token is invalid"}, self.rate_headers())

    def _instance_v1(self, req) -> Reply:
        return Reply(200, {"uri": self.domain, "title": "Fake Mastodon", "short_description": "",
                           "description": "", "email": "admin@" + self.domain,
                           "version": self.version, "languages": ["en"], "registrations": False,
                           "approval_required": False, "invites_enabled": False,
                           "urls": {"streaming_api": f"wss://{self.domain}"},
                           "stats": {"user_count": 5, "status_count": 50, "domain_count": 3},
                           "contact_account": None, "rules": []}, self.rate_headers())

    def _instance_v2(self, req) -> Reply:
        feeds = {"local": self.hashtag_feeds, "remote": self.hashtag_feeds}
        return Reply(200, {
            "domain": self.domain, "title": "Fake Mastodon", "version": self.version,
            "source_url": "https://github.com/mastodon/mastodon", "description": "",
            "usage": {"users": {"active_month": 5}}, "languages": ["en"],
            "api_versions": {"mastodon": 2},
            "configuration": {"urls": {"streaming": f"wss://{self.domain}"},
                              "statuses": {"max_characters": 500},
                              "timelines_access": {
                                  "live_feeds": {"local": "public", "remote": "public"},
                                  "hashtag_feeds": feeds,
                                  "trending_link_feeds": {"local": "public", "remote": "public"}}},
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "contact": {"email": "admin@" + self.domain, "account": None}, "rules": []},
            self.rate_headers())

    def _newest_first(self, chosen: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
        chosen = sorted(chosen, key=lambda s: int(s["id"]), reverse=True)
        if "max_id" in q:
            chosen = [s for s in chosen if int(s["id"]) < int(q["max_id"])]
        floor = q.get("min_id") or q.get("since_id")
        if floor:
            chosen = [s for s in chosen if int(s["id"]) > int(floor)]
        return chosen

    def _tag(self, req, tag: str) -> Reply:
        auth = self._auth(req)
        if isinstance(auth, Reply):
            return auth
        if self.hashtag_feeds != "public" and not auth:
            return Reply(401, {"error": "This method requires an authenticated user"},
                         self.rate_headers())
        q = req.query
        chosen = self._newest_first(
            [s for s in self.statuses if tag.lower() in {t["name"].lower() for t in s["tags"]}], q)
        limit = min(int(q.get("limit", 20)), self.page_size)
        page = chosen[:limit]
        headers = self.rate_headers()
        base = f"{self.api.url}/api/v1/timelines/tag/{quote(tag)}"
        links = []
        if len(page) == limit:  # Mastodon links the next page only after a full one
            links.append(f'<{base}?max_id={page[-1]["id"]}>; rel="next"')
        if page:
            links.append(f'<{base}?min_id={page[0]["id"]}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return Reply(200, page, headers)

    def _search(self, req) -> Reply:
        auth = self._auth(req)
        if isinstance(auth, Reply):
            return auth
        q = req.query
        words = q.get("q", "").lower().split()
        chosen = []
        if auth and q.get("type") in (None, "statuses"):  # no full-text search for anonymous users
            chosen = self._newest_first(
                [s for s in self.statuses if not s["reblog"]
                 and all(w in _plain(s["content"]) for w in words)], q)
        offset = int(q.get("offset", 0))
        limit = min(int(q.get("limit", 20)), self.page_size)
        return Reply(200, {"accounts": [], "hashtags": [], "statuses": chosen[offset:offset + limit]},
                     self.rate_headers())
