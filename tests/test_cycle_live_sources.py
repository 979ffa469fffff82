"""Whole scheduled cycles with every outside party faked on 127.0.0.1: Reddit (praw) and X
(tweepy) serving posts as they are published, the provider's Statuspage, a JSON webhook and an
SMTP server receiving the alerts (apprise ``mailto://``).

The posts come from the simulator: two days of ordinary chatter about Discord in the store (as
earlier cycles would have left it), then a 50-minute outage whose posts the fake APIs publish
minute by minute, so each cycle can only collect what existed at its time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outage_signals.catalog import load_catalog
from outage_signals.ledger import Ledger
from outage_signals.simulation.profiles import OutageEvent
from outage_signals.simulation.scenarios import profile_for
from outage_signals.storing import PostStore
from tests.cycles import cycle
from tests.fake_reddit import CLIENT_ID, CLIENT_SECRET, FakeReddit, submission
from tests.fake_smtp import SMTPSink
from tests.fake_statuspage import FakeStatuspage
from tests.fake_x import BEARER, FakeX, tweet
from tests.fakeapi import Reply

START = datetime(2025, 3, 4, 0, 0, tzinfo=UTC)
OUTAGE = (datetime(2025, 3, 6, 14, 0, tzinfo=UTC), datetime(2025, 3, 6, 14, 50, tzinfo=UTC))


@pytest.fixture(scope="module")
def simulated():
    from outage_signals.simulation.generator import simulate

    catalog = load_catalog()
    event = OutageEvent("discord", *OUTAGE, peak_per_min=30.0)
    sim = simulate(catalog, START, datetime(2025, 3, 6, 18, 0, tzinfo=UTC),
                   [profile_for(catalog, "discord")], [event], seed=3)
    # Reddit and X only: the two sources this deployment collects.
    return [p for p in sim.posts if p.source in ("reddit", "twitter")]


class World:
    """The fakes, the store and the deployment config; :meth:`at` publishes the posts made
    before a time and runs one cycle then."""

    def __init__(self, tmp_path, api, posts, smtp: SMTPSink, monkeypatch):
        self.api, self.smtp = api, smtp
        self.live = [p for p in posts if p.created_at >= OUTAGE[0] - timedelta(minutes=30)]
        self.store = tmp_path / "store.sqlite"
        with PostStore(self.store) as store:
            store.save([p for p in posts if p.created_at < OUTAGE[0] - timedelta(minutes=30)])
        self.reddit, self.x = FakeReddit(api), FakeX(api)
        self.page = FakeStatuspage(api, name="Discord")
        self.hooks: list[dict] = []

        @api.route("POST", r"/hook/ops")
        def hook(req):
            import json

            self.hooks.append(json.loads(req.body))
            return Reply(200, {"ok": True})

        for name, value in {"REDDIT_CLIENT_ID": CLIENT_ID, "REDDIT_CLIENT_SECRET": CLIENT_SECRET,
                            "OUTAGE_SIGNALS_REDDIT_OAUTH_URL": api.url,
                            "OUTAGE_SIGNALS_REDDIT_URL": api.url, "X_BEARER_TOKEN": BEARER,
                            "OUTAGE_SIGNALS_X_API_URL": api.url}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("OPS_MAIL", f"mailto://127.0.0.1:{smtp.port}?from=alerts@example.com"
                                       "&to=oncall@example.com")
        port = api.url.rsplit(":", 1)[1]
        self.config = tmp_path / "deploy.toml"
        self.config.write_text(f"""
services = ["discord"]
store = "{self.store}"
min_level = "possible"
resolve_after = "30min"

[sources.reddit]
[sources.twitter]
archive = true          # the posts are from 2025; recent search reaches back 7 days only

[status_pages]
discord = "{api.url}"

[[destinations]]
name = "ops"
url = "incident://127.0.0.1:{port}/hook/ops"

