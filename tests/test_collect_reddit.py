"""The real praw client against a fake Reddit on 127.0.0.1: paging, windows, faults, resuming."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from outage_signals.catalog import load_catalog
from outage_signals.collectors.base import Driver, Query
from outage_signals.collectors.reddit import RedditCollector, alias_query
from outage_signals.errors import CollectError, CredentialsError
from outage_signals.retrying import RetryPolicy
from outage_signals.source_settings import reddit_settings
from outage_signals.storing import PostStore
from tests.fake_reddit import CLIENT_ID, CLIENT_SECRET, FakeReddit, comment, submission
from tests.fakeapi import Drop, Reply, Slow

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
T0 = NOW.timestamp()


#: One search, so request counts are easy to read (the full query list is tested on its own).
ONE = [Query("search:all:slack down", {"sub": "all", "q": "slack down"})]


@pytest.fixture
def one_query_catalog():
    return load_catalog({})


def make_collector(api, timeout=30, **overrides):
    settings = reddit_settings({}, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                               oauth_url=api.url, reddit_url=api.url, **overrides)
    return RedditCollector(settings, timeout=timeout, now=lambda: NOW)


def make_driver(api, store, sleeps=None, **kw):
    policy = RetryPolicy(sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
                         rng=random.Random(0))
    return Driver(make_collector(api), store, policy=policy, now=lambda: NOW, **kw)


def slack_items(n, start_minutes_ago=1, step_minutes=10):
    return [submission(f"s{i:03d}", T0 - (start_minutes_ago + i * step_minutes) * 60,
                       f"Slack down again? #{i}") for i in range(n)]


def stored_ids(store):
    return sorted(p.id for p in store.posts())


def test_pages_newest_first_and_stops_at_the_window_start(fake_api, tmp_path, no_sleep,
                                                           one_query_catalog):
    FakeReddit(fake_api, slack_items(30), page_size=4)  # one item every 10 min
    with PostStore(tmp_path / "s.db") as store:
        report = make_driver(fake_api, store).collect(one_query_catalog.get("slack"), queries=ONE,
                since=NOW - timedelta(hours=1), until=NOW)
        # items 0..5 are inside the last hour; page 2 holds items 4..7 and ends the pass.
        assert stored_ids(store) == [f"s{i:03d}" for i in range(6)]
    searches = [r for r in fake_api.requests if r.path == "/r/all/search/"]
    assert len(searches) == 2 == report.requests
    first, second = searches
    assert first.query["q"] == "slack down" and first.query["sort"] == "new"
    assert first.query["restrict_sr"] == "False" and first.query["t"] == "hour"
    assert "after" not in first.query and second.query["after"] == "t3_s003"
    assert first.headers["authorization"].startswith("bearer ")
    assert report.counts.inserted == 6


def test_post_record_fields(fake_api, tmp_path, no_sleep, one_query_catalog):
    item = submission("abc", T0 - 60, "Slack is down for everyone?", body="huddles fail too",
                      sub="sysadmin", author="[deleted]")
    FakeReddit(fake_api, [item])
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store).collect(one_query_catalog.get("slack"), queries=ONE,
                                             since=NOW - timedelta(hours=1), until=NOW)
        (post,) = list(store.posts())
    assert post.source == "reddit" and post.id == "abc" and post.service == "slack"
    assert post.text == "Slack is down for everyone?\n\nhuddles fail too"
    assert post.created_at == NOW - timedelta(minutes=1)
    assert post.author is None and post.subreddit == "sysadmin"
    assert post.url == "https://www.reddit.com/r/sysadmin/comments/abc/slug/"
    assert post.meta["collector"] == "reddit" and post.meta["query"] == "slack down"
    assert set(post.meta) == {"collector", "version", "query", "retrieved_at"}
    # Only the listing was requested: no lazy per-item fetch of missing attributes.
    assert fake_api.paths("/comments/") == [] and fake_api.paths("/r/sysadmin/about") == []


def test_429_waits_for_retry_after_then_succeeds(fake_api, tmp_path, no_sleep, one_query_catalog):
    FakeReddit(fake_api, slack_items(3))
    fake_api.fail("/r/all/search/", Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "7"}))
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store, sleeps).collect(one_query_catalog.get("slack"), queries=ONE,
                                                     since=NOW - timedelta(hours=1), until=NOW)
        assert store.count() == 3
    assert sleeps == [7.0]


@pytest.mark.parametrize("fault", [
    Reply(500, {"message": "Internal Server Error"}),
    Reply(503, "<html>Service Unavailable</html>"),
    Drop(),
    "{not json",
], ids=["500", "503-html", "dropped-mid-page", "malformed-json"])
def test_transient_failures_are_retried(fake_api, tmp_path, no_sleep, one_query_catalog, fault):
    FakeReddit(fake_api, slack_items(5), page_size=2)
    # Three faults in a row beat prawcore's own two retries, so our backoff must step in.
    fake_api.fail("/r/all/search/", fault, fault, fault, fault)
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store, sleeps).collect(one_query_catalog.get("slack"), queries=ONE,
                                                     since=NOW - timedelta(hours=1), until=NOW)
        assert stored_ids(store) == [f"s{i:03d}" for i in range(5)]
    assert sleeps, "the driver backed off at least once"
    assert all(0.5 <= s <= 60 for s in sleeps)


def test_a_server_slower_than_the_timeout_is_retried(fake_api, tmp_path, no_sleep,
                                                     one_query_catalog):
    FakeReddit(fake_api, slack_items(3))
    fake_api.fail("/r/all/search/", Slow(1.0))
    with PostStore(tmp_path / "s.db") as store:
        driver = make_driver(fake_api, store)
        driver.collector = make_collector(fake_api, timeout=0.3)
        driver.collect(one_query_catalog.get("slack"), queries=ONE,
                       since=NOW - timedelta(hours=1), until=NOW)
        assert store.count() == 3
    assert len(fake_api.paths("/r/all/search/")) == 2


def test_persistent_failure_keeps_finished_pages_and_resumes(fake_api, tmp_path, no_sleep,
                                                             one_query_catalog):
    FakeReddit(fake_api, slack_items(6), page_size=2)
    with PostStore(tmp_path / "s.db") as store:
        driver = make_driver(fake_api, store)
        driver.policy.attempts = 2
        # Page 1 succeeds, page 2 fails every try (prawcore's three attempts, twice).
        original = fake_api._dispatch

        def failing(req):
            if req.query.get("after") == "t3_s001":
                return Reply(500, {"message": "boom"})
            return original(req)

        fake_api._dispatch = failing
        with pytest.raises(CollectError, match="gave up after 2 attempts"):
            driver.collect(one_query_catalog.get("slack"), queries=ONE,
                           since=NOW - timedelta(hours=2), until=NOW)
        assert stored_ids(store) == ["s000", "s001"]
        (_, _, _, state), = store.checkpoints()
        assert state["pending"]["cursor"] == "t3_s001"

        fake_api._dispatch = original
        fake_api.requests.clear()
        make_driver(fake_api, store).collect(one_query_catalog.get("slack"), queries=ONE,
                                             since=NOW - timedelta(hours=2), until=NOW)
        assert stored_ids(store) == [f"s{i:03d}" for i in range(6)]
        # It resumed at the saved cursor instead of starting again from the newest page.
        assert fake_api.requests[1].query.get("after") == "t3_s001"


def test_same_window_twice_changes_nothing(fake_api, tmp_path, no_sleep, catalog):
    FakeReddit(fake_api, [*slack_items(8), submission("x1", T0 - 120, "Slack outage?", sub="Slack")],
               page_size=3)
    path = tmp_path / "s.db"
    window = {"since": NOW - timedelta(hours=3), "until": NOW}
    with PostStore(path) as store:
        make_driver(fake_api, store).collect(catalog.get("slack"), **window)
        first = list(store._db.execute("SELECT * FROM posts ORDER BY id"))
        checkpoints = store.checkpoints()
        n_requests = len(fake_api.requests)
        make_driver(fake_api, store).collect(catalog.get("slack"), **window)
        assert list(store._db.execute("SELECT * FROM posts ORDER BY id")) == first
        assert store.checkpoints() == checkpoints
    assert len(first) == 9
    assert len(fake_api.requests) == n_requests, "a covered window needs no requests"


def test_a_later_run_reads_only_the_new_span(fake_api, tmp_path, no_sleep, one_query_catalog):
    fake = FakeReddit(fake_api, slack_items(5, start_minutes_ago=30), page_size=2)
    slack = one_query_catalog.get("slack")
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store).collect(slack, queries=ONE, since=NOW - timedelta(hours=2), until=NOW)
        fake.items.append(submission("new1", T0 + 600, "Slack down now"))
        fake_api.requests.clear()
        later = NOW + timedelta(minutes=20)
        driver = make_driver(fake_api, store)
        driver.now = lambda: later
        driver.collect(slack, queries=ONE, since=NOW - timedelta(hours=2), until=later)
        assert "new1" in stored_ids(store) and store.count() == 6
    # One page: the new post and the overlap edge, then items older than the gap end the pass.
    assert len([r for r in fake_api.requests if r.path == "/r/all/search/"]) == 1


def test_every_catalog_query_and_the_subreddit(fake_api, tmp_path, no_sleep, catalog):
    slack = catalog.get("slack")
    collector = make_collector(fake_api)
    keys = [q.key for q in collector.queries(slack)]
    assert keys[:5] == [f"search:all:{t}" for t in slack.search_terms]
    assert keys[-1] == "new:Slack"
    assert alias_query(slack).startswith("(Slack OR \"slack app\" OR slackhq")
    assert len(alias_query(catalog.get("chatgpt"), max_length=60)) <= 60


def test_unknown_subreddit_is_skipped_with_a_note(fake_api, tmp_path, no_sleep, catalog):
    FakeReddit(fake_api, slack_items(2), missing_subs={"Slack"})
    with PostStore(tmp_path / "s.db") as store:
        report = make_driver(fake_api, store).collect(catalog.get("slack"),
                                                      since=NOW - timedelta(hours=1), until=NOW)
        assert store.count() == 2
    assert any("new:Slack: skipped" in n for n in report.notes)


def test_thread_comments(fake_api, tmp_path, no_sleep, one_query_catalog):
    thread = submission("meg", T0 - 300, "Slack down megathread", comments=3)
    FakeReddit(fake_api, [thread], threads={"meg": [
        comment("c1", "meg", T0 - 200, "same, huddles dead", replies=[
            comment("c2", "meg", T0 - 100, "+1 from Berlin")]),
        comment("c3", "meg", T0 - 50, "[deleted]"),
    ]})
    slack = one_query_catalog.get("slack")
    with PostStore(tmp_path / "s.db") as store:
        driver = make_driver(fake_api, store)
        window = {"since": NOW - timedelta(hours=1), "until": NOW}
        driver.collect(slack, queries=ONE, **window)
        threads = driver.collector.thread_queries(store.posts(services=["slack"]), limit=5)
        assert [q.key for q in threads] == ["thread:meg"]
        driver.collect(slack, queries=threads, **window)
        posts = {p.id: p for p in store.posts()}
    assert set(posts) == {"meg", "c1", "c2"}
    assert posts["c2"].text == "+1 from Berlin" and posts["c2"].extra["kind"] == "comment"
    assert posts["c1"].url == "https://www.reddit.com/r/sysadmin/comments/meg/slug/c1/"


def test_wrong_secret_is_a_clear_error(fake_api, tmp_path, no_sleep, one_query_catalog):
    FakeReddit(fake_api, slack_items(1))
    settings = reddit_settings({}, client_id=CLIENT_ID, client_secret="wrong",
                               oauth_url=fake_api.url, reddit_url=fake_api.url)
    with PostStore(tmp_path / "s.db") as store:
        driver = Driver(RedditCollector(settings, now=lambda: NOW), store,
                        policy=RetryPolicy(sleep=lambda s: None), now=lambda: NOW)
        with pytest.raises(CollectError, match="refused the credentials") as info:
            driver.collect(one_query_catalog.get("slack"), queries=ONE,
                since=NOW - timedelta(hours=1), until=NOW)
    assert "wrong" not in str(info.value)


def test_missing_credentials_name_the_variables(monkeypatch, tmp_path):
    for name in ("praw_client_id", "praw_client_secret", "REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no praw.ini here
    with pytest.raises(CredentialsError, match="REDDIT_CLIENT_ID"):
        RedditCollector(reddit_settings({}))


def test_script_auth_sends_the_password_grant(fake_api, tmp_path, no_sleep, one_query_catalog):
    FakeReddit(fake_api, slack_items(1))
    with PostStore(tmp_path / "s.db") as store:
        driver = make_driver(fake_api, store)
        driver.collector = make_collector(fake_api, username="mod_bot", password="pw-s3cret")
        driver.collect(one_query_catalog.get("slack"), queries=ONE,
                       since=NOW - timedelta(hours=1), until=NOW)
        assert store.count() == 1
    (token,) = [r for r in fake_api.requests if r.path == "/api/v1/access_token"]
    assert token.form == {"grant_type": "password", "username": "mod_bot", "password": "pw-s3cret"}


def test_praw_ini_is_honoured(fake_api, tmp_path, no_sleep, one_query_catalog, monkeypatch):
    import praw.config

    for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "praw_client_id", "praw_client_secret"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "praw.ini").write_text(
        f"[monitor]\nclient_id = {CLIENT_ID}\nclient_secret = {CLIENT_SECRET}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)  # praw caches the files it read
    FakeReddit(fake_api, slack_items(2))
    settings = reddit_settings({}, site_name="monitor", oauth_url=fake_api.url,
                               reddit_url=fake_api.url)
    with PostStore(tmp_path / "s.db") as store:
        driver = Driver(RedditCollector(settings, now=lambda: NOW), store,
                        policy=RetryPolicy(sleep=lambda s: None), now=lambda: NOW)
        driver.collect(one_query_catalog.get("slack"), queries=ONE,
                       since=NOW - timedelta(hours=1), until=NOW)
        assert store.count() == 2


def test_reddit_rate_limit_headers_pace_the_next_request(fake_api, tmp_path, no_sleep,
                                                         one_query_catalog):
    FakeReddit(fake_api, slack_items(4), page_size=2)
    original = fake_api._dispatch

    def exhausted_after_page_1(req):
        reply = original(req)
        if req.path == "/r/all/search/" and "after" not in req.query:
            reply.headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-used": "100",
                                  "x-ratelimit-reset": "42"})
        return reply

    fake_api._dispatch = exhausted_after_page_1
    with PostStore(tmp_path / "s.db") as store:
        make_driver(fake_api, store).collect(one_query_catalog.get("slack"), queries=ONE,
                                             since=NOW - timedelta(hours=1), until=NOW)
        assert store.count() == 4
    assert any(40 <= s <= 43 for s in no_sleep), no_sleep  # praw waited for the reset
