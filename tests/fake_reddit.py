"""A fake Reddit on 127.0.0.1 speaking the wire format praw expects
(../shared/notes/collector-apis.md section 1): the OAuth token endpoint, subreddit search and
``new`` listings with ``after`` paging, and comment trees."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from tests.fakeapi import FakeAPI, Reply

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "s3cret-reddit-value"
ACCESS_TOKEN = "reddit-access-token-xyz"
RATE_HEADERS = {"x-ratelimit-remaining": "99", "x-ratelimit-used": "1", "x-ratelimit-reset": "300"}


def submission(sid: str, created: float, title: str, sub: str = "sysadmin", body: str = "",
               author: str = "alice", comments: int = 0) -> dict[str, Any]:
    return {"id": sid, "name": f"t3_{sid}", "title": title, "selftext": body,
            "created_utc": created, "subreddit": sub, "subreddit_name_prefixed": f"r/{sub}",
            "author": author, "permalink": f"/r/{sub}/comments/{sid}/slug/",
            "url": f"https://www.reddit.com/r/{sub}/comments/{sid}/slug/", "score": 1,
            "num_comments": comments, "over_18": False}


def comment(cid: str, link: str, created: float, body: str, sub: str = "sysadmin",
            author: str = "bob", replies: list[dict] | None = None) -> dict[str, Any]:
    return {"kind": "t1", "data": {
        "id": cid, "name": f"t1_{cid}", "body": body, "created_utc": created, "author": author,
        "link_id": f"t3_{link}", "parent_id": f"t3_{link}", "subreddit": sub,
        "permalink": f"/r/{sub}/comments/{link}/slug/{cid}/", "score": 1,
        "replies": {"kind": "Listing", "data": {"after": None, "before": None, "children": replies or []}}
        if replies else ""}}


@dataclass
class FakeReddit:
    """``items``: submissions (dicts from :func:`submission`); ``page_size`` caps every page
    whatever ``limit`` asks, as Reddit caps at 100. A search matches when every word of ``q``
    that is not an operator or a problem word appears in the title or body."""

    api: FakeAPI
    items: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 100
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    missing_subs: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        api = self.api
        api.route("POST", "/api/v1/access_token")(self._token)
        api.route("GET", r"/r/(?P<sub>[^/]+)/search/")(self._search)
        api.route("GET", r"/r/(?P<sub>[^/]+)/new")(self._new)
        api.route("GET", r"/comments/(?P<sid>[^/]+)/")(self._comments)

    def _token(self, req) -> Reply:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if req.headers.get("authorization") != f"Basic {expected}":
            return Reply(401, {"message": "Unauthorized", "error": 401})
        return Reply(200, {"access_token": ACCESS_TOKEN, "token_type": "bearer",
                           "expires_in": 86400, "scope": "*"})

    def _authorized(self, req) -> bool:
        return req.headers.get("authorization") == f"bearer {ACCESS_TOKEN}"

    def _page(self, req, items: list[dict[str, Any]]) -> Reply:
        if not self._authorized(req):
            return Reply(401, {"message": "Unauthorized", "error": 401})
        items = sorted(items, key=lambda d: d["created_utc"], reverse=True)
        start = 0
        if "after" in req.query:
            names = [d["name"] for d in items]
            start = names.index(req.query["after"]) + 1 if req.query["after"] in names else len(items)
        size = min(int(req.query.get("limit", 25)), self.page_size)
        chunk = items[start:start + size]
        more = start + size < len(items)
        return Reply(200, {"kind": "Listing", "data": {
            "after": chunk[-1]["name"] if chunk and more else None, "before": None,
            "dist": len(chunk), "modhash": "",
            "children": [{"kind": "t3", "data": d} for d in chunk]}}, dict(RATE_HEADERS))

    def _search(self, req, sub: str) -> Reply:
        if sub in self.missing_subs:
            return Reply(302, {}, {"Location": "https://www.reddit.com/subreddits/search?q=" + sub})
        words = [w.strip('()"').lower() for w in req.query.get("q", "").split()]
        words = [w for w in words if w and w not in {"and", "or", "down", "outage", "not", "working",
                                                     "error", "is", "it"}]
        found = [d for d in self.items
                 if (sub == "all" or d["subreddit"] == sub)
                 and any(w in (d["title"] + " " + d["selftext"]).lower() for w in words)]
        return self._page(req, found)

    def _new(self, req, sub: str) -> Reply:
        if sub in self.missing_subs:
            return Reply(302, {}, {"Location": "https://www.reddit.com/subreddits/search?q=" + sub})
        return self._page(req, [d for d in self.items if d["subreddit"] == sub])

    def _comments(self, req, sid: str) -> Reply:
        if not self._authorized(req):
            return Reply(401, {"message": "Unauthorized", "error": 401})
        item = next((d for d in self.items if d["id"] == sid), None)
        if item is None:
            return Reply(404, {"message": "Not Found", "error": 404})
        return Reply(200, [
            {"kind": "Listing", "data": {"after": None, "before": None,
                                         "children": [{"kind": "t3", "data": item}]}},
            {"kind": "Listing", "data": {"after": None, "before": None,
                                         "children": self.threads.get(sid, [])}},
        ], dict(RATE_HEADERS))
