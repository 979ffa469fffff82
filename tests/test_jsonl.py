"""JSON Lines input and output: gz, directories, stdin, errors with file and line, side files."""

from __future__ import annotations

import gzip
import json

import pytest

from outage_signals.errors import InputError, InvalidRecordError
from outage_signals.jsonl import RecordReader, read_posts, write_jsonl, write_posts
from tests.conftest import record, write_lines


def test_reads_plain_gz_and_directories(tmp_path):
    write_lines(tmp_path / "a.jsonl", [record(1), record(2)])
    with gzip.open(tmp_path / "b.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(record(3)) + "\n\n")
    (tmp_path / "notes.txt").write_text("not posts")
    posts = read_posts(str(tmp_path))
    assert [p.id for p in posts] == ["1", "2", "3"]


def test_malformed_line_names_file_and_line(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [record(1), "{not json", record(3)])
    with pytest.raises(InvalidRecordError) as info:
        read_posts(path)
    assert str(info.value) == (
        f"{path}:2: not valid JSON (Expecting property name enclosed in double quotes at column 2)")


def test_invalid_record_names_file_and_line(tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", [record(1), record(2), record(3, created_at="x")])
    with pytest.raises(InvalidRecordError, match=r"bad\.jsonl:3: created_at is not ISO 8601"):
        read_posts(path)


def test_skip_invalid_writes_rejects_and_counts(tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [record(1), "[]", record(3), "{oops"])
    rejects = tmp_path / "rejected.jsonl"
    reader = RecordReader([path], skip_invalid=True, rejects_path=str(rejects))
    assert [p.id for p in reader] == ["1", "3"]
    assert (reader.read, reader.rejected) == (2, 2)
    lines = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [(x["line"], x["raw"]) for x in lines] == [(2, "[]"), (4, "{oops")]
    assert lines[0]["problem"] == "expected a JSON object, got list"
    assert reader.first_problem == f"{path}:2: expected a JSON object, got list"


def test_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        read_posts(str(tmp_path / "nope.jsonl"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"holds no \.jsonl"):
        read_posts(str(empty))


def test_write_round_trip_gz_is_reproducible(tmp_path):
    posts = read_posts(write_lines(tmp_path / "in.jsonl", [record(1, extra_field=[1, 2])]))
    out = str(tmp_path / "out.jsonl.gz")
    assert write_posts(posts, out) == 1
    first = (tmp_path / "out.jsonl.gz").read_bytes()
    write_posts(posts, out)
    assert (tmp_path / "out.jsonl.gz").read_bytes() == first
    assert read_posts(out)[0].to_dict() == record(1, extra_field=[1, 2])


def test_failed_write_leaves_old_file(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")

    def broken():
        yield {"a": 1}
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_jsonl(broken(), str(target))
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
