"""The train, evaluate, label and classify --model commands, end to end on small data."""

from __future__ import annotations

import json

from click.testing import CliRunner

from outage_signals import classifying
from outage_signals.cli import main
from tests.conftest import record, write_lines


def _small_corpus(tmp_path, n=500):
    rows = [e for e in classifying.load_labeled() if e.lang == "en"][:n]
    return write_lines(tmp_path / "mine.jsonl", [json.dumps(
        {"text": e.text, "service": e.service, "label": e.label, "kind": e.kind, "lang": e.lang})
        for e in rows])


def test_train_then_classify_with_that_model(tmp_path):
    labeled = _small_corpus(tmp_path)
    out = tmp_path / "m.skops"
    result = CliRunner().invoke(main, ["train", str(labeled), "--no-bundled", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "F1" in result.output and out.exists()
    posts = write_lines(tmp_path / "p.jsonl", [json.dumps(record(text="is discord down??",
                                                                 service="discord"))])
    result = CliRunner().invoke(main, ["classify", str(posts), "--model", str(out)])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout.splitlines()[-1])
    assert 0.0 <= scored["relevance"] <= 1.0 and isinstance(scored["relevant"], bool)


def test_evaluate_holds_out_services_and_shows_the_baseline(tmp_path):
    labeled = _small_corpus(tmp_path)
    result = CliRunner().invoke(main, ["evaluate", str(labeled), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["split"]["kind"] == "grouped by service"
    train_services = {e.service for e in classifying.load_labeled(labeled)} - set(
        report["split"]["test_services"])
    assert train_services and report["split"]["test_services"]
    assert report["f1"] > report["baseline"]["f1"]
    text = CliRunner().invoke(main, ["evaluate", str(labeled), "--model", "bundled"]).output
    assert "keyword baseline" in text


def test_label_appends_answers_and_resumes(tmp_path):
    posts = write_lines(tmp_path / "p.jsonl", [
        json.dumps(record(id=str(n), text=t, service="discord"))
        for n, t in enumerate(["discord down?", "downloading discord", "discord is great"])])
    out = tmp_path / "labels.jsonl"
    result = CliRunner().invoke(main, ["label", str(posts), "-o", str(out)], input="y\nn\nq\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["label"] for line in lines] == [1, 0]
    result = CliRunner().invoke(main, ["label", str(posts), "-o", str(out)], input="n\n")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 3 and len({line["id"] for line in lines}) == 3
