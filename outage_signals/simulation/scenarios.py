"""Ready-made simulation settings: per-service volumes and the ``simulate`` command's logic.

Volumes are set per category, scaled for a few household names, and are posts per minute
averaged over the day (see :class:`ServiceProfile`). They are shaped like what a collector
gets from keyword search, not the full firehose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from outage_signals.catalog import Catalog
from outage_signals.errors import InputError
from outage_signals.records import Post
from outage_signals.simulation.events import load_events, parse_outage
from outage_signals.simulation.generator import Simulation, simulate
from outage_signals.simulation.profiles import OutageEvent, ServiceProfile

# Per category: chatter, background complaints, outage peak (posts/min), busiest UTC hour.
_CATEGORY_DEFAULTS = {
    "ai": (3.0, 0.2, 40.0, 17.0),
    "social": (3.0, 0.2, 40.0, 18.0),
    "messaging": (1.5, 0.1, 25.0, 16.0),
    "games": (1.5, 0.1, 25.0, 21.0),
    "streaming": (1.5, 0.08, 25.0, 23.0),
    "finance": (0.5, 0.05, 12.0, 16.0),
    "isp": (0.6, 0.08, 12.0, 19.0),
    "cloud": (0.8, 0.05, 20.0, 15.0),
    "airline": (0.4, 0.05, 8.0, 15.0),
}
# Bigger than their category's default.
_VOLUME_FACTOR = {"chatgpt": 1.4, "facebook": 1.5, "instagram": 1.3, "twitter": 1.5,
                  "whatsapp": 1.3, "aws": 1.2, "discord": 1.0, "youtube": 1.3}

DEFAULT_START = datetime(2025, 1, 6, tzinfo=UTC)


def profile_for(catalog: Catalog, key: str, scale: float = 1.0) -> ServiceProfile:
    """The default :class:`ServiceProfile` of a catalog service, volumes times ``scale``."""
    service = catalog.get(key)
    chatter, complaints, peak, hour = _CATEGORY_DEFAULTS[service.category]
    factor = _VOLUME_FACTOR.get(key, 1.0) * scale
    return ServiceProfile(service=key, chatter_per_min=chatter * factor,
                          complaints_per_min=complaints * factor,
                          outage_peak_per_min=peak * factor, peak_hour_utc=hour)


def run(catalog: Catalog, services: Sequence[str], start: datetime | None, days: float,
        outages: Sequence[str] = (), events_file: str | None = None,
        event_ids: Sequence[str] = (), scale: float = 1.0, seed: int = 0) -> Simulation:
    """What ``outage-signals simulate`` does: gather events, pick the window, simulate.

    Services of the chosen events are simulated even when not listed in ``services``.
    The default ``start`` is midnight UTC of the day before the first event.
    """
    events: list[OutageEvent] = [parse_outage(spec) for spec in outages]
    if events_file:
        loaded = load_events(events_file)
        if event_ids:
            known = {e.event_id for e in loaded}
            missing = [i for i in event_ids if i not in known]
            if missing:
                raise InputError(f"{events_file}: no event {', '.join(missing)}; it has "
                                 f"{', '.join(sorted(k for k in known if k))}")
            loaded = [e for e in loaded if e.event_id in event_ids]
        events.extend(loaded)
    elif event_ids:
        raise InputError("--event needs --events FILE")
    keys = list(dict.fromkeys([*services, *(e.service for e in events)]))
    if start is None:
        if events:
            first = min(e.start for e in events)
            start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
        else:
            start = DEFAULT_START
    end = start + timedelta(days=days)
    profiles = [profile_for(catalog, key, scale) for key in keys]
    events = [replace(e, peak_per_min=e.peak_per_min * scale) if e.peak_per_min else e
              for e in events]
    return simulate(catalog, start, end, profiles, events, seed=seed)


def sample(posts: Sequence[Post], n: int, seed: int = 0) -> list[Post]:
    """``n`` posts drawn without replacement, kept in time order."""
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(posts), size=n, replace=False))
    return [posts[i] for i in keep]
