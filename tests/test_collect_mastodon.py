"""The real Mastodon.py client against fake Mastodon instances on 127.0.0.1: hashtag timelines
paged through the Link header, search with a token, several instances at once, rate limits,
faults, resuming, HTML to text, and the collect command end to end."""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from outage_signals.catalog import load_catalog
from outage_signals.cli import main
from outage_signals.collectors.base import Driver, Query
from outage_signals.collectors.html_text import html_to_text
from outage_signals.collectors.mastodon import MastodonCollector
from outage_signals.collectors.terms import hashtags
from outage_signals.errors import CollectError, ConfigError, RateLimited
from outage_signals.retrying import RetryPolicy
from outage_signals.source_settings import mastodon_settings
from outage_signals.storing import PostStore
from tests.fake_mastodon import TOKEN, FakeMastodon, reblog_of, status
from tests.fakeapi import Drop, FakeAPI, Reply, Slow
from tests.test_collect_cli import kill_collect_at

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOME, OTHER = "mastodon.example", "other.example"
TAG = "/api/v1/timelines/tag/"


@pytest.fixture
def second_api():
    with FakeAPI() as api:
        yield api


def minutes_ago(n):
    return NOW - timedelta(minutes=n)


def toots(n, served_by=HOME, step=3, start=1, first_seq=0):
    return [status(first_seq + i, minutes_ago(start + i * step), f"<p>Is #slack down? {i}</p>",
                   served_by=served_by) for i in range(n)]


def make_collector(*apis, token=TOKEN, timeout=30.0):
    settings = mastodon_settings({"mastodon": {"instances": [a.url for a in apis],
                                               **({"access_token": token} if token else {})}})
    return MastodonCollector(settings, timeout=timeout, now=lambda: NOW)


def make_driver(*apis, store, sleeps=None, logs=None, token=TOKEN, timeout=30.0, **kw):
    policy = RetryPolicy(sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
                         rng=random.Random(0), max_wait=900)
    return Driver(make_collector(*apis, token=token, timeout=timeout), store, policy=policy,
                  now=lambda: NOW, log=logs.append if logs is not None else (lambda m: None), **kw)


def tag_query(api, tag="slack"):
    host = api.url.removeprefix("http://")
    return Query(f"tag:{host}:{tag}", {"instance": api.url, "tag": tag})


def collect(*apis, store, queries=None, since=60, **kw):
    queries = queries if queries is not None else [tag_query(apis[0])]
    return make_driver(*apis, store=store, **kw).collect(
        load_catalog({}).get("slack"), since=minutes_ago(since), until=NOW, queries=queries)


def uris(store):
    return sorted(p.id for p in store.posts())


def timeline_requests(api):
    return [r for r in api.requests if r.path.startswith(TAG)]


def test_hashtag_timeline_pages_through_the_link_header(fake_api, tmp_path):
    data = toots(5)
    data.append(status(20, minutes_ago(4), "<p>Slack&nbsp;down &amp; <b>huddles</b> gone<br>"
                       "since 11:50</p><p>anyone else?</p>", served_by=HOME, user="bob",
                       home=OTHER, origin=777, language="de", spoiler="outage talk"))
    FakeMastodon(fake_api, HOME, data, page_size=2)
    with PostStore(tmp_path / "s.db") as store:
        report = collect(fake_api, store=store)
        posts = {p.id: p for p in store.posts()}
    first, second, *_ = timeline_requests(fake_api)
    assert first.path == "/api/v1/timelines/tag/slack" and "max_id" not in first.query
    ordered = sorted(data, key=lambda s: int(s["id"]), reverse=True)
    assert second.query["max_id"] == ordered[1]["id"], "the next page starts at Link's max_id"
    assert report.counts.inserted == 6 and len(timeline_requests(fake_api)) == 4
    # The probes Mastodon.py needs came first (version for search, hashtag feed access).
    assert [r.path for r in fake_api.requests[:2]] == ["/api/v1/instance/", "/api/v2/instance/"]
    local = posts[f"https://{HOME}/users/alice/statuses/0"]
    assert local.author == f"alice@{HOME}" and local.url == f"https://{HOME}/@alice/0"
    assert local.text == "Is #slack down? 0" and local.lang == "en" and local.source == "mastodon"
    assert local.created_at == minutes_ago(1) and local.service == "slack"
    assert local.meta["query"] == "#slack" and local.meta["instance"] == fake_api.url[7:]
    remote = posts[f"https://{OTHER}/users/bob/statuses/777"]
    assert remote.author == f"bob@{OTHER}" and remote.lang == "de"
    assert remote.text == "outage talk\n\nSlack down & huddles gone\nsince 11:50\n\nanyone else?"


