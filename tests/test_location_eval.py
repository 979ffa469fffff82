"""evaluate-locations: scoring the chain on labelled cases."""

from __future__ import annotations

import json

from click.testing import CliRunner

from outage_signals.cli import main
from outage_signals.location_eval import evaluate, read_cases


def test_bundled_set_scores_and_meets_the_profile_and_junk_targets():
    result = CliRunner().invoke(main, ["evaluate-locations", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cases"] >= 600
    assert report["profile_country_accuracy"] >= 0.90
    assert report["junk_resolving_to_nothing"] >= 0.95


def test_the_blind_set_meets_the_targets_too():
    from pathlib import Path

    fresh = Path(__file__).resolve().parent.parent / "data" / "locations" / "fresh.jsonl"
    report = evaluate(read_cases(str(fresh)))
    assert report["cases"] == 450
    assert report["profile_country_accuracy"] >= 0.90
    assert report["junk_resolving_to_nothing"] >= 0.95


def test_scores_count_right_and_wrong(tmp_path):
    cases = [
        {"id": "a", "method": "profile", "kind": "city", "post": {"user_location": "Austin, TX"},
         "country": "US", "region": "US-TX"},
        {"id": "b", "method": "profile", "kind": "city", "post": {"user_location": "Austin, TX"},
         "country": "GB", "region": None},
        {"id": "c", "method": None, "kind": "junk", "post": {"user_location": "in your walls"},
         "country": None, "region": None},
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    report = evaluate(read_cases(str(path)))
    assert report["by_method"]["profile"] == {"n": 2, "country": 0.5, "region": 0.5}
    assert report["junk_resolving_to_nothing"] == 1.0
    assert [m["id"] for m in report["misses"]] == ["b"]


def test_bad_case_line_names_file_and_line(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"post": {}, "country": null}\n{"post": 3}\n')
    result = CliRunner().invoke(main, ["evaluate-locations", str(path)])
    assert result.exit_code == 1 and f"{path}:2:" in result.stderr
