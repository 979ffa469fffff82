"""One service's timeline: the counts, the baseline they were judged against, the alarms and the
incidents, kept together for plotting, reports and notebooks.

:func:`pipeline.detect <outage_signals.pipeline.detect>` returns only incidents; a chart needs
what lies behind them. :func:`timelines` runs the same steps as ``detect`` (classify once,
count per service, fit the baseline or use a stored one, scan) and keeps every intermediate
series, so the baseline drawn is exactly the one the detector used and the incidents are the
ones ``detect`` prints for the same input and settings.

Helpers pick what a chart or report shows: :func:`main_incident` (the most serious incident),
:func:`first_reports` (the earliest reports of an incident) and :func:`spread_over_time` (how
an incident's reports moved between countries). All times are UTC; counts are unique authors
per bin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from outage_signals import classifying
from outage_signals.baseline import SeasonalBaseline
from outage_signals.baseline_store import ServiceBaselines
from outage_signals.catalog import Catalog
from outage_signals.detecting import SurgeDetector
from outage_signals.errors import InputError
from outage_signals.incidents import build_incident
from outage_signals.pipeline import Counted, Progress, count_posts, scan_service
from outage_signals.records import parse_time

#: Shortest and longest bin :func:`timelines` accepts (as ``detect --bin``).
MIN_BIN, MAX_BIN = pd.Timedelta("1min"), pd.Timedelta("1h")


def _quiet(_: str) -> None:
    pass


@dataclass
class ServiceTimeline:
    """What the detector saw and found for one service over one window.

    ``counts``: unique authors of relevant posts per bin (index: UTC bin starts, fixed
    spacing). ``expected``: the baseline's expected count per bin (same index; the baseline
    that produced ``incidents``). ``chatter``: unique authors of the service's other mentions
    per bin. ``scores``: :meth:`SurgeDetector.scores
    <outage_signals.detecting.SurgeDetector.scores>`'s table (``observed``, ``expected``,
    ``score``, and the alarm flags ``possible``, ``likely``, ``recent``). ``incidents``: the
    contract's incident objects, oldest first. ``rows``: the service's relevant posts (columns
    of :data:`~outage_signals.incidents.ROW_COLUMNS`). ``until``: end of the last bin.
    ``baseline_from``: ``"window"`` when the baseline was fitted on these counts, ``"stored"``
    when it came from a baseline file.
    """

    service: str
    name: str
    counts: pd.Series
    expected: pd.Series
    chatter: pd.Series
    scores: pd.DataFrame
    incidents: list[dict[str, Any]]
    rows: pd.DataFrame
    until: pd.Timestamp
    bin_size: str
    baseline_from: str

    @property
    def bin_minutes(self) -> float:
        """Bin width in minutes (rates per minute are counts divided by this)."""
        return check_bin(self.bin_size).total_seconds() / 60

    @property
    def start(self) -> pd.Timestamp:
        """Start of the first bin (UTC)."""
        return self.counts.index[0]


def check_bin(bin_size: str) -> pd.Timedelta:
    """``bin_size`` as a span; :class:`InputError` unless it is 1 minute to 1 hour."""
    try:
        delta = pd.Timedelta(pd.tseries.frequencies.to_offset(bin_size))
    except (ValueError, TypeError):
        raise InputError(f"bin {bin_size!r} is not a time span like 1min or 5min") from None
    if not MIN_BIN <= delta <= MAX_BIN:
        raise InputError(f"bin {bin_size!r} must be between 1min and 1h")
    return delta


def timelines(posts: Sequence, catalog: Catalog, *,
              model: classifying.RelevanceModel | None = None,
              services: Sequence[str] | None = None,
              since: datetime | None = None, until: datetime | None = None,
              bin_size: str = "1min",
              detector: Callable[[], Any] | None = None,
              baselines: Mapping[str, ServiceBaselines] | None = None,
              progress: Progress = _quiet) -> list[ServiceTimeline]:
    """A :class:`ServiceTimeline` per service, in the order of ``services`` (default: every
    service with a relevant post, alphabetically).

    Settings as :func:`outage_signals.pipeline.detect`. Raises :class:`InputError` when no post
    lies in ``[since, until)`` and when a requested service has no relevant post there (a
    timeline of nothing would be a blank chart).
    """
    check_bin(bin_size)
    make = detector or SurgeDetector
    counted = count_posts(posts, catalog, model=model, services=services, since=since,
                          until=until, bin_size=bin_size, progress=progress)
    if counted is None:
        raise InputError(f"no posts{_window_text(since, until)} ({len(posts):,} read)")
    for key in counted.services:
        if services and not (counted.rows["service"] == key).any():
            raise InputError(f"no relevant posts of {key}{_window_text(since, until)} "
                             f"({len(posts):,} posts read)")
    if not counted.services:
        raise InputError(f"none of the {len(posts):,} posts{_window_text(since, until)} reports a "
                         "problem with a catalog service")
    return [_timeline(counted, key, catalog, bin_size, make, (baselines or {}).get(key))
            for key in counted.services]


def service_timeline(posts: Sequence, catalog: Catalog, service: str,
                     **settings: Any) -> ServiceTimeline:
    """The :class:`ServiceTimeline` of one service (settings as :func:`timelines`)."""
    return timelines(posts, catalog, services=[service], **settings)[0]


def _timeline(counted: Counted, key: str, catalog: Catalog, bin_size: str,
              make: Callable[[], Any], stored: ServiceBaselines | None) -> ServiceTimeline:
    """Scan one service exactly as ``pipeline.detect`` does, keeping the intermediate series."""
    counts, chatter = counted.counts[key], counted.chatter[key]
    index = counts.index
    scan = make()
    surges, talk = scan_service(scan, counts, chatter, key, stored)
    if stored is None:
        # fit_predict fits the chatter baseline inside; refit it the same way for the table.
        talk = (chatter.to_numpy(dtype=float), SeasonalBaseline().fit(chatter).expected(index))
    table = scan.scores(counts, chatter=talk)
    rows = counted.rows[counted.rows["service"] == key].reset_index(drop=True)
    incidents = [build_incident(surge, rows, counted.until) for surge in surges]
    name = catalog.services[key].name if key in catalog else key
    return ServiceTimeline(
        service=key, name=name, counts=counts, chatter=chatter,
        expected=pd.Series(table["expected"].to_numpy(), index=index, name="expected"),
        scores=table, incidents=incidents, rows=rows, until=counted.until, bin_size=bin_size,
        baseline_from="window" if stored is None else "stored")


def _window_text(since: datetime | None, until: datetime | None) -> str:
    """`` in the input``, `` from 2024-12-26 18:00 UTC``, `` from ... to ... UTC``..."""
    def stamp(ts: datetime) -> str:
        return f"{pd.Timestamp(ts).tz_convert('UTC'):%Y-%m-%d %H:%M}"

    if since is None and until is None:
        return " in the input"
    if until is None:
        return f" from {stamp(since)} UTC on"
    if since is None:
        return f" before {stamp(until)} UTC"
    return f" from {stamp(since)} to {stamp(until)} UTC"


def by_seriousness(lines: Sequence[ServiceTimeline]) -> list[ServiceTimeline]:
    """Timelines ordered for a reader: those whose :func:`main_incident` is ``likely`` first,
    then ``possible``, each by that incident's posts (most first); then those without an
    incident, by relevant posts (most first); ties by service key."""

    def rank(line: ServiceTimeline) -> tuple:
        top = main_incident(line.incidents)
        if top is None:
            return (2, -len(line.rows), line.service)
        return (int(top["level"] != "likely"), -top["posts"], line.service)

    return sorted(lines, key=rank)


def most_telling(lines: Sequence[ServiceTimeline]) -> ServiceTimeline:
    """The timeline to show when the user names no service: the first of
    :func:`by_seriousness`."""
    if not lines:
        raise InputError("no service to show")
    return by_seriousness(lines)[0]


def main_incident(incidents: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The incident a chart should zoom on: ``likely`` before ``possible``, then most posts,
    then earliest; ``None`` when there is none."""
    if not incidents:
        return None
    return min(incidents, key=lambda i: (i["level"] != "likely", -i["posts"], i["start"]))


