"""Archive importers: twarc2 pages and flattened tweets, Reddit dumps, compression, bad lines."""

from __future__ import annotations

import bz2
import copy
import gzip
import inspect
import io
import json
import lzma
import sys
import tracemalloc

import pytest
import zstandard

from outage_signals import __version__
from outage_signals.errors import InputError, InvalidRecordError
from outage_signals.importers import FORMATS, ArchiveReader, lines
from outage_signals.jsonl import read_posts, write_posts
from tests.conftest import utc

TWARC = {"url": "https://api.twitter.com/2/tweets/search/recent?query=chatgpt+down",
         "version": "2.14.0", "retrieved_at": "2024-12-26T19:00:03+00:00"}


def page() -> dict:
    """An API page as twarc2 search writes it: two tweets, a retweet, includes, provenance."""
    return {
        "data": [
            {"id": "1872000000000000001", "author_id": "11", "created_at": "2024-12-26T18:41:07.000Z",
             "lang": "en", "text": "is chatgpt down for anyone else?",
             "geo": {"place_id": "p1", "coordinates": {"type": "Point", "coordinates": [-97.74, 30.27]}}},
            {"id": "1872000000000000002", "author_id": "12", "created_at": "2024-12-26T18:42:00.000Z",
             "lang": "en", "text": "ChatGPT keeps failing with a network error and this is a very lo…",
             "note_tweet": {"text": "ChatGPT keeps failing with a network error and this is a very long "
                                    "complaint that goes past the old limit: 502 bad gateway"}},
            {"id": "1872000000000000003", "author_id": "99", "created_at": "2024-12-26T18:43:00.000Z",
             "lang": "und", "text": "RT @orig_user: ChatGPT is d…",
             "referenced_tweets": [{"type": "retweeted", "id": "1871999999999999999"}]},
        ],
        "includes": {
            "users": [{"id": "11", "username": "alice", "name": "Alice", "location": "Austin, TX"},
                      {"id": "12", "username": "bob", "name": "Bob", "location": ""},
                      {"id": "13", "username": "orig_user", "name": "Orig"}],
            "places": [{"id": "p1", "full_name": "Austin, TX", "country_code": "US",
                        "country": "United States", "place_type": "city"}],
            "tweets": [{"id": "1871999999999999999", "author_id": "13", "text": "ChatGPT is d…",
                        "created_at": "2024-12-26T18:40:00.000Z",
                        "note_tweet": {"text": "ChatGPT is down again, every request times out"}}],
        },
        "meta": {"result_count": 3, "newest_id": "1872000000000000003"},
        "__twarc": TWARC,
    }


def flattened() -> dict:
    """A tweet as `twarc2 flatten` writes it: author inlined, the place merged into geo."""
    return {"id": "1872000000000000010", "author_id": "21", "created_at": "2024-12-26T20:00:00.000Z",
            "text": "RT @carol: slack is down?",
            "author": {"id": "21", "username": "dave", "location": "Berlin"},
            "geo": {"place_id": "p2", "id": "p2", "full_name": "Berlin, Germany", "country_code": "DE"},
            "referenced_tweets": [{"type": "retweeted", "id": "1872000000000000009", "author_id": "22",
                                   "text": "slack is down? messages won't send at all"}],
            "__twarc": TWARC}


def submission(**fields) -> dict:
    base = {"id": "1hmabc", "created_utc": 1735238467, "title": "Is ChatGPT down?",
            "selftext": "Getting errors on every prompt.", "author": "someone", "subreddit": "ChatGPT",
            "permalink": "/r/ChatGPT/comments/1hmabc/is_chatgpt_down/", "retrieved_on": 1735240000}
    base.update(fields)
    return base


def comment(**fields) -> dict:
    base = {"id": "m3xyz", "created_utc": "1735238500", "body": "same here, 502s",
            "author": "other", "subreddit": "ChatGPT", "link_id": "t3_1hmabc",
            "permalink": "/r/ChatGPT/comments/1hmabc/is_chatgpt_down/m3xyz/"}
    base.update(fields)
    return base


def write(path, objects) -> str:
    """Write JSON objects (or raw str / bytes lines) one per line to a plain file."""
    with open(path, "wb") as handle:
        for obj in objects:
            if not isinstance(obj, bytes):
                obj = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
            handle.write(obj + b"\n")
    return str(path)


