"""Where configuration comes from, in one place.

Precedence, highest first: command-line argument > environment variable > user config file >
packaged defaults. The user config file is TOML at ``$OUTAGE_SIGNALS_CONFIG`` if set, else
``$XDG_CONFIG_HOME/outage-signals/config.toml`` (``~/.config/outage-signals/config.toml``).

The user file may hold ``[services.KEY]`` tables that add services to the packaged catalog or
override fields of existing ones (see :mod:`outage_signals.catalog`). Secrets (later: API
tokens) live only in the environment or this file, never in the repository or in outputs.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from outage_signals.errors import ConfigError

ENV_CONFIG = "OUTAGE_SIGNALS_CONFIG"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/outage-signals`` (``~/.config/outage-signals``): the user's files."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "outage-signals"


def user_config_path() -> Path:
    """The user config file's path (it may not exist)."""
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    return config_dir() / "config.toml"


def parse_span(value: Any):
    """A positive time span such as ``5min``, ``6h`` or ``2d`` as a :class:`pandas.Timedelta`
    (pandas syntax, plus ``d`` for days); :class:`ValueError` saying what is wrong otherwise."""
    import pandas as pd

    text = str(value).strip()
    try:
        span = pd.Timedelta(text[:-1] + "D" if text.endswith("d") else text)
    except (ValueError, TypeError):
        raise ValueError(f"{value!r} is not a time span like 5min, 1h or 2d") from None
    if span <= pd.Timedelta(0):
        raise ValueError(f"{value!r} must be positive")
    return span


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a :class:`ConfigError` naming the file."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_user_config(path: str | Path | None = None) -> dict[str, Any]:
    """The user config as a dict; empty when no file exists at the default location.

    An explicitly given ``path`` (argument or ``$OUTAGE_SIGNALS_CONFIG``) must exist.
    """
    if path is not None:
        return load_toml(Path(path))
    candidate = user_config_path()
    if candidate.is_file():
        return load_toml(candidate)
    if os.environ.get(ENV_CONFIG):
        raise ConfigError(f"{ENV_CONFIG} points to {candidate}, which does not exist")
    return {}
