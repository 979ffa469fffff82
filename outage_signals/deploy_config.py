"""The deployment config of scheduled runs (`outage-signals run --config FILE`), in TOML.

One file says what a cron job or systemd timer does every cycle: which services to watch, from
which sources, over how long a window, and whom to tell. Example (``docs/operations.md`` has a
complete one)::

    services = ["chatgpt", "discord", "github"]
    window = "6h"            # incidents must touch this recent span (collect fills its gaps)
    history = "2d"           # the baseline is fitted on this much history...
    # baseline = "baselines.json"   # ...unless `outage-signals baseline` fitted one
    min_level = "likely"     # incidents below this level are tracked but not announced
    store = "/var/lib/outage-signals/store.sqlite"   # optional; default: the per-user store

    [sources.reddit]
    [sources.twitter]
    max_posts = 500          # X bills per post read: a budget per service and cycle
    [sources.bluesky]        # BLUESKY_HANDLE and BLUESKY_APP_PASSWORD
    languages = ["en", "de"]
    [sources.mastodon]
    instances = ["mastodon.social", "hachyderm.io"]

    [status_pages]           # providers' Statuspage pages, polled each cycle (catalog status_api)
    # enabled = false
    # github = "https://status-proxy.internal/github"   # replace or add a page URL

    [[destinations]]
    name = "ops-slack"
    url_env = "OUTAGE_SLACK_URL"      # an apprise URL, read from the environment
    [[destinations]]
    name = "incident-api"
    url = "incidents://hooks.example.com/outages"   # the incident contract as JSON
    services = ["github"]

Secrets: apprise URLs carry tokens, so a destination names an environment variable
(``url_env``) or sits in a file only its owner reads; URLs are never logged or stored (the
store's outbox refers to destinations by ``name``). Source credentials come from the
environment or the user config file as for `outage-signals collect`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from outage_signals.catalog import Catalog
from outage_signals.config import load_toml, parse_span
from outage_signals.errors import ConfigError

#: Incident levels, weakest first (the contract's ``level``).
LEVELS = ("possible", "likely")
#: Sources a scheduled run can collect from (status pages: the [status_pages] table).
SOURCES = ("reddit", "twitter", "bluesky", "mastodon")
#: Source options that must be lists of strings (a bare "en" would be read letter by letter).
_LIST_OPTIONS = {"bluesky": ("languages",), "mastodon": ("instances",)}
_TOP_KEYS = {"services", "window", "min_level", "store", "bin", "sources", "destinations",
             "resolve_after", "history", "baseline", "status_pages"}
_DESTINATION_KEYS = {"name", "url", "url_env", "services", "min_level", "events"}
#: Alert events, in the order an incident goes through them.
EVENTS = ("new", "escalated", "updated", "resolved")


@dataclass(frozen=True)
class Destination:
    """Where alerts go: an apprise URL (never printed), filtered by service, level, event."""

    name: str
    url: str = field(repr=False)
    services: frozenset[str] | None = None
    min_level: str = "likely"
    events: frozenset[str] = frozenset(EVENTS)

    def wants(self, service: str, level: str, event: str) -> bool:
        """Whether an ``event`` of a ``level`` incident of ``service`` goes here."""
        return ((self.services is None or service in self.services)
                and LEVELS.index(level) >= LEVELS.index(self.min_level)
                and event in self.events)


@dataclass(frozen=True)
class DeployConfig:
    """A parsed deployment config; times in UTC, spans as :class:`timedelta`."""

    path: Path
    services: tuple[str, ...]
    window: timedelta = timedelta(hours=6)
    min_level: str = "likely"
    store: Path | None = None
    bin: str = "1min"
    #: An open incident the detector no longer sees for this long is resolved.
    resolve_after: timedelta = timedelta(hours=1)
    #: Without a stored baseline, the detector fits one on this much history before now.
    history: timedelta = timedelta(days=2)
    #: Baselines fitted by `outage-signals baseline` (JSON), or None.
    baseline: Path | None = None
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    destinations: tuple[Destination, ...] = ()
    #: Poll the providers' Statuspage pages each cycle (catalog ``status_api``), and the
    #: page URLs that replace or add to the catalog's, by service.
    status_pages: bool = True
    status_urls: dict[str, str] = field(default_factory=dict)


def _span(value: Any, what: str, path: Path) -> timedelta:
    try:
        return parse_span(value).to_pytimedelta()
    except ValueError as exc:
        raise ConfigError(f"{path}: {what}: {exc}") from None


def _level(value: Any, what: str, path: Path) -> str:
    if value not in LEVELS:
        raise ConfigError(f"{path}: {what} = {value!r}; use one of {', '.join(LEVELS)}")
    return value


def _unknown(keys, allowed, where: str, path: Path) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(extra)} in {where}; "
                          f"known: {', '.join(sorted(allowed))}")


def _destination(raw: Any, number: int, catalog: Catalog, default_level: str,
                 path: Path, environ) -> Destination:
    where = f"[[destinations]] #{number}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    _unknown(raw, _DESTINATION_KEYS, where, path)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}: {where} needs a name (used in logs and the store instead of "
                          "the URL)")
    if ("url" in raw) == ("url_env" in raw):
        raise ConfigError(f"{path}: destination {name!r} needs exactly one of url or url_env")
    if "url_env" in raw:
        url = environ.get(str(raw["url_env"]), "")
        if not url.strip():
            raise ConfigError(f"{path}: destination {name!r}: environment variable "
                              f"{raw['url_env']} is not set")
    else:
        url = str(raw["url"])
    services = raw.get("services")
    if services is not None:
        services = frozenset(catalog.get(str(s)).key for s in services)
    events = raw.get("events", EVENTS)
    bad = sorted(set(events) - set(EVENTS))
    if bad:
        raise ConfigError(f"{path}: destination {name!r}: unknown event(s) {', '.join(bad)}; "
                          f"known: {', '.join(EVENTS)}")
    return Destination(name=name.strip(), url=url.strip(), services=services,
                       min_level=_level(raw.get("min_level", default_level),
                                        f"min_level of {name!r}", path),
                       events=frozenset(events))


def load_deploy_config(path: str | Path, catalog: Catalog, environ=None) -> DeployConfig:
    """Parse and check the deployment config at ``path``; every mistake is a
    :class:`ConfigError` naming the file and the key."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    raw = load_toml(path)
    _unknown(raw, _TOP_KEYS, "the top level", path)
    services = raw.get("services")
    if not services or not isinstance(services, list):
        raise ConfigError(f"{path}: services = [...] must list at least one catalog key "
                          "(see `outage-signals services`)")
    keys = tuple(dict.fromkeys(catalog.get(str(s)).key for s in services))
    sources = raw.get("sources", {"reddit": {}})
    if not isinstance(sources, dict):
        raise ConfigError(f"{path}: [sources] must be a table of [sources.NAME] tables")
    for name, options in sources.items():
        if name not in SOURCES:
            raise ConfigError(f"{path}: unknown source {name!r}; known: {', '.join(SOURCES)}")
        if not isinstance(options, dict):
            raise ConfigError(f"{path}: [sources.{name}] must be a table")
        for key in _LIST_OPTIONS.get(name, ()):
            value = options.get(key)
            if value is not None and (not isinstance(value, list)
                                      or not all(isinstance(v, str) and v for v in value)):
                raise ConfigError(f"{path}: [sources.{name}] {key} must be a list of strings, "
                                  f"e.g. {key} = [\"{'en' if key == 'languages' else 'mastodon.social'}\"]")
    min_level = _level(raw.get("min_level", "likely"), "min_level", path)
    destinations = raw.get("destinations", [])
    if not isinstance(destinations, list):
        raise ConfigError(f"{path}: destinations must be [[destinations]] tables")
    parsed = tuple(_destination(d, n, catalog, min_level, path, environ)
                   for n, d in enumerate(destinations, 1))
    names = [d.name for d in parsed]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: destination names must be unique")
    store = raw.get("store")
    status_pages, status_urls = _status_pages(raw.get("status_pages", {}), catalog, path)
    return DeployConfig(
        path=path, services=keys,
        window=_span(raw.get("window", "6h"), "window", path),
        min_level=min_level,
        store=Path(str(store)).expanduser() if store else None,
        bin=str(raw.get("bin", "1min")),
        resolve_after=_span(raw.get("resolve_after", "1h"), "resolve_after", path),
        history=_span(raw.get("history", "2d"), "history", path),
        baseline=(path.parent / Path(str(raw["baseline"])).expanduser()) if raw.get("baseline")
        else None,
        sources={k: dict(v) for k, v in sources.items()},
        destinations=parsed,
        status_pages=status_pages,
        status_urls=status_urls,
    )


def _status_pages(raw: Any, catalog: Catalog, path: Path) -> tuple[bool, dict[str, str]]:
    """``[status_pages]``: ``enabled = true|false`` and ``SERVICE = "https://..."`` entries."""
    if isinstance(raw, bool):
        return raw, {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: status_pages must be true, false or a [status_pages] table")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{path}: [status_pages] enabled must be true or false")
    urls = {}
    for key, url in raw.items():
        if key == "enabled":
            continue
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ConfigError(f"{path}: [status_pages] {key} must be a Statuspage URL "
                              "(https://...)")
        urls[catalog.get(key).key] = url.rstrip("/")
    return enabled, urls