def zst_bytes(data: bytes, **params) -> bytes:
    """Data compressed as a streamed zstd frame (no content size, like `zstd` on a pipe)."""
    cparams = zstandard.ZstdCompressionParameters.from_level(3, **params)
    out = io.BytesIO()
    with zstandard.ZstdCompressor(compression_params=cparams).stream_writer(out, closefd=False) as w:
        w.write(data)
    return out.getvalue()


def jsonl_bytes(objects) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


# --- twarc2 ----------------------------------------------------------------------------------


def test_twarc2_page_maps_every_field(tmp_path):
    path = write(tmp_path / "search.jsonl", [page()])
    posts = list(ArchiveReader([path], "twarc2"))
    assert [p.id for p in posts] == ["1872000000000000001", "1872000000000000002", "1872000000000000003"]
    first = posts[0].to_dict()
    assert first == {
        "id": "1872000000000000001", "source": "twitter", "created_at": "2024-12-26T18:41:07Z",
        "text": "is chatgpt down for anyone else?", "author": "alice",
        "url": "https://twitter.com/alice/status/1872000000000000001", "lang": "en",
        "place": {"country_code": "US", "full_name": "Austin, TX"}, "coordinates": [-97.74, 30.27],
        "user_location": "Austin, TX",
        "_meta": {"collector": "import-twarc2", "version": __version__, "file": "search.jsonl", "line": 1,
                  "retrieved_at": "2024-12-26T19:00:03Z", "query_url": TWARC["url"],
                  "twarc_version": "2.14.0"},
    }
    assert posts[0].created_at == utc(2024, 12, 26, 18, 41, 7)
    # Long tweet: the untruncated note_tweet text wins; an empty profile location is no location.
    assert posts[1].text.endswith("502 bad gateway")
    assert (posts[1].author, posts[1].user_location, posts[1].place, posts[1].coordinates) == (
        "bob", None, None, None)
    # Retweet: kept, marked, and its cut-off text replaced by the original's full text.
    rt = posts[2]
    assert rt.extra == {"retweet_of": "1871999999999999999"}
    assert rt.text == "RT @orig_user: ChatGPT is down again, every request times out"
    assert "retweet_of" not in posts[0].extra


def test_twarc2_author_without_user_object_falls_back_to_id(tmp_path):
    data = page()
    del data["includes"]["users"]
    posts = list(ArchiveReader([write(tmp_path / "p.jsonl", [data])], "twarc2"))
    assert posts[0].author == "11"
    assert posts[0].url == "https://twitter.com/i/web/status/1872000000000000001"
    # The place join does not depend on the users.
    assert posts[0].place == {"country_code": "US", "full_name": "Austin, TX"}


def test_twarc2_flattened_lines(tmp_path):
    nested = flattened()
    nested["id"] = "1872000000000000011"
    nested["geo"] = {"place_id": "p3", "place": {"full_name": "Lyon, France", "country_code": "FR"},
                     "coordinates": {"type": "Point", "coordinates": [4.83, 45.76]}}
    nested["note_tweet"] = {"text": "my own long text"}
    path = write(tmp_path / "flat.jsonl", [flattened(), nested])
    first, second = ArchiveReader([path], "twarc2")
    assert (first.author, first.user_location, first.url) == (
        "dave", "Berlin", "https://twitter.com/dave/status/1872000000000000010")
    assert first.place == {"country_code": "DE", "full_name": "Berlin, Germany"}
    assert first.text == "RT @carol: slack is down? messages won't send at all"
    assert first.extra == {"retweet_of": "1872000000000000009"}
    assert first.meta["line"] == 1 and first.meta["query_url"] == TWARC["url"]
    assert second.place == {"country_code": "FR", "full_name": "Lyon, France"}
    assert second.coordinates == (4.83, 45.76)
    assert second.text == "my own long text"  # a retweet's own note_tweet still wins
    assert second.meta["line"] == 2


def test_twarc2_mixed_shapes_empty_pages_and_service(tmp_path):
    empty = {"meta": {"result_count": 0}, "__twarc": TWARC}
    path = write(tmp_path / "mixed.jsonl", [empty, "", page(), flattened()])
    reader = ArchiveReader([path], "twarc2", service="chatgpt")
    posts = list(reader)
    assert [p.meta["line"] for p in posts] == [3, 3, 3, 4]
    assert {p.service for p in posts} == {"chatgpt"}
    assert (reader.read, reader.rejected) == (4, 0)


