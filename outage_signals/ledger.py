"""The scheduled run's memory: incidents already seen and the alerts owed (an outbox).

Every cycle re-detects over a recent window, so the same outage shows up run after run with a
slightly different estimate. :meth:`Ledger.reconcile` matches each detected incident to the
one already stored (same service, overlapping in time), decides what changed and, **in the
same transaction**, writes the new state and one outbox row per alert and destination:

- ``new``: the incident reached the announcing level (``min_level``) for the first time;
- ``escalated``: its level rose above the one announced (``possible`` -> ``likely``);
- ``updated``: it grew: at least :data:`UPDATE_GROWTH` times the posts last announced; or the
  provider's status page acknowledged it (``status_page`` in the record, with how many
  minutes after our announcement: ``announced_at``);
- ``resolved``: the detector put an end to it, or stopped seeing it for ``resolve_after``.

Sending happens after the commit (:mod:`outage_signals.delivery`), and a row is marked sent only
after its destination accepted it. So a crash before the commit leaves nothing behind (the next
run detects again and decides again), a crash after it leaves rows the next run sends, and a
re-run over the same posts finds nothing new to say. The one gap every outbox has: a crash
between a destination's "OK" and marking the row leaves it to be sent again; payloads carry a
``delivery_id`` so receivers can drop the repeat.

Times: ``*_us`` columns are microseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from outage_signals.deploy_config import LEVELS, Destination
from outage_signals.records import format_time, parse_time
from outage_signals.storing import PostStore
from outage_signals.storing import micros as _us

#: An incident announced with N posts is announced again ("updated") once it has this many
#: times N posts (and at least :data:`UPDATE_MIN_POSTS` more).
UPDATE_GROWTH = 2.0
UPDATE_MIN_POSTS = 20
#: A detected incident matches a stored one of the same service if their spans overlap,
#: allowing this much slack (start estimates move a little from run to run).
MATCH_SLACK = timedelta(minutes=30)


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def _parse(text: str | None) -> datetime | None:
    return parse_time(text, "incident time") if text else None


@dataclass
class StoredIncident:
    """A row of ``incidents``: the latest contract record and what was announced of it."""

    id: int
    service: str
    start: datetime
    last_seen: datetime
    state: str  # open | resolved
    level: str
    announced: str | None
    notified_posts: int
    record: dict[str, Any]

    def span_end(self) -> datetime:
        end = _parse(self.record.get("end"))
        return end or self.last_seen

    def key(self) -> str:
        """A stable name for the incident: ``service`` and the start first stored (UTC)."""
        return self.record.get("incident_key") or f"{self.service}@{format_time(self.start)}"


@dataclass(frozen=True)
class Alert:
    """One alert decided by :meth:`Ledger.reconcile` (before it is split per destination)."""

    event: str
    incident: StoredIncident


class Ledger:
    """The incidents and outbox tables of a :class:`PostStore`."""

    def __init__(self, store: PostStore):
        self.store = store
        self.db = store.connection

    # -- reading -----------------------------------------------------------------------------

    def incidents(self, *, state: str | None = None, service: str | None = None,
                  since: datetime | None = None) -> list[StoredIncident]:
        """Stored incidents (all, or of one ``state``/``service``; last seen at or after
        ``since``), oldest first."""
        sql = ("SELECT id, service, start_us, last_seen_us, state, level, announced, "
               "notified_posts, record FROM incidents WHERE 1=1")
        args: list[Any] = []
        if state:
            sql += " AND state = ?"
            args.append(state)
        if service:
            sql += " AND service = ?"
            args.append(service)
        if since is not None:
            sql += " AND last_seen_us >= ?"
            args.append(_us(since))
        rows = self.db.execute(sql + " ORDER BY start_us, id", args).fetchall()
        return [StoredIncident(r[0], r[1], _from_us(r[2]), _from_us(r[3]), r[4], r[5], r[6], r[7],
                               json.loads(r[8])) for r in rows]

    def pending(self, now: datetime) -> list[dict[str, Any]]:
        """Outbox rows due for sending at ``now`` (not sent, not given up), oldest first; each
        payload gets its ``delivery_id`` (incident key and row id: the same on every retry)."""
        rows = self.db.execute(
            "SELECT id, incident_id, event, destination, payload, attempts FROM outbox "
            "WHERE sent_at IS NULL AND failed_at IS NULL AND next_try_us <= ? ORDER BY id",
            (_us(now),)).fetchall()
        out = []
        for row_id, incident_id, event, destination, payload, attempts in rows:
            payload = json.loads(payload)
            payload = {"delivery_id": f"{payload['incident_key']}#{row_id}", **payload}
            out.append({"id": row_id, "incident_id": incident_id, "event": event,
                        "destination": destination, "payload": payload, "attempts": attempts})
        return out

    def outbox(self) -> list[dict[str, Any]]:
        """Every outbox row (for `outage-signals alerts` and tests), oldest first."""
        rows = self.db.execute(
            "SELECT id, incident_id, event, destination, attempts, created_at, sent_at, "
            "failed_at, last_error FROM outbox ORDER BY id").fetchall()
        keys = ("id", "incident_id", "event", "destination", "attempts", "created_at", "sent_at",
                "failed_at", "last_error")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # -- writing -----------------------------------------------------------------------------

    def reconcile(self, detected: list[dict[str, Any]], services: list[str] | tuple[str, ...],
                  now: datetime, *, min_level: str, destinations: tuple[Destination, ...],
                  window_start: datetime, resolve_after: timedelta,
                  dry_run: bool = False, status: StatusLookup | None = None) -> list[Alert]:
        """Merge this cycle's ``detected`` incidents (contract dicts) into the store and queue
        the alerts they call for; returns the alerts. One transaction: all or nothing
        (``dry_run``: decided, then rolled back).

        ``status``: the provider's acknowledgement of an incident record (its ``status_page``
        object, :func:`outage_signals.status_history.acknowledgement`) or ``None``; the first
        acknowledgement of an announced, open incident is announced as ``updated``."""
        alerts: list[Alert] = []
        with contextlib.suppress(_RollBack):
            self._reconcile(detected, services, now, min_level, destinations, window_start,
                            resolve_after, alerts, dry_run, status)
        return alerts

    def _reconcile(self, detected, services, now, min_level, destinations, window_start,
                   resolve_after, alerts, dry_run, status) -> None:
        with self.store.transaction():
            # Every open incident (however long unseen) and the recently seen resolved ones.
            known = {s: list({i.id: i for i in (*self.incidents(service=s, state="open"),
                                                *self.incidents(service=s,
                                                                since=window_start - MATCH_SLACK))
                              }.values())
                     for s in services}
            matched: set[int] = set()
            for found in sorted(detected, key=lambda d: (d["start"], d["service"])):
                if found["service"] not in known:
                    continue
                stored = _match(found, known[found["service"]], now)
                if stored is None:
                    stored = self._insert(found, now)
                    known[found["service"]].append(stored)
                matched.add(stored.id)
                alerts.extend(self._update(stored, found, now, min_level, status))
            for service in services:
                for stored in known[service]:
                    if (stored.state == "open" and stored.id not in matched
                            and now - stored.last_seen >= resolve_after):
                        alerts.extend(self._resolve_unseen(stored, now))
            for alert in alerts:
                self._queue(alert, destinations, now)
            if dry_run:
                raise _RollBack

    def _insert(self, found: dict[str, Any], now: datetime) -> StoredIncident:
        start = _parse(found["start"])
        record = dict(found)
        cursor = self.db.execute(
            "INSERT INTO incidents (service, start_us, last_seen_us, state, level, announced, "
            "notified_posts, record, opened_at) VALUES (?, ?, ?, 'open', ?, NULL, 0, ?, ?)",
            (found["service"], _us(start), _us(now), found["level"], json.dumps(record),
             format_time(now)))
        return StoredIncident(cursor.lastrowid, found["service"], start, now, "open",
                              found["level"], None, 0, record)

    def _update(self, stored: StoredIncident, found: dict[str, Any], now: datetime,
                min_level: str, status: StatusLookup | None = None) -> list[Alert]:
        """Fold ``found`` into ``stored`` (state, record) and say what to announce."""
        record = {**found, "incident_key": stored.key()}
        # The detector's record is rebuilt every cycle; what only the ledger knows stays.
        for kept in ("announced_at", "status_page"):
            if kept in stored.record:
                record[kept] = stored.record[kept]
        acknowledged_before = "status_page" in stored.record
        level = max(stored.level, found["level"], key=LEVELS.index)
        stored.level, stored.record, stored.last_seen = level, record, now
        events = []
        if stored.state == "resolved":
            pass  # the same surge seen again after it ended: nothing new to say
        elif stored.announced is None:
            if LEVELS.index(level) >= LEVELS.index(min_level):
                events.append("new")
                record["announced_at"] = format_time(now)
        elif LEVELS.index(level) > LEVELS.index(stored.announced):
            events.append("escalated")
        elif (found["posts"] >= UPDATE_GROWTH * stored.notified_posts
              and found["posts"] - stored.notified_posts >= UPDATE_MIN_POSTS):
            events.append("updated")
        if status is not None:
            acknowledged = status(record)
            if acknowledged:
                record["status_page"] = acknowledged
                if (not acknowledged_before and not events and stored.announced is not None
                        and stored.state == "open"):
                    events.append("updated")  # "confirmed by the status page, N min after us"
        if events:
            stored.announced, stored.notified_posts = level, int(found["posts"])
        if stored.state == "open" and found.get("end"):
            stored.state = "resolved"
            if stored.announced is not None:
                events.append("resolved")
        self._save(stored, now)
        return [Alert(e, stored) for e in events]

    def _resolve_unseen(self, stored: StoredIncident, now: datetime) -> list[Alert]:
        """An open incident the detector no longer finds: over, as of when it was last seen."""
        stored.state = "resolved"
        if not stored.record.get("end"):
            stored.record = {**stored.record, "end": format_time(stored.last_seen)}
        self._save(stored, now)
        return [Alert("resolved", stored)] if stored.announced is not None else []

    def _save(self, stored: StoredIncident, now: datetime) -> None:
        self.db.execute(
            "UPDATE incidents SET start_us = ?, last_seen_us = ?, state = ?, level = ?, "
            "announced = ?, notified_posts = ?, record = ?, resolved_at = ? WHERE id = ?",
            (_us(_parse(stored.record["start"]) or stored.start), _us(stored.last_seen),
             stored.state, stored.level, stored.announced, stored.notified_posts,
             json.dumps(stored.record), format_time(now) if stored.state == "resolved" else None,
             stored.id))

    def _queue(self, alert: Alert, destinations: tuple[Destination, ...], now: datetime) -> None:
        incident = alert.incident
        for destination in destinations:
            told = self.db.execute("SELECT 1 FROM outbox WHERE incident_id = ? AND destination = ?",
                                   (incident.id, destination.name)).fetchone() is not None
            # Each destination hears of an incident first as "new" (one that only takes
            # "likely" learns of an escalated "possible" that way), and hears nothing more of
            # an incident it was never told about.
            if told:
                event = alert.event
            elif alert.event in ("new", "escalated"):
                event = "new"
            else:
                continue
            if not destination.wants(incident.service, incident.level, event):
                continue
            payload = {"event": event, "incident_key": incident.key(), "incident": incident.record}
            self.db.execute(
                "INSERT INTO outbox (incident_id, event, destination, payload, created_at, "
                "next_try_us) VALUES (?, ?, ?, ?, ?, ?)",
                (incident.id, event, destination.name, json.dumps(payload), format_time(now),
                 _us(now)))

    def mark_sent(self, row_id: int, now: datetime) -> None:
        with self.store.transaction():
            self.db.execute("UPDATE outbox SET sent_at = ?, attempts = attempts + 1, "
                            "last_error = NULL WHERE id = ?", (format_time(now), row_id))

    def mark_failed(self, row_id: int, now: datetime, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt; ``retry_at`` ``None`` gives the row up."""
        with self.store.transaction():
            if retry_at is None:
                self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                                "failed_at = ? WHERE id = ?", (error, format_time(now), row_id))
            else:
                self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                                "next_try_us = ? WHERE id = ?", (error, _us(retry_at), row_id))


#: ``status(record)``: the ``status_page`` object confirming an incident record, or ``None``.
StatusLookup = Callable[[dict[str, Any]], "dict[str, Any] | None"]


class _RollBack(Exception):
    """Raised inside a transaction to undo it (dry runs)."""


def _match(found: dict[str, Any], candidates: list[StoredIncident],
           now: datetime) -> StoredIncident | None:
    """The stored incident ``found`` continues: the same service, spans overlapping (with
    :data:`MATCH_SLACK`); the latest-starting one if several."""
    start = _parse(found["start"])
    end = _parse(found.get("end")) or now
    # A resolved incident only takes back the surge it was (starting before it ended): a new
    # surge soon after the end is a new incident.
    overlapping = [c for c in candidates
                   if start <= c.span_end() + (MATCH_SLACK if c.state == "open" else timedelta(0))
                   and c.start <= end + MATCH_SLACK]
    return max(overlapping, key=lambda c: c.start) if overlapping else None