def test_reblogs_are_skipped_even_a_page_of_nothing_else(fake_api, tmp_path):
    originals = toots(3, start=20)
    boosts = [reblog_of(50 + i, minutes_ago(1 + i), originals[i], served_by=HOME) for i in range(3)]
    FakeMastodon(fake_api, HOME, originals + boosts, page_size=2)
    with PostStore(tmp_path / "s.db") as store:
        report = collect(fake_api, store=store)
        assert uris(store) == sorted(s["uri"] for s in originals)
        assert {p.author for p in store.posts()} == {f"alice@{HOME}"}
    # Page 1 held two boosts only: the same fetch read on instead of ending the pass there.
    assert report.requests < len(timeline_requests(fake_api)) and report.fetched == 6


def test_search_needs_a_token_and_pages_by_max_id(fake_api, tmp_path):
    data = [status(i, minutes_ago(1 + 2 * i), f"<p>slack down for {i} min</p>", served_by=HOME,
                   tags=()) for i in range(5)]
    FakeMastodon(fake_api, HOME, data, page_size=2)
    host = fake_api.url[7:]
    query = Query(f"search:{host}:slack down", {"instance": fake_api.url, "q": "slack down"})
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store, queries=[query])
        assert store.count() == 5
    found = [r for r in fake_api.requests if r.path == "/api/v2/search"]
    # No Link header on search: the cursor is each page's smallest id; an empty page ends it.
    assert [r.query.get("max_id") for r in found] == [None, data[1]["id"], data[3]["id"], data[4]["id"]]
    assert found[0].query["type"] == "statuses" and found[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert not fake_api.paths("/api/v1/search"), "never the removed v1 search"
    keys = [q.key for q in make_collector(fake_api).queries(load_catalog({}).get("slack"))]
    assert f"search:{host}:slack down" in keys and f"tag:{host}:slackdown" in keys
    tokenless = make_collector(fake_api, token=None).queries(load_catalog({}).get("slack"))
    assert tokenless and all(q.key.startswith("tag:") for q in tokenless)


def test_several_instances_store_each_post_once(fake_api, second_api, tmp_path):
    home_posts = toots(4)
    # The same two posts, federated to the other instance: new local ids, the same uri.
    copies = [status(100 + i, minutes_ago(1 + 3 * i), f"<p>Is #slack down? {i}</p>",
                     served_by=OTHER, home=HOME, origin=i) for i in (0, 1)]
    theirs = status(200, minutes_ago(9), "<p>#slack down here</p>", served_by=OTHER, user="carol")
    FakeMastodon(fake_api, HOME, home_posts)
    FakeMastodon(second_api, OTHER, [*copies, theirs], token=None)
    queries = [tag_query(fake_api), tag_query(second_api)]
    with PostStore(tmp_path / "s.db") as store:
        report = collect(fake_api, second_api, store=store, queries=queries)
        assert report.counts.inserted == 5 and report.counts.unchanged == 2
        assert f"https://{OTHER}/users/carol/statuses/200" in uris(store)
        assert {p.author for p in store.posts()} == {f"alice@{HOME}", f"carol@{OTHER}"}
        again = collect(fake_api, second_api, store=store, queries=queries, since=120)
        assert again.counts.inserted == 0 and store.count() == 5
    # The token is the home instance's: it is never sent to the other one.
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake_api.requests)
    assert not any("authorization" in r.headers for r in second_api.requests)


def test_429_waits_until_the_ratelimit_reset(fake_api, tmp_path):
    fake = FakeMastodon(fake_api, HOME, toots(3))
    fake_api.fail(TAG, Reply(429, {"error": "Too many requests"}, fake.rate_headers(0, reset_in=30)))
    sleeps: list[float] = []
    logs: list[str] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store, sleeps=sleeps, logs=logs)
        assert store.count() == 3
    assert len(sleeps) == 1 and 28 <= sleeps[0] <= 32
    assert any(f"rate limited by Mastodon {fake_api.url[7:]} (429)" in line for line in logs)