def incident_span(incident: dict[str, Any], until: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, stop)`` of an incident as UTC timestamps; ``stop`` is ``until`` while ongoing."""
    start = pd.Timestamp(parse_time(incident["start"], "start"))
    stop = pd.Timestamp(parse_time(incident["end"], "end")) if incident.get("end") else until
    return start, stop


def first_reports(rows: pd.DataFrame, incident: dict[str, Any], n: int = 5,
                  until: pd.Timestamp | None = None) -> pd.DataFrame:
    """The ``n`` earliest relevant posts inside an incident, one per author (the first words
    people wrote when it broke). Columns: ``created_at`` (UTC), ``source``, ``author``,
    ``country``, ``region``, ``relevance``, ``text``, ``url``, ``id``."""
    columns = ["created_at", "source", "author", "country", "region", "relevance", "text", "url",
               "id"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    start, stop = incident_span(incident, until if until is not None else rows["created_at"].max()
                                + pd.Timedelta(1))
    inside = rows[(rows["created_at"] >= start) & (rows["created_at"] < stop)]
    inside = inside.sort_values("created_at", kind="stable")
    who = inside["author"].astype("object").where(inside["author"].notna(), inside["id"])
    return inside.loc[~who.duplicated(), columns].head(n).reset_index(drop=True)


def spread_over_time(rows: pd.DataFrame, incident: dict[str, Any], every: str = "15min",
                     top: int = 5, until: pd.Timestamp | None = None) -> pd.DataFrame:
    """Located reports per country in each ``every`` interval of an incident.

    Rows: interval starts (UTC) from the incident's start; columns: the ``top`` countries of
    the whole incident, then ``other`` (the rest); values: unique authors first seen in that
    interval. Shows whether an outage began in one place and spread, or was everywhere at once.
    """
    start, stop = incident_span(incident, until if until is not None else
                                rows["created_at"].max() + pd.Timedelta(1))
    bins = pd.date_range(start, stop, freq=every, inclusive="left")
    inside = rows[(rows["created_at"] >= start) & (rows["created_at"] < stop)
                  & rows["country"].notna()].sort_values("created_at", kind="stable")
    who = inside["author"].astype("object").where(inside["author"].notna(), inside["id"])
    inside = inside[~who.duplicated()]
    if inside.empty:
        return pd.DataFrame(index=pd.DatetimeIndex(bins, name="interval"),
                            columns=pd.Index([], name="country"), dtype="int64")
    leaders = inside["country"].value_counts().head(top).index.tolist()
    place = inside["country"].where(inside["country"].isin(leaders), "other")
    slot = start + ((inside["created_at"] - start) // pd.Timedelta(every)) * pd.Timedelta(every)
    table = pd.crosstab(slot, place)
    columns = leaders + (["other"] if "other" in table.columns else [])
    out = table.reindex(index=bins, columns=columns, fill_value=0)
    out.index.name, out.columns.name = "interval", "country"
    return out
