"""Atlassian Statuspage (public API v2) as ground truth: when did the provider admit an outage?

A detected incident is "confirmed by the status page at T, N minutes after our detection" when
the provider's page lists an incident that overlaps it. This module reads the two public
endpoints every Statuspage-hosted page serves without auth (shapes in
``../shared/notes/collector-apis.md`` section 5):

- ``/api/v2/summary.json``: the page's overall indicator and its **unresolved** incidents;
- ``/api/v2/incidents.json``: the **50 most recent** incidents, resolved ones included.

Each incident becomes a :class:`StatusIncident` at the edge; no raw JSON travels further.
:func:`matching_incident` pairs one of our incidents with the page's, and
:func:`lead_time_minutes` says how far ahead of the provider we were.

Times: the API sends ISO 8601 with an offset (``Z`` or the page's own zone, e.g. ``-06:00``);
every datetime here is an aware UTC datetime, and :meth:`StatusIncident.to_dict` writes
``...Z`` strings. Requests go only to the page's base URL (redirects are refused, not followed),
through a :class:`~outage_signals.collectors.http.ClientSession` (its timeout caps every
request) and :func:`outage_signals.retrying.call` (429, 5xx and dropped connections are retried).
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests

from outage_signals import __version__
from outage_signals.catalog import Catalog, load_catalog
from outage_signals.collectors.http import ClientSession
from outage_signals.errors import CollectError, ConfigError, InputError, InvalidRecordError
from outage_signals.records import format_time, parse_time
from outage_signals.retrying import RetryPolicy, Verdict, call

SUMMARY_PATH = "/api/v2/summary.json"
INCIDENTS_PATH = "/api/v2/incidents.json"

#: Impacts that never confirm an outage: "none" is an informational notice, "maintenance" was
#: planned (users may well complain, but the provider did not fail).
IGNORED_IMPACTS = frozenset({"none", "maintenance"})
#: Statuses only scheduled maintenances take; some pages list maintenances among incidents with
#: an ordinary impact, so the status is checked too.
MAINTENANCE_STATUSES = frozenset({"scheduled", "in_progress", "verifying", "completed"})


@dataclass(frozen=True)
class StatusIncident:
    """One incident as a status page published it. All datetimes are aware UTC.

    ``page``: the page's base URL (``https://www.githubstatus.com``). ``status``: investigating,
    identified, monitoring, resolved or postmortem. ``impact``: none, minor, major, critical (or
    maintenance). ``started_at``: when the provider says the problem began (``started_at``, or
    ``created_at`` on old data without it); it can be backdated, so it is not when the provider
    spoke. ``acknowledged_at``: when the provider first said something publicly (the
    ``created_at`` of the oldest incident update, else the incident's ``created_at``).
    ``resolved_at``: ``None`` while open. ``updated_at``: the page's last change to it
    (``created_at`` when absent). ``components``: names of the affected components, in the
    page's order. ``shortlink``: the page's short URL for it, if any.
    """

    page: str
    id: str
    name: str
    status: str
    impact: str
    started_at: datetime
    acknowledged_at: datetime
    resolved_at: datetime | None
    updated_at: datetime
    components: tuple[str, ...] = ()
    shortlink: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; times as ISO 8601 UTC strings ending in ``Z``."""
        return {
            "page": self.page, "id": self.id, "name": self.name, "status": self.status,
            "impact": self.impact,
            "started_at": format_time(self.started_at),
            "acknowledged_at": format_time(self.acknowledged_at),
            "resolved_at": format_time(self.resolved_at) if self.resolved_at else None,
            "updated_at": format_time(self.updated_at),
            "components": list(self.components), "shortlink": self.shortlink,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatusIncident:
        """The inverse of :meth:`to_dict` (any ISO 8601 offset is accepted and made UTC).

        Raises :class:`~outage_signals.errors.InputError` naming the first bad field.
        """
        try:
            resolved = data.get("resolved_at")
            return cls(
                page=_text(data, "page"), id=_text(data, "id"), name=_text(data, "name"),
                status=_text(data, "status"), impact=_text(data, "impact"),
                started_at=_time(data, "started_at"),
                acknowledged_at=_time(data, "acknowledged_at"),
                resolved_at=None if resolved is None else _time(data, "resolved_at"),
                updated_at=_time(data, "updated_at"),
                components=tuple(_names(data.get("components") or [])),
                shortlink=data.get("shortlink") or None,
            )
        except (_Malformed, InvalidRecordError) as exc:
            raise InputError(f"status incident {data.get('id')!r}: {exc}") from None


class PageSummary(NamedTuple):
    """What ``summary.json`` says now: ``indicator`` (none, minor, major, critical),
    ``description`` ("All Systems Operational") and the unresolved incidents."""

    indicator: str
    description: str
    incidents: list[StatusIncident]


class StatusPageClient:
    """Reads one Statuspage v2 page at ``base_url`` (scheme and host, optionally a path prefix;
    no trailing ``/api/v2``).

    ``session``: the :class:`ClientSession` to send through (its ``timeout`` in seconds caps each
    request). ``policy``: retries and backoff (``RetryPolicy()`` by default; tests pass one with a
    recording ``sleep``). ``log``: one line per retry wait, with its reason.
    """

    def __init__(self, base_url: str, session: ClientSession, *, policy: RetryPolicy | None = None,
                 log: Callable[[str], None] = lambda message: None):
        base = base_url.strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query:
            raise ConfigError(f"status page URL must be https:// or http:// with a host: {base_url!r}")
        self.base_url = base
        self.session = session
        self.policy = policy if policy is not None else RetryPolicy()
        self.log = log

    def summary(self) -> PageSummary:
        """The page's indicator, its description and its unresolved incidents, newest first as
        the page lists them. Raises :class:`CollectError` naming the URL on failure."""
        url = self.base_url + SUMMARY_PATH
        body = self._get_json(url)
        try:
            status = _field(body, "status", dict)
            indicator = _text(status, "indicator")
            description = _text(status, "description")
            incidents = [self._incident(item, i) for i, item in
                         enumerate(_field(body, "incidents", list))]
        except (_Malformed, InvalidRecordError) as exc:
            raise CollectError(f"{url}: {exc}") from None
        # summary.json lists only unresolved incidents; one resolved between the page's render
        # and our read would otherwise claim to be still open.
        return PageSummary(indicator, description, [i for i in incidents if i.resolved_at is None])

    def incidents(self) -> list[StatusIncident]:
        """The page's 50 most recent incidents, resolved ones included, in the page's order
        (newest first). Raises :class:`CollectError` naming the URL on failure."""
        url = self.base_url + INCIDENTS_PATH
        body = self._get_json(url)
        try:
            return [self._incident(item, i) for i, item in
                    enumerate(_field(body, "incidents", list))]
        except (_Malformed, InvalidRecordError) as exc:
            raise CollectError(f"{url}: {exc}") from None

    # -- fetching ----------------------------------------------------------------------------

    def _get_json(self, url: str) -> dict[str, Any]:
        def request() -> requests.Response:
            # Redirects are not followed: the page may only be read at the URL we were given,
            # and a moved page is better fixed in the URL table than silently chased.
            response = self.session.get(url, allow_redirects=False, headers={
                "Accept": "application/json", "User-Agent": f"outage-signals/{__version__}"})
            response.raise_for_status()
            return response

        response = call(request, judge=_judge, policy=self.policy, what=f"status page {url}",
                        log=self.log)
        if 300 <= response.status_code < 400:
            where = response.headers.get("Location") or "nowhere"
            raise CollectError(f"{url}: redirects ({response.status_code}) to {where}; "
                               "use the page's current URL")
        try:
            body = response.json()
        except ValueError:
            # Not retried: a page that answers 200 with HTML (a custom status page, a captive
            # portal) will not start speaking JSON a few seconds later.
            kind = response.headers.get("Content-Type") or "no content type"
            start = response.text[:60].strip()
            raise CollectError(f"{url}: the body is not JSON ({kind}; starts {start!r}); "
                               "is this an Atlassian Statuspage v2 page?") from None
        if not isinstance(body, dict):
            raise CollectError(f"{url}: expected a JSON object, got {type(body).__name__}")
        return body

    # -- parsing -----------------------------------------------------------------------------

    def _incident(self, item: Any, index: int) -> StatusIncident:
        if not isinstance(item, dict):
            raise _Malformed(f"incident {index} is a {type(item).__name__}, not an object")
        try:
            created = _time(item, "created_at")
            # started_at is on current pages; old incidents only have created_at.
            started = _time(item, "started_at") if item.get("started_at") else created
            resolved = _time(item, "resolved_at") if item.get("resolved_at") else None
            updated = _time(item, "updated_at") if item.get("updated_at") else created
            updates = item.get("incident_updates") or []
            if not isinstance(updates, list):
                raise _Malformed("'incident_updates' must be a list")
            # The oldest update is the provider's first public word; the list is newest first
            # on the wire, but taking the minimum does not depend on that.
            if not all(isinstance(u, dict) for u in updates):
                raise _Malformed("'incident_updates' must hold objects")
            said = [_time(u, "created_at") for u in updates]
            return StatusIncident(
                page=self.base_url, id=_text(item, "id"), name=_text(item, "name"),
                status=_text(item, "status"), impact=_text(item, "impact"),
                started_at=started, acknowledged_at=min(said, default=created),
                resolved_at=resolved, updated_at=updated,
                components=tuple(_names(item.get("components") or [])),
                shortlink=item.get("shortlink") or None,
            )
        except (_Malformed, InvalidRecordError) as exc:
            raise _Malformed(f"incident {item.get('id') or index}: {exc}") from None


def _judge(exc: BaseException) -> Verdict | None:
    """What a failed request means, for :func:`outage_signals.retrying.call`."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        if code == 429:
            return Verdict("rate limited (429)", wait=_retry_after(exc.response))
        if code >= 500:
            return Verdict(f"server error ({code})")
        return Verdict(f"answered {code} {exc.response.reason or ''}".rstrip(), retry=False)
    if isinstance(exc, requests.ConnectionError | requests.Timeout
                  | requests.exceptions.ChunkedEncodingError):
        return Verdict(f"connection failed ({type(exc).__name__})")
    return None


def _retry_after(response: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), else ``None`` (backoff)."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class _Malformed(Exception):
    """A JSON value not of the expected shape; the caller adds the URL or record."""


def _field(obj: Mapping[str, Any], name: str, kind: type) -> Any:
    value = obj.get(name)
    if value is None:
        raise _Malformed(f"missing {name!r}")
    if not isinstance(value, kind):
        raise _Malformed(f"{name!r} must be a {'list' if kind is list else 'object'}")
    return value


def _text(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise _Malformed(f"missing {name!r}" if value is None else f"{name!r} must be a string")
    return value


def _time(obj: Mapping[str, Any], name: str) -> datetime:
    if obj.get(name) is None:
        raise _Malformed(f"missing {name!r}")
    return parse_time(obj[name], name)


def _names(components: Iterable[Any]) -> list[str]:
    """Component names, each once, in the page's order (objects on the wire, strings in our dicts)."""
    names = [c.get("name") if isinstance(c, dict) else c for c in components]
    return list(dict.fromkeys(n for n in names if isinstance(n, str) and n))


# -- matching ----------------------------------------------------------------------------------

def _require_aware(ts: datetime, name: str) -> datetime:
    if ts.tzinfo is None:
        # A naive time would silently be read as the machine's local zone.
        raise ValueError(f"{name} must be timezone-aware (UTC), got {ts!r}")
    return ts.astimezone(UTC)


def is_outage(incident: StatusIncident) -> bool:
    """True when the incident reports a failure: impact other than none, not a maintenance."""
    return (incident.impact not in IGNORED_IMPACTS
            and incident.status not in MAINTENANCE_STATUSES)


def matching_incident(incidents: Iterable[StatusIncident], start: datetime,
                      end: datetime | None = None,
                      window: timedelta = timedelta(hours=6)) -> StatusIncident | None:
    """The status-page incident that confirms one of ours, or ``None``.

    Ours spans ``[start - window, end]``, or ``[start - window, start + window]`` while it has
    no ``end``; a page incident spans ``[started_at, resolved_at)``, open-ended while unresolved.
    Among the overlapping incidents that report a failure (:func:`is_outage`), the one the
    provider acknowledged first wins (ties: earlier ``started_at``, then ``id``). ``start``
    and ``end`` are aware datetimes (any zone; compared in UTC); ``window`` allows for the
    provider's start being earlier than ours and for ours being open.
    """
    start = _require_aware(start, "start")
    lo = start - window
    hi = _require_aware(end, "end") if end is not None else start + window
    if hi < start:
        raise ValueError(f"end {end!r} is before start {start!r}")
    overlapping = [
        i for i in incidents
        if is_outage(i) and i.started_at <= hi and (i.resolved_at is None or i.resolved_at > lo)
    ]
    return min(overlapping, key=lambda i: (i.acknowledged_at, i.started_at, i.id), default=None)


def lead_time_minutes(detected_at: datetime, incident: StatusIncident) -> float:
    """Minutes from our detection to the provider's first public word
    (``incident.acknowledged_at - detected_at``): positive when we were first."""
    detected = _require_aware(detected_at, "detected_at")
    return (incident.acknowledged_at - detected).total_seconds() / 60.0


def statuspage_urls(catalog: Catalog | None = None) -> dict[str, str]:
    """Catalog service key -> base URL of the provider's Statuspage v2 page: the services whose
    ``status_api`` is "statuspage" (default catalog: the packaged one plus the user's)."""
    catalog = load_catalog() if catalog is None else catalog
    return {s.key: s.status_page.rstrip("/") for s in catalog
            if s.status_api == "statuspage" and s.status_page}