def test_a_spent_budget_waits_before_the_next_request(fake_api, tmp_path):
    FakeMastodon(fake_api, HOME, toots(3), page_size=2, remaining=0)
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store, sleeps=sleeps)
        assert store.count() == 3
    # Each answer said 0 left until +300 s: the probe's made page 1 wait, page 1's made page 2.
    assert len(sleeps) == 2 and all(290 <= s <= 302 for s in sleeps)


def test_a_long_rate_limit_stops_and_the_next_run_resumes(fake_api, tmp_path):
    data = toots(6)
    fake = FakeMastodon(fake_api, HOME, data, page_size=2)
    original = fake_api._dispatch
    limited = []

    def second_page_limited(req):
        if req.path.startswith(TAG) and "max_id" in req.query and not limited:
            limited.append(req.query["max_id"])
            return Reply(429, {"error": "Too many requests"}, fake.rate_headers(0, reset_in=3600))
        return original(req)

    fake_api._dispatch = second_page_limited
    with PostStore(tmp_path / "s.db") as store:
        with pytest.raises(RateLimited, match="run again later to resume"):
            collect(fake_api, store=store)
        assert store.count() == 2
        fake_api.requests.clear()
        collect(fake_api, store=store)
        assert uris(store) == sorted(s["uri"] for s in data)
    assert timeline_requests(fake_api)[0].query["max_id"] == limited[0], "resumed at the cursor"


@pytest.mark.parametrize("fault", [Reply(500, {"error": "oops"}), Reply(502, "<html>bad gateway"),
                                   Reply(503, {"error": "busy"}), Drop(), '[{"id": '],
                         ids=["500", "502", "503", "dropped", "malformed"])
def test_transient_failures_are_retried(fake_api, tmp_path, fault):
    FakeMastodon(fake_api, HOME, toots(5), page_size=2)
    fake_api.fail(TAG, fault, fault)
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store, sleeps=sleeps)
        assert store.count() == 5
    assert len(sleeps) == 2


def test_a_failing_version_probe_is_retried(fake_api, tmp_path):
    FakeMastodon(fake_api, HOME, toots(2))
    fake_api.fail("/api/v1/instance/", Reply(503, {"error": "busy"}))
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store, sleeps=sleeps)
        assert store.count() == 2
    assert len(sleeps) == 1 and len(fake_api.paths("/api/v1/instance/")) == 2


def test_a_server_slower_than_the_timeout_is_retried(fake_api, tmp_path):
    FakeMastodon(fake_api, HOME, toots(3))
    fake_api.fail(TAG, Slow(1.0))
    sleeps: list[float] = []
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store, sleeps=sleeps, timeout=0.3)
        assert store.count() == 3
    assert len(sleeps) == 1 and len(timeline_requests(fake_api)) == 2


def test_a_server_that_is_not_mastodon_is_one_clear_error(fake_api, tmp_path):
    with PostStore(tmp_path / "s.db") as store, pytest.raises(CollectError) as caught:
        collect(fake_api, store=store)
    assert str(caught.value).endswith(
        f"{fake_api.url} is not a Mastodon server (GET /api/v1/instance/ answered 404): check "
        "--instance / MASTODON_INSTANCES")
    assert len(fake_api.requests) == 1, "not retried"


def test_a_refused_token_is_clear_and_not_printed(fake_api, tmp_path):
    FakeMastodon(fake_api, HOME, toots(2), token="the-real-token")
    with PostStore(tmp_path / "s.db") as store, pytest.raises(CollectError) as caught:
        collect(fake_api, store=store)
    assert "refused the access token" in str(caught.value) and "MASTODON_ACCESS_TOKEN" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_hashtag_feeds_closed_to_anonymous_users_are_skipped_with_a_note(fake_api, second_api,
                                                                         tmp_path):
    FakeMastodon(fake_api, HOME, toots(2), hashtag_feeds="authenticated", token=None)
    FakeMastodon(second_api, OTHER, toots(3, served_by=OTHER), token=None)
    with PostStore(tmp_path / "s.db") as store:
        report = collect(fake_api, second_api, store=store, token=None,
                         queries=[tag_query(fake_api), tag_query(second_api)])
        assert store.count() == 3
    (note,) = report.notes
    assert note.startswith(f"tag:{fake_api.url[7:]}:slack: skipped") and "not public" in note
    assert not timeline_requests(fake_api), "no request the instance would refuse"


