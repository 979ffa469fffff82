"""Helpers for tests of whole scheduled cycles: a deployment config over a store of posts with
webhook destinations on the fake API, and one cycle at a given UTC time with its log kept.
The ``receiver`` and ``replay_posts`` fixtures live in conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from outage_signals.catalog import load_catalog
from outage_signals.deploy_config import load_deploy_config
from outage_signals.running import run_cycle
from outage_signals.storing import PostStore


def deploy(tmp_path: Path, api, posts, *, extra: str = "", names=("ops",),
           status: str = "status_pages = false") -> Path:
    store = tmp_path / "store.sqlite"
    with PostStore(store) as s:
        s.save(posts)
    port = api.url.rsplit(":", 1)[1]
    dests = "".join(f'[[destinations]]\nname = "{n}"\nurl = "incident://127.0.0.1:{port}/hook/{n}"\n'
                    for n in names)
    path = tmp_path / "deploy.toml"
    path.write_text(f'services = ["chatgpt"]\nstore = "{store}"\nmin_level = "likely"\n'
                    f'{status}\n{extra}\n[sources]\n{dests}')
    return path


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def cycle(path: Path, when: str, **kwargs):
    catalog = load_catalog()
    lines: list[dict] = []
    result = run_cycle(load_deploy_config(path, catalog), catalog, now=at(when),
                       log=lambda event, **f: lines.append({"event": event, **f}),
                       sleep=lambda s: None, **kwargs)
    result.log = lines
    return result


def events(api, name="ops"):
    return [(p["event"], p["incident"]["level"]) for p in api.got.get(name, [])]
