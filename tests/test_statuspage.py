"""The Statuspage v2 client against a fake page on 127.0.0.1, and matching its incidents to ours."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from outage_signals.catalog import load_catalog
from outage_signals.collectors.http import ClientSession
from outage_signals.errors import CollectError, ConfigError, InputError
from outage_signals.retrying import RetryPolicy
from outage_signals.statuspage import (
    StatusIncident,
    StatusPageClient,
    lead_time_minutes,
    matching_incident,
    statuspage_urls,
)
from tests.fake_statuspage import FakeStatuspage
from tests.fakeapi import Drop, Reply, Slow

T0 = datetime(2024, 12, 26, 18, 40, tzinfo=UTC)
CHICAGO_WINTER = timezone(timedelta(hours=-6))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def make_client(page: FakeStatuspage, sleeps: list[float] | None = None, timeout: float = 5.0,
                attempts: int = 6) -> StatusPageClient:
    policy = RetryPolicy(attempts=attempts, rng=random.Random(0),
                         sleep=sleeps.append if sleeps is not None else (lambda s: None))
    return StatusPageClient(page.url, ClientSession(timeout), policy=policy)


# -- parsing -------------------------------------------------------------------------------------

def test_summary_gives_indicator_and_open_incidents_in_utc(fake_api):
    page = FakeStatuspage(fake_api, tz=CHICAGO_WINTER, time_zone="America/Chicago")
    done = page.add_incident("Old blip", minutes(-300), impact="minor")
    page.resolve(done["id"], minutes(-280))
    page.add_incident("Elevated errors for ChatGPT", minutes(12), impact="critical",
                      started_at=minutes(0), components=["API", "Login"])
    assert page.incidents[0]["started_at"] == "2024-12-26T12:40:00.000-06:00"  # local on the wire

    indicator, description, incidents = make_client(page).summary()

    assert (indicator, description) == ("critical", "Major System Outage")
    [incident] = incidents
    assert incident.name == "Elevated errors for ChatGPT"
    assert incident.page == fake_api.url
    assert (incident.status, incident.impact) == ("investigating", "critical")
    assert incident.started_at == minutes(0) and incident.started_at.tzinfo == UTC
    assert incident.acknowledged_at == minutes(12)
    assert incident.resolved_at is None
    assert incident.updated_at == minutes(12)
    assert incident.components == ("API", "Login")
    assert incident.shortlink.startswith("https://stspg.io/")
    assert fake_api.paths() == ["/api/v2/summary.json"]


def test_set_indicator_is_reported_as_is(fake_api):
    page = FakeStatuspage(fake_api)
    page.set_indicator("minor", "Partially Degraded Service")
    summary = make_client(page).summary()
    assert summary.indicator == "minor"
    assert summary.description == "Partially Degraded Service"
    assert summary.incidents == []


def test_summary_drops_an_incident_resolved_while_the_page_rendered(fake_api):
    page = FakeStatuspage(fake_api)
    still_open = page.add_incident("Still open", minutes(50))
    just_resolved = page.add_incident("Just resolved", minutes(10))
    page.resolve(just_resolved["id"], minutes(60))
    # A cached summary that still lists the resolved incident next to the open one.
    fake_api.fail("/api/v2/summary.json", Reply(200, {
        "page": {}, "status": {"indicator": "major", "description": "Partial System Outage"},
        "components": [], "incidents": [still_open, just_resolved], "scheduled_maintenances": []}))
    assert [i.name for i in make_client(page).summary().incidents] == ["Still open"]


def test_incidents_include_resolved_ones_newest_first(fake_api):
    page = FakeStatuspage(fake_api, tz=CHICAGO_WINTER)
    first = page.add_incident("Login failures", minutes(5), components=["Login"])
    page.update(first["id"], "identified", "We found the cause.", minutes(20))
    page.update(first["id"], "monitoring", "A fix is out.", minutes(50))
    page.resolve(first["id"], minutes(95))
    page.add_incident("Slow website", minutes(200), impact="minor")

    slow, login = make_client(page).incidents()

    assert slow.name == "Slow website" and slow.resolved_at is None
    assert login.status == "resolved"
    assert login.resolved_at == minutes(95) and login.resolved_at.tzinfo == UTC
    assert login.updated_at == minutes(95)
    assert login.acknowledged_at == minutes(5)
    assert fake_api.paths() == ["/api/v2/incidents.json"]


def test_utc_z_and_other_offsets_all_become_utc(fake_api):
    page = FakeStatuspage(fake_api)  # sends "Z"
    incident = page.add_incident("Outage", minutes(3))
    assert incident["created_at"].endswith("Z")
    incident["resolved_at"] = "2024-12-27T08:20:00+05:30"
    [parsed] = make_client(page).incidents()
    assert parsed.acknowledged_at == minutes(3)
    assert parsed.resolved_at == datetime(2024, 12, 27, 2, 50, tzinfo=UTC)


@pytest.mark.parametrize("missing", ["absent", "null"])
def test_started_at_falls_back_to_created_at(fake_api, missing):
    page = FakeStatuspage(fake_api)
    incident = page.add_incident("Legacy incident", minutes(30), started_at=minutes(10))
    if missing == "absent":
        del incident["started_at"]  # incidents from before the field existed
    else:
        incident["started_at"] = None
    [parsed] = make_client(page).incidents()
    assert parsed.started_at == minutes(30)


def test_acknowledged_at_is_the_oldest_update_not_the_first_listed(fake_api):
    page = FakeStatuspage(fake_api)
    # Drafted at 0, first published at 7, the problem backdated to -15.
    incident = page.add_incident("API errors", minutes(7), created_at=minutes(0),
                                 started_at=minutes(-15))
    page.update(incident["id"], "identified", "Cause found.", minutes(25))
    page.update(incident["id"], "monitoring", "Fixed.", minutes(40))
    assert [u["status"] for u in incident["incident_updates"]] == [
        "monitoring", "identified", "investigating"]  # newest first on the wire

    [parsed] = make_client(page).incidents()

    assert parsed.acknowledged_at == minutes(7)
    assert parsed.started_at == minutes(-15)


def test_acknowledged_at_falls_back_to_created_at_without_updates(fake_api):
    page = FakeStatuspage(fake_api)
    incident = page.add_incident("Quiet incident", minutes(9))
    incident["incident_updates"] = []
    [parsed] = make_client(page).incidents()
    assert parsed.acknowledged_at == minutes(9)


def test_to_dict_and_from_dict_round_trip_with_z_strings(fake_api):
    page = FakeStatuspage(fake_api, tz=CHICAGO_WINTER)
    incident = page.add_incident("Outage", minutes(4), started_at=minutes(0), components=["API"])
    page.resolve(incident["id"], minutes(61))
    [parsed] = make_client(page).incidents()

    data = parsed.to_dict()

    assert data["started_at"] == "2024-12-26T18:40:00Z"
    assert data["acknowledged_at"] == "2024-12-26T18:44:00Z"
    assert data["resolved_at"] == "2024-12-26T19:41:00Z"
    assert data["components"] == ["API"]
    assert StatusIncident.from_dict(data) == parsed
    open_one = StatusIncident.from_dict({**data, "resolved_at": None})
    assert open_one.resolved_at is None


def test_from_dict_names_the_bad_field():
    with pytest.raises(InputError, match="started_at"):
        StatusIncident.from_dict({"page": "https://x.example", "id": "a", "name": "n",
                                  "status": "resolved", "impact": "major",
                                  "started_at": "yesterday", "acknowledged_at": "2024-01-01T00:00Z",
                                  "updated_at": "2024-01-01T00:00Z"})


# -- failures ------------------------------------------------------------------------------------

def test_500_then_200_is_retried(fake_api, no_sleep):
    page = FakeStatuspage(fake_api)
    page.add_incident("Outage", minutes(1))
    fake_api.fail("/api/v2/incidents.json", Reply(500, {"error": "boom"}))
    sleeps: list[float] = []
    [parsed] = make_client(page, sleeps).incidents()
    assert parsed.name == "Outage"
    assert fake_api.paths() == ["/api/v2/incidents.json"] * 2
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0  # one backoff of base 1 s with jitter


def test_429_waits_for_retry_after(fake_api, no_sleep):
    page = FakeStatuspage(fake_api)
    fake_api.fail("/api/v2/summary.json", Reply(429, {"error": "slow down"}, {"Retry-After": "7"}))
    sleeps: list[float] = []
    assert make_client(page, sleeps).summary().indicator == "none"
    assert sleeps == [7.0]


@pytest.mark.parametrize("fault", [Reply(503, "<html>Service Unavailable</html>"), Drop()],
                         ids=["503-html", "dropped-mid-body"])
def test_transient_faults_are_retried(fake_api, no_sleep, fault):
    page = FakeStatuspage(fake_api)
    page.add_incident("Outage", minutes(1))
    fake_api.fail("/api/v2/incidents.json", fault, fault)
    assert len(make_client(page).incidents()) == 1
    assert len(fake_api.paths()) == 3


def test_a_server_slower_than_the_timeout_is_retried(fake_api, no_sleep):
    page = FakeStatuspage(fake_api)
    fake_api.fail("/api/v2/summary.json", Slow(0.5))
    assert make_client(page, timeout=0.2).summary().indicator == "none"
    assert len(fake_api.paths()) == 2
    # The slow reply is still pending and will hit a closed socket; let it land (and its
    # BrokenPipe report be captured) inside this test rather than after the run.
    threading.Event().wait(0.5)


def test_persistent_500_gives_up_with_the_url(fake_api, no_sleep):
    page = FakeStatuspage(fake_api)
    fake_api.fail("/api/v2/incidents.json", *[Reply(502, "bad gateway")] * 3)
    with pytest.raises(CollectError, match=r"/api/v2/incidents\.json.*server error \(502\).*3 attempts"):
        make_client(page, attempts=3).incidents()


def test_a_body_that_is_not_json_is_a_clear_error_and_not_retried(fake_api, no_sleep):
    page = FakeStatuspage(fake_api)
    fake_api.fail("/api/v2/summary.json", "<!doctype html><title>Status</title>")
    with pytest.raises(CollectError) as caught:
        make_client(page).summary()
    message = str(caught.value)
    assert f"{fake_api.url}/api/v2/summary.json" in message
    assert "not JSON" in message and "<!doctype html>" in message
    assert len(fake_api.paths()) == 1


@pytest.mark.parametrize("field", ["id", "name", "status", "impact", "created_at"])
def test_a_missing_required_field_names_the_url_and_field(fake_api, field):
    page = FakeStatuspage(fake_api)
    del page.add_incident("Outage", minutes(1))[field]
    with pytest.raises(CollectError, match=rf"/api/v2/incidents\.json: incident .*'{field}'"):
        make_client(page).incidents()


def test_a_bad_timestamp_names_the_field(fake_api):
    page = FakeStatuspage(fake_api)
    page.add_incident("Outage", minutes(1))["incident_updates"][0]["created_at"] = "2024-12-26 18:41"
    with pytest.raises(CollectError, match=r"incident inc0+1: created_at has no time zone"):
        make_client(page).incidents()


def test_missing_incidents_list_is_an_error(fake_api):
    FakeStatuspage(fake_api)
    fake_api.route("GET", r"/other/api/v2/summary\.json")(
        lambda req: Reply(200, {"page": {}, "status": {"indicator": "none", "description": "ok"}}))
    client = StatusPageClient(fake_api.url + "/other/", ClientSession(5.0))
    with pytest.raises(CollectError, match=r"/other/api/v2/summary\.json: missing 'incidents'"):
        client.summary()


def test_404_is_not_retried(fake_api, no_sleep):
    client = StatusPageClient(fake_api.url, ClientSession(5.0), policy=RetryPolicy(sleep=lambda s: None))
    with pytest.raises(CollectError, match=r"summary\.json: answered 404"):
        client.summary()
    assert len(fake_api.paths()) == 1


def test_a_redirect_is_refused_not_followed(fake_api):
    FakeStatuspage(fake_api)
    fake_api.fail("/api/v2/summary.json",
                  Reply(301, "", {"Location": "https://status.elsewhere.example/api/v2/summary.json"}))
    with pytest.raises(CollectError, match=r"redirects \(301\) to https://status\.elsewhere"):
        StatusPageClient(fake_api.url, ClientSession(5.0)).summary()


@pytest.mark.parametrize("url", ["status.example.com", "ftp://status.example.com", "https://"])
def test_a_bad_base_url_is_a_config_error(url):
    with pytest.raises(ConfigError):
        StatusPageClient(url, ClientSession(5.0))


# -- matching ------------------------------------------------------------------------------------

def incident(iid: str, started: float, acknowledged: float, resolved: float | None,
             impact: str = "major", status: str = "resolved") -> StatusIncident:
    return StatusIncident(
        page="https://status.example.com", id=iid, name=iid, status=status, impact=impact,
        started_at=minutes(started), acknowledged_at=minutes(acknowledged),
        resolved_at=None if resolved is None else minutes(resolved),
        updated_at=minutes(resolved if resolved is not None else acknowledged))


def test_the_overlapping_incident_acknowledged_first_wins():
    late = incident("late", started=-10, acknowledged=30, resolved=400)
    early = incident("early", started=5, acknowledged=20, resolved=60)
    far = incident("far", started=-2000, acknowledged=-1990, resolved=-1000)
    assert matching_incident([late, far, early], minutes(0), minutes(300)) == early


def test_maintenance_and_no_impact_are_ignored():
    planned = incident("planned", 0, 0, 120, impact="maintenance", status="completed")
    notice = incident("notice", 0, 1, 120, impact="none")
    maint_status = incident("maint", 0, 2, 120, impact="minor", status="in_progress")
    assert matching_incident([planned, notice, maint_status], minutes(10), minutes(60)) is None
    real = incident("real", 15, 25, 90, impact="minor")
    assert matching_incident([planned, notice, maint_status, real], minutes(10), minutes(60)) == real


def test_no_overlap_gives_none():
    before = incident("before", -900, -890, -400)  # resolved more than 6 h before our start
    after = incident("after", 200, 205, 300)       # started after our end
    assert matching_incident([before, after], minutes(0), minutes(120)) is None
    assert matching_incident([], minutes(0)) is None


def test_window_edges():
    # Resolved exactly at start - window: [started, resolved) ends where ours begins.
    touching = incident("touching", -500, -495, -360)
    assert matching_incident([touching], minutes(0)) is None
    assert matching_incident([touching], minutes(0), window=timedelta(hours=6, minutes=1)) == touching
    # Without an end, ours reaches start + window; a page incident starting right then counts.
    starts_at_edge = incident("edge", 360, 365, 400)
    assert matching_incident([starts_at_edge], minutes(0)) == starts_at_edge
    assert matching_incident([starts_at_edge], minutes(0), minutes(60)) is None


def test_an_open_incident_overlaps_everything_after_its_start():
    still_open = incident("open", -30, -20, None, status="monitoring")
    assert matching_incident([still_open], minutes(2000), minutes(2100)) == still_open


def test_matching_accepts_any_zone_and_refuses_naive_times():
    real = incident("real", 15, 25, 90)
    assert matching_incident([real], minutes(10).astimezone(CHICAGO_WINTER)) == real
    with pytest.raises(ValueError, match="timezone-aware"):
        matching_incident([real], datetime(2024, 12, 26, 18, 50))
    with pytest.raises(ValueError, match="before start"):
        matching_incident([real], minutes(10), minutes(5))


def test_lead_time_minutes_sign():
    confirmed = incident("c", started=0, acknowledged=23.5, resolved=90)
    assert lead_time_minutes(minutes(3), confirmed) == pytest.approx(20.5)
    assert lead_time_minutes(minutes(30), confirmed) == pytest.approx(-6.5)  # they were first
    assert lead_time_minutes(minutes(3).astimezone(CHICAGO_WINTER), confirmed) == pytest.approx(20.5)
    with pytest.raises(ValueError):
        lead_time_minutes(datetime(2024, 12, 26, 18, 43), confirmed)


# -- the packaged URL table ----------------------------------------------------------------------

def test_statuspage_urls_name_catalog_services():
    urls = statuspage_urls()
    catalog = load_catalog({})
    assert {"github", "discord", "reddit", "cloudflare", "zoom"} <= set(urls)
    assert [key for key in urls if key not in catalog] == []
    for key, url in urls.items():
        assert url.startswith("https://") and not url.endswith("/"), key
        StatusPageClient(url, ClientSession(5.0))  # every URL is acceptable to the client
    urls["github"] = "changed"
    assert statuspage_urls()["github"] == "https://www.githubstatus.com"  # callers get a copy