def test_twarc2_wrong_shape_and_bad_tweet_name_file_and_line(tmp_path):
    path = write(tmp_path / "bad.jsonl", [page(), {"hello": "world"}])
    with pytest.raises(InvalidRecordError) as info:
        list(ArchiveReader([path], "twarc2"))
    assert (info.value.path, info.value.line) == (path, 2)
    assert "not a twarc2 page or tweet" in str(info.value)

    broken = page()
    del broken["data"][1]["created_at"]
    path = write(tmp_path / "bad2.jsonl", [broken])
    with pytest.raises(InvalidRecordError,
                       match=r"bad2\.jsonl:1: data\[1\]: missing required field\(s\): created_at"):
        list(ArchiveReader([path], "twarc2"))


@pytest.mark.parametrize("line, problem", [
    ("{not json", "not valid JSON (Expecting property name enclosed in double quotes at column 2)"),
    ("[1, 2]", "expected a JSON object, got list"),
    ('{"data": "x"}', "'data' must be a list of tweets, got str"),
])
def test_twarc2_malformed_lines(tmp_path, line, problem):
    path = write(tmp_path / "in.jsonl", [flattened(), flattened(), line])
    with pytest.raises(InvalidRecordError) as info:
        list(ArchiveReader([path], "twarc2"))
    assert str(info.value) == f"{path}:3: {problem}"


def test_twarc2_bad_coordinates_are_rejected_not_swapped(tmp_path):
    tweet = flattened()
    tweet["geo"] = {"coordinates": {"type": "Point", "coordinates": [30.27, -197.74]}}
    with pytest.raises(InvalidRecordError, match="coordinates out of range"):
        list(ArchiveReader([write(tmp_path / "c.jsonl", [tweet])], "twarc2"))


# --- Reddit dumps ----------------------------------------------------------------------------


def test_reddit_submission_and_comment_mapping(tmp_path):
    path = write(tmp_path / "RS_2024-12.jsonl", [submission(), comment()])
    sub, com = ArchiveReader([path], "reddit-dump")
    assert sub.to_dict() == {
        "id": "1hmabc", "source": "reddit", "created_at": "2024-12-26T18:41:07Z",
        "text": "Is ChatGPT down?\n\nGetting errors on every prompt.", "author": "someone",
        "url": "https://www.reddit.com/r/ChatGPT/comments/1hmabc/is_chatgpt_down/", "subreddit": "ChatGPT",
        "_meta": {"collector": "import-reddit-dump", "version": __version__, "file": "RS_2024-12.jsonl",
                  "line": 1, "retrieved_at": "2024-12-26T19:06:40Z"},
        "kind": "submission",
    }
    assert com.created_at == utc(2024, 12, 26, 18, 41, 40)  # numeric string
    assert (com.text, com.author, com.extra) == ("same here, 502s", "other",
                                                 {"kind": "comment", "link_id": "t3_1hmabc"})
    assert com.url == "https://www.reddit.com/r/ChatGPT/comments/1hmabc/is_chatgpt_down/m3xyz/"
    assert com.meta["line"] == 2 and "retrieved_at" not in com.meta


def test_reddit_deleted_removed_and_built_urls(tmp_path):
    objects = [
        submission(selftext="[removed]", author="[deleted]", created_utc=1735238467.5),
        submission(id="t3_2abc", selftext="", permalink=None),
        comment(body="[deleted]"),
        comment(body="[removed]", id="m3zzz"),
        comment(id="m3new", permalink=None, author="[deleted]"),
    ]
    reader = ArchiveReader([write(tmp_path / "d.jsonl", objects)], "reddit-dump")
    first, second, third = reader
    assert (first.text, first.author) == ("Is ChatGPT down?", None)
    assert first.created_at == utc(2024, 12, 26, 18, 41, 7, 500000)
    assert (second.id, second.text, second.url) == (
        "2abc", "Is ChatGPT down?", "https://www.reddit.com/r/ChatGPT/comments/2abc/")
    assert third.url == "https://www.reddit.com/r/ChatGPT/comments/1hmabc/_/m3new/"
    assert third.author is None
    assert (reader.read, reader.skipped_removed, reader.rejected) == (3, 2, 0)


