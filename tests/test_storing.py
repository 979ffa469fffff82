"""The SQLite post store: upserts, windows, services, checkpoints, migrations, bad files."""

from __future__ import annotations

import socket
import sqlite3
from datetime import timedelta

import pandas as pd
import pytest

from outage_signals.errors import InputError
from outage_signals.exporting import write_parquet
from outage_signals.records import post_from_dict
from outage_signals.storing import SCHEMA_VERSION, PostStore, default_store_path
from tests.conftest import record, utc


def post(i, **fields):
    return post_from_dict(record(i, **fields))


def test_upsert_counts_and_content_changes(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        first = store.save([post(1), post(2)])
        assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
        # A new _meta (a second fetch) is not a change; an edited text is.
        again = store.save([post(1, _meta={"retrieved_at": "later"}), post(2, text="edited")])
        assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
        texts = {p.id: p.text for p in store.posts()}
        assert texts == {"1": "is chatgpt down?", "2": "edited"}
        assert store.count() == 2


def test_window_and_order_are_utc_microseconds(tmp_path):
    times = ["2024-12-26T18:41:07Z", "2024-12-26T18:41:07.500Z", "2024-12-26T20:41:06+02:00"]
    with PostStore(tmp_path / "s.db") as store:
        store.save([post(i, created_at=t) for i, t in enumerate(times)])
        ordered = [p.id for p in store.posts()]
        assert ordered == ["2", "0", "1"]  # 18:41:06Z, 18:41:07Z, 18:41:07.5Z
        since = utc(2024, 12, 26, 18, 41, 7)
        assert [p.id for p in store.posts(since=since)] == ["0", "1"]
        assert [p.id for p in store.posts(until=since)] == ["2"]


def test_services_filter_and_posts_found_for_two_services(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        store.save([post(1, service="slack", text="Discord down so I'm on Slack"),
                    post(2, service="slack")])
        store.save([post(1, service="discord", text="Discord down so I'm on Slack")])
        assert [p.id for p in store.posts(services=["discord"])] == ["1"]
        both = {p.id: p for p in store.posts(services=["slack"])}
        assert both["1"].service is None and both["2"].service == "slack"
        assert [p.id for p in store.posts(sources=["reddit"])] == []


def test_checkpoint_saved_with_its_page_or_not_at_all(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        store.save([post(1)], checkpoint=("reddit", "slack", "q", {"cursor": "a"}))
        assert store.checkpoint("reddit", "slack", "q") == {"cursor": "a"}

        def broken():
            yield post(2)
            raise RuntimeError("collector crashed mid-page")

        with pytest.raises(RuntimeError):
            store.save(broken(), checkpoint=("reddit", "slack", "q", {"cursor": "b"}))
        assert store.count() == 1 and store.checkpoint("reddit", "slack", "q") == {"cursor": "a"}
        store.set_checkpoint("reddit", "slack", "q", None)
        assert store.checkpoints() == []


def test_schema_version_wal_and_reopen(tmp_path):
    path = tmp_path / "s.db"
    with PostStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.save([post(1)])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with PostStore(path) as store:
        assert store.count() == 1


def test_newer_schema_and_foreign_files_are_refused(tmp_path):
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(InputError, match="newer than this outage-signals"):
        PostStore(newer)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(InputError, match="not a usable SQLite store"):
        PostStore(junk)
    with pytest.raises(InputError, match="is a directory"):
        PostStore(tmp_path)


def test_default_path_follows_xdg_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("OUTAGE_SIGNALS_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "outage-signals" / "posts.db"
    monkeypatch.setenv("OUTAGE_SIGNALS_STORE", str(tmp_path / "x.db"))
    assert default_store_path() == tmp_path / "x.db"


def test_summary_and_parquet_export(tmp_path):
    with PostStore(tmp_path / "s.db") as store:
        store.save([post(1, service="slack"), post(2, service="slack",
                                                   created_at="2024-12-26T19:00:00Z")])
        ((source, service, count, oldest, newest),) = store.summary()
        assert (source, service, count) == ("twitter", "slack", 2)
        assert newest - oldest == timedelta(minutes=18, seconds=53)
        out = tmp_path / "out.parquet"
        assert write_parquet(store.posts(), str(out)) == 2
    frame = pd.read_parquet(out)
    assert list(frame["id"]) == ["1", "2"] and str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert '"service": "slack"' in frame["record"][0]


def test_tests_cannot_leave_loopback():
    with pytest.raises(OSError, match=r"only 127\.0\.0\.1 is allowed"):
        socket.create_connection(("10.255.255.1", 80), timeout=0.1)
