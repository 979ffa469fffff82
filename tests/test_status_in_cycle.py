"""Status pages in scheduled cycles and in the store: the provider's acknowledgement lands on
the incident once, with the lead time, and polling again stores nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from outage_signals import alert_messages, status_history
from outage_signals.catalog import load_catalog
from outage_signals.collectors.http import ClientSession
from outage_signals.deploy_config import load_deploy_config
from outage_signals.errors import ConfigError
from outage_signals.ledger import Ledger
from outage_signals.retrying import RetryPolicy
from outage_signals.statuspage import StatusIncident, StatusPageClient
from outage_signals.storing import PostStore
from tests.cycles import at, cycle, deploy
from tests.fake_statuspage import FakeStatuspage
from tests.fakeapi import Reply


def status_config(api) -> str:
    return f'[status_pages]\nchatgpt = "{api.url}"\n'


def test_the_providers_acknowledgement_is_announced_once_with_the_lead(tmp_path, receiver,
                                                                       replay_posts):
    page = FakeStatuspage(receiver, name="OpenAI")
    path = deploy(tmp_path, receiver, replay_posts, status="")
    # The [status_pages] table must follow the top-level keys: append it at the end.
    path.write_text(path.read_text() + status_config(receiver))
    first = cycle(path, "2024-12-26 18:45")
    assert [a.event for a in first.alerts] == ["new"]
    assert "status_page" not in first.alerts[0].incident.record
    assert any(line["event"] == "status_polled" for line in first.log)

    # The provider speaks at 18:48 and backdates the start to 18:38. (By 18:50 the incident
    # has not grown enough for an "updated" of its own.)
    page.add_incident("Elevated error rates for ChatGPT", at("2024-12-26 18:48"),
                      started_at=at("2024-12-26 18:38"), impact="major")
    second = cycle(path, "2024-12-26 18:50")
    assert [a.event for a in second.alerts] == ["updated"]
    status = second.alerts[0].incident.record["status_page"]
    assert status["name"] == "Elevated error rates for ChatGPT"
    assert status["acknowledged_at"] == "2024-12-26T18:48:00Z"
    assert status["lead_minutes"] == 3.0  # announced 18:45, acknowledged 18:48
    payload = receiver.got["ops"][-1]
    assert payload["event"] == "updated" and payload["incident"]["status_page"]["lead_minutes"] == 3.0
    assert "3 min after our detection" in alert_messages.body(payload)

    # Seen again: no second announcement for the same acknowledgement; it stays on the record.
    third = cycle(path, "2024-12-26 18:55")
    assert third.alerts == []
    with PostStore(tmp_path / "store.sqlite") as store:
        (stored,) = Ledger(store).incidents(service="chatgpt")
        assert stored.record["status_page"]["id"] == status["id"]
        assert stored.record["announced_at"] == "2024-12-26T18:45:00Z"
        assert len(status_history.load(store, "chatgpt")) == 1


def test_a_maintenance_or_an_unrelated_incident_confirms_nothing(tmp_path, receiver, replay_posts):
    page = FakeStatuspage(receiver)
    page.add_incident("Scheduled database upgrade", at("2024-12-26 18:30"), impact="maintenance")
    page.add_incident("Login problems", at("2024-12-25 09:00"))  # the day before, long resolved
    page.resolve(page.incidents[0]["id"], at("2024-12-25 10:00"))
    path = deploy(tmp_path, receiver, replay_posts, status="")
    path.write_text(path.read_text() + status_config(receiver))
    cycle(path, "2024-12-26 18:45")
    result = cycle(path, "2024-12-26 18:50")
    assert result.alerts == []
    with PostStore(tmp_path / "store.sqlite") as store:
        (stored,) = Ledger(store).incidents(service="chatgpt")
        assert "status_page" not in stored.record


def test_a_failing_status_page_fails_the_cycle_partially_but_alerts_go_out(tmp_path, receiver,
                                                                          replay_posts):
    FakeStatuspage(receiver)
    receiver.fail("/api/v2/incidents.json", *[Reply(503)] * 20)
    path = deploy(tmp_path, receiver, replay_posts, status="")
    path.write_text(path.read_text() + status_config(receiver))
    result = cycle(path, "2024-12-26 18:45")
    assert [a.event for a in result.alerts] == ["new"] and result.sent == 1
    assert result.status == 3 and any("status page chatgpt" in f for f in result.failures)


def test_polling_twice_stores_each_incident_once_and_keeps_changes(tmp_path, fake_api):
    page = FakeStatuspage(fake_api)
    first = page.add_incident("API errors", datetime(2024, 12, 26, 18, 50, tzinfo=UTC))
    urls = {"chatgpt": page.url}
    policy = RetryPolicy(sleep=lambda s: None)
    with PostStore(tmp_path / "s.sqlite") as store:
        report = status_history.poll(store, urls, policy=policy)
        assert report.read == {"chatgpt": 1} and report.changed == {"chatgpt": 1}
        assert status_history.poll(store, urls, policy=policy).changed == {"chatgpt": 0}
        page.resolve(first["id"], datetime(2024, 12, 26, 21, 0, tzinfo=UTC))
        assert status_history.poll(store, urls, policy=policy).changed == {"chatgpt": 1}
        (stored,) = status_history.load(store, "chatgpt")
        assert stored.resolved_at == datetime(2024, 12, 26, 21, 0, tzinfo=UTC)


def test_acknowledgement_measures_from_the_announcement_else_the_detection(fake_api):
    page = FakeStatuspage(fake_api)
    degraded = page.add_incident("Degraded", datetime(2024, 12, 26, 18, 30, tzinfo=UTC))
    page.resolve(degraded["id"], datetime(2024, 12, 26, 23, 0, tzinfo=UTC))

    incidents: list[StatusIncident] = StatusPageClient(page.url, ClientSession(5.0)).incidents()
    record = {"service": "chatgpt", "start": "2024-12-26T18:41:00Z", "end": None,
              "detected_at": "2024-12-26T18:43:00Z"}
    # The provider spoke first: a negative lead.
    assert status_history.acknowledgement(record, incidents)["lead_minutes"] == -13.0
    record["announced_at"] = "2024-12-26T18:45:00Z"
    assert status_history.acknowledgement(record, incidents)["lead_minutes"] == -15.0
    far = {"service": "chatgpt", "start": "2024-12-28T10:00:00Z", "end": "2024-12-28T11:00:00Z"}
    assert status_history.acknowledgement(far, incidents) is None


def test_status_pages_config(tmp_path):
    catalog = load_catalog()
    path = tmp_path / "deploy.toml"
    path.write_text('services = ["chatgpt"]\n[status_pages]\nenabled = false\n'
                    'github = "https://status.example.com/"\n')
    config = load_deploy_config(path, catalog)
    assert config.status_pages is False and config.status_urls == {"github": "https://status.example.com"}
    path.write_text('services = ["chatgpt"]\n[status_pages]\ngithub = "status.example.com"\n')
    with pytest.raises(ConfigError, match="github must be a Statuspage URL"):
        load_deploy_config(path, catalog)
    path.write_text('services = ["chatgpt"]\nstatus_pages = "yes"\n')
    with pytest.raises(ConfigError, match="status_pages must be true, false"):
        load_deploy_config(path, catalog)
    assert status_history.page_urls(["chatgpt", "slack"], catalog, {}) == {
        "chatgpt": status_history.page_urls(["chatgpt"], catalog)["chatgpt"]}
