"""The words of an alert: title and body for people, from an outbox payload.

A payload (:mod:`outage_signals.ledger`) is ``{"delivery_id", "event", "incident_key",
"incident"}`` with the contract's incident object. People get a title that says service, event
and level, and a body with the estimated start (UTC, with its interval), posts and ratio, the
top regions, example posts and, when the provider's status page has spoken, how far ahead we
were. Machines get the payload itself (``incident://`` destinations, see
:mod:`outage_signals.delivery`).
"""

from __future__ import annotations

from typing import Any

from outage_signals.records import parse_time

#: Example posts quoted in a message.
EXAMPLES = 3
#: Regions named in a message.
REGIONS = 4
_WORDS = {"new": "outage", "escalated": "escalated", "updated": "update", "resolved": "resolved"}


def _hm(iso: str | None) -> str:
    return parse_time(iso, "incident time").strftime("%Y-%m-%d %H:%M UTC") if iso else "?"


def _clock(iso: str | None) -> str:
    return _hm(iso)[11:16] if iso else "?"


def title(payload: dict[str, Any]) -> str:
    """One line: "[LIKELY] chatgpt outage since 18:41 UTC" / "[RESOLVED] chatgpt 18:41–20:12 UTC"."""
    inc, event = payload["incident"], payload["event"]
    if event == "resolved":
        return (f"[RESOLVED] {inc['service']} outage {_clock(inc['start'])}–{_clock(inc.get('end'))}"
                " UTC")
    return f"[{inc['level'].upper()}] {inc['service']} {_WORDS[event]} since {_clock(inc['start'])} UTC"


def body(payload: dict[str, Any]) -> str:
    """Plain-text lines for chat and e-mail (no markup: every destination shows it as is)."""
    inc = payload["incident"]
    lines = [f"Estimated start: {_hm(inc['start'])} "
             f"(between {_clock(inc.get('start_low'))} and {_clock(inc.get('start_high'))})"]
    if inc.get("end"):
        lines.append(f"Ended: {_hm(inc['end'])}")
    lines.append(f"Reports: {inc['posts']} people; peak {inc.get('peak_per_min', 0):.1f}/min, "
                 f"{inc.get('ratio', 0):.0f}× the usual rate")
    regions = inc.get("regions") or []
    if regions:
        where = ", ".join(f"{r.get('name') or r['code']} {r['share']:.0%}" for r in regions[:REGIONS])
        scope = f" ({inc['scope']})" if inc.get("scope") else ""
        lines.append(f"Where: {where}{scope}")
    status = inc.get("status_page")
    if status and status.get("acknowledged_at"):
        lead = status.get("lead_minutes")
        ahead = (f", {lead:.0f} min after our detection" if lead is not None and lead >= 0
                 else f", {-lead:.0f} min before our detection" if lead is not None else "")
        lines.append(f"Status page: \"{status.get('name', '')}\" at {_hm(status['acknowledged_at'])}"
                     f"{ahead}")
    for example in (inc.get("examples") or [])[:EXAMPLES]:
        text = " ".join(str(example.get("text", "")).split())
        text = text if len(text) <= 160 else text[:157] + "..."
        url = f" {example['url']}" if example.get("url") else ""
        lines.append(f"• \"{text}\"{url}")
    lines.append(f"Incident {payload['incident_key']} ({payload['event']})")
    return "\n".join(lines)
