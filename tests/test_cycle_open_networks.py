"""A scheduled cycle collecting from Bluesky (atproto) and Mastodon (Mastodon.py), each faked on
127.0.0.1: both sources in `run`, each post stored once, a second cycle adding nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from outage_signals.catalog import load_catalog
from outage_signals.deploy_config import load_deploy_config
from outage_signals.errors import ConfigError
from outage_signals.storing import PostStore
from tests.cycles import cycle
from tests.fake_bluesky import APP_PASSWORD, HANDLE, FakeBluesky, post_view
from tests.fake_mastodon import TOKEN, FakeMastodon, status
from tests.fakeapi import FakeAPI

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def networks(fake_api, monkeypatch):
    with FakeAPI() as masto_api:
        sky = FakeBluesky(fake_api, posts=[
            post_view(i, NOW - timedelta(minutes=5 + 7 * i), f"slack down again? messages stuck #{i}")
            for i in range(12)])
        masto = FakeMastodon(masto_api, statuses=[
            status(i, NOW - timedelta(minutes=4 + 9 * i),
                   f"<p>Is <a href='#'>#slack</a> down for anyone? &amp; huddles fail {i}</p>",
                   served_by="mastodon.example", user=f"user{i}")
            for i in range(8)])
        monkeypatch.setenv("BLUESKY_HANDLE", HANDLE)
        monkeypatch.setenv("BLUESKY_APP_PASSWORD", APP_PASSWORD)
        monkeypatch.setenv("OUTAGE_SIGNALS_BLUESKY_URL", fake_api.url)
        monkeypatch.setenv("MASTODON_ACCESS_TOKEN", TOKEN)
        yield sky, masto, masto_api


def test_a_cycle_collects_bluesky_and_mastodon_once(tmp_path, networks):
    _, _, masto_api = networks
    store = tmp_path / "store.sqlite"
    config = tmp_path / "deploy.toml"
    config.write_text(f'services = ["slack"]\nstore = "{store}"\nwindow = "3h"\nstatus_pages = false\n'
                      f'[sources.bluesky]\nlanguages = ["en"]\n'
                      f'[sources.mastodon]\ninstances = ["{masto_api.url}"]\n')
    first = cycle(config, "2025-06-01 12:00")
    assert first.status == 0, first.failures
    collected = {line["source"]: line["new"] for line in first.log if line["event"] == "collected"}
    assert collected == {"bluesky": 12, "mastodon": 8}
    with PostStore(store) as s:
        posts = list(s.posts())
    by_source = {p.source for p in posts}
    assert by_source == {"bluesky", "mastodon"} and len(posts) == 20
    toot = next(p for p in posts if p.source == "mastodon")
    assert "<" not in toot.text and "&amp;" not in toot.text and toot.author.endswith("@mastodon.example")
    again = cycle(config, "2025-06-01 12:00")
    assert again.status == 0 and again.collected == 0


def test_source_options_must_be_lists(tmp_path):
    config = tmp_path / "deploy.toml"
    config.write_text('services = ["slack"]\n[sources.mastodon]\ninstances = "mastodon.social"\n')
    with pytest.raises(ConfigError, match=r"instances must be a list of strings"):
        load_deploy_config(config, load_catalog())
