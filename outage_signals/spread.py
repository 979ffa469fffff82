"""Where an outage is, and where it began: the geographic spread of an incident's reports.

Input is the relevant posts of one service (a frame with ``created_at`` UTC, ``author``,
``source``, ``country`` ISO 3166-1 alpha-2 and ``region`` ISO 3166-2 or null). Authors are
counted once, where they were first located.

- ``lift``: how much larger a place's share of the incident's reports is than its share of the
  service's usual reports (the same service's relevant posts outside the incident). Shares are
  smoothed (add-one over the places seen), so a place with two reports is not "50× usual". A
  lift well above 1 says "worse than usual here", which a raw share cannot: the US dominates
  almost every service's chatter.
- ``scope``: ``local`` (one country, one region holding most reports far above its usual
  share), ``national`` (one country), ``multi-country`` (2–4 countries with a real share: 2 % and 3 authors),
  ``global`` (5 or more), or ``unknown`` when too few reports can be placed.
- ``first_regions``: places of the first located reports, within :data:`FIRST_WINDOW` of the
  start: where users noticed first.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from outage_signals.counting import author_key
from outage_signals.locating import country_name

#: Fewer located authors than this and the scope is "unknown".
MIN_LOCATED = 5
#: A country counts towards the scope with at least this share of located authors (a global
#: outage of a US-heavy service still has the US at 40 %, and 2-5 % each from many others)...
MIN_SHARE = 0.02
#: ...and at least this many authors (one traveller is not a country reporting).
MIN_AUTHORS = 3
#: One country holding this share makes the outage national (or local).
NATIONAL_SHARE = 0.8
#: Local: one region holds this share of the country's region-located authors, at this lift.
LOCAL_SHARE = 0.6
LOCAL_LIFT = 2.0
#: How long after the start reports count as "first".
FIRST_WINDOW = pd.Timedelta(minutes=15)
FIRST_MAX = 5


def _first_located(rows: pd.DataFrame) -> pd.DataFrame:
    located = rows[rows["country"].notna()]
    if located.empty:
        return located
    located = located.assign(who=author_key(located)).sort_values("created_at", kind="stable")
    return located.drop_duplicates("who")


def _shares(rows: pd.DataFrame, column: str) -> pd.Series:
    counts = rows[column].dropna().value_counts()
    return counts.sort_values(ascending=False, kind="stable")


def _lifts(inside: pd.Series, usual: pd.Series) -> dict[str, float | None]:
    """Smoothed share ratio per place; ``None`` for all when there is no usual mix."""
    if usual.sum() == 0:
        return {str(k): None for k in inside.index}
    places = set(inside.index) | set(usual.index)
    k = len(places)
    n_in, n_usual = inside.sum(), usual.sum()
    return {
        str(p): round(((inside.get(p, 0) + 1) / (n_in + k)) / ((usual.get(p, 0) + 1) / (n_usual + k)), 2)
        for p in inside.index
    }


def _entries(counts: pd.Series, lifts: dict[str, float | None]) -> list[dict[str, Any]]:
    total = int(counts.sum())
    return [{"code": str(code), "name": country_name(str(code)), "posts": int(n),
             "share": round(int(n) / total, 3), "lift": lifts.get(str(code))}
            for code, n in counts.items()]


def scope(countries: list[dict[str, Any]], regions: list[dict[str, Any]], located: int) -> str:
    """The scope label from country and region entries (see the module docstring)."""
    if located < MIN_LOCATED or not countries:
        return "unknown"
    real = [c for c in countries if c["share"] >= MIN_SHARE and c["posts"] >= MIN_AUTHORS]
    if countries[0]["share"] >= NATIONAL_SHARE or len(real) <= 1:
        top = countries[0]["code"]
        inland = [r for r in regions if r["code"].startswith(top + "-")]
        total = sum(r["posts"] for r in inland)
        if inland and total >= MIN_LOCATED:
            lead = inland[0]
            if lead["posts"] / total >= LOCAL_SHARE and (lead["lift"] or 0) >= LOCAL_LIFT:
                return "local"
        return "national"
    return "global" if len(real) >= 5 else "multi-country"


def spread(rows: pd.DataFrame, start: pd.Timestamp, stop: pd.Timestamp) -> dict[str, Any]:
    """Spread fields for an incident over ``[start, stop)`` from its service's relevant ``rows``.

    Returns ``regions`` (countries, largest first, with ``lift``), ``subregions`` (first-level
    regions, same fields), ``scope``, ``first_regions`` (codes with ``posts``) and ``located``
    (authors placed).
    """
    during = (rows["created_at"] >= start) & (rows["created_at"] < stop)
    inside = _first_located(rows[during])
    usual = _first_located(rows[~during])
    by_place = {}
    for column in ("country", "region"):
        now, before = _shares(inside, column), _shares(usual, column)
        by_place[column] = _entries(now, _lifts(now, before))
    countries, regions = by_place["country"], by_place["region"]
    early = inside[inside["created_at"] < start + FIRST_WINDOW].head(FIRST_MAX * 4)
    first = (early["region"].fillna(early["country"]).value_counts()
             .sort_values(ascending=False, kind="stable").head(FIRST_MAX))
    return {
        "regions": countries,
        "subregions": regions,
        "scope": scope(countries, regions, len(inside)),
        "first_regions": [{"code": str(code), "posts": int(n)} for code, n in first.items()],
        "located": len(inside),
    }
