"""Spread charts: one offline SVG per incident."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from click.testing import CliRunner

from outage_signals.cli import main
from outage_signals.spread_chart import HOT_LIFT, chart_name, chart_svg, write_charts
from tests.conftest import SAMPLES

INCIDENT = {
    "service": "discord", "start": "2025-03-01T09:05:00Z", "level": "likely", "scope": "national",
    "regions": [{"code": "US", "name": "United States", "posts": 80, "share": 0.8, "lift": 1.1},
                {"code": "GB", "name": "United Kingdom", "posts": 20, "share": 0.2, "lift": None}],
    "subregions": [{"code": "US-TX", "name": "Texas <&> Co", "posts": 50, "share": 0.625,
                    "lift": 3.2}],
    "first_regions": [{"code": "US-TX", "posts": 3}],
}
SVG = "{http://www.w3.org/2000/svg}"


def test_the_chart_is_svg_with_every_place_share_lift_and_first_mark():
    svg = chart_svg(INCIDENT)
    root = ET.fromstring(svg)  # well-formed, names escaped
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert any("discord" in t and "national" in t and "2025-03-01T09:05:00Z" in t for t in texts)
    assert "United States" in texts and "United Kingdom" in texts
    assert "Texas <&> Co (US) ●" in texts  # first to report, with its country
    assert "80% · 80 · ×1.1" in texts and "20% · 20" in texts  # no lift without a usual mix
    hot = [t for t in root.iter(f"{SVG}text") if t.text == "62% · 50 · ×3.2"]
    assert hot and hot[0].get("font-weight") == "bold" and HOT_LIFT <= 3.2
    bars = [float(r.get("width")) for r in root.iter(f"{SVG}rect")][1:]  # after the background
    assert bars[0] > bars[1] > 0  # widths follow the shares


def test_no_located_reports_still_draws_a_chart():
    root = ET.fromstring(chart_svg({"service": "x", "start": "2025-01-01T00:00:00Z"}))
    assert any(t.text == "no located reports" for t in root.iter(f"{SVG}text"))


def test_files_are_named_by_service_and_start_and_replaced_on_rerun(tmp_path):
    assert chart_name(INCIDENT) == "discord-2025-03-01T0905Z.svg"
    first = write_charts([INCIDENT], tmp_path / "charts")
    again = write_charts([INCIDENT], tmp_path / "charts")
    assert first == again and [p.name for p in (tmp_path / "charts").iterdir()] == [first[0].name]


def test_detect_writes_a_chart_per_incident(tmp_path):
    out = tmp_path / "charts"
    result = CliRunner().invoke(main, ["detect", str(SAMPLES / "chatgpt-replay.jsonl.gz"),
                                       "--format", "json", "--chart", str(out)])
    assert result.exit_code == 0, result.stderr
    incidents = json.loads(result.stdout)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(chart_name(i) for i in incidents) and files
    assert "wrote 1 spread chart" in result.stderr or f"wrote {len(files)} spread charts" in result.stderr
