"""What providers' status pages said, kept in the post store, and what it says about ours.

:mod:`outage_signals.statuspage` reads a page; this module keeps what was read (the store's
``status_incidents`` table, one row per page and incident id, replaced when the page changes
it, so polling every cycle is idempotent) and pairs it with detected incidents:

- :func:`poll` reads the pages of some services and saves their incidents (used by
  ``outage-signals collect statuspage`` and by each scheduled cycle);
- :func:`acknowledgement` is the ``status_page`` object an incident record carries once the
  provider has spoken: the page incident's name, status, impact, when it was acknowledged and
  how many minutes after our detection (``lead_minutes``, positive when we were first);
- :func:`annotate` adds it to incident records and :func:`lead_summary` sums the lead up, for
  ``backtest`` (the detector's evaluation where status pages and our incidents both exist).

Times are aware UTC datetimes in, ISO 8601 ``...Z`` strings in records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from outage_signals.catalog import Catalog
from outage_signals.collectors.http import ClientSession
from outage_signals.errors import CollectError, InputError
from outage_signals.records import format_time, parse_time
from outage_signals.retrying import RetryPolicy
from outage_signals.statuspage import (
    PageSummary,
    StatusIncident,
    StatusPageClient,
    lead_time_minutes,
    matching_incident,
    statuspage_urls,
)
from outage_signals.storing import PostStore

#: Seconds any one status-page request may take.
TIMEOUT = 20.0
#: How far the provider's incident may start before ours, or run on after our open one began,
#: and still be the same outage (see :func:`outage_signals.statuspage.matching_incident`).
MATCH_WINDOW = timedelta(hours=3)


def save(store: PostStore, service: str, incidents: Iterable[StatusIncident]) -> int:
    """Store ``incidents`` of ``service``'s page; returns how many were new or changed.
    Re-saving an unchanged incident changes nothing."""
    changed = 0
    with store.transaction():
        db = store.connection
        for incident in incidents:
            record = json.dumps(incident.to_dict(), sort_keys=True)
            row = db.execute("SELECT record FROM status_incidents WHERE page = ? AND id = ?",
                             (incident.page, incident.id)).fetchone()
            if row is not None and row[0] == record:
                continue
            db.execute("INSERT OR REPLACE INTO status_incidents (page, id, service, record) "
                       "VALUES (?, ?, ?, ?)", (incident.page, incident.id, service, record))
            changed += 1
    return changed


def load(store: PostStore, service: str | None = None) -> list[StatusIncident]:
    """Stored incidents (of one ``service``, or all), oldest start first."""
    sql, args = "SELECT record FROM status_incidents", ()
    if service is not None:
        sql, args = sql + " WHERE service = ?", (service,)
    found = [StatusIncident.from_dict(json.loads(r[0])) for r in store.connection.execute(sql, args)]
    return sorted(found, key=lambda i: (i.started_at, i.page, i.id))


def page_urls(services: Iterable[str], catalog: Catalog,
              overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Service key -> Statuspage base URL for those of ``services`` that have one: the
    catalog's (``status_api = "statuspage"``), replaced or added by ``overrides`` (a proxy, a
    page the catalog lacks)."""
    known = statuspage_urls(catalog)
    overrides = dict(overrides or {})
    return {s: (overrides.get(s) or known[s]).rstrip("/") for s in services
            if s in overrides or s in known}


@dataclass
class PollReport:
    """What :func:`poll` did: incidents read and new or changed per service, each page's
    summary (when asked for), and failures (``"service: reason"``)."""

    read: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    summaries: dict[str, PageSummary] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def poll(store: PostStore, urls: Mapping[str, str], *, policy: RetryPolicy | None = None,
         log: Callable[..., None] = lambda event, **fields: None,
         timeout: float = TIMEOUT, summaries: bool = False) -> PollReport:
    """Read ``incidents.json`` (and with ``summaries`` first ``summary.json``) of each page in
    ``urls`` (service -> base URL) and save the incidents listed. A failing page is reported
    and the others go on."""
    report = PollReport()
    with ClientSession(timeout) as session:
        for service, url in urls.items():
            def retry_note(message: str, service: str = service) -> None:
                log("status_retry", service=service, reason=message)

            try:
                client = StatusPageClient(url, session, policy=policy, log=retry_note)
                summary = client.summary() if summaries else None
                incidents = client.incidents()
            except CollectError as exc:
                report.failures.append(f"{service}: {exc}")
                log("status_failed", service=service, error=str(exc))
                continue
            if summary is not None:
                report.summaries[service] = summary
                # An incident opened since incidents.json was rendered is only in the summary.
                listed = {i.id for i in incidents}
                incidents += [i for i in summary.incidents if i.id not in listed]
            report.read[service] = len(incidents)
            report.changed[service] = save(store, service, incidents)
            log("status_polled", service=service, incidents=len(incidents),
                changed=report.changed[service])
    return report


