"""Charts of a service's timeline and of an incident's places, drawn off-screen with matplotlib.

:func:`timeline_figure` is what ``outage-signals plot`` writes and ``report`` embeds: the
relevant reports per minute against the baseline the detector used, every incident shaded,
and for the main incident two close-ups, the *onset* (the start estimate and its interval,
the first alert ``detected_at`` and the bins that raised ``possible`` and ``likely`` alarms)
and the *recovery* (where the rate fell back to the baseline, the incident's ``end``).
Over days of one-minute bins a three-minute interval is a hair's width, hence the close-ups.

:func:`regions_figure` draws an incident's countries and regions (share of located reports,
lift against the service's usual mix) for notebooks; the HTML report uses the SVG of
:mod:`outage_signals.spread_chart` instead.

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot, so nothing here
touches a display or global state; :func:`save_figure` and :func:`png_bytes` render them with
the Agg backend. All times are UTC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from outage_signals.errors import InputError
from outage_signals.jsonl import atomic_replace
from outage_signals.records import parse_time
from outage_signals.timeline import ServiceTimeline, incident_span, main_incident

#: File types :func:`save_figure` writes, by suffix.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Minutes shown before the start interval and after the first alert in the onset close-up.
ONSET_BEFORE_MIN, ONSET_AFTER_MIN = 60, 60
#: Minutes shown before and after the end in the recovery close-up.
RECOVERY_BEFORE_MIN, RECOVERY_AFTER_MIN = 120, 60
#: Bars per panel in :func:`regions_figure`; lift from which a bar is drawn as hot.
TOP_PLACES, HOT_LIFT = 10, 2.0

_COUNT, _SMOOTH, _BASE = "#9db4d3", "#2c5d9c", "#e08a1e"
_LEVEL_COLOUR = {"likely": "#c0392b", "possible": "#e6a23c"}
_INTERVAL, _END, _MUTED = "#2e8b57", "#2e8b57", "#666666"


def _x(ts: Any) -> np.datetime64:
    """A UTC time as the naive ``datetime64`` matplotlib plots (its date axis is UTC)."""
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
    return stamp.to_datetime64()


def _xs(index: pd.DatetimeIndex) -> np.ndarray:
    return index.tz_convert("UTC").tz_localize(None).to_numpy()


def _date_axis(ax) -> None:
    locator = AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=True))


def _time(iso: str | None) -> str:
    """``2024-12-26T18:41:00Z`` -> ``12-26 18:41``."""
    return "ongoing" if not iso else f"{iso[5:10]} {iso[11:16]}"


def timeline_figure(line: ServiceTimeline, incident: dict[str, Any] | None = None, *,
                    width: float = 11.0) -> Figure:
    """The series against its baseline, incidents shaded, and close-ups of one incident.

    ``incident``: which of ``line.incidents`` to zoom on (default: :func:`main_incident`);
    without any incident the figure is the overview alone, titled to say so. Rates are
    reports per minute (unique authors per bin divided by the bin's minutes).
    """
    incident = incident if incident is not None else main_incident(line.incidents)
    fig = Figure(figsize=(width, 7.2 if incident else 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    if incident is None:
        _overview(fig.add_subplot(1, 1, 1), line, None)
    else:
        grid = fig.add_gridspec(2, 2, height_ratios=(1.0, 1.15))
        _overview(fig.add_subplot(grid[0, :]), line, incident)
        _onset(fig.add_subplot(grid[1, 0]), line, incident)
        _recovery(fig.add_subplot(grid[1, 1]), line, incident)
    baseline = "fitted on this window" if line.baseline_from == "window" else "from a baseline file"
    fig.suptitle(f"{line.name} ({line.service}): relevant reports per minute (UTC), "
                 f"baseline {baseline}", fontsize=12, fontweight="bold")
    return fig


def _rates(line: ServiceTimeline, lo: pd.Timestamp | None = None,
           hi: pd.Timestamp | None = None) -> tuple[pd.Series, pd.Series]:
    per_min = line.counts / line.bin_minutes
    base = line.expected / line.bin_minutes
    if lo is not None:
        keep = (per_min.index >= lo) & (per_min.index < hi)
        per_min, base = per_min[keep], base[keep]
    return per_min, base


def _scale(ax, per_min: pd.Series, base: pd.Series) -> None:
    """Log-like scale when the peak dwarfs the baseline, so both stay readable."""
    peak = float(per_min.max()) if len(per_min) else 0.0
    usual = float(np.median(base)) if len(base) else 0.0
    if peak > 20 * max(usual, 1e-9) and peak > 5:
        ax.set_yscale("symlog", linthresh=max(0.1, round(usual, 2) or 0.1), linscale=0.6)
    ax.set_ylim(bottom=0)


def _overview(ax, line: ServiceTimeline, focus: dict[str, Any] | None) -> None:
    per_min, base = _rates(line)
    window = max(1, round(15 / line.bin_minutes))
    smooth = per_min.rolling(window, center=True, min_periods=1).mean()
    x = _xs(per_min.index)
    ax.plot(x, per_min.to_numpy(), color=_COUNT, lw=0.4, alpha=0.6, label="reports per minute")
    ax.plot(x, smooth.to_numpy(), color=_SMOOTH, lw=1.2, label="15-minute mean")
    ax.plot(x, base.to_numpy(), color=_BASE, lw=1.4, ls="--", label="baseline (expected)")
    for incident in line.incidents:
        start, stop = incident_span(incident, line.until)
        colour = _LEVEL_COLOUR.get(incident["level"], _MUTED)
        ax.axvspan(_x(start), _x(stop), color=colour, alpha=0.22 if incident is focus else 0.12,
                   lw=0, label=f"{incident['level']} incident" if incident is focus else None)
    _scale(ax, per_min, base)
    _date_axis(ax)
    ax.set_ylabel("per minute")
    ax.margins(x=0)
    if not line.incidents:
        ax.set_title(f"no incident from {line.start:%Y-%m-%d %H:%M} to {line.until:%Y-%m-%d %H:%M}",
                     fontsize=10, color=_MUTED)
    else:
        count = len(line.incidents)
        ax.set_title(f"{count} incident{'s' if count != 1 else ''}; shaded from start to end",
                     fontsize=10, color=_MUTED)
    ax.legend(loc="upper left", fontsize=8, ncols=4, frameon=False)


def _step(ax, per_min: pd.Series, base: pd.Series) -> None:
    x = _xs(per_min.index)
    ax.step(x, per_min.to_numpy(), where="post", color=_SMOOTH, lw=1.0, label="reports per minute")
    ax.step(x, base.to_numpy(), where="post", color=_BASE, lw=1.4, ls="--", label="baseline")
    _scale(ax, per_min, base)
    _date_axis(ax)
    ax.margins(x=0)


def _onset(ax, line: ServiceTimeline, incident: dict[str, Any]) -> None:
    low = pd.Timestamp(parse_time(incident["start_low"], "start_low"))
    high = pd.Timestamp(parse_time(incident["start_high"], "start_high"))
    start = pd.Timestamp(parse_time(incident["start"], "start"))
    detected = pd.Timestamp(parse_time(incident["detected_at"], "detected_at"))
    lo = low - pd.Timedelta(minutes=ONSET_BEFORE_MIN)
    hi = max(detected, high) + pd.Timedelta(minutes=ONSET_AFTER_MIN)
    per_min, base = _rates(line, lo, hi)
    _step(ax, per_min, base)
    bin_delta = pd.Timedelta(minutes=line.bin_minutes)
    ax.axvspan(_x(low), _x(high + bin_delta), color=_INTERVAL, alpha=0.25, lw=0,
               label=f"start interval {incident['start_low'][11:16]}–{incident['start_high'][11:16]}")
    ax.axvline(_x(start), color=_INTERVAL, lw=1.6, label=f"start {incident['start'][11:16]}")
    ax.axvline(_x(detected), color=_LEVEL_COLOUR["likely"], lw=1.4, ls=":",
               label=f"detected_at {incident['detected_at'][11:16]} ({incident['level']})")
    # Alarm bins as a rug along the bottom: where a run would have raised each level.
    flags = line.scores[(line.scores.index >= lo) & (line.scores.index < hi)]
    for level, y in (("possible", 0.02), ("likely", 0.06)):
        at = flags.index[flags[level].to_numpy()]
        if len(at):
            ax.plot(_xs(at), np.full(len(at), y), "|", ms=7, color=_LEVEL_COLOUR[level],
                    transform=ax.get_xaxis_transform(), label=f"{level} alarm bins")
    ax.set_title(f"onset: start {incident['start'][11:16]} UTC "
                 f"(interval {incident['start_low'][11:16]}–{incident['start_high'][11:16]})",
                 fontsize=10)
    ax.set_ylabel("per minute")
    ax.legend(loc="upper left", fontsize=7.5, frameon=False)


def _recovery(ax, line: ServiceTimeline, incident: dict[str, Any]) -> None:
    start, stop = incident_span(incident, line.until)
    if incident.get("end") is None:
        lo = max(start, line.until - pd.Timedelta(minutes=RECOVERY_BEFORE_MIN + RECOVERY_AFTER_MIN))
        per_min, base = _rates(line, lo, line.until)
        _step(ax, per_min, base)
        ax.set_title("recovery: still elevated where the data ends", fontsize=10)
    else:
        lo = max(start, stop - pd.Timedelta(minutes=RECOVERY_BEFORE_MIN))
        per_min, base = _rates(line, lo, stop + pd.Timedelta(minutes=RECOVERY_AFTER_MIN))
        _step(ax, per_min, base)
        ax.axvline(_x(stop), color=_END, lw=1.6, label=f"end {incident['end'][11:16]}")
        duration = (stop - start).total_seconds() / 60
        length = f"{duration / 60:.1f} h" if duration >= 120 else f"{duration:.0f} min"
        ax.set_title(f"recovery: back to baseline at {_time(incident['end'])} UTC, after {length}",
                     fontsize=10)
    ax.legend(loc="upper right", fontsize=7.5, frameon=False)


def regions_figure(incident: dict[str, Any], top: int = TOP_PLACES, *,
                   width: float = 11.0) -> Figure:
    """Countries and first-level regions of an incident: bars of share of located reports,
    labelled with share, reports and lift (red from :data:`HOT_LIFT`); ``●`` marks places
    among the first to report."""
    countries = (incident.get("regions") or [])[:top]
    regions = (incident.get("subregions") or [])[:top]
    rows = max(len(countries), len(regions), 1)
    fig = Figure(figsize=(width, 1.2 + 0.32 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    first = {r["code"] for r in incident.get("first_regions") or []}
    for n, (title, places) in enumerate((("countries", countries), ("regions", regions))):
        ax = fig.add_subplot(1, 2, n + 1)
        _bars(ax, places, first, rows, with_country=n == 1)
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"{incident.get('service', '?')}: where the {incident.get('level', '')} incident "
                 f"from {_time(incident.get('start'))} UTC was reported "
                 f"(scope {incident.get('scope') or 'unknown'})", fontsize=11, fontweight="bold")
    return fig


def _bars(ax, places: list[dict[str, Any]], first: set[str], rows: int, with_country: bool) -> None:
    ax.set_xlim(0, 1.35 * max((p.get("share") or 0 for p in places), default=1) or 1)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    if not places:
        ax.set_yticks([])
        ax.text(0.02, 0, "no located reports", color=_MUTED, va="center")
        return
    names = []
    for i, place in enumerate(places):
        share, lift = float(place.get("share") or 0), place.get("lift")
        hot = lift is not None and lift >= HOT_LIFT
        ax.barh(i, share, color=_LEVEL_COLOUR["likely"] if hot else _SMOOTH, height=0.7)
        label = f"{share:.0%} · {int(place.get('posts', 0)):,}" + (f" · ×{lift:g}" if lift else "")
        ax.text(share, i, "  " + label, va="center", fontsize=8,
                color=_LEVEL_COLOUR["likely"] if hot else _MUTED,
                fontweight="bold" if hot else "normal")
        name = str(place.get("name") or place["code"])[:22]
        if with_country:
            name += f" ({place['code'].split('-')[0]})"
        names.append(name + (" ●" if place["code"] in first else ""))
    ax.set_yticks(range(len(places)), names, fontsize=8)


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (for embedding in HTML)."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def figure_format(path: str | Path) -> str:
    """The file type for ``path`` by its suffix (see :data:`FORMATS`); :class:`InputError`
    for any other suffix, so a command can refuse before doing the work."""
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError(f"{path}: charts are written as {', '.join(FORMATS)}; "
                         "give a file name ending in one of them")
    return kind


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` as PNG, SVG or PDF (by suffix), atomically; missing parent
    directories are created.

    Raises :class:`InputError` for another suffix or when the file cannot be written.
    """
    path = Path(path)
    kind = figure_format(path)
    try:
        with atomic_replace(path) as tmp:
            fig.savefig(tmp, format=kind, dpi=dpi)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
