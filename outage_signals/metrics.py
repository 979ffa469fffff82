"""Score detected incidents against true outages (from the simulator or postmortems).

An incident *hits* an event when they are for the same service and the incident's start lies
within ``tolerance`` of the event's span (from ``start - tolerance`` to the event's end). Each
event is hit by at most one incident (the earliest), and each incident hits at most one event;
a ``likely`` incident that hits nothing is a false alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from outage_signals.records import parse_time
from outage_signals.simulation.profiles import OutageEvent


@dataclass
class Match:
    """One true event and the incident that found it (``None`` when missed). Times in UTC."""

    event: OutageEvent
    incident: dict[str, Any] | None = None

    @property
    def start_error_min(self) -> float | None:
        """Estimated start minus true start, in minutes (positive: estimate is late)."""
        if self.incident is None:
            return None
        return (parse_time(self.incident["start"]) - self.event.start).total_seconds() / 60

    @property
    def end_error_min(self) -> float | None:
        if self.incident is None or self.incident.get("end") is None:
            return None
        return (parse_time(self.incident["end"]) - self.event.end).total_seconds() / 60

    @property
    def covered(self) -> bool | None:
        """Whether ``[start_low, start_high]`` holds the true start."""
        if self.incident is None:
            return None
        low, high = parse_time(self.incident["start_low"]), parse_time(self.incident["start_high"])
        return low <= self.event.start <= high

    @property
    def delay_min(self) -> float | None:
        """Minutes from the true start to ``detected_at``."""
        if self.incident is None:
            return None
        return (parse_time(self.incident["detected_at"]) - self.event.start).total_seconds() / 60


@dataclass
class Score:
    """Matches per event plus the incidents that matched nothing."""

    matches: list[Match]
    false_alarms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        if not self.matches:
            return float("nan")
        return sum(m.incident is not None for m in self.matches) / len(self.matches)


def score(incidents: Sequence[dict[str, Any]], events: Sequence[OutageEvent],
          level: str = "likely", tolerance: timedelta = timedelta(minutes=30)) -> Score:
    """Match ``incidents`` of at least ``level`` to ``events``; see the module docstring."""
    ranked = [i for i in incidents if level == "possible" or i["level"] == "likely"]
    ranked.sort(key=lambda i: i["start"])
    used: set[int] = set()
    matches = []
    for event in sorted(events, key=lambda e: e.start):
        found = None
        for n, incident in enumerate(ranked):
            if n in used or incident["service"] != event.service:
                continue
            start: datetime = parse_time(incident["start"])
            if event.start - tolerance <= start <= event.end:
                found = n
                break
        if found is not None:
            used.add(found)
        matches.append(Match(event, ranked[found] if found is not None else None))
    false_alarms = [i for n, i in enumerate(ranked) if n not in used and i["level"] == "likely"]
    return Score(matches=matches, false_alarms=false_alarms)
