"""Incidents: a detected surge plus the evidence behind it, in the contract's JSON shape.

:func:`build_incident` takes a :class:`~outage_signals.detecting.Surge` and the relevant posts
of its service (a frame from :func:`outage_signals.pipeline.relevant_rows`) and fills every
field of ``../shared/CONTRACT.md`` section 2: post and author counts, regions, sources, examples;
plus the spread fields of :mod:`outage_signals.spread` (``scope``, ``subregions``, ``first_regions``,
and ``lift`` on each region).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from outage_signals.counting import author_key
from outage_signals.detecting import Surge
from outage_signals.records import format_time
from outage_signals.spread import spread

#: Columns that :func:`build_incident` reads from the relevant-posts frame.
ROW_COLUMNS = ("service", "created_at", "author", "source", "id", "text", "url", "relevance",
               "country", "region")
EXAMPLES = 3


def examples(rows: pd.DataFrame, n: int = EXAMPLES) -> list[dict[str, Any]]:
    """A few of the most confidently relevant posts, distinct texts, earliest first among ties."""
    if rows.empty:
        return []
    ordered = rows.sort_values(["relevance", "created_at"], ascending=[False, True], kind="stable")
    ordered = ordered.drop_duplicates("text").head(n)
    return [{"id": str(r.id), "text": str(r.text), "url": None if pd.isna(r.url) else str(r.url)}
            for r in ordered.itertuples()]


def surge_fields(surge: Surge) -> dict[str, Any]:
    """The timing and rate fields of an incident, in contract order, without the evidence.

    ``posts``, ``regions``, ``sources`` and ``examples`` are placeholders for the caller to
    fill. Causal-replay extras (``possible_at``, ``start_at_detection``) follow when set.
    """
    fields: dict[str, Any] = {
        "service": surge.service,
        "start": format_time(surge.start),
        "start_low": format_time(surge.start_low),
        "start_high": format_time(surge.start_high),
        "detected_at": format_time(surge.detected_at),
        "peak_at": format_time(surge.peak_at),
        "end": format_time(surge.end) if surge.end is not None else None,
        "level": surge.level,
        "posts": 0,
        "baseline_per_min": round(surge.baseline_per_min, 3),
        "peak_per_min": round(surge.peak_per_min, 2),
        "ratio": round(surge.ratio, 1),
        "regions": [],
        "sources": {},
        "examples": [],
    }
    if surge.possible_at is not None:
        fields["possible_at"] = format_time(surge.possible_at)
    if surge.start_at_detection is not None:
        fields["start_at_detection"] = format_time(surge.start_at_detection)
    return fields


def build_incident(surge: Surge, rows: pd.DataFrame, until: pd.Timestamp) -> dict[str, Any]:
    """The contract's incident object for ``surge``.

    ``rows``: relevant posts of the surge's service (see :data:`ROW_COLUMNS`); ``until``: the
    end of the scanned data, used as the incident's end for counting while it is ongoing.
    """
    stop = surge.end if surge.end is not None else until
    inside = rows[(rows["created_at"] >= surge.start) & (rows["created_at"] < stop)]
    who = author_key(inside)
    by_source = inside.assign(who=who).drop_duplicates(["source", "who"]).groupby("source").size()
    fields = surge_fields(surge)
    where = spread(rows, surge.start, stop)
    fields.update(
        posts=int(who.nunique()),
        regions=where["regions"],
        sources={str(k): int(v) for k, v in by_source.sort_values(ascending=False).items()},
        examples=examples(inside),
        scope=where["scope"],
        subregions=where["subregions"],
        first_regions=where["first_regions"],
    )
    return fields
