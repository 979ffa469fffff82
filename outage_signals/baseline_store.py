"""Fitted baselines kept in a JSON file, so a scheduled run need not refit months of history.

``outage-signals baseline`` writes the file; ``detect --baseline FILE`` reads it. The file::

    {"format": "outage-signals-baselines", "version": 1, "fitted_at": "...Z",
     "history": {"start": "...Z", "end": "...Z"},
     "services": {"chatgpt": {"relevant": {...}, "chatter": {...} | null}, ...}}

Each ``relevant``/``chatter`` object is :meth:`SeasonalBaseline.to_dict`. Rates in it are
posts per minute by UTC hour, so the file works for any count bin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from outage_signals.baseline import SeasonalBaseline
from outage_signals.detecting import SurgeDetector
from outage_signals.errors import InputError
from outage_signals.records import format_time

FORMAT = "outage-signals-baselines"
VERSION = 1


@dataclass
class ServiceBaselines:
    """The baselines of one service: relevant posts, and (for posts input) its chatter."""

    relevant: SeasonalBaseline
    chatter: SeasonalBaseline | None = None


def fit_service(counts: pd.Series, chatter: pd.Series | None = None) -> ServiceBaselines:
    """Fit on history, leaving out the surges a retrospective scan finds in it.

    :meth:`SurgeDetector.fit_predict` already refits without the surges of its first scan,
    so past incidents cannot raise the stored baseline.
    """
    detector = SurgeDetector()
    detector.fit_predict(counts, "history", chatter)
    talk = SeasonalBaseline().fit(chatter) if chatter is not None else None
    return ServiceBaselines(detector.baseline, talk)


def save(path: str | Path, baselines: dict[str, ServiceBaselines],
         history: tuple[pd.Timestamp, pd.Timestamp]) -> None:
    """Write ``baselines`` (service key -> baselines) to ``path`` atomically."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "fitted_at": format_time(datetime.now(UTC)),
        "history": {"start": format_time(history[0]), "end": format_time(history[1])},
        "services": {
            key: {"relevant": b.relevant.to_dict(),
                  "chatter": b.chatter.to_dict() if b.chatter is not None else None}
            for key, b in sorted(baselines.items())
        },
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def load(path: str | Path) -> dict[str, ServiceBaselines]:
    """Read a file written by :func:`save`; a wrong or damaged file is a clear error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read baselines: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not a baselines file (invalid JSON at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not a baselines file; make one with `outage-signals baseline`")
    if data.get("version") != VERSION:
        raise InputError(f"{path}: baselines version {data.get('version')} is not supported "
                         f"(this outage-signals reads version {VERSION})")
    out = {}
    for key, entry in data.get("services", {}).items():
        try:
            relevant = SeasonalBaseline.from_dict(entry["relevant"])
            chatter = (SeasonalBaseline.from_dict(entry["chatter"])
                       if entry.get("chatter") else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: service {key!r} has a damaged baseline ({exc})") from None
        if relevant.hourly_per_min.shape != (24,) or relevant.weekday_factor.shape != (7,):
            raise InputError(f"{path}: service {key!r} needs 24 hourly rates and 7 day factors")
        out[key] = ServiceBaselines(relevant, chatter)
    return out
