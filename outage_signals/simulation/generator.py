"""Turn rate profiles into post records with text, authors, sources and locations.

:func:`simulate` is the entry point: seeded, so the same arguments always give the same posts.
It returns the posts together with the true outages and each post's true label, which is what
tests, benchmarks and the sample data are scored against.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources

import numpy as np
import pandas as pd

from outage_signals import __version__
from outage_signals.catalog import Catalog, Service
from outage_signals.records import Post, format_time
from outage_signals.simulation import people
from outage_signals.simulation.profiles import (
    OutageEvent,
    ServiceProfile,
    cycle,
    minute_grid,
    outage_shape,
    overdispersed_counts,
    recovery_shape,
    viral_bursts,
)

#: Phrase-bank sections and the label a post written from them carries.
SECTION_LABELS = {"complaint": 1, "recovered": 1, "chatter": 0, "lookalike": 0, "other_service": 0}
# How ordinary mentions split into plain chatter, look-alike words and "other service is down".
CHATTER_MIX = {"chatter": 0.72, "lookalike": 0.2, "other_service": 0.08}
ERROR_CODES = ("500", "502", "503", "504", "429", "E-1003", "0x80072EFD", "403", "ERR_NETWORK")


def load_phrases() -> dict[str, dict[str, list[str]]]:
    """The packaged phrase bank: section -> language -> templates."""
    ref = resources.files("outage_signals") / "data" / "sim_phrases.toml"
    return tomllib.loads(ref.read_text(encoding="utf-8"))


@dataclass
class Simulation:
    """Result of :func:`simulate`.

    ``labels`` maps ``(source, id)`` to ``(label, kind)``: label 1 for a real problem report
    about the post's service, ``kind`` the phrase-bank section it came from.
    """

    posts: list[Post]
    events: list[OutageEvent]
    labels: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    def truth(self) -> dict[str, object]:
        """JSON-ready description of what was simulated (true outages, window, counts)."""
        positives = sum(1 for label, _ in self.labels.values() if label)
        return {
            "window": {"start": format_time(self.start), "end": format_time(self.end)}
            if self.start and self.end else None,
            "events": [e.to_dict() for e in self.events],
            "posts": len(self.posts),
            "relevant_posts": positives,
        }


class _Writer:
    """Builds posts for one service; holds the RNG, id counters and author pools."""

    def __init__(self, rng: np.random.Generator, catalog: Catalog, service: Service,
                 phrases: dict[str, dict[str, list[str]]], service_field_share: float):
        self.rng = rng
        self.catalog = catalog
        self.service = service
        self.phrases = phrases
        self.service_field_share = service_field_share
        self.others = [s for s in catalog if s.key != service.key]
        self.pools = {
            "chatter": people.AuthorPool(rng, f"{service.key[:6]}_fan", 20000),
            "complaint": people.AuthorPool(rng, f"{service.key[:6]}_user", 30000),
        }
        self.serial = 0
        # The display name is the usual spelling, unless it does not match (e.g. "X (Twitter)").
        self.brand = service.name if service.key in catalog.match(service.name) else None
        # Names in kana or kanji would turn up in posts of every language; the simulator's
        # phrases are Latin-script, so it keeps to Latin-script spellings.
        self.spellings = [a for a in [*service.aliases, *service.cased_aliases]
                          if not any("\u3000" <= ch <= "\u9fff" for ch in a)]

    def name(self) -> str:
        """How a user writes the service's name: mostly the brand, sometimes an alias."""
        if self.brand is not None and self.rng.random() < 0.5:
            return self.brand
        return self.spellings[int(self.rng.integers(len(self.spellings)))]

    def text(self, section: str, lang: str) -> str:
        bank = self.phrases[section]
        templates = bank.get(lang) or bank["en"]
        template = templates[int(self.rng.integers(len(templates)))]
        other = self.others[int(self.rng.integers(len(self.others)))]
        return template.format(svc=self.name(), other=other.name,
                               code=str(self.rng.choice(ERROR_CODES)),
                               mins=int(self.rng.integers(3, 90)))

    def post(self, at: pd.Timestamp, section: str) -> tuple[Post, int]:
        pool = self.pools["chatter" if SECTION_LABELS[section] == 0 else "complaint"]
        handle, lang, spot, profile = pool.draw()
        source = people.pick(self.rng, people.SOURCES)
        self.serial += 1
        post_id, url, subreddit = self._identity(source, handle, at)
        text = self.text(section, lang)
        place = None
        if source == "twitter" and self.rng.random() < people.PLACE_SHARE_TWITTER:
            place = {"country_code": spot.country, "full_name": spot.place_name}
        if source == "reddit" and self.rng.random() < 0.5:
            # Reddit submissions are title + body; a short body follows some titles.
            text = f"{text}\n\n{self.text('chatter' if section == 'chatter' else section, lang)}"
        keep_service = self.rng.random() < self.service_field_share
        created = at.to_pydatetime().astimezone(UTC)
        post = Post(
            id=post_id, source=source, created_at=created, text=text,
            service=self.service.key if keep_service else None,
            author=handle, url=url, lang=lang, place=place,
            user_location=profile if source != "reddit" else None,
            subreddit=subreddit,
            meta={"collector": "simulate", "version": __version__},
        )
        return post, SECTION_LABELS[section]

    def _identity(self, source: str, handle: str, at: pd.Timestamp) -> tuple[str, str, str | None]:
        stamp = int(at.timestamp())
        if source == "twitter":
            # Snowflake-like: milliseconds since the X epoch shifted left, plus a serial.
            pid = str(((stamp * 1000 - 1288834974657) << 22) + self.serial % 4096)
            return pid, f"https://x.com/{handle}/status/{pid}", None
        if source == "reddit":
            pid = np.base_repr(stamp * 37 + self.serial, 36).lower()[-7:]
            pid = f"{pid}{self.serial % 1296:02x}"
            subs = self.service.subreddits or ("techsupport",)
            sub = str(self.rng.choice(subs))
            return pid, f"https://www.reddit.com/r/{sub}/comments/{pid}/", sub
        if source == "bluesky":
            rkey = np.base_repr(stamp * 1000 + self.serial % 1000, 32).lower()
            return rkey, f"https://bsky.app/profile/{handle}.bsky.social/post/{rkey}", None
        pid = str(stamp * 65536 + self.serial % 65536)
        return pid, f"https://mastodon.social/@{handle}/{pid}", None


