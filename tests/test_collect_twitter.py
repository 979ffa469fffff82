"""The real tweepy v2 Client against a fake X API on 127.0.0.1."""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from outage_signals.collectors.base import Driver
from outage_signals.collectors.twitter import TwitterCollector, build_query
from outage_signals.errors import CollectError, CredentialsError, RateLimited
from outage_signals.retrying import RetryPolicy
from outage_signals.source_settings import twitter_settings
from outage_signals.storing import PostStore
from tests.fake_x import BEARER, FakeX, tweet
from tests.fakeapi import Drop, Reply, Slow

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def make_driver(api, store, sleeps=None, archive=False, **kw):
    settings = twitter_settings({}, bearer_token=BEARER, api_url=api.url)
    collector = TwitterCollector(settings, archive=archive, now=lambda: NOW)
    policy = RetryPolicy(sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
                         rng=random.Random(0), max_wait=120)
    return Driver(collector, store, policy=policy, now=lambda: NOW, **kw)


def minutes_ago(n):
    return NOW - timedelta(minutes=n)


def tweets(n, step=5):
    return [tweet(1000 + i, minutes_ago(1 + i * step), f"is slack down? #{i}") for i in range(n)]


def ids(store):
    return sorted(p.id for p in store.posts())


def test_pages_with_next_token_and_joins_authors_and_places(fake_api, tmp_path, catalog):
    data = [tweet(1, minutes_ago(2), "Slack is down for me", author=7, place="p1"),
            tweet(2, minutes_ago(3), "slack down?", author=8, point=(-97.74, 30.27), lang="und"),
            tweet(3, minutes_ago(4), "short", author=7,
                  note_tweet={"text": "Slack has been down for an hour and ..."})]
    FakeX(fake_api, data, page_size=2,
          users={"7": {"id": "7", "name": "Ann", "username": "ann", "location": "Austin, TX"}},
          places={"p1": {"id": "p1", "full_name": "Manhattan, NY", "country_code": "US"}})
    with PostStore(tmp_path / "s.db") as store:
        report = make_driver(fake_api, store).collect(catalog.get("slack"), since=minutes_ago(60))
        posts = {p.id: p for p in store.posts()}
    assert report.requests == 2 and report.counts.inserted == 3
    first, second = fake_api.requests
    assert "next_token" not in first.query and second.query["next_token"] == "tok2"
    assert first.query["start_time"] == "2025-06-01T11:00:00Z"
    assert first.query["end_time"] == "2025-06-01T11:59:45Z"  # X refuses end times < 10 s ago
    assert first.query["expansions"] == "author_id,geo.place_id"
    assert "-is:retweet" in first.query["query"] and first.query["query"].startswith("(Slack OR")
    one, two, three = posts["1"], posts["2"], posts["3"]
    assert one.source == "twitter" and one.service == "slack" and one.author == "ann"
    assert one.place == {"country_code": "US", "full_name": "Manhattan, NY"}
    assert one.user_location == "Austin, TX" and one.url == "https://twitter.com/ann/status/1"
    assert one.created_at == minutes_ago(2)
    assert two.coordinates == (-97.74, 30.27) and two.author == "user8" and two.place is None
    assert three.text == "Slack has been down for an hour and ..."
    assert one.meta["collector"] == "twitter" and "-is:retweet" in one.meta["query"]


def test_429_waits_until_the_reset_header(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(3))
    reset = int(time.time()) + 30
    fake_api.fail("/2/tweets", Reply(429, {"title": "Too Many Requests"},
                                     {"x-rate-limit-reset": str(reset)}))
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store, sleeps).collect(catalog.get("slack"), since=minutes_ago(60))
        assert store.count() == 3
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 32


def test_a_long_rate_limit_stops_and_the_next_run_resumes(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(6), page_size=2)
    original = fake_api._dispatch
    calls = []

    def second_page_limited(req):
        calls.append(req)
        if len(calls) == 2:
            return Reply(429, {}, {"x-rate-limit-reset": str(int(time.time()) + 3600)})
        return original(req)

    fake_api._dispatch = second_page_limited
    with PostStore(tmp_path / "s.db") as store:
        with pytest.raises(RateLimited, match="run again later to resume"):
            make_driver(fake_api, store).collect(catalog.get("slack"), since=minutes_ago(60))
        assert store.count() == 2
        make_driver(fake_api, store).collect(catalog.get("slack"), since=minutes_ago(60))
        assert ids(store) == [str(1000 + i) for i in range(6)]
    assert calls[-3].query["next_token"] == "tok2", "resumed from the saved next_token"


@pytest.mark.parametrize("fault", [Reply(500, {"title": "Internal"}), Reply(503, "busy"), Drop(),
                                   "{\"data\": [", ], ids=["500", "503", "dropped", "malformed"])