@pytest.mark.parametrize("obj, problem", [
    ({"title": "x", "created_utc": 1}, "missing required field(s): id"),
    ({"id": "a", "body": "x"}, "missing required field(s): created_utc"),
    ({"id": "a", "body": "x", "created_utc": "yesterday"}, "created_utc is not a number: 'yesterday'"),
    ({"id": "a", "body": "x", "created_utc": True}, "created_utc must be seconds since the epoch, got bool"),
    ({"id": "a", "created_utc": 1, "score": 3}, "not a Reddit submission or comment (no 'title' or 'body')"),
])
def test_reddit_bad_lines(tmp_path, obj, problem):
    path = write(tmp_path / "RC.jsonl", [comment(), obj])
    with pytest.raises(InvalidRecordError) as info:
        list(ArchiveReader([path], "reddit-dump"))
    assert str(info.value) == f"{path}:2: {problem}"


# --- bad lines, inputs, formats --------------------------------------------------------------


def test_skip_invalid_writes_rejects_and_goes_on(tmp_path):
    path = write(tmp_path / "in.jsonl",
                 [comment(id="a"), "{oops", b"\xff\xfe bad", {"x": 1}, comment(id="b")])
    rejects = tmp_path / "rejected.jsonl"
    reader = ArchiveReader([path], "reddit-dump", skip_invalid=True, rejects_path=str(rejects))
    assert [p.id for p in reader] == ["a", "b"]
    assert (reader.read, reader.rejected) == (2, 3)
    entries = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(e["path"], e["line"]) for e in entries] == [(path, 2), (path, 3), (path, 4)]
    assert entries[0]["raw"] == "{oops"
    assert entries[1]["problem"] == "not valid UTF-8 (byte 0xff at byte 1 of the line)"
    assert entries[1]["raw"] == "\ufffd\ufffd bad"
    assert reader.first_problem.startswith(f"{path}:2: not valid JSON")


def test_bad_utf8_raises_with_line(tmp_path):
    path = write(tmp_path / "in.jsonl", [comment(), b'{"id": "\xc3", "body": "x"}'])
    with pytest.raises(InvalidRecordError, match=r"in\.jsonl:2: not valid UTF-8"):
        list(ArchiveReader([path], "reddit-dump"))


def test_unknown_format_lists_formats():
    with pytest.raises(InputError,
                       match="unknown archive format 'twarc'; choose one of: twarc2, reddit-dump"):
        ArchiveReader(["x.jsonl"], "twarc")
    assert FORMATS == ("twarc2", "reddit-dump")


def test_missing_file_fails_before_reading_anything(tmp_path):
    good = write(tmp_path / "good.jsonl", [comment()])
    reader = ArchiveReader([good, str(tmp_path / "nope.zst")], "reddit-dump")
    with pytest.raises(InputError, match=r"nope\.zst: no such file"):
        next(iter(reader))
    assert reader.read == 0
    with pytest.raises(InputError, match="is a directory"):
        list(ArchiveReader([str(tmp_path)], "reddit-dump"))


def test_stdin(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(jsonl_bytes([comment()]))))
    (post,) = ArchiveReader(["-"], "reddit-dump")
    assert post.meta["file"] == "<stdin>"


def test_output_round_trips_through_the_contract_reader(tmp_path):
    posts = list(ArchiveReader([write(tmp_path / "p.jsonl", [page(), submission()])], "twarc2",
                               skip_invalid=True, rejects_path=str(tmp_path / "r.jsonl")))
    write_posts(posts, str(tmp_path / "out.jsonl"))
    assert [p.to_dict() for p in read_posts(str(tmp_path / "out.jsonl"))] == [p.to_dict() for p in posts]


# --- compression -----------------------------------------------------------------------------


def _compressed(kind: str, data: bytes) -> bytes:
    return {"plain": lambda d: d, "gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress,
            "zst": zst_bytes}[kind](data)


@pytest.mark.parametrize("kind", ["plain", "gz", "zst", "bz2", "xz"])
def test_every_compression_gives_the_same_posts(tmp_path, kind):
    data = jsonl_bytes([submission(), comment(), comment(id="c2")])
    path = tmp_path / ("RC.jsonl" if kind == "plain" else f"RC.{kind}")
    path.write_bytes(_compressed(kind, data))
    posts = list(ArchiveReader([str(path)], "reddit-dump"))
    assert [(p.id, p.meta["line"], p.meta["file"]) for p in posts] == [
        ("1hmabc", 1, path.name), ("m3xyz", 2, path.name), ("c2", 3, path.name)]


