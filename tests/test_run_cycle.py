"""Whole scheduled cycles (`outage-signals run`) over the bundled ChatGPT replay, alerts going
to webhook receivers on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from outage_signals.ledger import Ledger
from outage_signals.running import EXIT_OK, EXIT_PARTIAL, run_lock
from outage_signals.storing import PostStore
from tests.cycles import cycle, deploy, events
from tests.fakeapi import Reply


def test_an_outage_is_announced_updated_and_resolved_once_each(tmp_path, receiver, replay_posts):
    path = deploy(tmp_path, receiver, replay_posts)
    assert cycle(path, "2024-12-26 18:35").alerts == []  # before the outage: quiet
    first = cycle(path, "2024-12-26 18:45")
    assert first.status == EXIT_OK and [a.event for a in first.alerts] == ["new"]
    assert cycle(path, "2024-12-26 18:45").alerts == []  # the same cycle again: nothing
    assert cycle(path, "2024-12-26 18:50").alerts == []  # not yet twice the posts
    assert [a.event for a in cycle(path, "2024-12-26 19:30").alerts] == ["updated"]
    assert cycle(path, "2024-12-27 06:00").alerts[-1].event == "resolved"
    assert cycle(path, "2024-12-27 06:10").alerts == []
    got = receiver.got["ops"]
    assert [p["event"] for p in got] == ["new", "updated", "resolved"]
    new = got[0]
    assert new["incident"]["service"] == "chatgpt" and new["incident"]["start"] == "2024-12-26T18:41:00Z"
    assert new["incident"]["posts"] > 0 and new["incident"]["regions"]
    assert len({p["delivery_id"] for p in got}) == 3
    assert len({p["incident_key"] for p in got}) == 1


def test_a_failing_destination_is_retried_and_blocks_no_other(tmp_path, receiver, replay_posts):
    path = deploy(tmp_path, receiver, replay_posts, names=("ops", "pager"))
    receiver.fail("/hook/pager", Reply(500), Reply(500), Reply(500))  # down for a whole run
    receiver.fail("/hook/ops", Reply(500))  # one failure, then 200 within the run
    first = cycle(path, "2024-12-26 18:45")
    assert first.status == EXIT_PARTIAL  # pager still owed
    # The receiver saw every attempt; a retry repeats the same delivery, it is no new alert.
    assert len(receiver.got["ops"]) == 2 and len({p["delivery_id"] for p in receiver.got["ops"]}) == 1
    assert len(receiver.got["pager"]) == 3
    with PostStore(tmp_path / "store.sqlite") as store:
        rows = {r["destination"]: r for r in Ledger(store).outbox()}
    assert rows["ops"]["sent_at"] and not rows["pager"]["sent_at"] and rows["pager"]["attempts"] == 1
    # Within the backoff (1 minute) nothing is tried; after it, pager gets it; then silence.
    cycle(path, "2024-12-26 18:45:30")
    assert len(receiver.got["pager"]) == 3
    assert cycle(path, "2024-12-26 18:46").status == EXIT_OK
    assert len(receiver.got["pager"]) == 4 and len({p["delivery_id"] for p in receiver.got["pager"]}) == 1
    cycle(path, "2024-12-26 18:47")
    assert len(receiver.got["pager"]) == 4 and len(receiver.got["ops"]) == 2


def test_an_overlapping_run_skips_cleanly(tmp_path, receiver, replay_posts):
    path = deploy(tmp_path, receiver, replay_posts)
    with run_lock(tmp_path / "store.sqlite") as held:
        assert held
        result = cycle(path, "2024-12-26 18:45")
    assert result.skipped and result.status == EXIT_OK and result.log[0]["event"] == "skipped"
    assert receiver.got == {}
    assert [a.event for a in cycle(path, "2024-12-26 18:45").alerts] == ["new"]


def test_dry_run_prints_and_changes_nothing(tmp_path, receiver, replay_posts, capsys):
    path = deploy(tmp_path, receiver, replay_posts)
    result = cycle(path, "2024-12-26 18:45", dry_run=True)
    out = capsys.readouterr().out
    assert "--> ops: [LIKELY] chatgpt outage since 18:41 UTC" in out and "Estimated start" in out
    assert receiver.got == {} and [a.event for a in result.alerts] == ["new"]
    assert [a.event for a in cycle(path, "2024-12-26 18:45").alerts] == ["new"]  # still new


KILLER = """
import os, signal, sys
from datetime import datetime, UTC
from outage_signals.catalog import load_catalog
from outage_signals.deploy_config import load_deploy_config
from outage_signals.running import run_cycle

def die(destination, payload):
    os.kill(os.getpid(), signal.SIGKILL)  # kill -9 between the commit and the first send

catalog = load_catalog()
run_cycle(load_deploy_config(sys.argv[1], catalog), catalog, sender=die,
          now=datetime(2024, 12, 26, 18, 45, tzinfo=UTC), log=lambda *a, **k: None)
"""


def test_kill_9_between_detection_and_sending_then_rerun_sends_once(tmp_path, receiver, replay_posts):
    path = deploy(tmp_path, receiver, replay_posts)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", KILLER, str(path)], env=env, cwd=root, timeout=300)
    assert proc.returncode == -9
    assert receiver.got == {}
    again = cycle(path, "2024-12-26 18:45")
    assert again.alerts == []  # already decided before the kill...
    assert events(receiver) == [("new", "likely")]  # ...and sent now, once
    cycle(path, "2024-12-26 18:46")
    assert events(receiver) == [("new", "likely")]
