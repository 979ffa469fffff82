"""A standalone HTML report of one or more services' timelines: what ``outage-signals report``
writes.

One file that opens in any browser without a network: the CSS is inline, each timeline chart
(:func:`outage_signals.plotting.timeline_figure`) is embedded as a base64 PNG, each incident's
spread chart (:mod:`outage_signals.spread_chart`) as inline SVG, and there is no script at all.
Per service: the chart, a table of incidents (level, start with its interval, first alert,
end, posts, peak rate and ratio, scope, top countries), then per incident its spread chart,
the most confidently relevant posts and the first reports.

Everything that comes from input data (post text, authors, service names from a user catalog)
is HTML-escaped; a post's link is kept only when it is an ``http(s)`` URL, so a crafted
``javascript:`` URL cannot run. All times are UTC.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from outage_signals import __version__
from outage_signals.errors import InputError
from outage_signals.jsonl import atomic_replace
from outage_signals.output import SCOPE_SHORT
from outage_signals.spread_chart import chart_svg
from outage_signals.timeline import ServiceTimeline, first_reports

#: Incidents per service shown in full (spread chart and posts); the table lists all of them.
DETAILED = 10
#: First reports listed per incident.
FIRST_REPORTS = 5

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1180px; padding: 16px 24px 48px; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #2c5d9c; padding-bottom: 4px; margin-top: 2em; }
h3 { margin-top: 1.6em; }
.muted { color: #666; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.likely { color: #c0392b; font-weight: bold; }
.possible { color: #b7791f; font-weight: bold; }
img.chart, svg { max-width: 100%; height: auto; }
blockquote { margin: 0.4em 0; padding: 6px 12px; background: #f7f7f7;
             border-left: 3px solid #2c5d9c; white-space: pre-wrap; }
.post-meta { font-size: 0.85em; color: #666; }
"""


