"""Credentials and endpoints of the live sources, resolved in one place.

Precedence, highest first (the same as :mod:`outage_signals.config`):

1. command-line options;
2. environment variables (:data:`ENV`);
3. the user config file's ``[reddit]`` / ``[twitter]`` / ``[bluesky]`` / ``[mastodon]`` tables
   (``outage-signals configure`` writes them, with 0600 permissions);
4. for Reddit only, praw's own sources, exactly as praw users expect: ``praw.ini`` (the
   ``DEFAULT`` section or ``--site``) and the ``praw_client_id``-style variables. We pass praw
   only the values we resolved ourselves, so everything else falls through to praw;
5. packaged defaults (the public API endpoints).

Endpoints are configurable because tests, proxies and enterprise gateways need them. Secrets are
held in :class:`Secret` so that ``repr``, logs and tracebacks never show them.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from outage_signals import __version__
from outage_signals.config import config_dir
from outage_signals.errors import ConfigError, CredentialsError
from outage_signals.jsonl import atomic_replace

#: Environment variables per setting. The first one set wins.
ENV: dict[str, dict[str, tuple[str, ...]]] = {
    "reddit": {
        "client_id": ("REDDIT_CLIENT_ID",),
        "client_secret": ("REDDIT_CLIENT_SECRET",),
        "username": ("REDDIT_USERNAME",),
        "password": ("REDDIT_PASSWORD",),
        "user_agent": ("REDDIT_USER_AGENT",),
        "oauth_url": ("OUTAGE_SIGNALS_REDDIT_OAUTH_URL",),
        "reddit_url": ("OUTAGE_SIGNALS_REDDIT_URL",),
    },
    "twitter": {
        "bearer_token": ("X_BEARER_TOKEN", "TWITTER_BEARER_TOKEN"),
        "api_url": ("OUTAGE_SIGNALS_X_API_URL",),
    },
    "bluesky": {
        "handle": ("BLUESKY_HANDLE",),
        "app_password": ("BLUESKY_APP_PASSWORD",),
        "service_url": ("OUTAGE_SIGNALS_BLUESKY_URL",),
    },
    "mastodon": {
        "instances": ("MASTODON_INSTANCES",),
        "access_token": ("MASTODON_ACCESS_TOKEN",),
    },
}
SECRET_KEYS = frozenset({"client_secret", "password", "bearer_token", "app_password", "access_token"})

DEFAULT_USER_AGENT = f"python:outage-signals:{__version__} (outage monitoring, read-only)"
DEFAULT_X_API_URL = "https://api.twitter.com"
#: The Bluesky entryway: it logs in and proxies app.bsky.* calls to the AppView.
DEFAULT_BLUESKY_URL = "https://bsky.social"
DEFAULT_MASTODON_INSTANCES = ("mastodon.social",)


class Secret(str):
    """A string that prints as ``'***'``: for tokens and passwords."""

    def __repr__(self) -> str:
        return "'***'"


#: Loggers of the client libraries; tweepy logs request headers (the bearer token) at DEBUG.
CLIENT_LOGGERS = ("tweepy.client", "prawcore", "praw", "urllib3.connectionpool", "httpx", "httpcore",
                  "atproto_client", "mastodon")


class _Redact(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


_REDACT = _Redact()


def redact_logs(*secrets: str) -> None:
    """Mask these values in every log record of the client libraries (at any level)."""
    _REDACT.secrets.update(s for s in secrets if s and len(s) >= 4)
    for name in CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)


def _resolve(source: str, config: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    table = config.get(source, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"user config: [{source}] must be a table")
    values: dict[str, Any] = {}
    for key, variables in ENV[source].items():
        value = overrides.get(key)
        if value in (None, ""):
            value = next((os.environ[v] for v in variables if os.environ.get(v)), None)
        if value in (None, ""):
            value = table.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise ConfigError(f"user config: [{source}] {key} must be a string")
        values[key] = Secret(value) if key in SECRET_KEYS else value
    return values


@dataclass(frozen=True)
class RedditSettings:
    """Keyword arguments for ``praw.Reddit``: only what we resolved, so praw.ini fills the rest."""

    values: dict[str, Any] = field(default_factory=dict)
    site_name: str | None = None

    def praw_kwargs(self) -> dict[str, Any]:
        kwargs = {k: str(v) for k, v in self.values.items()}
        kwargs.setdefault("user_agent", DEFAULT_USER_AGENT)
        # praw would otherwise ask pypi.org about updates on every run.
        kwargs["check_for_updates"] = False
        return kwargs


@dataclass(frozen=True)
class TwitterSettings:
    """The X API v2 bearer token and base URL."""

    bearer_token: Secret
    api_url: str = DEFAULT_X_API_URL


def reddit_settings(config: Mapping[str, Any], site_name: str | None = None,
                    **overrides: Any) -> RedditSettings:
    """Reddit settings from options, environment and user config (praw.ini is praw's to read)."""
    return RedditSettings(values=_resolve("reddit", config, overrides), site_name=site_name)


def twitter_settings(config: Mapping[str, Any], **overrides: Any) -> TwitterSettings:
    """X settings; raises :class:`CredentialsError` naming the variable when no token is set."""
    values = _resolve("twitter", config, overrides)
    if "bearer_token" not in values:
        raise CredentialsError(
            "no X API bearer token: set X_BEARER_TOKEN (or run `outage-signals configure twitter`)"
        )
    return TwitterSettings(bearer_token=values["bearer_token"],
                           api_url=values.get("api_url", DEFAULT_X_API_URL).rstrip("/"))


def _base_url(value: str, variable: str) -> str:
    """``value`` as an http(s) base URL without a trailing slash; ``variable`` names the setting."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{variable}: {value!r} is not an http(s) base URL")
    return value.strip().rstrip("/")


@dataclass(frozen=True)
class BlueskySettings:
    """A Bluesky login (handle and app password) and the server to log in to.

    ``session_file``: where the login session is kept between runs (0600), so that scheduled runs
    refresh one session instead of logging in each time (Bluesky allows 300 logins a day);
    ``None`` logs in on every run.
    """

    handle: str
    app_password: Secret
    service_url: str = DEFAULT_BLUESKY_URL
    session_file: Path | None = None


def bluesky_session_path() -> Path:
    """``$XDG_CONFIG_HOME/outage-signals/bluesky-session.json``, beside the user config file."""
    return config_dir() / "bluesky-session.json"


def bluesky_settings(config: Mapping[str, Any], **overrides: Any) -> BlueskySettings:
    """Bluesky settings; raises :class:`CredentialsError` naming the variables when the handle
    or the app password is missing (Bluesky refuses searches without a login)."""
    values = _resolve("bluesky", config, overrides)
    if "handle" not in values or "app_password" not in values:
        raise CredentialsError(
            "no Bluesky login: set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password, from "
            "Settings > Privacy and security > App passwords), or run `outage-signals configure "
            "bluesky`; Bluesky refuses searches without a login"
        )
    url = _base_url(values.get("service_url", DEFAULT_BLUESKY_URL), "OUTAGE_SIGNALS_BLUESKY_URL")
    return BlueskySettings(handle=values["handle"].strip().lstrip("@"),
                           app_password=values["app_password"], service_url=url,
                           session_file=bluesky_session_path())


@dataclass(frozen=True)
class MastodonInstance:
    """One Mastodon server: its base URL (``https://mastodon.social``) and, for the home instance
    only, the access token it issued (a token is never sent to any other server)."""

    url: str
    access_token: Secret | None = None

    @property
    def host(self) -> str:
        """``host[:port]``: names the instance in query keys and messages."""
        return urlsplit(self.url).netloc


@dataclass(frozen=True)
class MastodonSettings:
    """The instances to read (several at once), each with its own token or none."""

    instances: tuple[MastodonInstance, ...]


_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")


def mastodon_instance_url(value: str) -> str:
    """An instance given as a host (``mastodon.social``) or a URL, as a base URL; raises
    :class:`ConfigError` for anything else (an account such as ``alice@mastodon.social``, say)."""
    text = value.strip().rstrip("/")
    if "@" in text:
        raise ConfigError(f"Mastodon instance {value!r}: give the server (e.g. "
                          f"{text.rsplit('@', 1)[1] or 'mastodon.social'}), not an account")
    url = text if "://" in text else f"https://{text}"
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not _HOST.match(parts.netloc)
            or parts.query or parts.fragment):
        raise ConfigError(f"Mastodon instance {value!r} is not a host name or an http(s) URL "
                          "(e.g. mastodon.social or https://mastodon.social)")
    return url


def mastodon_settings(config: Mapping[str, Any], instances: Iterable[str] | None = None,
                      **overrides: Any) -> MastodonSettings:
    """Mastodon settings. Instances: ``instances`` (the ``--instance`` options) >
    ``MASTODON_INSTANCES`` (comma- or space-separated) > the config file's ``instances`` (a list or
    such a string) > mastodon.social. The access token (``MASTODON_ACCESS_TOKEN`` /
    ``access_token``) belongs to the first *configured* instance, its home, and is sent there only:
    ``--instance`` chooses what to read, never where a token goes."""
    table = config.get("mastodon", {})
    if isinstance(table, Mapping) and isinstance(table.get("instances"), list):
        listed = table["instances"]
        if not all(isinstance(v, str) for v in listed):
            raise ConfigError("user config: [mastodon] instances must be a list of strings")
        config = {**config, "mastodon": {**table, "instances": ",".join(listed)}}
    values = _resolve("mastodon", config, overrides)
    configured = [n for n in re.split(r"[,\s]+", values.get("instances", "")) if n]
    home = mastodon_instance_url((configured or list(DEFAULT_MASTODON_INSTANCES))[0])
    names = list(instances or ()) or configured or list(DEFAULT_MASTODON_INSTANCES)
    urls = list(dict.fromkeys(mastodon_instance_url(n) for n in names))
    token = values.get("access_token")
    return MastodonSettings(instances=tuple(
        MastodonInstance(url, token if url == home else None) for url in urls))


# -- writing the user file (`outage-signals configure`) -------------------------------------

_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\"-]+)\s*\]\s*(#.*)?$")


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def write_source_table(path: Path, source: str, values: Mapping[str, str]) -> None:
    """Replace the ``[source]`` table of the user config file with ``values``; keep the rest.

    The file is written atomically with 0600 permissions (it holds secrets). Comments inside the
    replaced table are dropped; everything outside it is kept byte for byte.
    """
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept: list[str] = []
    inside = False
    for line in lines:
        match = _HEADER.match(line)
        if match:
            inside = match.group(1).strip('"') == source
        if not inside:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    block = [f"[{source}]"] + [f"{key} = {_toml_string(val)}" for key, val in values.items() if val]
    text = "\n".join([*kept, "", *block] if kept else block) + "\n"
    with atomic_replace(path, mode=stat.S_IRUSR | stat.S_IWUSR) as tmp:
        tmp.write_text(text, encoding="utf-8")


def loose_permissions(path: Path) -> bool:
    """True when a file others can read holds secrets (worth a warning)."""
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False
