"""End to end on the committed samples: what the README's first command promises."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from outage_signals.cli import main
from outage_signals.metrics import score
from outage_signals.records import parse_time
from outage_signals.simulation import OutageEvent
from tests.conftest import SAMPLES

REPLAY = SAMPLES / "chatgpt-replay.jsonl.gz"
QUIET = SAMPLES / "discord-quiet-week.jsonl.gz"
TRUE_START = parse_time("2024-12-26T18:40:00Z")
TRUE_END = parse_time("2024-12-27T02:20:00Z")


@pytest.fixture(scope="module")
def replay_incidents():
    result = CliRunner().invoke(main, ["detect", str(REPLAY), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_replay_finds_exactly_one_likely_chatgpt_incident(replay_incidents):
    likely = [i for i in replay_incidents if i["level"] == "likely"]
    assert [i["service"] for i in likely] == ["chatgpt"]
    (inc,) = likely
    assert abs(parse_time(inc["start"]) - TRUE_START) <= timedelta(minutes=10)
    assert parse_time(inc["start_low"]) <= TRUE_START <= parse_time(inc["start_high"])
    assert abs(parse_time(inc["end"]) - TRUE_END) <= timedelta(hours=1)
    assert TRUE_START < parse_time(inc["detected_at"]) <= TRUE_START + timedelta(minutes=10)
    assert inc["ratio"] > 10 and inc["posts"] > 1000


def test_replay_incident_carries_every_contract_field(replay_incidents):
    inc = next(i for i in replay_incidents if i["level"] == "likely")
    assert list(inc) == ["service", "start", "start_low", "start_high", "detected_at", "peak_at",
                         "end", "level", "posts", "baseline_per_min", "peak_per_min", "ratio",
                         "regions", "sources", "examples", "scope", "subregions", "first_regions"]
    assert inc["regions"][0]["code"] == "US" and inc["scope"] == "global"
    assert all(r["code"].count("-") == 1 for r in inc["subregions"])
    assert inc["first_regions"] and all(r["posts"] >= 1 for r in inc["first_regions"])
    assert sum(r["share"] for r in inc["regions"]) == pytest.approx(1.0, abs=0.01)
    assert [r["posts"] for r in inc["regions"]] == sorted((r["posts"] for r in inc["regions"]),
                                                          reverse=True)
    assert set(inc["sources"]) == {"twitter", "reddit", "bluesky", "mastodon"}
    assert 1 <= len(inc["examples"]) <= 3 and all(e["id"] for e in inc["examples"])


def test_replay_scores_against_its_truth(replay_incidents):
    truth = json.loads((SAMPLES / "chatgpt-replay.truth.json").read_text())
    events = [OutageEvent(e["service"], parse_time(e["start"]), parse_time(e["end"]))
              for e in truth["events"]]
    result = score(replay_incidents, events)
    assert result.recall == 1.0 and result.false_alarms == []
    assert result.matches[0].covered


def test_quiet_week_has_no_likely_incident():
    result = CliRunner().invoke(main, ["detect", str(QUIET), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert [i for i in json.loads(result.stdout) if i["level"] == "likely"] == []


def test_samples_are_reproduced_by_the_committed_command(tmp_path):
    """scripts/make-samples' first command, rerun, gives the committed replay byte for byte."""
    out = tmp_path / "replay.jsonl.gz"
    result = CliRunner().invoke(main, [
        "simulate", "--outage", "chatgpt@2024-12-26T18:40:00Z/2024-12-27T02:20:00Z",
        "--start", "2024-12-25T00:00Z", "--days", "3", "--seed", "20241226", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(REPLAY.read_bytes())


def test_the_readme_tour_shows_what_the_command_prints():
    readme = (SAMPLES.parent.parent / "README.md").read_text(encoding="utf-8")
    command = "$ outage-signals detect data/samples/chatgpt-replay.jsonl.gz --format table\n"
    shown = readme[readme.index(command) + len(command):]
    shown = shown[:shown.index("```")]
    result = CliRunner().invoke(main, ["detect", str(REPLAY), "--format", "table"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == shown