def render_html(lines: Sequence[ServiceTimeline], *, inputs: Sequence[str] = (),
                title: str | None = None, charts: bool = True) -> str:
    """The report as one HTML document (a string).

    ``lines``: the timelines to show, in order. ``inputs``: what was read (file names or
    "the post store"), named in the header. ``charts=False`` leaves the timeline PNGs out
    (a smaller file; the spread charts stay).
    """
    if not lines:
        raise InputError("nothing to report: no service timelines")
    title = title or "outage-signals report: " + ", ".join(line.name for line in lines[:4]) + (
        " and more" if len(lines) > 4 else "")
    first = min(line.start for line in lines)
    last = max(line.until for line in lines)
    total = sum(len(line.incidents) for line in lines)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
           f"<h1>{escape(title)}</h1>",
           f'<p class="muted">{_stamp(first)} to {_stamp(last)} UTC; {total} incident'
           f"{'s' if total != 1 else ''} in {len(lines)} service{'s' if len(lines) != 1 else ''}"
           + (f"; read from {escape(', '.join(inputs))}" if inputs else "") + "</p>"]
    if len(lines) > 1:
        out += _contents(lines)
    for line in lines:
        out += _section(line, charts)
    out += ['<hr><p class="muted">Written by outage-signals ' + escape(__version__) + ". Counts are "
            "unique authors of relevant posts (the classifier's judgement) per bin; the baseline is "
            "the detector's expected count. <i>start</i> is the change point and its interval the "
            "range that holds the true start with high confidence; <i>detected_at</i> is the first "
            "moment a run seeing only earlier data raised the incident; <i>end</i> is when the "
            "rate fell back to the baseline. Lift: a place's share of the incident's reports over "
            "its usual share for this service. All times UTC.</p>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def _stamp(ts: pd.Timestamp) -> str:
    return f"{pd.Timestamp(ts).tz_convert('UTC'):%Y-%m-%d %H:%M}"


def _anchor(key: str) -> str:
    return "svc-" + re.sub(r"[^A-Za-z0-9_-]", "_", key)


def _contents(lines: Sequence[ServiceTimeline]) -> list[str]:
    out = ["<table>", "<tr><th>service</th><th>incidents</th><th>most serious</th></tr>"]
    for line in lines:
        levels = [i["level"] for i in line.incidents]
        worst = "likely" if "likely" in levels else "possible" if levels else "none"
        out.append(f'<tr><td><a href="#{_anchor(line.service)}">{escape(line.name)}</a></td>'
                   f'<td class="num">{len(line.incidents)}</td><td class="{worst}">{worst}</td></tr>')
    out.append("</table>")
    return out


def _section(line: ServiceTimeline, charts: bool) -> list[str]:
    from outage_signals.plotting import png_bytes, timeline_figure

    relevant = len(line.rows)
    out = [f'<h2 id="{_anchor(line.service)}">{escape(line.name)} '
           f'<span class="muted">({escape(line.service)})</span></h2>',
           f'<p class="muted">{_stamp(line.start)} to {_stamp(line.until)} UTC in bins of '
           f"{escape(line.bin_size)}; {relevant:,} relevant posts; baseline "
           f"{'fitted on this window' if line.baseline_from == 'window' else 'from a baseline file'}"
           "</p>"]
    if charts:
        encoded = base64.b64encode(png_bytes(timeline_figure(line))).decode("ascii")
        out.append(f'<img class="chart" alt="{escape(line.name)}: reports per minute against the '
                   f'baseline" src="data:image/png;base64,{encoded}">')
    if not line.incidents:
        out.append("<p>No incident in this window.</p>")
        return out
    out += _incident_table(line.incidents)
    for n, incident in enumerate(line.incidents[:DETAILED], start=1):
        out += _incident_detail(line, incident, n)
    if len(line.incidents) > DETAILED:
        out.append(f'<p class="muted">{len(line.incidents) - DETAILED} more incident(s) are in the '
                   "table above; `outage-signals detect --format json` gives every field.</p>")
    return out


def _interval(incident: dict[str, Any]) -> str:
    return f"{incident['start_low'][11:16]}–{incident['start_high'][11:16]}"


def _when(iso: str | None) -> str:
    return "ongoing" if not iso else f"{iso[:10]} {iso[11:16]}"


def _incident_table(incidents: Sequence[dict[str, Any]]) -> list[str]:
    out = ["<table>", "<tr><th>#</th><th>level</th><th>start</th><th>interval</th>"
           "<th>detected_at</th><th>end</th><th>posts</th><th>peak/min</th><th>× baseline</th>"
           "<th>scope</th><th>top countries</th></tr>"]
    for n, inc in enumerate(incidents, start=1):
        top = ", ".join(f"{escape(r['code'])} {r['share']:.0%}" for r in (inc.get("regions") or [])[:3])
        scope = inc.get("scope") or "unknown"
        out.append(
            f'<tr><td class="num">{n}</td><td class="{escape(inc["level"])}">{escape(inc["level"])}</td>'
            f"<td>{_when(inc['start'])}</td><td>{_interval(inc)}</td>"
            f"<td>{_when(inc['detected_at'])}</td><td>{_when(inc.get('end'))}</td>"
            f'<td class="num">{inc["posts"]:,}</td><td class="num">{inc["peak_per_min"]:g}</td>'
            f'<td class="num">{inc["ratio"]:g}</td>'
            f'<td title="{escape(scope)}">{escape(SCOPE_SHORT.get(scope, scope))}</td>'
            f"<td>{top or '—'}</td></tr>")
    out.append("</table>")
    return out


def _incident_detail(line: ServiceTimeline, incident: dict[str, Any], n: int) -> list[str]:
    sources = ", ".join(f"{escape(str(k))} {v:,}" for k, v in (incident.get("sources") or {}).items())
    out = [f'<h3>Incident {n}: <span class="{escape(incident["level"])}">{escape(incident["level"])}'
           f"</span> from {_when(incident['start'])} UTC</h3>",
           f"<p>Start {incident['start'][11:16]} (interval {_interval(incident)}), first alert "
           f"{_when(incident['detected_at'])}, peak at {_when(incident['peak_at'])} with "
           f"{incident['peak_per_min']:g} reports/min ({incident['ratio']:g}× the baseline of "
           f"{incident['baseline_per_min']:g}/min), end {_when(incident.get('end'))}; "
           f"{incident['posts']:,} authors" + (f" ({sources})" if sources else "") + ".</p>"]
    svg = chart_svg(incident)
    # Inline SVG in HTML needs no namespace declaration; dropping it keeps the file free of
    # any URL but the posts' own links.
    out.append(svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1))
    examples = incident.get("examples") or []
    if examples:
        out.append("<h4>Most confidently relevant posts</h4>")
        out += [_post(e.get("text", ""), e.get("url"), "") for e in examples]
    firsts = first_reports(line.rows, incident, FIRST_REPORTS, until=line.until)
    if len(firsts):
        out.append("<h4>First reports</h4>")
        for row in firsts.itertuples():
            place = row.region if isinstance(row.region, str) else row.country
            meta = (f"{row.created_at:%Y-%m-%d %H:%M:%S} UTC · {row.source}"
                    + (f" · {place}" if isinstance(place, str) else "")
                    + f" · relevance {row.relevance:.2f}")
            out.append(_post(row.text, row.url, meta))
    return out


def _post(text: Any, url: Any, meta: str) -> str:
    link = ""
    if isinstance(url, str) and re.match(r"^https?://[^\s\"'<>]+$", url):
        link = f' <a href="{escape(url, quote=True)}" rel="noopener noreferrer">link</a>'
    head = f'<div class="post-meta">{escape(meta)}{link}</div>' if meta or link else ""
    return f"{head}<blockquote>{escape(str(text))}</blockquote>"


def write_html(text: str, path: str | Path) -> Path:
    """Write the report atomically; :class:`InputError` when ``path`` cannot be written."""
    path = Path(path)
    try:
        with atomic_replace(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
