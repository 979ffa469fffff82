"""Rendering incidents: exact table, CSV and JSON."""

from __future__ import annotations

import json

from outage_signals.output import render

INCIDENT = {
    "service": "chatgpt", "start": "2024-12-26T18:41:00Z", "start_low": "2024-12-26T18:39:00Z",
    "start_high": "2024-12-26T18:41:00Z", "detected_at": "2024-12-26T18:45:00Z",
    "peak_at": "2024-12-26T18:43:00Z", "end": None, "level": "likely", "posts": 4921,
    "baseline_per_min": 1.45, "peak_per_min": 65.4, "ratio": 45.1,
    "regions": [{"code": "US", "name": "United States", "posts": 10, "share": 0.43},
                {"code": "GB", "name": "United Kingdom", "posts": 5, "share": 0.2}],
    "sources": {"twitter": 3, "reddit": 1},
    "examples": [{"id": "1", "text": "is chatgpt down", "url": None}],
    "scope": "multi-country",
    "subregions": [{"code": "US-TX", "name": "Texas", "posts": 4, "share": 0.3, "lift": 2.1}],
    "first_regions": [{"code": "US-TX", "posts": 2}, {"code": "GB", "posts": 1}],
}


def test_table_is_exact_and_fits_80_columns():
    table = render([INCIDENT, {**INCIDENT, "service": "american-airlines", "level": "possible",
                               "ratio": 2.5, "regions": []}], "table")
    assert table.splitlines() == [
        "SERVICE      LEVEL    START UTC   ±    END UTC     PEAK/m ×BASE POSTS WHERE",
        "chatgpt      likely   12-26 18:41 ±1m  ongoing       65.4   45×  4921 US43% mult",
        "american-ai… possible 12-26 18:41 ±1m  ongoing       65.4  2.5×  4921 - mult",
        "2 incident(s); dates in 2024, times UTC; WHERE: top country and share, scope",
        "(loc = one region, natl = one country, mult = 2-4 countries, glob = 5 or more)",
        "--format json gives every field",
    ]
    assert all(len(line) <= 80 for line in table.splitlines())
    assert render([], "table") == "no incidents found\n"


def test_csv_and_json():
    lines = render([INCIDENT], "csv").splitlines()
    assert lines[1] == ("chatgpt,likely,2024-12-26T18:41:00Z,2024-12-26T18:39:00Z,"
                        "2024-12-26T18:41:00Z,2024-12-26T18:45:00Z,2024-12-26T18:43:00Z,,4921,"
                        "1.45,65.4,45.1,US:0.43;GB:0.2,twitter:3;reddit:1,multi-country,US-TX:0.3,"
                        "US-TX:2;GB:1")
    assert json.loads(render([INCIDENT], "json")) == [INCIDENT]
