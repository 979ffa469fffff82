"""The collect, import, export, store and configure commands end to end, against fake APIs on
127.0.0.1, including a collect killed mid-run and resumed."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from outage_signals.cli import main
from outage_signals.storing import PostStore
from tests.fake_reddit import CLIENT_ID, CLIENT_SECRET, FakeReddit, submission
from tests.fake_x import BEARER, FakeX, tweet

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def reddit_env(fake_api, monkeypatch):
    monkeypatch.setenv("REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("OUTAGE_SIGNALS_REDDIT_OAUTH_URL", fake_api.url)
    monkeypatch.setenv("OUTAGE_SIGNALS_REDDIT_URL", fake_api.url)
    return fake_api


def recent_items(n, step_minutes=3, title="Slack down?"):
    now = time.time()
    return [submission(f"r{i:03d}", now - 60 - i * step_minutes * 60, f"{title} #{i}")
            for i in range(n)]


def run(*args, **kw):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False, **kw)
    return result


def kill_collect_at(api, is_the_request, args, env) -> None:
    """Run ``outage-signals ARGS`` in a loopback-only subprocess, hold the request for which
    ``is_the_request(req)`` is true, and SIGKILL the process while it waits for the answer."""
    reached, release = threading.Event(), threading.Event()
    original = api._dispatch

    def stall(req):
        if is_the_request(req) and not release.is_set():
            reached.set()
            release.wait(20)
        return original(req)

    api._dispatch = stall
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "run_cli_loopback_only.py"), *args],
                            env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert reached.wait(60), "the collector never sent the request to stall on"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
        api._dispatch = original


def test_collect_reddit_into_store_and_file(reddit_env, tmp_path, no_sleep):
    FakeReddit(reddit_env, recent_items(12), page_size=5)
    db, out = tmp_path / "posts.db", tmp_path / "slack.jsonl"
    result = run("collect", "reddit", "--service", "slack", "--since", "2h", "--store", str(db),
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "reddit slack:" in result.stderr and "12 new" in result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 12 and {r["source"] for r in lines} == {"reddit"}
    again = run("collect", "reddit", "--service", "slack", "--since", "2h", "--store", str(db))
    assert again.exit_code == 0 and "0 new" in again.stderr
    with PostStore(db) as store:
        assert store.count() == 12
    for text in (result.output, result.stderr, again.stderr, out.read_text(),
                 db.read_bytes().decode("latin-1")):
        assert CLIENT_SECRET not in text


def test_missing_reddit_credentials_is_one_line(monkeypatch, tmp_path):
    for name in ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "praw_client_id", "praw_client_secret"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    result = run("collect", "reddit", "--service", "slack", "--store", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: no Reddit credentials: set REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET (or run "
        "`outage-signals configure reddit`, or put them in praw.ini)"]


def test_missing_x_token_is_one_line(monkeypatch, tmp_path):
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    result = run("collect", "twitter", "--service", "slack", "--store", str(tmp_path / "s.db"))
    assert result.exit_code == 1 and "X_BEARER_TOKEN" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_collect_twitter_with_budget_then_detect_from_store(fake_api, monkeypatch, tmp_path):
    now = datetime.now(UTC)
    FakeX(fake_api, [tweet(5000 + i, now - timedelta(minutes=2 + i), f"is slack down?? {i}",
                           author=100 + i) for i in range(40)], page_size=100)
    monkeypatch.setenv("X_BEARER_TOKEN", BEARER)
    monkeypatch.setenv("OUTAGE_SIGNALS_X_API_URL", fake_api.url)
    db = tmp_path / "posts.db"
    first = run("collect", "twitter", "--service", "slack", "--since", "3h", "--store", str(db),
                "--max-posts", "25")
    assert first.exit_code == 0, first.stderr
    assert "--max-posts budget" in first.stderr
    assert fake_api.requests[0].query["max_results"] == "25"
    second = run("collect", "twitter", "--service", "slack", "--since", "3h", "--store", str(db))
    assert second.exit_code == 0 and "15 new" in second.stderr
    info = run("store", "--store", str(db))
    assert "twitter" in info.stdout and "40" in info.stdout
    exported = run("export", "--store", str(db), "--service", "slack", "-o", "-")
    assert len(exported.stdout.splitlines()) == 40
    detected = run("detect", "--store", str(db), "--service", "slack", "--format", "json")
    assert detected.exit_code == 0, detected.stderr
    assert "read 40 posts from" in detected.stderr
    assert BEARER not in first.stderr + second.stderr + exported.output


def test_configure_writes_a_private_file_the_collectors_read(fake_api, monkeypatch, tmp_path):
    config = tmp_path / "cfg" / "config.toml"
    config.parent.mkdir()
    config.write_text('# my settings\n[services.my-bank]\nname = "My Bank"\ncategory = "finance"\n'
                      'aliases = ["mybank"]\n')
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(config))
    result = run("configure", "twitter", input=f"{BEARER}\n")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert BEARER not in result.output + result.stderr
    text = config.read_text()
    assert text.startswith("# my settings\n[services.my-bank]") and "[twitter]" in text
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.setenv("OUTAGE_SIGNALS_X_API_URL", fake_api.url)
    FakeX(fake_api, [tweet(1, datetime.now(UTC) - timedelta(minutes=5), "mybank down?")])
    collected = run("collect", "twitter", "--service", "my-bank", "--since", "1h", "--store",
                    str(tmp_path / "s.db"))
    assert collected.exit_code == 0, collected.stderr
    assert fake_api.requests[-1].headers["authorization"] == f"Bearer {BEARER}"
    # configure again replaces the table instead of adding a second one
    run("configure", "twitter", input="other-token-value\n")
    assert config.read_text().count("[twitter]") == 1 and BEARER not in config.read_text()


def test_import_twice_changes_nothing_and_exports(tmp_path):
    page = {"data": [{"id": "9", "text": "is chatgpt down", "created_at": "2024-12-26T18:41:07.000Z",
                      "author_id": "1", "edit_history_tweet_ids": ["9"]}],
            "includes": {"users": [{"id": "1", "name": "A", "username": "a"}]}}
    src = tmp_path / "search.jsonl"
    src.write_text(json.dumps(page) + "\n")
    db = tmp_path / "s.db"
    for _ in range(2):
        result = run("import", str(src), "--format", "twarc2", "--store", str(db))
        assert result.exit_code == 0, result.stderr
    assert "0 new" in result.stderr and "1 already stored" in result.stderr
    with PostStore(db) as store:
        assert store.count() == 1
    out = tmp_path / "out.jsonl.gz"
    assert run("export", "--store", str(db), "-o", str(out)).exit_code == 0
    assert "wrote 1 posts" in run("export", "--store", str(db), "-o", str(out)).stderr


def test_killed_mid_collect_then_resumed(reddit_env, tmp_path, no_sleep, monkeypatch):
    """A collect killed with SIGKILL between pages loses nothing and duplicates nothing."""
    fake = FakeReddit(reddit_env, recent_items(40, step_minutes=1), page_size=5)
    db = tmp_path / "posts.db"
    # Only the first search term, so the pages are one pass.
    config = tmp_path / "config.toml"
    config.write_text('[services.slack]\nsearch_terms = ["slack down"]\nsubreddits = []\n'
                      'aliases = ["slack app"]\ncased_aliases = []\n')
    kill_collect_at(reddit_env, lambda req: req.query.get("after") == "t3_r014",
                    ["collect", "reddit", "--service", "slack", "--since", "3h", "--store", str(db)],
                    {"OUTAGE_SIGNALS_CONFIG": str(config)})
    with PostStore(db) as store:
        assert store.count() == 15  # pages 1-3 were committed with their checkpoint
        ((_, _, _query, state),) = [c for c in store.checkpoints() if c[2] == "search:all:slack down"]
        assert state["pending"]["cursor"] == "t3_r014"
    reddit_env.requests.clear()
    monkeypatch.setenv("OUTAGE_SIGNALS_CONFIG", str(config))
    result = run("collect", "reddit", "--service", "slack", "--since", "3h", "--store", str(db))
    assert result.exit_code == 0, result.stderr
    assert "resuming an unfinished pass" in result.stderr
    searches = [r for r in reddit_env.requests if r.path == "/r/all/search/"
                and r.query["q"] == "slack down"]
    assert searches[0].query.get("after") == "t3_r014"
    with PostStore(db) as store:
        ids = [p.id for p in store.posts()]
    assert sorted(ids) == sorted(d["id"] for d in fake.items) and len(ids) == len(set(ids)) == 40


def test_x_collect_killed_mid_run_then_resumed(fake_api, tmp_path, monkeypatch):
    now = datetime.now(UTC)
    FakeX(fake_api, [tweet(7000 + i, now - timedelta(minutes=1 + i), f"slack down {i}")
                     for i in range(30)], page_size=10)
    db = tmp_path / "posts.db"
    kill_collect_at(fake_api, lambda req: req.query.get("next_token") == "tok20",
                    ["collect", "twitter", "--service", "slack", "--since", "2h", "--store", str(db)],
                    {"X_BEARER_TOKEN": BEARER, "OUTAGE_SIGNALS_X_API_URL": fake_api.url})
    with PostStore(db) as store:
        assert store.count() == 20
    fake_api.requests.clear()
    monkeypatch.setenv("X_BEARER_TOKEN", BEARER)
    monkeypatch.setenv("OUTAGE_SIGNALS_X_API_URL", fake_api.url)
    result = run("collect", "twitter", "--service", "slack", "--since", "2h", "--store", str(db))
    assert result.exit_code == 0, result.stderr
    assert fake_api.requests[0].query["next_token"] == "tok20"
    with PostStore(db) as store:
        ids = [p.id for p in store.posts()]
    assert len(ids) == len(set(ids)) == 30
