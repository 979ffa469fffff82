"""A fake Bluesky PDS on 127.0.0.1: ``createSession`` / ``refreshSession`` with decodable JWTs
(and no ``didDoc``, so the client stays on this server) and ``app.bsky.feed.searchPosts`` with
``q``, ``since``/``until`` on ``sortAt``, ``lang``, ``limit`` and opaque cursors, in the wire format
the atproto SDK parses (../shared/notes/collector-apis.md section 3). With ``pds_url`` it plays
the entryway (bsky.social), whose sessions send the client on to the account's PDS. Every response carries the
``ratelimit-*`` headers; searches without a valid access token are refused like the real server."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fake_mastodon import nodelay
from tests.fakeapi import FakeAPI, Reply

HANDLE = "outage-watch.bsky.social"
APP_PASSWORD = "hunter2-app-pass-9x7q"
DID = "did:plc:outagewatch7xq2m4k0000"

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt(scope: str, exp: float, serial: int) -> str:
    """A JWT the SDK can decode (the signature is never checked by clients)."""
    header = {"typ": "at+jwt" if scope == "com.atproto.appPass" else "refresh+jwt", "alg": "ES256K"}
    payload = {"scope": scope, "sub": DID, "aud": "did:web:fake.pds", "iat": int(time.time()),
               "exp": int(exp), "jti": f"j{serial}"}
    signature = base64.urlsafe_b64encode(hashlib.sha256(f"sig{serial}".encode()).digest()).decode()
    return f"{_b64(header)}.{_b64(payload)}.{signature.rstrip('=')}"


def tid(n: int) -> str:
    """A record key shaped like Bluesky's TIDs (13 base32-sortable characters)."""
    out = []
    for _ in range(13):
        out.append(_ALPHABET[n % 32])
        n //= 32
    return "3" + "".join(reversed(out))[1:]


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def post_view(n: int, created: datetime, text: str, handle: str = "alice.bsky.social",
              langs: list[str] | None = None, indexed: datetime | None = None,
              created_raw: str | None = None) -> dict[str, Any]:
    """A ``PostView`` as searchPosts returns it. ``n`` makes the record key and the author's DID."""
    did = f"did:plc:author{n % 7:03d}aaaaaaaaaaaaa"
    uri = f"at://{did}/app.bsky.feed.post/{tid(1_700_000_000 + n)}"
    cid = "bafyrei" + base64.b32encode(hashlib.sha256(uri.encode()).digest()).decode().lower()[:52]
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                              "createdAt": created_raw or iso(created)}
    if langs is None:
        langs = ["en"]
    if langs:
        record["langs"] = langs
    return {"uri": uri, "cid": cid,
            "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0].title(),
                       "labels": [], "createdAt": "2023-05-01T00:00:00.000Z"},
            "record": record, "indexedAt": iso(indexed or created),
            "likeCount": 0, "replyCount": 0, "repostCount": 0, "quoteCount": 0, "labels": []}


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sort_at(view: dict[str, Any]) -> datetime:
    created = view["record"]["createdAt"]
    indexed = _when(view["indexedAt"])
    try:
        stamp = _when(created)
    except ValueError:
        return indexed
    return indexed if stamp.tzinfo is None else min(stamp, indexed)


def _error(status: int, name: str, message: str) -> Reply:
    return Reply(status, {"error": name, "message": message})


@dataclass
class FakeBluesky:
    api: FakeAPI
    posts: list[dict[str, Any]] = field(default_factory=list)
    #: The server's own largest page (the request's limit applies too).
    page_size: int = 100
    #: Lifetime of access tokens in seconds (the SDK refreshes 15 minutes before expiry).
    access_ttl: float = 7200
    #: ``ratelimit-remaining`` sent with every search.
    remaining: int = 2999
    #: When set, sessions carry a ``didDoc`` naming this PDS, as bsky.social's do: the client
    #: then sends everything after the login there.
    pds_url: str | None = None
    logins: int = 0
    refreshes: int = 0
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        nodelay(self.api)
        self._serial = itertools.count(1)
        self.api.route("POST", "/xrpc/com.atproto.server.createSession")(self._create_session)
        self.api.route("POST", "/xrpc/com.atproto.server.refreshSession")(self._refresh_session)
        self.api.route("GET", "/xrpc/app.bsky.feed.searchPosts")(self._search)

    def revoke_all(self) -> None:
        """Invalidate every token issued so far (a password change, a server-side logout)."""
        self.access_tokens.clear()
        self.refresh_tokens.clear()

    def _issue(self) -> dict[str, Any]:
        serial = next(self._serial)
        access = jwt("com.atproto.appPass", time.time() + self.access_ttl, serial)
        refresh = jwt("com.atproto.refresh", time.time() + 90 * 86400, serial)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        session = {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID,
                   "active": True, "emailConfirmed": True}
        if self.pds_url:
            session["didDoc"] = {
                "@context": ["https://www.w3.org/ns/did/v1"], "id": DID,
                "alsoKnownAs": [f"at://{HANDLE}"],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                             "serviceEndpoint": self.pds_url}]}
        return session

    def _create_session(self, req) -> Reply:
        body = json.loads(req.body or b"{}")
        if body.get("identifier") != HANDLE or body.get("password") != APP_PASSWORD:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.logins += 1
        return Reply(200, self._issue())

    def _refresh_session(self, req) -> Reply:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.refresh_tokens:
            return _error(400, "ExpiredToken", "Token has been revoked")
        self.refresh_tokens.discard(token)
        self.refreshes += 1
        return Reply(200, self._issue())

    def _search(self, req) -> Reply:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if not token:
            return _error(401, "AuthMissing", "Authentication Required")
        if token not in self.access_tokens:
            return _error(400, "ExpiredToken", "Token has expired")
        q = req.query
        words = q.get("q", "").lower().split()
        since = _when(q["since"]) if "since" in q else None
        until = _when(q["until"]) if "until" in q else None
        chosen = [v for v in self.posts
                  if all(w in v["record"]["text"].lower() for w in words)
                  and ("lang" not in q or q["lang"] in v["record"].get("langs", []))
                  and (since is None or sort_at(v) >= since) and (until is None or sort_at(v) < until)]
        chosen.sort(key=lambda v: (sort_at(v), v["uri"]), reverse=True)
        offset = 0
        if "cursor" in q:
            if not q["cursor"].startswith("o") or not q["cursor"][1:].isdigit():
                return _error(400, "InvalidRequest", "malformed cursor")
            offset = int(q["cursor"][1:])
        size = min(int(q.get("limit", 25)), self.page_size)
        page = chosen[offset:offset + size]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(chosen)}
        if offset + size < len(chosen):
            body["cursor"] = f"o{offset + size}"
        return Reply(200, body, self.rate_headers(self.remaining))

    @staticmethod
    def rate_headers(remaining: int, reset_in: float = 300) -> dict[str, str]:
        return {"ratelimit-limit": "3000", "ratelimit-remaining": str(remaining),
                "ratelimit-reset": str(int(time.time() + reset_in)), "ratelimit-policy": "3000;w=300"}
