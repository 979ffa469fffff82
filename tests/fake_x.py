"""A fake X API v2 on 127.0.0.1: recent and full-archive search with ``start_time`` /
``end_time`` windows, ``next_token`` paging, and author/place expansions in ``includes``, in the
wire format tweepy parses (../shared/notes/collector-apis.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakeapi import FakeAPI, Reply

BEARER = "x-bearer-s3cret-token-value"


def tweet(tid: int, created: datetime, text: str, author: int = 111, place: str | None = None,
          point: tuple[float, float] | None = None, lang: str = "en", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(tid), "text": text, "edit_history_tweet_ids": [str(tid)],
                           "author_id": str(author), "lang": lang,
                           "created_at": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    if place or point:
        out["geo"] = {}
        if place:
            out["geo"]["place_id"] = place
        if point:
            out["geo"]["coordinates"] = {"type": "Point", "coordinates": list(point)}
    out.update(extra)
    return out


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass
class FakeX:
    api: FakeAPI
    tweets: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    page_size: int = 100
    archive_allowed: bool = True

    def __post_init__(self) -> None:
        self.api.route("GET", "/2/tweets/search/recent")(self._search)
        self.api.route("GET", "/2/tweets/search/all")(self._archive)

    def _archive(self, req) -> Reply:
        if not self.archive_allowed:
            return Reply(403, {"title": "Forbidden", "detail": "not permitted", "type":
                               "https://api.twitter.com/2/problems/client-forbidden"})
        return self._search(req)

    def _search(self, req) -> Reply:
        if req.headers.get("authorization") != f"Bearer {BEARER}":
            return Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                               "detail": "Unauthorized"})
        q = req.query
        start, end = _parse(q["start_time"]), _parse(q["end_time"])
        chosen = sorted((t for t in self.tweets
                         if start <= datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) < end),
                        key=lambda t: t["created_at"], reverse=True)
        offset = 0
        if "next_token" in q:
            if not q["next_token"].startswith("tok"):
                return Reply(400, {"errors": [{"parameters": {"next_token": [q["next_token"]]},
                                               "message": "The `next_token` query parameter value "
                                                          "is not valid"}],
                                   "title": "Invalid Request", "detail": "One or more parameters "
                                   "to your request was invalid.", "type": "about:blank"})
            offset = int(q["next_token"][3:])
        size = min(int(q.get("max_results", 10)), self.page_size)
        page = chosen[offset:offset + size]
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = page
            body["meta"].update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
            authors = {t["author_id"] for t in page}
            place_ids = {t.get("geo", {}).get("place_id") for t in page} - {None}
            body["includes"] = {
                "users": [self.users.get(a, {"id": a, "name": f"user {a}", "username": f"user{a}"})
                          for a in sorted(authors)],
                "places": [self.places[p] for p in sorted(place_ids) if p in self.places]}
        if offset + size < len(chosen):
            body["meta"]["next_token"] = f"tok{offset + size}"
        return Reply(200, body, {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
                                 "x-rate-limit-reset": "9999999999"})
