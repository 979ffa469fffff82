"""`collect statuspage` against a fake Statuspage on 127.0.0.1, and `backtest --status`: the
lead over the provider's acknowledgement in the detector's evaluation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from outage_signals import status_history
from outage_signals.cli import main
from outage_signals.storing import PostStore
from tests.conftest import SAMPLES
from tests.fake_statuspage import FakeStatuspage
from tests.fakeapi import Reply


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_collect_statuspage_stores_each_incident_once(tmp_path, fake_api):
    page = FakeStatuspage(fake_api, name="GitHub")
    old = page.add_incident("Actions delayed", datetime(2025, 3, 1, 9, 0, tzinfo=UTC))
    page.resolve(old["id"], datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    page.add_incident("Git operations failing", datetime(2025, 3, 2, 14, 5, tzinfo=UTC),
                      started_at=datetime(2025, 3, 2, 13, 58, tzinfo=UTC), impact="critical")
    store = tmp_path / "s.sqlite"
    args = ["collect", "statuspage", "--service", "github", "--url", page.url, "--store", str(store)]
    first = run(*args, "-o", str(tmp_path / "incidents.jsonl"))
    assert first.exit_code == 0, first.output
    assert "2 recent incidents, 2 new or changed" in first.output
    assert "Git operations failing (critical, since 2025-03-02 14:05 UTC)" in first.output
    lines = [json.loads(x) for x in (tmp_path / "incidents.jsonl").read_text().splitlines()]
    assert [(x["service"], x["name"]) for x in lines] == [("github", "Actions delayed"),
                                                          ("github", "Git operations failing")]
    again = run(*args)
    assert again.exit_code == 0 and "2 recent incidents, 0 new or changed" in again.output
    with PostStore(store) as s:
        assert len(status_history.load(s, "github")) == 2
    # The written file reads back for `backtest --status`.
    assert len(status_history.read_jsonl(str(tmp_path / "incidents.jsonl"))["github"]) == 2


def test_collect_statuspage_errors_are_one_clear_line(tmp_path, fake_api):
    store = str(tmp_path / "s.sqlite")
    missing = run("collect", "statuspage", "--service", "slack", "--store", store)
    assert missing.exit_code == 1 and "no Statuspage page known for slack" in missing.output
    two = run("collect", "statuspage", "--service", "github", "--service", "discord", "--url",
              fake_api.url, "--store", store)
    assert two.exit_code == 2 and "--url needs exactly one --service" in two.output
    FakeStatuspage(fake_api)
    fake_api.fail("/api/v2/summary.json", Reply(404, {"error": "not found"}))  # not retried
    failing = run("collect", "statuspage", "--service", "github", "--url", fake_api.url,
                  "--store", store)
    assert failing.exit_code == 1 and "1 of 1 status page(s) failed: github" in failing.output
    assert "404" in failing.output


def test_backtest_reports_the_lead_over_the_status_page(tmp_path):
    status = tmp_path / "openai.jsonl"
    status.write_text(json.dumps({
        "service": "chatgpt", "page": "https://status.openai.com", "id": "x1",
        "name": "Increased error rates", "status": "resolved", "impact": "major",
        "started_at": "2024-12-26T18:40:00Z", "acknowledged_at": "2024-12-26T19:05:00Z",
        "resolved_at": "2024-12-27T02:20:00Z", "updated_at": "2024-12-27T02:20:00Z",
        "components": ["ChatGPT"], "shortlink": None}) + "\n")
    result = run("backtest", str(SAMPLES / "chatgpt-replay.jsonl.gz"), "--service", "chatgpt",
                 "--step", "5min", "--format", "json", "--status", str(status))
    assert result.exit_code == 0, result.output
    assert ("1 of 1 incidents confirmed by a status page; lead median 20 min (min 20, max 20); "
            "first in 1 of 1") in result.output
    incidents = json.loads(result.output[result.output.index("["):])
    (incident,) = incidents
    assert incident["detected_at"] == "2024-12-26T18:45:00Z"
    assert incident["status_page"]["lead_minutes"] == 20.0


def test_backtest_status_file_errors_name_file_and_line(tmp_path):
    status = tmp_path / "bad.jsonl"
    status.write_text('{"service": "chatgpt", "id": "x"}\n')
    result = run("backtest", str(SAMPLES / "chatgpt-replay.jsonl.gz"), "--service", "chatgpt",
                 "--status", str(status))
    assert result.exit_code == 1 and f"{status}:1:" in result.output
