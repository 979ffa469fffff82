"""The post record: validation, normalisation to UTC, round trips and the DataFrame view."""

from __future__ import annotations

import pytest

from outage_signals.errors import InvalidRecordError
from outage_signals.records import FRAME_DTYPES, post_from_dict, to_frame
from tests.conftest import record, utc


def test_valid_record_round_trips_with_unknown_fields_kept():
    obj = record(service="chatgpt", author="alice", place={"country_code": "US",
                 "full_name": "Austin, TX"}, coordinates=[-97.7, 30.3], custom={"a": 1},
                 _meta={"collector": "test"})
    post = post_from_dict(obj)
    assert post.created_at == utc(2024, 12, 26, 18, 41, 7)
    assert post.coordinates == (-97.7, 30.3)
    assert post.extra == {"custom": {"a": 1}}
    assert post.to_dict() == obj


def test_offsets_are_normalised_to_utc():
    post = post_from_dict(record(created_at="2024-12-26T10:41:07-08:00"))
    assert post.to_dict()["created_at"] == "2024-12-26T18:41:07Z"
    post = post_from_dict(record(created_at="2024-12-26T18:41:07.250+00:00"))
    assert post.to_dict()["created_at"] == "2024-12-26T18:41:07.250Z"


def test_integer_ids_become_strings():
    assert post_from_dict(record(id=1800000000000000002)).id == "1800000000000000002"


@pytest.mark.parametrize(
    ("obj", "problem"),
    [
        ([1, 2], "expected a JSON object, got list"),
        ({"source": "x", "created_at": "2024-12-26T18:41:07Z", "text": "t"},
         "missing required field(s): id"),
        (record(created_at="2024-12-26T18:41:07"), "created_at has no time zone"),
        (record(created_at="yesterday"), "created_at is not ISO 8601: 'yesterday'"),
        (record(created_at=1735238467), "created_at must be an ISO 8601 string, got int"),
        (record(text=None), "missing required field(s): text"),
        (record(author=5), "author must be a string or null, got int"),
        (record(place="Austin"), "place must be an object or null"),
        (record(coordinates=[200, 10]), "coordinates out of range"),
        (record(coordinates=[1]), "coordinates must be [lon, lat] numbers or null"),
        (record(id=True), "id must be a string, got bool"),
    ],
)
def test_invalid_records_say_what_is_wrong(obj, problem):
    with pytest.raises(InvalidRecordError) as info:
        post_from_dict(obj)
    assert str(info.value).startswith(problem)


def test_empty_text_is_allowed():
    assert post_from_dict(record(text="")).text == ""


def test_frame_has_contract_columns_and_dtypes():
    posts = [post_from_dict(record(1, place={"country_code": "GB", "full_name": "London"})),
             post_from_dict(record(2, coordinates=[2.35, 48.85], author="bob"))]
    frame = to_frame(posts)
    assert list(frame.columns) == list(FRAME_DTYPES)
    assert {c: str(t) for c, t in frame.dtypes.items()} == FRAME_DTYPES
    assert frame["place_country"].tolist()[0] == "GB"
    assert frame["lat"].tolist()[1] == 48.85
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert len(to_frame([])) == 0
