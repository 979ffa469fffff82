"""Per-service count series of relevant posts, each author counted once per service per bin.

Input is a frame of relevant ``(post, service)`` rows with at least ``service``,
``created_at`` (UTC) and ``author`` columns; output is a frame indexed by bin start (UTC) with
one column per service and zeros for empty bins. Posts without an author count as their own
author (by ``source`` and ``id``), so an anonymous post is never merged with another.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd


def bin_index(since: datetime | pd.Timestamp, until: datetime | pd.Timestamp,
              bin_size: str = "1min") -> pd.DatetimeIndex:
    """Bin starts covering ``[since, until)``, aligned to the bin size, in UTC."""
    start = pd.Timestamp(since).tz_convert("UTC").floor(bin_size)
    end = pd.Timestamp(until).tz_convert("UTC")
    return pd.date_range(start, end, freq=bin_size, inclusive="left", tz="UTC")


def author_key(rows: pd.DataFrame) -> pd.Series:
    """Who posted each row: the author, or the post itself (``post:SOURCE:ID``) when anonymous.

    ``rows`` needs ``author``, ``source`` and ``id`` columns.
    """
    fallback = "post:" + rows["source"].astype(str) + ":" + rows["id"].astype(str)
    return rows["author"].astype("object").where(rows["author"].notna(), fallback).astype(str)


def count_series(rows: pd.DataFrame, index: pd.DatetimeIndex,
                 services: list[str] | None = None) -> pd.DataFrame:
    """Unique authors per service per bin over ``index`` (bins of ``index.freq``).

    ``rows`` needs ``service``, ``created_at``, ``author``, ``source`` and ``id``. Rows outside
    the index are ignored. ``services`` fixes the columns (default: those present in rows).
    """
    if services is None:
        services = sorted(rows["service"].dropna().unique().tolist()) if len(rows) else []
    freq = index.freq or pd.tseries.frequencies.to_offset("1min")
    out = pd.DataFrame(0, index=index, columns=services, dtype="int64")
    if len(rows) == 0 or len(index) == 0:
        return out
    frame = rows[["service", "created_at", "author", "source", "id"]].copy()
    frame["who"] = author_key(frame)
    frame["bin"] = frame["created_at"].dt.floor(freq)
    frame = frame[(frame["bin"] >= index[0]) & (frame["bin"] <= index[-1])
                  & frame["service"].isin(services)]
    counts = (frame.drop_duplicates(["service", "bin", "who"])
              .groupby(["bin", "service"]).size().unstack("service", fill_value=0))
    out.loc[counts.index, counts.columns] = counts.to_numpy()
    return out
