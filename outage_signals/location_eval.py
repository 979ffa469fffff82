"""Scoring the location chain on a labelled set: ``outage-signals evaluate-locations``.

A case is ``{"id", "method", "kind", "post": {...}, "country", "region"}`` (see
``data/locations/README.md``): post fields that matter (``text``, ``place``, ``coordinates``,
``user_location``, ``subreddit``) and the expected answer, ``null`` country for strings that
name no place. Scores: country and region accuracy per expected method and per kind, the share of
junk that resolves to nothing, and the country accuracy on resolvable profile strings (the
issue's target).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from outage_signals import locating
from outage_signals.errors import InvalidRecordError
from outage_signals.records import post_from_dict


def bundled_cases_path() -> str:
    """The labelled set shipped with the package (``data/locations/cases.jsonl``)."""
    return str(resources.files("outage_signals.locations") / "cases.jsonl")


def read_cases(path: str) -> Iterator[dict[str, Any]]:
    """Cases from a JSON Lines file; a malformed line raises with its file and line."""
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidRecordError(f"not valid JSON ({exc.msg})", path, lineno) from None
            if not isinstance(case, dict) or not isinstance(case.get("post"), dict) \
                    or "country" not in case:
                raise InvalidRecordError("a case needs `post` (object) and `country`", path, lineno)
            yield case


def _post(case: dict[str, Any]):
    fields = {"id": str(case.get("id", "case")), "source": "eval",
              "created_at": "2025-01-01T00:00:00Z", "text": "", **case["post"]}
    return post_from_dict(fields)


def evaluate(cases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per-case results and the summary described in the module docstring."""
    groups: dict[str, dict[str, list]] = {"method": defaultdict(list), "kind": defaultdict(list)}
    misses = []
    results = []
    for case in cases:
        found = locating.locate(_post(case))
        got_country = found["country"] if found else None
        got_region = found["region"] if found else None
        ok_country = got_country == case["country"]
        ok_region = ok_country and (case.get("region") is None or got_region == case.get("region"))
        row = (ok_country, ok_region, found["method"] if found else None)
        results.append(row)
        groups["method"][case.get("method") or "none"].append(row)
        groups["kind"][case.get("kind") or "-"].append(row)
        if not ok_country:
            misses.append({"id": case.get("id"), "kind": case.get("kind"), "post": case["post"],
                           "expected": case["country"], "got": got_country,
                           "method": row[2]})
    def summary(rows):
        n = len(rows)
        return {"n": n, "country": round(sum(r[0] for r in rows) / n, 3) if n else None,
                "region": round(sum(r[1] for r in rows) / n, 3) if n else None}
    junk = groups["kind"].get("junk", [])
    profile = groups["method"].get("profile", [])
    return {
        "cases": len(results),
        "overall": summary(results),
        "profile_country_accuracy": summary(profile)["country"],
        "junk_resolving_to_nothing": summary(junk)["country"],
        "by_method": {k: summary(v) for k, v in sorted(groups["method"].items())},
        "by_kind": {k: summary(v) for k, v in sorted(groups["kind"].items())},
        "misses": misses,
    }


def render(report: dict[str, Any], show_misses: int = 20) -> str:
    lines = [f"Location chain on {report['cases']} labelled cases",
             f"  country accuracy on resolvable profile strings: {report['profile_country_accuracy']}",
             f"  junk strings resolving to nothing:               {report['junk_resolving_to_nothing']}",
             "", f"{'expected method':<16} {'n':>5} {'country':>8} {'region':>7}"]
    for name, s in report["by_method"].items():
        lines.append(f"{name:<16} {s['n']:>5} {s['country']:>8.3f} {s['region']:>7.3f}")
    lines += ["", f"{'kind':<16} {'n':>5} {'country':>8} {'region':>7}"]
    for name, s in report["by_kind"].items():
        lines.append(f"{name:<16} {s['n']:>5} {s['country']:>8.3f} {s['region']:>7.3f}")
    if report["misses"] and show_misses:
        lines += ["", f"first {min(show_misses, len(report['misses']))} of {len(report['misses'])} "
                      "wrong countries (expected -> got):"]
        for miss in report["misses"][:show_misses]:
            shown = json.dumps(miss["post"], ensure_ascii=False)[:70]
            lines.append(f"  {miss['id']} {miss['kind']}: {shown} {miss['expected']} -> {miss['got']}")
    return "\n".join(lines) + "\n"
