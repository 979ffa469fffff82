"""Per-incident spread charts: one self-contained SVG file per incident, drawn offline.

The chart answers the operator's first question, "down everywhere or just here?", at a
glance: two panels of horizontal bars, countries on the left and first-level regions on the
right, each bar the place's share of the incident's located reports (top :data:`TOP` places).
Beside each bar: the share, the number of reports and the lift against the service's usual
mix ("×2.4" where the place reports 2.4 times its usual share), printed in bold red at
:data:`HOT_LIFT` or more. Places among the first to report are marked with a dot. The title
gives the service, start (UTC), level and scope.

Plain SVG text (no fonts, scripts or images loaded from anywhere), so the file opens in any
browser or image viewer without a network and can be attached to a ticket or an e-mail.
Names are XML-escaped (they come from the gazetteer, but a catalog name is user input).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

#: Bars per panel.
TOP = 10
#: Lift from which a place is drawn as "worse than usual".
HOT_LIFT = 2.0

_WIDTH, _ROW, _TOP_MARGIN, _PANEL = 980, 24, 78, 470
_NAME_W, _BAR_W = 150, 190
_BAR, _HOT, _TEXT, _MUTED = "#4a78b5", "#c0392b", "#222", "#777"


def chart_svg(incident: dict[str, Any]) -> str:
    """The SVG document for one incident dict as ``detect`` emits it (``regions``,
    ``subregions``, ``first_regions``, ``scope``, ``service``, ``start``, ``level``)."""
    first = {r["code"] for r in incident.get("first_regions") or []}
    countries = (incident.get("regions") or [])[:TOP]
    regions = (incident.get("subregions") or [])[:TOP]
    rows = max(len(countries), len(regions), 1)
    height = _TOP_MARGIN + rows * _ROW + 44
    title = (f"{incident.get('service', '?')}: {incident.get('level', '')} outage from "
             f"{incident.get('start', '?')}, scope {incident.get('scope') or 'unknown'}")
    located = sum(c.get("posts", 0) for c in incident.get("regions") or [])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
           f'viewBox="0 0 {_WIDTH} {height}" font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{_WIDTH}" height="{height}" fill="#fff"/>',
           f'<text x="16" y="24" font-size="15" font-weight="bold" fill="{_TEXT}">{escape(title)}</text>',
           f'<text x="16" y="44" fill="{_MUTED}">{located:,} located reports; bar = share of them; '
           f'×n = n times the usual share (red from ×{HOT_LIFT:g}); ● = among the first to report</text>']
    out += _panel("Countries", countries, first, 16)
    out += _panel("Regions", regions, first, 16 + _PANEL + 20, with_country=True)
    if not countries and not regions:
        out.append(f'<text x="16" y="{_TOP_MARGIN + 16}" fill="{_MUTED}">no located reports</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _panel(heading: str, places: Sequence[dict[str, Any]], first: set[str], x: int,
           with_country: bool = False) -> list[str]:
    out = [f'<text x="{x}" y="{_TOP_MARGIN - 12}" font-weight="bold" fill="{_TEXT}">{heading}</text>']
    top_share = max((p.get("share") or 0 for p in places), default=0) or 1
    for i, place in enumerate(places):
        y = _TOP_MARGIN + i * _ROW
        share = float(place.get("share") or 0)
        lift = place.get("lift")
        hot = lift is not None and lift >= HOT_LIFT
        width = max(1.0, _BAR_W * share / top_share)
        name = str(place.get("name") or place["code"])
        name = name if len(name) <= 20 else name[:19] + "…"
        if with_country:  # "Washington (US)", "Victoria (AU)"
            name += f" ({place['code'].split('-')[0]})"
        mark = " ●" if place["code"] in first else ""
        bar_x = x + _NAME_W
        out.append(f'<text x="{x}" y="{y + 15}" fill="{_TEXT}">{escape(name)}{mark}</text>')
        out.append(f'<rect x="{bar_x}" y="{y + 4}" width="{width:.1f}" height="{_ROW - 8}" '
                   f'fill="{_HOT if hot else _BAR}"/>')
        label = f"{share:.0%} · {int(place.get('posts', 0)):,}"
        if lift is not None:
            label += f" · ×{lift:g}"
        weight = ' font-weight="bold"' if hot else ""
        out.append(f'<text x="{bar_x + width + 6:.1f}" y="{y + 15}" fill="{_HOT if hot else _MUTED}"'
                   f'{weight}>{escape(label)}</text>')
    return out


def chart_name(incident: dict[str, Any]) -> str:
    """File name for an incident's chart: service and start, safe on every file system
    ("chatgpt-2024-12-26T1841Z.svg")."""
    start = re.sub(r"[^0-9TZ-]", "", str(incident.get("start") or "unknown"))
    service = re.sub(r"[^A-Za-z0-9_-]", "_", str(incident.get("service") or "service"))
    return f"{service}-{start[:15]}Z.svg"


def write_charts(incidents: Iterable[dict[str, Any]], directory: str | Path) -> list[Path]:
    """Write one chart per incident into ``directory`` (created if needed); the paths.

    Each file is written to a temporary name and renamed, so a reader never sees half a chart
    and a rerun replaces the earlier one.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for incident in incidents:
        path = directory / chart_name(incident)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(chart_svg(incident), encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths
