"""Send the outbox: every destination through apprise, failures retried, none blocking another.

Destinations are apprise URLs (``slack://``, ``discord://``, ``msteams://``, ``mailto://``,
``ntfy://``, ``json://`` ... see https://github.com/caronc/apprise/wiki), so no service gets a
hand-written client. One scheme is added here: ``incident://host[:port]/path`` (and
``incidents://`` for HTTPS) POSTs the outbox payload itself — ``delivery_id``, ``event``,
``incident_key`` and the contract's incident object — as the request body, for systems that
want the incident rather than prose.

Each due row gets :data:`TRIES` attempts in the run, :data:`PAUSE` seconds apart; if all fail
the row waits for a later run (:func:`backoff` after its attempts so far) and the destination
is skipped for the rest of this run, so one dead webhook cannot hold up the others. After
:data:`GIVE_UP` failed runs the row is given up and logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from outage_signals import alert_messages
from outage_signals.deploy_config import Destination
from outage_signals.ledger import Ledger

#: Attempts per row within one run, and the pause between them (seconds).
TRIES = 3
PAUSE = 2.0
#: A row whose destination failed in this many runs is given up.
GIVE_UP = 12
#: Request timeout of ``incident`` deliveries, seconds.
TIMEOUT = 10.0


def backoff(attempts: int) -> timedelta:
    """How long a row waits after ``attempts`` failed runs: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


_registered = False


def _register_incident_json() -> None:
    """Teach apprise the ``incident(s)://`` scheme (once per process)."""
    global _registered
    if _registered:
        return
    import apprise
    import requests

    def post(body, title, notify_type, meta, *args, **kwargs):
        scheme = "https" if meta.get("schema", "").endswith("s") else "http"
        port = f":{meta['port']}" if meta.get("port") else ""
        url = f"{scheme}://{meta['host']}{port}{meta.get('fullpath') or '/'}"
        try:
            reply = requests.post(url, data=body.encode("utf-8"), timeout=TIMEOUT,
                                  headers={"Content-Type": "application/json",
                                           "User-Agent": "outage-signals"})
        except requests.RequestException as exc:
            logging.getLogger("apprise").warning("incident delivery failed: %s",
                                                 type(exc).__name__)
            return False
        if not 200 <= reply.status_code < 300:
            logging.getLogger("apprise").warning("incident delivery failed: HTTP %s",
                                                 reply.status_code)
            return False
        return True

    for scheme in ("incident", "incidents"):
        apprise.decorators.notify(on=scheme, name="outage-signals incident JSON")(post)
    _registered = True


def send(destination: Destination, payload: dict) -> tuple[bool, str]:
    """One attempt at ``payload`` to ``destination``: ``(ok, error)``; the error never holds
    the URL (apprise's own messages, which name the service and HTTP status)."""
    import apprise

    _register_incident_json()
    notifier = apprise.Apprise()
    if not notifier.add(destination.url):
        return False, "not a URL apprise understands (check the scheme; see apprise's wiki)"
    if destination.url.startswith(("incident:", "incidents:")):
        text, heading = json.dumps(payload, ensure_ascii=False), ""
    else:
        text, heading = alert_messages.body(payload), alert_messages.title(payload)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = notifier.notify(body=text, title=heading)
    if ok:
        return True, ""
    lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
    return False, (lines[-1] if lines else "delivery failed")[:300]


@dataclass
class DeliveryReport:
    """What one delivery pass did: rows sent, deferred to a later run, given up."""

    sent: int = 0
    deferred: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


def deliver(ledger: Ledger, destinations: tuple[Destination, ...], now: Callable[[], datetime],
            log: Callable[..., None], sleep: Callable[[float], None] = time.sleep,
            sender: Callable[[Destination, dict], tuple[bool, str]] = send) -> DeliveryReport:
    """Send every due outbox row (oldest first) and record the outcome of each."""
    by_name = {d.name: d for d in destinations}
    report = DeliveryReport()
    down: set[str] = set()
    for row in ledger.pending(now()):
        name = row["destination"]
        destination = by_name.get(name)
        if destination is None:
            ledger.mark_failed(row["id"], now(), "destination no longer in the config", None)
            log("alert_dropped", destination=name, outbox_id=row["id"],
                reason="destination no longer in the config")
            report.given_up += 1
            continue
        if name in down:
            report.deferred += 1
            continue
        error = ""
        for attempt in range(TRIES):
            if attempt:
                sleep(PAUSE * attempt)
            ok, error = sender(destination, row["payload"])
            if ok:
                ledger.mark_sent(row["id"], now())
                log("alert_sent", destination=name, alert=row["event"],
                    incident=row["payload"]["incident_key"], outbox_id=row["id"])
                report.sent += 1
                break
        else:
            down.add(name)
            runs = row["attempts"] + 1
            retry_at = None if runs >= GIVE_UP else now() + backoff(runs)
            ledger.mark_failed(row["id"], now(), error, retry_at)
            report.errors.append(f"{name}: {error}")
            if retry_at is None:
                report.given_up += 1
                log("alert_given_up", destination=name, alert=row["event"],
                    incident=row["payload"]["incident_key"], error=error, runs=runs)
            else:
                report.deferred += 1
                log("alert_deferred", destination=name, alert=row["event"],
                    incident=row["payload"]["incident_key"], error=error,
                    retry_at=retry_at.isoformat(timespec="seconds"))
    return report
