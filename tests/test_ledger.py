"""The incident ledger: what each cycle announces, queued once per destination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outage_signals.deploy_config import Destination
from outage_signals.ledger import Ledger
from outage_signals.storing import PostStore

T0 = datetime(2024, 12, 26, 18, 45, tzinfo=UTC)
DESTS = (Destination("chat", "json://127.0.0.1/x", min_level="possible"),
         Destination("pager", "json://127.0.0.1/y", min_level="likely", events=frozenset({"new"})))


def incident(level="likely", posts=50, start="2024-12-26T18:41:00Z", end=None, service="chatgpt"):
    return {"service": service, "start": start, "end": end, "level": level, "posts": posts}


def cycle(ledger, found, minutes, min_level="possible"):
    now = T0 + timedelta(minutes=minutes)
    return [a.event for a in ledger.reconcile(found, ["chatgpt", "slack"], now, min_level=min_level,
                                              destinations=DESTS, window_start=now - timedelta(hours=6),
                                              resolve_after=timedelta(hours=1))]


def test_an_incident_is_announced_escalated_updated_and_resolved_once_each(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        ledger = Ledger(store)
        assert cycle(ledger, [incident("possible", 8)], 0) == ["new"]
        assert cycle(ledger, [incident("possible", 9)], 5) == []  # same incident, no news
        assert cycle(ledger, [incident("likely", 30, start="2024-12-26T18:40:00Z")], 10) == ["escalated"]
        assert cycle(ledger, [incident("likely", 45)], 15) == []  # not yet twice the posts
        assert cycle(ledger, [incident("likely", 80)], 20) == ["updated"]
        assert cycle(ledger, [incident("likely", 90, end="2024-12-26T20:00:00Z")], 90) == ["resolved"]
        assert cycle(ledger, [incident("likely", 90, end="2024-12-26T20:00:00Z")], 95) == []
        assert len(ledger.incidents()) == 1
        rows = ledger.outbox()
        # "chat" gets every event; "pager" (likely, "new" only) hears of it when it escalates.
        assert [(r["event"], r["destination"]) for r in rows] == [
            ("new", "chat"), ("escalated", "chat"), ("new", "pager"), ("updated", "chat"),
            ("resolved", "chat")]


def test_below_the_announcing_level_nothing_is_said_until_it_rises(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        ledger = Ledger(store)
        assert cycle(ledger, [incident("possible", 8)], 0, min_level="likely") == []
        assert cycle(ledger, [incident("likely", 40)], 5, min_level="likely") == ["new"]
        assert [r["destination"] for r in ledger.outbox()] == ["chat", "pager"]
        # Hours later: the first one, unseen since, is resolved; an unannounced one that ends
        # leaves no trace in the outbox.
        assert cycle(ledger, [incident("possible", 5, start="2024-12-26T22:00:00Z",
                                       end="2024-12-26T22:20:00Z")], 240,
                     min_level="likely") == ["resolved"]
        assert [r["event"] for r in ledger.outbox()] == ["new", "new", "resolved"]


def test_an_incident_no_longer_seen_is_resolved_after_resolve_after(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        ledger = Ledger(store)
        assert cycle(ledger, [incident()], 0) == ["new"]
        assert cycle(ledger, [], 30) == []
        assert cycle(ledger, [], 61) == ["resolved"]
        assert ledger.incidents()[0].record["end"] == "2024-12-26T18:45:00Z"


def test_a_new_surge_after_the_end_is_a_new_incident_and_services_stay_apart(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        ledger = Ledger(store)
        cycle(ledger, [incident(end="2024-12-26T19:30:00Z")], 60)
        assert cycle(ledger, [incident(end="2024-12-26T19:30:00Z"),
                              incident(start="2024-12-26T19:50:00Z"),
                              incident(service="slack")], 70) == ["new", "new"]
        assert {(i.service, i.state) for i in ledger.incidents()} == {
            ("chatgpt", "resolved"), ("chatgpt", "open"), ("slack", "open")}


def test_dry_run_decides_but_changes_nothing(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        ledger = Ledger(store)
        now = T0
        alerts = ledger.reconcile([incident()], ["chatgpt"], now, min_level="likely",
                                  destinations=DESTS, window_start=now - timedelta(hours=6),
                                  resolve_after=timedelta(hours=1), dry_run=True)
        assert [a.event for a in alerts] == ["new"]
        assert ledger.incidents() == [] and ledger.outbox() == []