def acknowledgement(record: Mapping[str, Any], incidents: Iterable[StatusIncident],
                    since: datetime | None = None) -> dict[str, Any] | None:
    """The ``status_page`` object for one incident record (contract dict), or ``None`` while
    no page incident matches it.

    ``since``: when we detected it (default the record's ``announced_at``, else its
    ``detected_at``, else its ``start``); ``lead_minutes`` is the provider's acknowledgement
    minus that, rounded to 0.1 min.
    """
    start = parse_time(record["start"])
    end = parse_time(record["end"]) if record.get("end") else None
    match = matching_incident(incidents, start, end, window=MATCH_WINDOW)
    if match is None:
        return None
    if since is None:
        since = parse_time(record.get("announced_at") or record.get("detected_at") or record["start"])
    return {
        "name": match.name, "status": match.status, "impact": match.impact,
        "page": match.page, "id": match.id, "shortlink": match.shortlink,
        "started_at": format_time(match.started_at),
        "acknowledged_at": format_time(match.acknowledged_at),
        "resolved_at": format_time(match.resolved_at) if match.resolved_at else None,
        "lead_minutes": round(lead_time_minutes(since, match), 1),
    }


def annotate(records: list[dict[str, Any]],
             incidents: Mapping[str, list[StatusIncident]]) -> int:
    """Add ``status_page`` to each record that a status incident of its service
    (``incidents``: service key -> incidents) confirms; returns how many were confirmed."""
    confirmed = 0
    for record in records:
        found = acknowledgement(record, incidents.get(record["service"], ()))
        if found:
            record["status_page"] = found
            confirmed += 1
    return confirmed


def stored_by_service(store: PostStore) -> dict[str, list[StatusIncident]]:
    """Every stored status incident, by service key."""
    out: dict[str, list[StatusIncident]] = {}
    rows = store.connection.execute("SELECT service, record FROM status_incidents")
    for service, record in rows:
        out.setdefault(service, []).append(StatusIncident.from_dict(json.loads(record)))
    return out


def read_jsonl(path: str) -> dict[str, list[StatusIncident]]:
    """Status incidents from JSON Lines as ``collect statuspage -o`` writes them (each line
    the incident with its ``service``), by service key. A bad line raises
    :class:`~outage_signals.errors.InputError` naming file and line."""
    out: dict[str, list[StatusIncident]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict) or not isinstance(data.get("service"), str):
                    raise InputError("expected an object with a 'service'")
                out.setdefault(data["service"], []).append(StatusIncident.from_dict(data))
            except (ValueError, InputError) as exc:
                raise InputError(f"{path}:{number}: {exc}") from None
    return out


def lead_summary(records: Iterable[Mapping[str, Any]]) -> str | None:
    """One line on how far ahead of the status pages the records were, or ``None`` when no
    record is confirmed: "3 of 4 incidents confirmed by a status page; lead median 14 min
    (min -2, max 31); first in 2 of 3"."""
    records = list(records)
    leads = sorted(r["status_page"]["lead_minutes"] for r in records if r.get("status_page"))
    if not leads:
        return None
    mid = len(leads) // 2
    median = leads[mid] if len(leads) % 2 else (leads[mid - 1] + leads[mid]) / 2
    first = sum(1 for x in leads if x > 0)
    return (f"{len(leads)} of {len(records)} incidents confirmed by a status page; lead median "
            f"{median:.0f} min (min {leads[0]:.0f}, max {leads[-1]:.0f}); first in {first} of "
            f"{len(leads)}")