def test_transient_failures_are_retried(fake_api, tmp_path, catalog, fault):
    FakeX(fake_api, tweets(5), page_size=2)
    fake_api.fail("/2/tweets", fault, fault)
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store, sleeps).collect(catalog.get("slack"), since=minutes_ago(60))
        assert ids(store) == [str(1000 + i) for i in range(5)]
    assert len(sleeps) == 2


def test_a_server_slower_than_the_timeout_is_retried(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(3))
    fake_api.fail("/2/tweets", Slow(1.0))
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        driver = make_driver(fake_api, store, sleeps)
        driver.collector.client.session.timeout = 0.3
        driver.collect(catalog.get("slack"), since=minutes_ago(60))
        assert store.count() == 3
    assert len(sleeps) == 1 and len(fake_api.requests) == 2


def test_max_posts_budget_stops_and_continues(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(25), page_size=100)
    with PostStore(tmp_path / "s.db") as store:
        report = make_driver(fake_api, store, max_posts=12).collect(catalog.get("slack"),
                                                                    since=minutes_ago(200))
        assert report.incomplete and store.count() == 12
        assert [r.query["max_results"] for r in fake_api.requests] == ["12"]
        make_driver(fake_api, store, max_posts=100).collect(catalog.get("slack"),
                                                            since=minutes_ago(200))
        assert store.count() == 25


def test_expired_next_token_restarts_the_pass(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(4), page_size=2)
    with PostStore(tmp_path / "s.db") as store:
        driver = make_driver(fake_api, store)
        (query,) = driver.collector.queries(catalog.get("slack"))
        window = [_iso(minutes_ago(60)), _iso(NOW)]
        store.set_checkpoint("twitter", "slack", query.key,
                             {"pending": {"window": window, "cursor": "expired-token"}})
        driver.collect(catalog.get("slack"), since=minutes_ago(60), until=NOW)
        assert store.count() == 4


def _iso(ts):
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_archive_forbidden_and_bad_token_are_clear(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(2), archive_allowed=False)
    with PostStore(tmp_path / "s.db") as store:
        with pytest.raises(CollectError, match="Pro or Enterprise"):
            make_driver(fake_api, store, archive=True).collect(catalog.get("slack"),
                                                               since=minutes_ago(60 * 24 * 30))
        assert fake_api.requests[-1].path == "/2/tweets/search/all"
        settings = twitter_settings({}, bearer_token="wrong-token", api_url=fake_api.url)
        driver = Driver(TwitterCollector(settings, now=lambda: NOW), store,
                        policy=RetryPolicy(sleep=lambda s: None), now=lambda: NOW)
        with pytest.raises(CollectError, match="X_BEARER_TOKEN"):
            driver.collect(catalog.get("slack"), since=minutes_ago(60))


def test_recent_search_is_clamped_to_seven_days(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(1))
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store).collect(catalog.get("slack"), since=NOW - timedelta(days=30))
    assert fake_api.requests[0].query["start_time"] == "2025-05-25T12:01:00Z"


def test_bearer_token_never_logged(fake_api, tmp_path, catalog, caplog):
    FakeX(fake_api, tweets(2))
    with caplog.at_level(logging.DEBUG), PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store).collect(catalog.get("slack"), since=minutes_ago(60))
    assert "Making API request" in caplog.text and "Bearer ***" in caplog.text
    assert BEARER not in caplog.text
    assert BEARER not in (tmp_path / "s.db").read_bytes().decode("latin-1")


def test_query_fits_the_length_limit(catalog):
    for key in ("chatgpt", "slack", "discord", "aws"):
        query = build_query(catalog.get(key), max_length=200)
        assert len(query) <= 200 and query.endswith("-is:retweet")
    assert '"chat gpt"' in build_query(catalog.get("chatgpt"))


def test_missing_token_names_the_variable(monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    with pytest.raises(CredentialsError, match="X_BEARER_TOKEN"):
        twitter_settings({})


def test_same_window_twice_changes_nothing(fake_api, tmp_path, catalog):
    FakeX(fake_api, tweets(7), page_size=3)
    with PostStore(tmp_path / "s.db") as store:
        window = {"since": minutes_ago(60), "until": minutes_ago(1)}
        make_driver(fake_api, store).collect(catalog.get("slack"), **window)
        rows = list(store._db.execute("SELECT * FROM posts ORDER BY id"))
        sent = len(fake_api.requests)
        report = make_driver(fake_api, store).collect(catalog.get("slack"), **window)
        assert list(store._db.execute("SELECT * FROM posts ORDER BY id")) == rows
    # until is exclusive: the post made exactly 1 minute ago is outside.
    assert len(rows) == 6 and report.requests == 0 and len(fake_api.requests) == sent
