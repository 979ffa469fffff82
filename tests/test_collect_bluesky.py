"""The real atproto Client against a fake Bluesky PDS on 127.0.0.1: login and session reuse,
cursor paging, rate limits, faults, resuming, and the collect command end to end."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import stat
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from outage_signals.cli import main
from outage_signals.collectors.base import Driver, Query
from outage_signals.collectors.bluesky import BlueskyCollector
from outage_signals.errors import CollectError, ConfigError, CredentialsError, RateLimited
from outage_signals.retrying import RetryPolicy
from outage_signals.source_settings import bluesky_settings
from outage_signals.storing import PostStore
from tests.fake_bluesky import APP_PASSWORD, HANDLE, FakeBluesky, iso, post_view
from tests.fakeapi import Drop, FakeAPI, Reply, Slow
from tests.test_collect_cli import kill_collect_at

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
#: One search term, so request counts are easy to read (the full query list is tested on its own).
ONE = [Query("search:slack down", {"q": "slack down", "lang": None})]


def settings_for(api, tmp_path, **overrides):
    settings = bluesky_settings({}, handle=HANDLE, app_password=APP_PASSWORD, service_url=api.url,
                                **overrides)
    return dataclasses.replace(settings, session_file=tmp_path / "bluesky-session.json")


def make_driver(api, store, tmp_path, sleeps=None, languages=(), timeout=30.0, logs=None, **kw):
    collector = BlueskyCollector(settings_for(api, tmp_path), languages=languages, timeout=timeout,
                                 now=lambda: NOW)
    policy = RetryPolicy(sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
                         rng=random.Random(0), max_wait=900)
    return Driver(collector, store, policy=policy, now=lambda: NOW,
                  log=logs.append if logs is not None else (lambda m: None), **kw)


def minutes_ago(n):
    return NOW - timedelta(minutes=n)


def views(n, step=3, start=1, text="slack down again? #{i}"):
    return [post_view(i, minutes_ago(start + i * step), text.format(i=i)) for i in range(n)]


def collect(api, store, tmp_path, queries=ONE, since=60, **kw):
    return make_driver(api, store, tmp_path, **kw).collect(
        _slack(), since=minutes_ago(since), until=NOW, queries=queries)


def _slack():
    from outage_signals.catalog import load_catalog

    return load_catalog({}).get("slack")


def ids(store):
    return sorted(p.id for p in store.posts())


def searches(api):
    return [r for r in api.requests if r.path == SEARCH]


def test_logs_in_pages_with_the_cursor_and_converts_posts(fake_api, tmp_path):
    data = views(7)
    data.append(post_view(50, minutes_ago(5), "Slack down, huddles broken", handle="handle.invalid",
                          langs=[]))
    # createdAt from a clock set in the future: placed at indexedAt, as search's sortAt does.
    data.append(post_view(51, NOW + timedelta(days=3), "slack down here too",
                          indexed=minutes_ago(6), langs=["pt", "en"]))
    data.append(post_view(52, minutes_ago(7), "slack down (no zone)", created_raw="2025-06-01T11:53:00"))
    fake = FakeBluesky(fake_api, data, page_size=4)
    with PostStore(tmp_path / "s.db") as store:
        report = collect(fake_api, store, tmp_path)
        posts = {p.id: p for p in store.posts()}
    assert fake.logins == 1 and report.requests == 3 and report.counts.inserted == 10
    first, second, third = searches(fake_api)
    assert first.query == {"q": "slack down", "sort": "latest", "since": "2025-06-01T11:00:00Z",
                           "until": "2025-06-01T12:00:00Z", "limit": "100"}
    assert second.query["cursor"] == "o4" and third.query["cursor"] == "o8"
    assert first.headers["authorization"].startswith("Bearer ey")
    one = posts[data[0]["uri"]]
    did, rkey = data[0]["uri"].removeprefix("at://").split("/app.bsky.feed.post/")
    assert one.source == "bluesky" and one.service == "slack" and one.author == "alice.bsky.social"
    assert one.url == f"https://bsky.app/profile/{did}/post/{rkey}"
    assert one.lang == "en" and one.text == "slack down again? #0" and one.created_at == minutes_ago(1)
    assert one.meta["collector"] == "bluesky" and one.meta["query"] == "slack down"
    assert posts[data[7]["uri"]].author == data[7]["author"]["did"] and posts[data[7]["uri"]].lang is None
    assert posts[data[8]["uri"]].created_at == minutes_ago(6) and posts[data[8]["uri"]].lang == "pt"
    assert posts[data[9]["uri"]].created_at == minutes_ago(7)


def test_queries_are_the_search_terms_times_the_languages(fake_api, tmp_path):
    FakeBluesky(fake_api, [post_view(1, minutes_ago(2), "slack down", langs=["ja"])])
    collector = BlueskyCollector(settings_for(fake_api, tmp_path), languages=("en", "ja"))
    queries = collector.queries(_slack())
    assert [q.key for q in queries[:2]] == ["search:slack down lang:en", "search:slack down lang:ja"]
    assert len(queries) == 2 * len(_slack().search_terms)
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path, queries=queries[:2], languages=("en", "ja"))
        assert store.count() == 1
    assert [r.query["lang"] for r in searches(fake_api)] == ["en", "ja"]
    with pytest.raises(ConfigError, match="BCP-47"):
        BlueskyCollector(settings_for(fake_api, tmp_path), languages=("english please",))


def test_429_waits_for_the_ratelimit_reset(fake_api, tmp_path):
    fake = FakeBluesky(fake_api, views(3))
    fake_api.fail(SEARCH, Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                                fake.rate_headers(0, reset_in=30)))
    sleeps: list[float] = []
    logs: list[str] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path, sleeps=sleeps, logs=logs)
        assert store.count() == 3
    assert len(sleeps) == 1 and 28 <= sleeps[0] <= 32
    assert any("rate limited by Bluesky (429)" in line for line in logs)


def test_a_spent_budget_waits_before_the_next_request(fake_api, tmp_path):
    FakeBluesky(fake_api, views(6), page_size=3, remaining=0)
    sleeps: list[float] = []
    logs: list[str] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path, sleeps=sleeps, logs=logs)
        assert store.count() == 6
    # Each page announced 0 left: the second page waited for the reset (about 300 s).
    assert len(searches(fake_api)) == 2 and len(sleeps) == 1 and 290 <= sleeps[0] <= 302
    assert any("ratelimit-remaining 0" in line for line in logs)


def test_a_long_rate_limit_stops_and_the_next_run_resumes(fake_api, tmp_path):
    fake = FakeBluesky(fake_api, views(9), page_size=3)
    original = fake_api._dispatch

    def second_page_limited(req):
        if req.query.get("cursor") == "o3" and not getattr(second_page_limited, "done", False):
            second_page_limited.done = True
            return Reply(429, {"error": "RateLimitExceeded"}, fake.rate_headers(0, reset_in=3600))
        return original(req)

    fake_api._dispatch = second_page_limited
    with PostStore(tmp_path / "s.db") as store:
        with pytest.raises(RateLimited, match="run again later to resume"):
            collect(fake_api, store, tmp_path)
        assert store.count() == 3
        fake_api.requests.clear()
        collect(fake_api, store, tmp_path)
        assert ids(store) == sorted(v["uri"] for v in fake.posts)
    assert searches(fake_api)[0].query["cursor"] == "o3", "resumed from the saved cursor"
    assert fake.logins == 1, "the second run reused the saved session"


@pytest.mark.parametrize("fault", [Reply(500, {"error": "InternalServerError"}), Reply(502, "bad gateway"),
                                   Reply(503, {"error": "Unavailable"}), Drop(), '{"posts": ['],
                         ids=["500", "502", "503", "dropped", "malformed"])
def test_transient_failures_are_retried(fake_api, tmp_path, fault):
    FakeBluesky(fake_api, views(5), page_size=2)
    fake_api.fail(SEARCH, fault, fault)
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path, sleeps=sleeps)
        assert store.count() == 5
    assert len(sleeps) == 2 and len(searches(fake_api)) == 5


def test_a_server_slower_than_the_timeout_is_retried(fake_api, tmp_path):
    FakeBluesky(fake_api, views(3))
    fake_api.fail(SEARCH, Slow(1.0))
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path, sleeps=sleeps, timeout=0.3)
        assert store.count() == 3
    assert len(sleeps) == 1 and len(searches(fake_api)) == 2


def test_a_5xx_at_login_is_retried(fake_api, tmp_path):
    fake = FakeBluesky(fake_api, views(2))
    fake_api.fail("/xrpc/com.atproto.server.createSession", Reply(503, {"error": "Unavailable"}))
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path)
        assert store.count() == 2
    # The fault replaced the first answer (the fake had issued tokens the client never saw).
    assert len(fake_api.paths("/xrpc/com.atproto.server.createSession")) == fake.logins == 2


def test_a_refused_login_is_one_clear_error_without_retries(fake_api, tmp_path):
    FakeBluesky(fake_api, views(2))
    settings = bluesky_settings({}, handle=HANDLE, app_password="wrong-app-password",
                                service_url=fake_api.url)
    with PostStore(tmp_path / "s.db") as store, pytest.raises(CollectError) as caught:
        Driver(BlueskyCollector(settings), store, policy=RetryPolicy(sleep=lambda s: None),
               now=lambda: NOW).collect(_slack(), since=minutes_ago(60), until=NOW, queries=ONE)
    message = str(caught.value)
    assert f"Bluesky refused the login for {HANDLE}" in message and "BLUESKY_APP_PASSWORD" in message
    assert "Invalid identifier or password" in message and "wrong-app-password" not in message
    assert len(fake_api.requests) == 1


def test_a_server_that_is_not_atproto_is_named(fake_api, tmp_path):
    with PostStore(tmp_path / "s.db") as store, pytest.raises(CollectError, match="atproto server"):
        collect(fake_api, store, tmp_path)


def test_missing_credentials_name_the_variables(monkeypatch):
    monkeypatch.delenv("BLUESKY_HANDLE", raising=False)
    monkeypatch.delenv("BLUESKY_APP_PASSWORD", raising=False)
    with pytest.raises(CredentialsError, match="BLUESKY_HANDLE and BLUESKY_APP_PASSWORD"):
        bluesky_settings({})
    with pytest.raises(ConfigError, match="OUTAGE_SIGNALS_BLUESKY_URL"):
        bluesky_settings({}, handle=HANDLE, app_password=APP_PASSWORD, service_url="bsky.social")


def test_the_session_is_saved_privately_and_reused(fake_api, tmp_path):
    fake = FakeBluesky(fake_api, views(2))
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path)
        saved = tmp_path / "bluesky-session.json"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert APP_PASSWORD not in saved.read_text()
        collect(fake_api, store, tmp_path, since=120)  # a new client, as on the next run
    assert fake.logins == 1 and len(searches(fake_api)) == 2
    # Neither login nor the saved session fetches the profile (fetch_bsky_profile=False).
    assert {r.path for r in fake_api.requests} == {"/xrpc/com.atproto.server.createSession", SEARCH}
    assert json.loads(saved.read_text())["handle"] == HANDLE


def test_an_expiring_session_is_refreshed_and_saved(fake_api, tmp_path):
    # Tokens valid 60 s: the SDK refreshes those expiring within 15 minutes before each call.
    fake = FakeBluesky(fake_api, views(4), page_size=2, access_ttl=60)
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path)
        assert store.count() == 4
    assert fake.logins == 1 and fake.refreshes == 2
    saved = json.loads((tmp_path / "bluesky-session.json").read_text())["session"]
    assert saved.split(":::")[2] in fake.access_tokens, "the refreshed session was saved"


def test_a_revoked_saved_session_falls_back_to_a_login(fake_api, tmp_path):
    fake = FakeBluesky(fake_api, views(2))
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path)
        fake.revoke_all()
        collect(fake_api, store, tmp_path, since=120)
        assert store.count() == 2
    assert fake.logins == 2


def test_a_session_revoked_during_a_run_is_replaced_by_one_login(fake_api, tmp_path):
    fake = FakeBluesky(fake_api, views(6), page_size=2)
    revoked = []

    def revoke_before_page_3(req):
        if req.query.get("cursor") == "o4" and not revoked:
            revoked.append(req)
            fake.revoke_all()

    fake_api.on_request = revoke_before_page_3
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path)
        assert store.count() == 6
    assert fake.logins == 2 and [r.query.get("cursor") for r in searches(fake_api)] == [
        None, "o2", "o4", "o4"]


def test_a_search_refused_right_after_login_is_final(fake_api, tmp_path):
    fake = FakeBluesky(fake_api, views(2))
    fake_api.fail(SEARCH, Reply(401, {"error": "AuthenticationRequired", "message": "Bad token scope"}))
    with PostStore(tmp_path / "s.db") as store, pytest.raises(CollectError) as caught:
        collect(fake_api, store, tmp_path)
    assert "Bluesky refused the search (AuthenticationRequired: Bad token scope)" in str(caught.value)
    assert fake.logins == 1 and len(searches(fake_api)) == 1


def test_the_client_follows_the_session_to_the_accounts_pds(fake_api, tmp_path):
    with FakeAPI() as pds_api:
        entryway = FakeBluesky(fake_api, pds_url=pds_api.url)
        pds = FakeBluesky(pds_api, views(3), access_tokens=entryway.access_tokens,
                          refresh_tokens=entryway.refresh_tokens)
        with PostStore(tmp_path / "s.db") as store:
            collect(fake_api, store, tmp_path)
            assert store.count() == 3 and not searches(fake_api) and len(searches(pds_api)) == 1
            saved = json.loads((tmp_path / "bluesky-session.json").read_text())
            assert saved["service_url"] == fake_api.url and saved["session"].endswith(pds_api.url)
            # The next run goes straight to the PDS; once its session is revoked, it logs in
            # again at the configured entryway, never at the PDS.
            entryway.revoke_all()
            collect(fake_api, store, tmp_path, since=120)
        assert entryway.logins == 2 and pds.logins == 0 and not searches(fake_api)
        assert len(searches(pds_api)) == 3


def test_an_expired_cursor_restarts_the_pass(fake_api, tmp_path):
    FakeBluesky(fake_api, views(4), page_size=2)
    with PostStore(tmp_path / "s.db") as store:
        store.set_checkpoint("bluesky", "slack", ONE[0].key, {"pending": {
            "window": [iso(minutes_ago(60)), iso(NOW)], "cursor": "expired-cursor"}})
        collect(fake_api, store, tmp_path)
        assert store.count() == 4


def test_max_posts_budget_stops_and_continues(fake_api, tmp_path):
    FakeBluesky(fake_api, views(12))
    with PostStore(tmp_path / "s.db") as store:
        report = collect(fake_api, store, tmp_path, max_posts=5)
        assert report.incomplete and store.count() == 5
        assert [r.query["limit"] for r in searches(fake_api)] == ["5"]
        collect(fake_api, store, tmp_path, max_posts=100)
        assert store.count() == 12


def test_same_window_twice_changes_nothing(fake_api, tmp_path):
    FakeBluesky(fake_api, views(8), page_size=3)
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path)
        rows = list(store._db.execute("SELECT * FROM posts ORDER BY id"))
        sent = len(fake_api.requests)
        report = collect(fake_api, store, tmp_path)
        assert list(store._db.execute("SELECT * FROM posts ORDER BY id")) == rows
    assert len(rows) == 8 and report.requests == 0 and len(fake_api.requests) == sent


def test_secrets_are_never_logged_or_stored(fake_api, tmp_path, caplog):
    fake = FakeBluesky(fake_api, views(3), page_size=2, access_ttl=60)
    with caplog.at_level(logging.DEBUG), PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store, tmp_path)
    assert "HTTP Request: GET" in caplog.text  # httpx's request log was captured
    tokens = fake.access_tokens | fake.refresh_tokens
    assert tokens and not any(t in caplog.text for t in tokens)
    stored = (tmp_path / "s.db").read_bytes().decode("latin-1")
    assert APP_PASSWORD not in caplog.text + stored and not any(t in stored for t in tokens)


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def bluesky_env(fake_api, monkeypatch):
    monkeypatch.setenv("BLUESKY_HANDLE", HANDLE)
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", APP_PASSWORD)
    monkeypatch.setenv("OUTAGE_SIGNALS_BLUESKY_URL", fake_api.url)
    return fake_api


def run(*args, **kw):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kw)


def recent_views(n, step_minutes=2):
    now = datetime.now(UTC)
    return [post_view(i, now - timedelta(minutes=1 + i * step_minutes), f"slack down? {i}")
            for i in range(n)]


def one_term_config(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[services.slack]\nsearch_terms = ["slack down"]\n')
    return config


def test_collect_bluesky_into_store_and_file(bluesky_env, tmp_path, monkeypatch):
    FakeBluesky(bluesky_env, recent_views(9), page_size=4)
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(one_term_config(tmp_path)))
    db, out = tmp_path / "posts.db", tmp_path / "slack.jsonl"
    first = run("collect", "bluesky", "--service", "slack", "--since", "1h", "--store", str(db),
                "-o", str(out))
    assert first.exit_code == 0, first.stderr
    assert "bluesky slack: 3 requests, 9 posts in the window (9 new" in first.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 9 and {r["source"] for r in lines} == {"bluesky"}
    assert all(r["url"].startswith("https://bsky.app/profile/did:plc:") for r in lines)
    again = run("collect", "bluesky", "--service", "slack", "--since", "1h", "--store", str(db))
    assert again.exit_code == 0 and "0 new" in again.stderr
    with PostStore(db) as store:
        assert store.count() == 9
    for text in (first.output, first.stderr, again.stderr, out.read_text(),
                 db.read_bytes().decode("latin-1")):
        assert APP_PASSWORD not in text


def test_missing_bluesky_login_is_one_line(monkeypatch, tmp_path):
    monkeypatch.delenv("BLUESKY_HANDLE", raising=False)
    monkeypatch.delenv("BLUESKY_APP_PASSWORD", raising=False)
    result = run("collect", "bluesky", "--service", "slack", "--store", str(tmp_path / "s.db"))
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD" in result.stderr


def test_refused_bluesky_login_is_one_line(bluesky_env, tmp_path, monkeypatch):
    FakeBluesky(bluesky_env, recent_views(2))
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "not-the-app-password")
    result = run("collect", "bluesky", "--service", "slack", "--store", str(tmp_path / "s.db"),
                 "-q")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith("Error: bluesky search:slack down page 1: ")
    assert "refused the login" in errors[0] and errors[0] == result.stderr.strip().splitlines()[-1]
    assert "not-the-app-password" not in result.output + result.stderr


def test_bad_language_is_one_line(bluesky_env, tmp_path):
    result = run("collect", "bluesky", "--service", "slack", "--lang", "en_US!",
                 "--store", str(tmp_path / "s.db"))
    assert result.exit_code == 1 and "BCP-47" in result.stderr


def test_configure_bluesky_then_collect(fake_api, monkeypatch, tmp_path):
    config = one_term_config(tmp_path)
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(config))
    for name in ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    result = run("configure", "bluesky", input=f"@{HANDLE}\n{APP_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert APP_PASSWORD not in result.output + result.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600 and "[bluesky]" in config.read_text()
    monkeypatch.setenv("OUTAGE_SIGNALS_BLUESKY_URL", fake_api.url)
    fake = FakeBluesky(fake_api, recent_views(2))
    collected = run("collect", "bluesky", "--service", "slack", "--since", "1h", "--store",
                    str(tmp_path / "s.db"))
    assert collected.exit_code == 0, collected.stderr
    assert fake.logins == 1 and "2 new" in collected.stderr


def test_bluesky_collect_killed_mid_run_then_resumed(bluesky_env, tmp_path, monkeypatch):
    fake = FakeBluesky(bluesky_env, recent_views(30, step_minutes=1), page_size=10)
    config = one_term_config(tmp_path)
    db = tmp_path / "posts.db"
    kill_collect_at(bluesky_env, lambda req: req.query.get("cursor") == "o20",
                    ["collect", "bluesky", "--service", "slack", "--since", "2h", "--store", str(db)],
                    {"OUTAGE_SIGNALS_CONFIG": str(config)})
    with PostStore(db) as store:
        assert store.count() == 20
        (state,) = [s for _, _, query, s in store.checkpoints() if query == "search:slack down"]
        assert state["pending"]["cursor"] == "o20"
    bluesky_env.requests.clear()
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(config))
    result = run("collect", "bluesky", "--service", "slack", "--since", "2h", "--store", str(db))
    assert result.exit_code == 0, result.stderr
    assert "resuming an unfinished pass" in result.stderr
    assert searches(bluesky_env)[0].query["cursor"] == "o20"
    assert fake.logins == 1, "the killed run's saved session was reused"
    with PostStore(db) as store:
        stored = [p.id for p in store.posts()]
    assert sorted(stored) == sorted(v["uri"] for v in fake.posts) and len(set(stored)) == 30


def test_help_has_examples():
    for source in ("bluesky", "mastodon"):
        result = run("collect", source, "--help")
        assert result.exit_code == 0 and "Examples:" in result.output
        assert f"outage-signals collect {source} --service" in result.output
