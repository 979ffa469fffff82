"""A fake Atlassian Statuspage (public API v2) on 127.0.0.1, speaking the wire shapes of
../shared/notes/collector-apis.md section 5: ``page``, ``status``, ``components``, incidents
with ``incident_updates`` newest first, ``started_at``, ``resolved_at`` null while open.

Scripted from the test: :meth:`FakeStatuspage.add_incident`, :meth:`~FakeStatuspage.update`,
:meth:`~FakeStatuspage.resolve`, :meth:`~FakeStatuspage.set_indicator`. Times are sent in the
page's zone (``tz``), as real pages do (``Z`` for UTC, ``-06:00`` for a page set to Chicago).
Faults (500s, bodies that are not JSON, dropped connections) come from the FakeAPI underneath.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from tests.fakeapi import FakeAPI, Reply

#: Component status for each incident impact (the worst open incident on a component wins).
COMPONENT_STATUS = {"minor": "degraded_performance", "major": "partial_outage",
                    "critical": "major_outage", "maintenance": "under_maintenance"}
RANK = {"none": 0, "minor": 1, "major": 2, "critical": 3}
DESCRIPTIONS = {"none": "All Systems Operational", "minor": "Minor Service Outage",
                "major": "Partial System Outage", "critical": "Major System Outage"}
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class FakeStatuspage:
    """A page named ``name`` with the given components, served by ``api``.

    ``incidents`` holds the incident objects exactly as served, newest first; the dicts that
    :meth:`add_incident` returns are those objects, so a test may edit one to serve odd data
    (an old incident without ``started_at``, a missing field).
    """

    api: FakeAPI
    name: str = "Example"
    components: Iterable[str] = ("API", "Website", "Login")
    tz: tzinfo = UTC
    time_zone: str = "Etc/UTC"
    page_id: str = "pg7example01"
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._components = {n: self._component(n, i) for i, n in enumerate(self.components)}
        self._indicator: tuple[str, str] | None = None
        self._updated = EPOCH
        self._ids = 0
        api = self.api
        api.route("GET", r"/api/v2/summary\.json")(self._summary)
        api.route("GET", r"/api/v2/status\.json")(self._status)
        api.route("GET", r"/api/v2/components\.json")(self._components_reply)
        api.route("GET", r"/api/v2/incidents\.json")(self._incidents)
        api.route("GET", r"/api/v2/incidents/unresolved\.json")(self._unresolved)

    @property
    def url(self) -> str:
        return self.api.url

    # -- scripting ---------------------------------------------------------------------------

    def add_incident(self, name: str, at: datetime, *, impact: str = "major",
                     status: str = "investigating", started_at: datetime | None = None,
                     created_at: datetime | None = None, components: Iterable[str] = (),
                     body: str = "We are investigating reports of errors.") -> dict[str, Any]:
        """Open an incident whose first update is posted at ``at``. ``started_at`` defaults to
        ``at`` (a page backdates it when the problem began earlier); ``created_at`` too."""
        self._ids += 1
        iid = f"inc{self._ids:09d}"
        created = created_at or at
        affected = [self._components[c] for c in components]
        incident: dict[str, Any] = {
            "id": iid, "name": name, "status": status, "impact": impact,
            "created_at": self._t(created), "updated_at": self._t(at),
            "monitoring_at": None, "resolved_at": None,
            "shortlink": f"https://stspg.io/{iid[-5:]}", "started_at": self._t(started_at or at),
            "page_id": self.page_id, "incident_updates": [], "components": affected,
            "reminder_intervals": None,
        }
        self.incidents.insert(0, incident)
        old = {c["name"]: c["status"] for c in affected}
        self._set_component_statuses(at)
        self._push_update(incident, status, body, at, old)
        return incident

    def update(self, incident_id: str, status: str, body: str, at: datetime) -> dict[str, Any]:
        """Post an update (newest first in ``incident_updates``); ``monitoring`` sets
        ``monitoring_at``, ``resolved`` sets ``resolved_at`` and frees the components."""
        incident = self.incident(incident_id)
        incident["status"] = status
        incident["updated_at"] = self._t(at)
        if status == "monitoring" and incident["monitoring_at"] is None:
            incident["monitoring_at"] = self._t(at)
        if status == "resolved":
            incident["resolved_at"] = self._t(at)
        old = {c["name"]: c["status"] for c in incident["components"]}
        self._set_component_statuses(at)
        self._push_update(incident, status, body, at, old)
        return incident

    def resolve(self, incident_id: str, at: datetime,
                body: str = "This incident has been resolved.") -> dict[str, Any]:
        return self.update(incident_id, "resolved", body, at)

    def set_indicator(self, indicator: str | None, description: str | None = None) -> None:
        """Pin the page's overall ``status``; ``None`` goes back to the worst open impact."""
        self._indicator = None if indicator is None else (
            indicator, description or DESCRIPTIONS.get(indicator, indicator))

    def incident(self, incident_id: str) -> dict[str, Any]:
        return next(i for i in self.incidents if i["id"] == incident_id)

    # -- wire objects ------------------------------------------------------------------------

    def _t(self, ts: datetime) -> str:
        """ISO 8601 with milliseconds in the page's zone, ``Z`` for UTC (as Statuspage sends)."""
        local = ts.astimezone(self.tz)
        text = local.isoformat(timespec="milliseconds")
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def _component(self, name: str, position: int) -> dict[str, Any]:
        return {"id": f"cmp{position:09d}", "name": name, "status": "operational",
                "created_at": self._t(EPOCH), "updated_at": self._t(EPOCH),
                "position": position + 1, "description": None, "showcase": True,
                "start_date": None, "group_id": None, "page_id": self.page_id, "group": False,
                "only_show_if_degraded": False}

    def _open(self) -> list[dict[str, Any]]:
        return [i for i in self.incidents if i["resolved_at"] is None]

    def _set_component_statuses(self, at: datetime) -> None:
        for component in self._components.values():
            worst = max((RANK.get(i["impact"], 0) for i in self._open()
                         if any(c["id"] == component["id"] for c in i["components"])), default=0)
            impact = next((k for k, v in RANK.items() if v == worst), "none")
            new = COMPONENT_STATUS.get(impact, "operational")
            if new != component["status"]:
                component["status"] = new
                component["updated_at"] = self._t(at)
        self._updated = max(self._updated, at)

    def _push_update(self, incident: dict[str, Any], status: str, body: str, at: datetime,
                     old: dict[str, str]) -> None:
        n = len(incident["incident_updates"]) + 1
        affected = [{"code": c["id"], "name": c["name"], "old_status": old.get(c["name"]),
                     "new_status": c["status"]} for c in incident["components"]]
        incident["incident_updates"].insert(0, {
            "id": f"upd{incident['id'][3:]}{n:02d}", "status": status, "body": body,
            "incident_id": incident["id"], "created_at": self._t(at), "updated_at": self._t(at),
            "display_at": self._t(at), "affected_components": affected or None,
            "deliver_notifications": True, "custom_tweet": None, "tweet_id": None,
        })

    def _page(self) -> dict[str, Any]:
        return {"id": self.page_id, "name": self.name, "url": self.url,
                "time_zone": self.time_zone, "updated_at": self._t(self._updated)}

    def _status_object(self) -> dict[str, str]:
        if self._indicator is not None:
            indicator, description = self._indicator
        else:
            worst = max((RANK.get(i["impact"], 0) for i in self._open()), default=0)
            indicator = next(k for k, v in RANK.items() if v == worst)
            description = DESCRIPTIONS[indicator]
        return {"indicator": indicator, "description": description}

    # -- routes ------------------------------------------------------------------------------

    def _summary(self, req) -> Reply:
        return Reply(200, {"page": self._page(), "status": self._status_object(),
                           "components": list(self._components.values()),
                           "incidents": self._open(), "scheduled_maintenances": []})

    def _status(self, req) -> Reply:
        return Reply(200, {"page": self._page(), "status": self._status_object()})

    def _components_reply(self, req) -> Reply:
        return Reply(200, {"page": self._page(), "components": list(self._components.values())})

    def _incidents(self, req) -> Reply:
        return Reply(200, {"page": self._page(), "incidents": self.incidents[:50]})

    def _unresolved(self, req) -> Reply:
        return Reply(200, {"page": self._page(), "incidents": self._open()})
