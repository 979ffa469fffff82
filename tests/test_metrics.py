"""Scoring incidents against true events."""

from __future__ import annotations

from outage_signals.metrics import score
from outage_signals.simulation import OutageEvent
from tests.conftest import utc

EVENTS = [OutageEvent("a", utc(2025, 1, 7, 14), utc(2025, 1, 7, 15)),
          OutageEvent("a", utc(2025, 1, 7, 20), utc(2025, 1, 7, 21))]


def incident(start, level="likely", service="a", low=None, high=None, end=None,
             detected=None):
    return {"service": service, "level": level, "start": start, "start_low": low or start,
            "start_high": high or start, "end": end, "detected_at": detected or start}


def test_hits_misses_and_false_alarms():
    found = [incident("2025-01-07T14:02:00Z", low="2025-01-07T13:59:00Z",
                      high="2025-01-07T14:03:00Z", end="2025-01-07T15:10:00Z",
                      detected="2025-01-07T14:05:00Z"),
             incident("2025-01-07T17:00:00Z"),
             incident("2025-01-07T20:01:00Z", level="possible"),
             incident("2025-01-07T14:00:00Z", service="b")]
    result = score(found, EVENTS)
    assert result.recall == 0.5
    first, second = result.matches
    assert (first.start_error_min, first.end_error_min, first.covered, first.delay_min) == (
        2.0, 10.0, True, 5.0)
    assert second.incident is None and second.start_error_min is None
    assert [(i["service"], i["start"]) for i in result.false_alarms] == [
        ("b", "2025-01-07T14:00:00Z"), ("a", "2025-01-07T17:00:00Z")]
    assert score(found, EVENTS, level="possible").recall == 1.0