def test_zstd_long_window_and_several_frames(tmp_path):
    # Pushshift writes with --long=31; a window over 128 MiB needs the raised decoder limit.
    data = zst_bytes(jsonl_bytes([comment(id="a")]), window_log=29, enable_ldm=True)
    data += zst_bytes(jsonl_bytes([comment(id="b")]))
    assert zstandard.get_frame_parameters(data).window_size == 1 << 29
    (tmp_path / "RC.zst").write_bytes(data)
    assert [p.id for p in ArchiveReader([str(tmp_path / "RC.zst")], "reddit-dump")] == ["a", "b"]


def test_truncated_zst_is_a_clear_error(tmp_path):
    data = zst_bytes(jsonl_bytes(comment(id=str(i)) for i in range(5000)))
    path = tmp_path / "RC_2024-12.zst"
    path.write_bytes(data[: len(data) * 2 // 3])
    reader = ArchiveReader([str(path)], "reddit-dump")
    with pytest.raises(InvalidRecordError) as info:
        for _ in reader:
            pass
    assert info.value.path == str(path) and info.value.line == reader.read + 1
    assert "ends in the middle of a frame (is the file truncated?)" in info.value.problem
    assert 0 < reader.read < 5000


@pytest.mark.parametrize("kind", ["zst", "gz"])
def test_corrupt_stream_is_fatal_even_when_skipping(tmp_path, kind):
    data = bytearray(_compressed(kind, jsonl_bytes(comment(id=str(i)) for i in range(2000))))
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    path = tmp_path / f"RC.{kind}"
    path.write_bytes(bytes(data))
    reader = ArchiveReader([str(path)], "reddit-dump", skip_invalid=True, rejects_path=str(tmp_path / "r"))
    with pytest.raises(InvalidRecordError, match=rf"RC\.{kind}:\d+: cannot read further"):
        list(reader)


def test_content_is_sniffed_and_lying_names_are_reported(tmp_path):
    renamed = tmp_path / "RC_2024-12"  # a .zst whose suffix was lost
    renamed.write_bytes(zst_bytes(jsonl_bytes([comment()])))
    assert [p.id for p in ArchiveReader([str(renamed)], "reddit-dump")] == ["m3xyz"]
    liar = write(tmp_path / "RC.zst", [comment()])
    with pytest.raises(InvalidRecordError,
                       match=r"RC\.zst:1: the name says zstd but the content is not zstd"):
        list(ArchiveReader([liar], "reddit-dump"))


def test_lines_strip_endings_and_bom_and_cap_line_length(tmp_path, monkeypatch):
    path = tmp_path / "x.txt"
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo\n\nthree")
    assert list(lines.iter_lines(str(path))) == [(1, "one"), (2, "two"), (3, ""), (4, "three")]
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 16)
    path.write_bytes(b"short\n" + b"x" * 40 + b"\n")
    with pytest.raises(InvalidRecordError, match=r"x\.txt:2: line is longer than"):
        list(lines.iter_lines(str(path)))


# --- streaming -------------------------------------------------------------------------------


def test_large_file_is_streamed_not_loaded(tmp_path):
    base = comment(body="chatgpt down " + "x" * 400)
    data = jsonl_bytes(dict(copy.deepcopy(base), id=f"c{i}") for i in range(20_000))
    path = tmp_path / "RC_big.zst"
    path.write_bytes(zst_bytes(data + b"{this last line is broken\n"))

    reader = ArchiveReader([str(path)], "reddit-dump")
    tracemalloc.start()  # before the first read, so a reader that slurps the file is caught
    try:
        posts = iter(reader)
        assert inspect.isgenerator(posts)
        # Lazy: the first post arrives although the file ends in a broken line.
        assert next(posts).id == "c0" and reader.read == 1
        count = 0
        with pytest.raises(InvalidRecordError, match=r"RC_big\.zst:20001: not valid JSON"):
            for _ in posts:
                count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 19_999 and reader.read == 20_000
    # The decompressed file is ~9 MB; a streaming reader holds a few buffers of it at most.
    assert len(data) > 8_000_000
    assert peak < 4_000_000, peak
