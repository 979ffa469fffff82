"""The analyst's main job as one library call: posts in, incidents out.

``posts -> relevant (post, service) rows -> per-service counts -> baseline + surges ->
incidents with regions``. The CLI's ``detect`` command, the tests and the notebooks all call
:func:`detect`; each step is also usable on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from outage_signals import classifying, locating
from outage_signals.baseline_store import ServiceBaselines
from outage_signals.catalog import Catalog
from outage_signals.counting import bin_index, count_series
from outage_signals.detecting import SurgeDetector
from outage_signals.incidents import ROW_COLUMNS, build_incident
from outage_signals.records import Post

#: Called with a short message as each stage starts (the CLI prints these on stderr).
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


#: Posts classified per batch; progress is reported between batches.
BATCH = 20_000


def scored_rows(posts: Sequence[Post], model: classifying.RelevanceModel,
                services: Iterable[str] | None = None,
                progress: Progress = _quiet) -> pd.DataFrame:
    """One row per ``(post, service)`` mention with its ``relevance``, as :data:`ROW_COLUMNS`.

    Relevant rows (at the model's threshold) are located; the others keep null locations, as
    they only feed the chatter counts. ``services`` restricts the result to those catalog keys.
    ``created_at`` is UTC.
    """
    wanted = set(services) if services else None
    records = []
    for offset in range(0, len(posts), BATCH):
        batch = posts[offset:offset + BATCH]
        for post, service, prob in classifying.score_posts(batch, model):
            if wanted is not None and service not in wanted:
                continue
            where = locating.locate(post) if prob >= model.threshold else None
            records.append((service, post.created_at, post.author, post.source, post.id,
                            post.text, post.url, prob, where["country"] if where else None,
                            where["region"] if where else None))
        if len(posts) > BATCH:
            progress(f"classified {min(offset + BATCH, len(posts)):,} of {len(posts):,} posts")
    frame = pd.DataFrame.from_records(records, columns=list(ROW_COLUMNS))
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def relevant_rows(posts: Sequence[Post], model: classifying.RelevanceModel,
                  services: Iterable[str] | None = None,
                  progress: Progress = _quiet) -> pd.DataFrame:
    """The relevant rows of :func:`scored_rows` (relevance at or above the model threshold)."""
    rows = scored_rows(posts, model, services, progress)
    return rows[rows["relevance"] >= model.threshold].reset_index(drop=True)


def mention_counts(rows: pd.DataFrame, threshold: float, index: pd.DatetimeIndex,
                   services: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(relevant, chatter)`` count frames (authors per service per bin) from scored rows."""
    relevant = rows["relevance"] >= threshold
    return (count_series(rows[relevant], index, services),
            count_series(rows[~relevant], index, services))


@dataclass
class Counted:
    """Posts turned into series: relevant rows (for evidence) and per-service counts.

    ``counts`` and ``chatter`` are frames indexed by UTC bin start, one column per service:
    unique authors of relevant posts, and of the other mentions. ``until`` is the end of the
    last bin.
    """

    rows: pd.DataFrame
    counts: pd.DataFrame
    chatter: pd.DataFrame
    until: pd.Timestamp

    @property
    def services(self) -> list[str]:
        return list(self.counts.columns)


def count_posts(posts: Sequence[Post], catalog: Catalog, *,
                model: classifying.RelevanceModel | None = None,
                services: Sequence[str] | None = None,
                since: datetime | None = None, until: datetime | None = None,
                bin_size: str = "1min", progress: Progress = _quiet) -> Counted | None:
    """Classify ``posts`` once and count them per service; ``None`` when no post is in range.

    ``since``/``until`` (aware datetimes) bound the window; by default the span of the posts.
    ``services`` limits the result to those keys (unknown keys fail early).
    """
    for key in services or ():
        catalog.get(key)  # unknown keys fail early, with a suggestion
    window = [p for p in posts
              if (since is None or p.created_at >= since) and (until is None or p.created_at < until)]
    if not window:
        return None
    first = pd.Timestamp(since) if since else pd.Timestamp(min(p.created_at for p in window))
    last = pd.Timestamp(until) if until else (
        pd.Timestamp(max(p.created_at for p in window)) + pd.Timedelta(bin_size))
    model = model or classifying.default_model(catalog)
    progress(f"classifying {len(window):,} posts")
    scored = scored_rows(window, model, services, progress)
    rows = scored[scored["relevance"] >= model.threshold]
    index = bin_index(first, last, bin_size)
    keys = list(services) if services else sorted(rows["service"].unique().tolist())
    counts, chatter = mention_counts(scored, model.threshold, index, keys)
    return Counted(rows, counts, chatter, last)


def scan_service(scan: SurgeDetector, counts: pd.Series, chatter: pd.Series, key: str,
                 stored: ServiceBaselines | None = None) -> tuple[list, tuple | None]:
    """One service's surges: ``scan`` fits its baseline on ``counts`` (per bin, UTC index)
    or, with ``stored``, judges them against that history. Returns the surges and, for a
    stored baseline, the chatter ``(observed, expected)`` pair the scan used (else ``None``:
    the fit made its own)."""
    if stored is None:
        return scan.fit_predict(counts, key, chatter=chatter), None
    scan.baseline = stored.relevant
    talk = None if stored.chatter is None else (chatter.to_numpy(dtype=float),
                                                stored.chatter.expected(counts.index))
    return scan.predict(counts, key, chatter=talk), talk


def detect(
    posts: Sequence[Post],
    catalog: Catalog,
    *,
    model: classifying.RelevanceModel | None = None,
    services: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bin_size: str = "1min",
    detector: Callable[[], SurgeDetector] = SurgeDetector,
    baselines: Mapping[str, ServiceBaselines] | None = None,
    progress: Progress = _quiet,
) -> list[dict]:
    """Incidents (contract JSON objects) found in ``posts``, ordered by start.

    ``since``/``until`` (aware datetimes) bound the window scanned; by default the span of the
    posts. ``services`` limits the scan to those keys. ``detector`` makes a fresh
    :class:`SurgeDetector` per service. A service in ``baselines`` (see
    :mod:`outage_signals.baseline_store`) is judged against that stored history; the others
    get a baseline fitted on the window itself.
    """
    counted = count_posts(posts, catalog, model=model, services=services, since=since,
                          until=until, bin_size=bin_size, progress=progress)
    if counted is None:
        return []
    index = counted.counts.index
    progress(f"scanning {len(counted.services)} service(s) over {len(index):,} bins of {bin_size}")
    incidents = []
    for key in counted.services:
        surges, _ = scan_service(detector(), counted.counts[key], counted.chatter[key], key,
                                 (baselines or {}).get(key))
        rows = counted.rows[counted.rows["service"] == key]
        incidents.extend(build_incident(surge, rows, counted.until) for surge in surges)
    incidents.sort(key=lambda inc: (inc["start"], inc["service"]))
    return incidents
