"""Shared fixtures: the catalog, small post builders, and the isolated user config."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from outage_signals.catalog import load_catalog
from tests.netguard import loopback_only


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path_factory, monkeypatch):
    """Tests never read the developer's own config file."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("OUTAGE_SIGNALS_CONFIG", raising=False)


@pytest.fixture(scope="session")
def catalog():
    return load_catalog({})


def record(i: int = 1, **fields) -> dict:
    """A valid post record as a dict; keyword arguments override or add fields."""
    base = {"id": str(i), "source": "twitter", "created_at": "2024-12-26T18:41:07Z",
            "text": "is chatgpt down?"}
    base.update(fields)
    return base


def write_lines(path, objects) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        for obj in objects:
            handle.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
    return str(path)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


#: The committed sample data (see scripts/make-samples).
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def daily_rate(index: pd.DatetimeIndex, level: float, peak_hour: float) -> np.ndarray:
    """Posts per minute on ``index``: ``level`` times a daily cycle (±60 %) peaking at a UTC hour."""
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60
    return level * (1 + 0.6 * np.cos(2 * np.pi * (hours - peak_hour) / 24))


def add_outage(rate: np.ndarray, index: pd.DatetimeIndex, start: pd.Timestamp, minutes: int,
               peak: float, plateau: float, decay_min: float) -> np.ndarray:
    """``rate`` plus an outage's reports: a 2-minute onset to ``peak`` posts/min, decaying to
    ``plateau`` of it with time constant ``decay_min``, for ``minutes`` from ``start``."""
    out = rate.copy()
    i = index.get_loc(start)
    t = np.arange(minutes)
    out[i:i + minutes] += peak * (1 - np.exp(-(t + 0.5) / 2)) * (
        plateau + (1 - plateau) * np.exp(-t / decay_min))
    return out


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """No test reaches any address but loopback (the fake APIs run on 127.0.0.1)."""
    monkeypatch.setattr(socket.socket, "connect", loopback_only(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", loopback_only(socket.socket.connect_ex))


@pytest.fixture
def fake_api():
    from tests.fakeapi import FakeAPI

    with FakeAPI() as api:
        yield api


@pytest.fixture
def no_sleep(monkeypatch):
    """Record instead of sleeping: prawcore's retry pauses and rate-limit pacing, tweepy's
    rate-limit wait. Returns the list of requested sleeps (seconds)."""
    import prawcore.rate_limit
    import prawcore.sessions

    slept: list[float] = []
    monkeypatch.setattr(prawcore.sessions.time, "sleep", slept.append)
    monkeypatch.setattr(prawcore.rate_limit.time, "sleep", slept.append)
    return slept


@pytest.fixture(scope="session")
def replay_posts():
    """The bundled ChatGPT replay (three days of posts around the outage of 2024-12-26)."""
    from outage_signals.jsonl import read_posts

    return read_posts([str(SAMPLES / "chatgpt-replay.jsonl.gz")])


@pytest.fixture
def receiver(fake_api):
    """A webhook receiver: every JSON body POSTed to /hook/<name>, by name."""
    got: dict[str, list[dict]] = {}

    from tests.fakeapi import Reply

    @fake_api.route("POST", r"/hook/(?P<name>\w+)")
    def hook(req, name):
        got.setdefault(name, []).append(json.loads(req.body))
        return Reply(200, {"ok": True})

    fake_api.got = got
    return fake_api