[[destinations]]
name = "mail"
url_env = "OPS_MAIL"
min_level = "likely"
""")

    def publish(self, until: datetime) -> None:
        shown = [p for p in self.live if p.created_at < until]
        self.reddit.items[:] = [submission(p.id, p.created_at.timestamp(), p.text,
                                           sub=p.subreddit or "discordapp", author=p.author)
                                for p in shown if p.source == "reddit"]
        # X ids are numbers; the simulator's are too. Authors keep their identity as numbers.
        self.x.tweets[:] = [tweet(int(p.id), p.created_at, p.text, lang=p.lang or "en",
                                  author=_number(p.author)) for p in shown if p.source == "twitter"]

    def at(self, hhmm: str, **kwargs):
        when = datetime.combine(OUTAGE[0].date(), datetime.strptime(hhmm, "%H:%M").time(), UTC)
        self.publish(when)
        return cycle(self.config, when.strftime("%Y-%m-%d %H:%M"), **kwargs)


def _number(author: str) -> int:
    import zlib

    return zlib.crc32(author.encode()) + 1


@pytest.fixture
def world(tmp_path, fake_api, simulated, monkeypatch, no_sleep):
    with SMTPSink() as smtp:
        yield World(tmp_path, fake_api, simulated, smtp, monkeypatch)


def events(world):
    return [(a.event, a.incident.level) for a in world]


def test_an_outage_from_live_sources_is_announced_escalated_confirmed_and_resolved_once(world):
    quiet = world.at("13:45")
    assert quiet.status == 0 and quiet.alerts == [] and quiet.collected > 0
    assert {line["source"] for line in quiet.log if line["event"] == "collected"} == {"reddit", "twitter"}

    seen = []
    for hhmm in ("14:02", "14:03", "14:04", "14:05", "14:06"):
        result = world.at(hhmm)
        assert result.status == 0, result.failures
        seen += [(a.event, a.incident.level) for a in result.alerts]
    # Announced while still "possible", then escalated to "likely": once each.
    assert seen[:2] == [("new", "possible"), ("escalated", "likely")], seen

    # The provider admits it at 14:20.
    world.page.add_incident("Messages failing to send", datetime(2025, 3, 6, 14, 20, tzinfo=UTC),
                            started_at=datetime(2025, 3, 6, 14, 1, tzinfo=UTC), impact="major")
    confirmed = world.at("14:22")
    assert "updated" in [a.event for a in confirmed.alerts]
    status = confirmed.alerts[-1].incident.record["status_page"]
    assert status["name"] == "Messages failing to send" and status["lead_minutes"] > 10

    world.page.resolve(world.page.incidents[0]["id"], datetime(2025, 3, 6, 15, 0, tzinfo=UTC))
    for hhmm in ("14:40", "15:10", "15:40", "16:20", "17:00"):
        world.at(hhmm)
    again = world.at("17:00")  # re-running the same cycle says nothing new
    assert again.alerts == []

    hooks = [(p["event"], p["incident"]["level"]) for p in world.hooks]
    assert hooks[:2] == [("new", "possible"), ("escalated", "likely")]
    assert hooks[-1][0] == "resolved" and [e for e, _ in hooks].count("resolved") == 1
    assert [e for e, _ in hooks].count("new") == 1
    assert len({p["delivery_id"] for p in world.hooks}) == len(world.hooks)
    assert len({p["incident_key"] for p in world.hooks}) == 1

    # E-mail takes "likely" only: it hears of the incident first as "new" (at the escalation),
    # then the confirmation and the end; never the "possible".
    subjects = [m["Subject"] for m in world.smtp.messages]
    assert len(subjects) >= 3 and "likely" in subjects[0].lower(), subjects
    assert all("possible" not in s.lower() for s in subjects)
    body = world.smtp.messages[0].get_body(("plain",)).get_content()
    assert "Discord" in body or "discord" in body
    assert world.smtp.messages[-1]["To"] == "oncall@example.com"

    with PostStore(world.store) as store:
        (incident,) = Ledger(store).incidents(service="discord")
        assert incident.state == "resolved"
        assert incident.record["status_page"]["lead_minutes"] == status["lead_minutes"]
        outbox = Ledger(store).outbox()
        assert all(row["sent_at"] for row in outbox)


def test_a_mail_server_refusing_once_gets_the_alert_once(world):
    world.at("13:45")
    world.smtp.fail_next = 1
    for hhmm in ("14:02", "14:03", "14:04", "14:05", "14:06"):
        world.at(hhmm)
    subjects = [m["Subject"] for m in world.smtp.messages]
    assert [s for s in subjects if "outage since" in s] == ["[LIKELY] discord outage since 14:01 UTC"]