def _arrivals(grid: pd.DatetimeIndex, counts: np.ndarray,
              rng: np.random.Generator) -> pd.DatetimeIndex:
    """Timestamps for ``counts[i]`` posts in minute ``grid[i]``, uniform within the minute."""
    minutes = np.repeat(np.arange(len(grid)), counts)
    seconds = rng.uniform(0, 60, size=len(minutes))
    return grid[minutes] + pd.to_timedelta(np.round(seconds, 3), unit="s")


def simulate(
    catalog: Catalog,
    start: datetime,
    end: datetime,
    profiles: Sequence[ServiceProfile],
    events: Sequence[OutageEvent] = (),
    seed: int = 0,
    service_field_share: float = 0.85,
) -> Simulation:
    """Simulate posts about ``profiles``' services between ``start`` and ``end`` (UTC).

    ``events`` are the true outages (their service must be among the profiles). Each post is
    labelled; :attr:`Simulation.labels` holds the truth. ``service_field_share`` is the share of
    posts that carry ``service`` (the rest must be matched by aliases, as with importers).
    Posts are returned sorted by time.
    """
    rng = np.random.default_rng(seed)
    phrases = load_phrases()
    grid = minute_grid(start, end)
    posts: list[Post] = []
    labels: dict[tuple[str, str], tuple[int, str]] = {}
    for profile in profiles:
        service = catalog.get(profile.service)
        writer = _Writer(rng, catalog, service, phrases, service_field_share)
        rhythm = cycle(grid, profile)
        streams: dict[str, np.ndarray] = {
            "chatter": profile.chatter_per_min * rhythm * viral_bursts(grid, profile, rng),
            "complaint": profile.complaints_per_min * rhythm,
            "recovered": np.zeros(len(grid)),
        }
        for event in (e for e in events if e.service == profile.service):
            peak = event.peak_per_min or profile.outage_peak_per_min
            # Outage reports follow the daily rhythm only weakly: everyone notices an outage.
            streams["complaint"] = streams["complaint"] + peak * outage_shape(grid, event) * (
                0.75 + 0.25 * rhythm)
            streams["recovered"] = streams["recovered"] + 0.15 * peak * recovery_shape(grid, event)
        for stream, rate in streams.items():
            counts = overdispersed_counts(rate, profile.dispersion, rng)
            for at in _arrivals(grid, counts, rng):
                section = stream if stream != "chatter" else people.pick(rng, CHATTER_MIX)
                post, label = writer.post(at, section)
                posts.append(post)
                labels[post.key] = (label, section)
    posts.sort(key=lambda p: (p.created_at, p.source, p.id))
    return Simulation(posts=posts, events=list(events), labels=labels, start=start, end=end)
