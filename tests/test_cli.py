"""The command line through click's CliRunner: exit codes, exact messages, every command."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from outage_signals.cli import main
from tests.conftest import record, write_lines


@pytest.fixture
def runner():
    return CliRunner()


def test_every_command_has_help_with_an_example(runner):
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output, name
        assert command.help, name


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.output == "outage-signals, version 0.1.0\n"


def test_missing_input_is_one_line_exit_1(runner, tmp_path):
    result = runner.invoke(main, ["detect", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'nope.jsonl'}: no such file or directory\n"


def test_malformed_line_exit_1_names_file_and_line(runner, tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [record(1), '{"id": "2"}'])
    result = runner.invoke(main, ["locate", path])
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {path}:2: missing required field(s): source, created_at, "
                             "text\n")


def test_skip_invalid_reports_and_keeps_going(runner, tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [record(1), "oops", record(3)])
    rejects = tmp_path / "rej.jsonl"
    result = runner.invoke(main, ["locate", path, "--skip-invalid", "--rejects", str(rejects)])
    assert result.exit_code == 0
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["1", "3"]
    assert (f"skipped 1 invalid line(s), written to {rejects}; first: {path}:2: not valid JSON"
            in result.stderr)
    assert json.loads(rejects.read_text())["raw"] == "oops"


def test_usage_error_exit_2(runner):
    result = runner.invoke(main, ["detect"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["detect", "x.jsonl", "--format", "xml"])
    assert result.exit_code == 2


def test_bad_time_is_a_usage_error(runner, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [record(1)])
    result = runner.invoke(main, ["detect", path, "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "'last tuesday' is not an ISO 8601 time" in result.stderr


def test_locate_adds_location(runner, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [
        record(1, place={"country_code": "US", "full_name": "Austin, TX"}),
        record(2, user_location="London, Ontario"),
        record(3, user_location="earth"),
        record(4)])
    result = runner.invoke(main, ["locate", path])
    assert result.exit_code == 0
    locations = [json.loads(x)["location"] for x in result.stdout.splitlines()]
    assert locations == [
        {"country": "US", "region": "US-TX", "method": "place"},
        {"country": "CA", "region": "CA-ON", "method": "profile"},
        None,
        None,
    ]
    assert result.stderr == "outage-signals: located 2 of 4 posts\n"


def test_classify_adds_relevance(runner, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [
        record(1, text="is chatgpt down?? keeps saying network error", service="chatgpt"),
        record(2, text="just downloaded the chatgpt app, love it", service="chatgpt"),
        record(3, text="nothing about any service here")])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["classify", path, "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["relevant"] for r in rows] == [True, False, False]
    assert rows[0]["relevance"] > 0.5 > rows[1]["relevance"]
    assert rows[2]["relevance"] == 0 and rows[2]["services"] == []
    assert result.stderr.startswith("outage-signals: classified 3 posts (threshold ")


def test_services_lists_the_catalog(runner):
    result = runner.invoke(main, ["services"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) >= 60
    assert "chatgpt              ai         ChatGPT" in lines


def test_simulate_then_detect_finds_the_outage(runner, tmp_path):
    posts, truth = tmp_path / "slack.jsonl.gz", tmp_path / "truth.json"
    result = runner.invoke(main, [
        "simulate", "--service", "slack", "--start", "2025-01-06T00:00Z", "--days", "2",
        "--outage", "slack@2025-01-07T14:00Z/2025-01-07T15:30Z", "--seed", "1",
        "-o", str(posts), "--truth", str(truth)])
    assert result.exit_code == 0, result.output
    assert json.loads(truth.read_text())["events"][0]["start"] == "2025-01-07T14:00:00Z"
    result = runner.invoke(main, ["detect", str(posts), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    incidents = json.loads(result.stdout)
    likely = [i for i in incidents if i["level"] == "likely"]
    assert [i["service"] for i in likely] == ["slack"]
    assert likely[0]["start"] in {f"2025-01-07T1{h}:00Z" for h in ("3:58", "3:59", "4:00",
                                                                    "4:01", "4:02")}
    csv_out = runner.invoke(main, ["detect", str(posts), "--format", "csv"]).stdout
    assert csv_out.splitlines()[0].startswith("service,level,start,start_low,start_high")
    assert len(csv_out.splitlines()) == len(incidents) + 1
    table = runner.invoke(main, ["detect", str(posts), "--format", "table"]).stdout
    assert all(len(line) <= 80 for line in table.splitlines())
    assert table.splitlines()[0].startswith("SERVICE      LEVEL    START UTC   ±    END UTC")


def test_stdin_and_stdout_pipe(runner):
    lines = "\n".join(json.dumps(record(i, user_location="Austin, TX")) for i in (1, 2)) + "\n"
    result = runner.invoke(main, ["locate", "-"], input=lines)
    assert result.exit_code == 0, result.stderr
    assert [json.loads(x)["location"]["region"] for x in result.stdout.splitlines()] == [
        "US-TX", "US-TX"]


def test_detect_filters_and_user_errors(runner, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [record(1, service="chatgpt")])
    result = runner.invoke(main, ["detect", path, "--service", "chatgtp"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: unknown service 'chatgtp' (did you mean 'chatgpt'?); "
                             "'outage-signals services' lists them\n")
    result = runner.invoke(main, ["detect", path, "--bin", "7 parsecs"])
    assert result.exit_code == 1
    assert result.stderr == "Error: --bin '7 parsecs' is not a time span like 1min or 5min\n"
    result = runner.invoke(main, ["detect", path, "--since", "2025-01-01", "--format", "table"])
    assert result.exit_code == 0
    assert result.stdout == "no incidents found\n"
    result = runner.invoke(main, ["detect", path, "--format", "json"])
    assert json.loads(result.stdout) == []


def test_simulate_rejects_unknown_event(runner, tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("event_id,service,start_utc,end_utc\n"
                      "a,chatgpt,2024-12-26T18:40:00Z,2024-12-27T02:20:00Z\n")
    result = runner.invoke(main, ["simulate", "--events", str(events), "--event", "b"])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {events}: no event b; it has a\n"


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "outage_signals", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout == "outage-signals, version 0.1.0\n"


def test_every_command_is_documented_in_the_readme():
    from tests.conftest import SAMPLES

    readme = (SAMPLES.parent.parent / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"`outage-signals {name}" in readme, name
