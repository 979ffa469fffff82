"""The post record: the one type every stage passes around.

This module owns the contract's post record (``../shared/CONTRACT.md`` section 1): the
:class:`Post` dataclass, its validation from a JSON object, its serialisation back to one, and
the pandas columns and dtypes that analysis stages use (:data:`FRAME_DTYPES`, :func:`to_frame`).

Time: ``created_at`` is always an aware ``datetime`` in UTC. Input may carry any offset; a
timestamp without a zone is rejected because guessing would shift counts by hours.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from outage_signals.errors import InvalidRecordError

#: Fields the contract names, in the order they are written out.
CONTRACT_FIELDS = (
    "id",
    "source",
    "created_at",
    "text",
    "service",
    "author",
    "url",
    "lang",
    "place",
    "coordinates",
    "user_location",
    "subreddit",
    "_meta",
)
REQUIRED_FIELDS = ("id", "source", "created_at", "text")
_OPTIONAL_STRINGS = ("service", "author", "url", "lang", "user_location", "subreddit")


@dataclass(slots=True)
class Post:
    """One social-media post, as the contract defines it.

    ``created_at`` is aware and in UTC. ``coordinates`` is ``(lon, lat)`` in degrees.
    ``extra`` holds every field the contract does not name (including fields added by later
    stages such as ``relevance`` or ``location``), so nothing is lost on a round trip.
    """

    id: str
    source: str
    created_at: datetime
    text: str
    service: str | None = None
    author: str | None = None
    url: str | None = None
    lang: str | None = None
    place: dict[str, Any] | None = None
    coordinates: tuple[float, float] | None = None
    user_location: str | None = None
    subreddit: str | None = None
    meta: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """``(source, id)``: unique across every collector."""
        return (self.source, self.id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for this post: contract fields first, then ``extra`` in its order.

        Optional fields that are ``None`` are left out, keeping files small; readers treat a
        missing field and ``null`` alike.
        """
        out: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "created_at": format_time(self.created_at),
            "text": self.text,
        }
        for name in ("service", "author", "url", "lang", "place"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.coordinates is not None:
            out["coordinates"] = list(self.coordinates)
        for name in ("user_location", "subreddit"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.meta is not None:
            out["_meta"] = self.meta
        out.update(self.extra)
        return out


def format_time(ts: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix; fractional seconds only when present."""
    ts = ts.astimezone(UTC)
    spec = "milliseconds" if ts.microsecond else "seconds"
    return ts.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(value: Any, name: str = "created_at") -> datetime:
    """Parse an ISO 8601 timestamp that carries a zone; return it in UTC.

    Raises :class:`InvalidRecordError` (without a location; the caller adds it).
    """
    if not isinstance(value, str):
        raise InvalidRecordError(f"{name} must be an ISO 8601 string, got {type(value).__name__}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRecordError(f"{name} is not ISO 8601: {value!r}") from None
    if ts.tzinfo is None:
        raise InvalidRecordError(
            f"{name} has no time zone: {value!r} (add 'Z' for UTC or an offset like +02:00)"
        )
    return ts.astimezone(UTC)


def post_from_dict(obj: Any) -> Post:
    """Validate one decoded JSON value and build a :class:`Post`.

    Raises :class:`InvalidRecordError` naming the first problem found. Integer ids (as some
    APIs send them) are accepted and turned into strings; everything else must match the
    contract's types.
    """
    if not isinstance(obj, Mapping):
        raise InvalidRecordError(f"expected a JSON object, got {type(obj).__name__}")
    missing = [name for name in REQUIRED_FIELDS if obj.get(name) in (None, "")]
    # An empty text is still a post; only a missing or null text is an error.
    if "text" in missing and isinstance(obj.get("text"), str):
        missing.remove("text")
    if missing:
        raise InvalidRecordError(f"missing required field(s): {', '.join(missing)}")

    post_id = obj["id"]
    if isinstance(post_id, bool) or not isinstance(post_id, str | int):
        raise InvalidRecordError(f"id must be a string, got {type(post_id).__name__}")
    source = obj["source"]
    if not isinstance(source, str):
        raise InvalidRecordError(f"source must be a string, got {type(source).__name__}")
    text = obj["text"]
    if not isinstance(text, str):
        raise InvalidRecordError(f"text must be a string, got {type(text).__name__}")

    optional: dict[str, Any] = {}
    for name in _OPTIONAL_STRINGS:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidRecordError(f"{name} must be a string or null, got {type(value).__name__}")
        optional[name] = value if value != "" else None

    place = obj.get("place")
    if place is not None:
        if not isinstance(place, Mapping):
            raise InvalidRecordError("place must be an object or null")
        for key in ("country_code", "full_name"):
            if place.get(key) is not None and not isinstance(place[key], str):
                raise InvalidRecordError(f"place.{key} must be a string")
        place = dict(place)

    coordinates = _parse_coordinates(obj.get("coordinates"))

    meta = obj.get("_meta")
    if meta is not None and not isinstance(meta, Mapping):
        raise InvalidRecordError("_meta must be an object or null")

    extra = {k: v for k, v in obj.items() if k not in CONTRACT_FIELDS}
    return Post(
        id=str(post_id),
        source=source,
        created_at=parse_time(obj["created_at"]),
        text=text,
        place=place,
        coordinates=coordinates,
        meta=dict(meta) if meta is not None else None,
        extra=extra,
        **optional,
    )


def _parse_coordinates(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise InvalidRecordError("coordinates must be [lon, lat] numbers or null")
    lon, lat = float(value[0]), float(value[1])
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0) or math.isnan(lon + lat):
        raise InvalidRecordError(f"coordinates out of range: [{lon}, {lat}] (order is [lon, lat])")
    return (lon, lat)


# --- DataFrame view -------------------------------------------------------------------------

#: Columns of the analysis frame and their dtypes. ``created_at`` is UTC; ``lon``/``lat`` are
#: degrees (NaN when absent); ``place_country`` is the X place's ISO 3166-1 alpha-2 code.
FRAME_DTYPES: dict[str, str] = {
    "id": "string",
    "source": "string",
    "created_at": "datetime64[ns, UTC]",
    "text": "string",
    "service": "string",
    "author": "string",
    "url": "string",
    "lang": "string",
    "place_country": "string",
    "place_name": "string",
    "lon": "float64",
    "lat": "float64",
    "user_location": "string",
    "subreddit": "string",
}


def to_frame(posts: Iterable[Post]) -> pd.DataFrame:
    """One row per post with the columns of :data:`FRAME_DTYPES`, in that order."""
    rows = []
    for p in posts:
        place = p.place or {}
        lon, lat = p.coordinates if p.coordinates else (math.nan, math.nan)
        rows.append(
            (
                p.id,
                p.source,
                p.created_at,
                p.text,
                p.service,
                p.author,
                p.url,
                p.lang,
                place.get("country_code"),
                place.get("full_name"),
                lon,
                lat,
                p.user_location,
                p.subreddit,
            )
        )
    frame = pd.DataFrame.from_records(rows, columns=list(FRAME_DTYPES))
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame.astype(FRAME_DTYPES)