def test_instances_come_from_options_environment_and_config(monkeypatch):
    monkeypatch.delenv("MASTODON_INSTANCES", raising=False)
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN", raising=False)
    assert [i.url for i in mastodon_settings({}).instances] == ["https://mastodon.social"]
    config = {"mastodon": {"instances": ["hachyderm.io", "http://127.0.0.1:9/"],
                           "access_token": "tok-from-file"}}
    chosen = mastodon_settings(config).instances
    assert [(i.url, str(i.access_token or "")) for i in chosen] == [
        ("https://hachyderm.io", "tok-from-file"), ("http://127.0.0.1:9", "")]
    monkeypatch.setenv("MASTODON_INSTANCES", "fosstodon.org, hachyderm.io")
    assert [i.host for i in mastodon_settings(config).instances] == ["fosstodon.org", "hachyderm.io"]
    # --instance picks what to read; the token still goes to its home (fosstodon.org) only.
    picked = mastodon_settings(config, instances=["hachyderm.io", "fosstodon.org"]).instances
    assert [i.access_token is not None for i in picked] == [False, True]
    assert "tok-from-file" not in repr(picked)
    for bad in ("alice@mastodon.social", "ftp://mastodon.social", "mastodon social!", "https://"):
        with pytest.raises(ConfigError, match="Mastodon instance"):
            mastodon_settings({}, instances=[bad])


def test_hashtags_and_html_to_text(catalog):
    assert hashtags(catalog.get("slack")) == ["slack", "slackdown"]
    assert html_to_text('<p>a &lt;b&gt; &#39;c&#39;</p><p>d<br />e</p>') == "a <b> 'c'\n\nd\ne"
    link = ('<p><a href="https://status.example/x" rel="nofollow"><span class="invisible">https://'
            '</span><span class="ellipsis">status.example/</span><span class="invisible">x</span></a>'
            ' <a class="mention hashtag" href="#">#<span>Slack</span></a></p>')
    assert html_to_text(link) == "https://status.example/x #Slack"
    assert html_to_text("") == "" and html_to_text(None) == ""


def test_same_window_twice_changes_nothing(fake_api, tmp_path):
    FakeMastodon(fake_api, HOME, toots(7), page_size=3)
    with PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store)
        rows = list(store._db.execute("SELECT * FROM posts ORDER BY id"))
        sent = len(fake_api.requests)
        report = collect(fake_api, store=store)
        assert list(store._db.execute("SELECT * FROM posts ORDER BY id")) == rows
    assert len(rows) == 7 and report.requests == 0 and len(fake_api.requests) == sent


def test_the_token_is_never_logged_or_stored(fake_api, tmp_path, caplog):
    FakeMastodon(fake_api, HOME, toots(3))
    host = fake_api.url[7:]
    queries = [tag_query(fake_api),
               Query(f"search:{host}:slack down", {"instance": fake_api.url, "q": "slack down"})]
    with caplog.at_level(logging.DEBUG), PostStore(tmp_path / "s.db") as store:
        collect(fake_api, store=store, queries=queries)
    assert "GET /api/v2/search" in caplog.text  # urllib3's request log was captured
    assert TOKEN not in caplog.text
    assert TOKEN not in (tmp_path / "s.db").read_bytes().decode("latin-1")


# -- the command -------------------------------------------------------------------------------


def run(*args, **kw):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kw)


def recent(n, served_by, step_minutes=2, first_seq=0, **kw):
    now = datetime.now(UTC)
    return [status(first_seq + i, now - timedelta(minutes=1 + i * step_minutes),
                   f"<p>is #slack down? {i}</p>", served_by=served_by, **kw) for i in range(n)]


@pytest.fixture
def two_instances(fake_api, second_api, monkeypatch):
    monkeypatch.setenv("MASTODON_INSTANCES", f"{fake_api.url},{second_api.url}")
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
    return fake_api, second_api


