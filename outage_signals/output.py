"""Formatting incidents for people and programs: an 80-column table, CSV and JSON.

All three show the same incidents; JSON is the contract's array, CSV flattens it (regions as
``US:0.41;GB:0.12``), the table abbreviates to fit a terminal.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "json", "csv")
TABLE_WIDTH = 80

CSV_COLUMNS = ("service", "level", "start", "start_low", "start_high", "detected_at", "peak_at",
               "end", "posts", "baseline_per_min", "peak_per_min", "ratio", "regions", "sources",
               "scope", "subregions", "first_regions")
#: Scope labels as the table shows them (10 columns are left for WHERE).
SCOPE_SHORT = {"local": "loc", "national": "natl", "multi-country": "mult", "global": "glob",
               "unknown": "?"}


def to_json(incidents: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(incidents), ensure_ascii=False, indent=2) + "\n"


def to_csv(incidents: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for inc in incidents:
        row = dict(inc)
        for key in ("regions", "subregions"):
            row[key] = ";".join(f"{r['code']}:{r['share']}" for r in inc.get(key, []))
        row["first_regions"] = ";".join(f"{r['code']}:{r['posts']}" for r in inc.get("first_regions", []))
        row["sources"] = ";".join(f"{k}:{v}" for k, v in inc["sources"].items())
        writer.writerow(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


def _hm(iso: str | None) -> str:
    """``2024-12-26T18:40:00Z`` -> ``12-26 18:40``."""
    if not iso:
        return "ongoing"
    return f"{iso[5:10]} {iso[11:16]}"


def _interval_minutes(inc: dict[str, Any]) -> str:
    from datetime import datetime

    low = datetime.fromisoformat(inc["start_low"].replace("Z", "+00:00"))
    high = datetime.fromisoformat(inc["start_high"].replace("Z", "+00:00"))
    half = (high - low).total_seconds() / 120.0
    return f"±{half:.0f}m" if half >= 0.5 else "±0m"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def to_table(incidents: Sequence[dict[str, Any]], width: int = TABLE_WIDTH) -> str:
    """A fixed-width table no wider than ``width`` columns (times in UTC)."""
    if not incidents:
        return "no incidents found\n"
    header = (f"{'SERVICE':<12} {'LEVEL':<8} {'START UTC':<11} {'±':<4} {'END UTC':<11} "
              f"{'PEAK/m':>6} {'×BASE':>5} {'POSTS':>5} WHERE")
    lines = [header[:width]]
    for inc in incidents:
        regions = inc["regions"]
        where = f"{regions[0]['code']}{regions[0]['share']:.0%}" if regions else "-"
        if inc.get("scope"):
            where += f" {SCOPE_SHORT.get(inc['scope'], inc['scope'])}"
        ratio = f"{inc['ratio']:.0f}×" if inc["ratio"] >= 10 else f"{inc['ratio']:.1f}×"
        line = (f"{_fit(inc['service'], 12):<12} {inc['level']:<8} {_hm(inc['start']):<11} "
                f"{_interval_minutes(inc):<4} {_hm(inc['end']):<11} {inc['peak_per_min']:>6.1f} "
                f"{ratio:>5} {inc['posts']:>5} {where}")
        if len(line) > width:
            line = line[: width - 1] + "…"
        lines.append(line)
    years = sorted({inc["start"][:4] for inc in incidents})
    lines.append(f"{len(incidents)} incident(s); dates in {'/'.join(years)}, times UTC; WHERE: top "
                 "country and share, scope")
    lines.append("(loc = one region, natl = one country, mult = 2-4 countries, glob = 5 or more)")
    lines.append("--format json gives every field")
    return "\n".join(lines) + "\n"


def render(incidents: Sequence[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return to_json(incidents)
    if fmt == "csv":
        return to_csv(incidents)
    return to_table(incidents)