def test_collect_mastodon_from_two_instances(two_instances, tmp_path):
    home, other = two_instances
    FakeMastodon(home, HOME, recent(6, HOME), page_size=4)
    FakeMastodon(other, OTHER, recent(2, OTHER, home=HOME) + recent(3, OTHER, first_seq=10,
                                                                      user="dave"), token=None)
    db, out = tmp_path / "posts.db", tmp_path / "slack.jsonl"
    first = run("collect", "mastodon", "--service", "slack", "--since", "1h", "--store", str(db),
                "-o", str(out))
    assert first.exit_code == 0, first.stderr
    assert "mastodon slack:" in first.stderr and "9 new" in first.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 9 and {r["author"] for r in lines} == {f"alice@{HOME}", f"dave@{OTHER}"}
    again = run("collect", "mastodon", "--service", "slack", "--since", "1h", "--store", str(db))
    assert again.exit_code == 0 and "0 new" in again.stderr
    only_other = run("collect", "mastodon", "--service", "slack", "--since", "1h", "--store",
                     str(db), "--instance", other.url)
    assert only_other.exit_code == 0 and "0 new" in only_other.stderr
    for text in (first.output, first.stderr, again.stderr, out.read_text(),
                 db.read_bytes().decode("latin-1")):
        assert TOKEN not in text


def test_bad_instance_is_one_line(tmp_path):
    result = run("collect", "mastodon", "--service", "slack", "--instance", "alice@mastodon.social",
                 "--store", str(tmp_path / "s.db"))
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "give the server (e.g. mastodon.social), not an account" in result.stderr


def test_configure_mastodon_then_collect(fake_api, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(config))
    for name in ("MASTODON_INSTANCES", "MASTODON_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    bad = run("configure", "mastodon", input="not a host!\n\n")
    assert bad.exit_code == 1 and not config.exists()
    result = run("configure", "mastodon", input=f"{fake_api.url}\n{TOKEN}\n")
    assert result.exit_code == 0, result.stderr
    assert TOKEN not in result.output + result.stderr and "[mastodon]" in config.read_text()
    FakeMastodon(fake_api, HOME, recent(2, HOME))
    collected = run("collect", "mastodon", "--service", "slack", "--since", "1h", "--store",
                    str(tmp_path / "s.db"))
    assert collected.exit_code == 0, collected.stderr
    assert fake_api.paths("/api/v2/search") and "2 new" in collected.stderr
    assert fake_api.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_mastodon_collect_killed_mid_run_then_resumed(fake_api, tmp_path, monkeypatch):
    data = recent(30, HOME, step_minutes=1)
    FakeMastodon(fake_api, HOME, data, page_size=10)
    ordered = sorted(data, key=lambda s: int(s["id"]), reverse=True)
    stall_at = ordered[19]["id"]  # the third page starts after the 20th status
    db = tmp_path / "posts.db"
    env = {"MASTODON_INSTANCES": fake_api.url}
    kill_collect_at(fake_api, lambda req: req.query.get("max_id") == stall_at,
                    ["collect", "mastodon", "--service", "slack", "--since", "2h", "--store",
                     str(db)], env)
    with PostStore(db) as store:
        assert store.count() == 20
    fake_api.requests.clear()
    monkeypatch.setenv("MASTODON_INSTANCES", fake_api.url)
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN", raising=False)
    result = run("collect", "mastodon", "--service", "slack", "--since", "2h", "--store", str(db))
    assert result.exit_code == 0, result.stderr
    assert "resuming an unfinished pass" in result.stderr
    assert timeline_requests(fake_api)[0].query["max_id"] == stall_at
    with PostStore(db) as store:
        stored = [p.id for p in store.posts()]
    assert sorted(stored) == sorted(s["uri"] for s in data) and len(set(stored)) == 30


def test_a_dead_instance_does_not_cost_the_others_their_posts(fake_api, second_api, tmp_path):
    FakeMastodon(fake_api, HOME, toots(3))
    FakeMastodon(second_api, OTHER, toots(4, served_by=OTHER, first_seq=50), token=None)
    fake_api.fail(TAG, *[Reply(503)] * 50)  # the home instance's timeline is down all run
    queries = [tag_query(fake_api), tag_query(second_api)]
    logs: list[str] = []
    with PostStore(tmp_path / "s.db") as store:
        with pytest.raises(CollectError) as caught:
            collect(fake_api, second_api, store=store, queries=queries, logs=logs)
        host = fake_api.url.removeprefix("http://")
        assert str(caught.value).startswith(f"1 of 2 mastodon servers failed ({host}): ")
        assert "the others were collected and saved" in str(caught.value)
        assert store.count() == 4  # the other instance's posts are in
        assert any("gave up, going on with the others" in line for line in logs)
        # Back up: the next run reads the home instance and stores everything once.
        fake_api.faults.clear()
        collect(fake_api, second_api, store=store, queries=queries)
        assert store.count() == 7
