"""Tweets from twarc2 output (Twitter/X API v2 JSON) turned into post records.

Two line shapes are accepted, detected line by line so that mixed files work:

- **API pages**, as ``twarc2 search`` and ``twarc2 timeline`` write them: one response per line,
  ``{"data": [tweet, ...], "includes": {"users", "places", "tweets"}, "meta", "__twarc"}``.
  Authors, places and retweeted originals are looked up in ``includes`` by id. A page with no
  ``data`` (``meta.result_count`` 0) yields nothing.
- **Flattened tweets**, as ``twarc2 flatten`` writes them: one tweet per line with the author
  inlined as ``author`` and the place inlined into ``geo`` (twarc merges the place's fields
  into ``geo``; a nested ``geo.place`` object is accepted too). Referenced tweets are inlined
  into ``referenced_tweets``.

Mapping: ``created_at`` is the API's UTC timestamp; ``coordinates`` is ``[lon, lat]`` in
degrees (GeoJSON order, as the API gives it); ``place`` keeps ``country_code`` (ISO 3166-1
alpha-2) and ``full_name``. Retweets are kept with an extra ``retweet_of`` field holding the
original's id. twarc's ``__twarc`` block becomes ``_meta`` keys ``retrieved_at`` (UTC),
``query_url`` and ``twarc_version``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from outage_signals.errors import InvalidRecordError
from outage_signals.records import Post, format_time, parse_time, post_from_dict

# A retweet's own text is "RT @user: " plus the original cut to fit the old length limit.
_RT_PREFIX = re.compile(r"RT @\w+: ")


def parse(obj: Any) -> list[Post]:
    """The posts in one decoded twarc2 line (a page or a flattened tweet).

    Raises :class:`InvalidRecordError` (without a location) when the line has neither shape or
    one of its tweets is not a valid post; a page is then rejected whole.
    """
    if not isinstance(obj, Mapping):
        raise InvalidRecordError(f"expected a JSON object, got {type(obj).__name__}")
    provenance = _provenance(obj.get("__twarc"))
    if "id" not in obj and ("data" in obj or "meta" in obj):
        return _parse_page(obj, provenance)
    if "id" in obj and "text" in obj:
        return [post_from_dict(_tweet_record(obj, {}, {}, {}, provenance))]
    raise InvalidRecordError("not a twarc2 page or tweet (no 'data' list, no tweet 'id' and 'text')")


def _parse_page(page: Mapping[str, Any], provenance: dict[str, Any]) -> list[Post]:
    data = page.get("data") or []
    if isinstance(data, Mapping):  # single-tweet lookups return one object, not a list
        data = [data]
    if not isinstance(data, list):
        raise InvalidRecordError(f"'data' must be a list of tweets, got {type(data).__name__}")
    includes = page.get("includes") or {}
    if not isinstance(includes, Mapping):
        raise InvalidRecordError("'includes' must be an object")
    users = _by_id(includes.get("users"))
    places = _by_id(includes.get("places"))
    tweets = _by_id(includes.get("tweets"))
    posts = []
    for index, tweet in enumerate(data):
        try:
            if not isinstance(tweet, Mapping):
                raise InvalidRecordError(f"expected a tweet object, got {type(tweet).__name__}")
            posts.append(post_from_dict(_tweet_record(tweet, users, places, tweets, provenance)))
        except InvalidRecordError as exc:
            # Say which tweet: a page holds up to 500 of them.
            raise InvalidRecordError(f"data[{index}]: {exc.problem}") from None
    return posts


def _by_id(items: Any) -> dict[str, Mapping[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(x["id"]): x for x in items if isinstance(x, Mapping) and "id" in x}


def _tweet_record(
    tweet: Mapping[str, Any],
    users: Mapping[str, Mapping[str, Any]],
    places: Mapping[str, Mapping[str, Any]],
    tweets: Mapping[str, Mapping[str, Any]],
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """One tweet as a contract record; lookups are empty for flattened (self-contained) lines."""
    tweet_id = tweet.get("id")  # post_from_dict checks it and turns an integer into a string
    user = _author(tweet, users)
    username = user.get("username") if isinstance(user.get("username"), str) else None
    author_id = tweet.get("author_id")
    geo = tweet.get("geo") if isinstance(tweet.get("geo"), Mapping) else {}

    record: dict[str, Any] = {
        "id": tweet_id,
        "source": "twitter",
        "created_at": tweet.get("created_at"),
        "text": tweet.get("text"),
        "author": username or (str(author_id) if author_id is not None else None),
        "url": (
            f"https://twitter.com/{username}/status/{tweet_id}"
            if username
            else f"https://twitter.com/i/web/status/{tweet_id}"
        ),
        "lang": tweet.get("lang"),
        "place": _place(geo, places),
        "coordinates": _point(geo),
        "user_location": user.get("location") or None,
        "_meta": dict(provenance),
    }

    own_long_text = _note_text(tweet)
    if own_long_text is not None:
        record["text"] = own_long_text
    retweet_of = _retweeted_id(tweet)
    if retweet_of is not None:
        record["retweet_of"] = retweet_of
        if own_long_text is None and isinstance(record["text"], str):
            record["text"] = _full_retweet_text(record["text"], tweet, retweet_of, tweets)
    return record


def _author(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    inline = tweet.get("author")
    if isinstance(inline, Mapping):
        return inline
    return users.get(str(tweet.get("author_id")), {})


def _place(geo: Mapping[str, Any], places: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    place = geo.get("place")
    if not isinstance(place, Mapping):
        if "full_name" in geo or "country_code" in geo:
            place = geo  # twarc2 flatten merges the place's fields into geo itself
        else:
            place = places.get(str(geo.get("place_id")), {})
    out = {"country_code": place.get("country_code"), "full_name": place.get("full_name")}
    return out if any(v is not None for v in out.values()) else None


def _point(geo: Mapping[str, Any]) -> Any:
    coords = geo.get("coordinates")
    if isinstance(coords, Mapping) and coords.get("type") == "Point":
        # Passed on unchecked: post_from_dict rejects anything that is not [lon, lat] in range.
        return coords.get("coordinates")
    return None


def _note_text(tweet: Mapping[str, Any]) -> str | None:
    """The untruncated text of a long tweet, which the API puts in ``note_tweet``."""
    note = tweet.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str) and note["text"]:
        return note["text"]
    return None


def _retweeted_id(tweet: Mapping[str, Any]) -> str | None:
    refs = tweet.get("referenced_tweets")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, Mapping) and ref.get("type") == "retweeted" and ref.get("id") is not None:
            return str(ref["id"])
    return None


def _full_retweet_text(
    text: str, tweet: Mapping[str, Any], original_id: str, tweets: Mapping[str, Mapping[str, Any]]
) -> str:
    """Replace a retweet's truncated copy of the original with the original's full text.

    The outage words are often in the part that the truncation cut off. The ``RT @user:``
    prefix is kept so the text still reads as a retweet; without it the text is left alone.
    """
    prefix = _RT_PREFIX.match(text)
    if prefix is None:
        return text
    original = tweets.get(original_id)
    if original is None:  # flattened lines inline the original into referenced_tweets
        for ref in tweet.get("referenced_tweets") or []:
            if isinstance(ref, Mapping) and str(ref.get("id")) == original_id and "text" in ref:
                original = ref
    if original is None:
        return text
    full = _note_text(original) or original.get("text")
    return prefix.group(0) + full if isinstance(full, str) and full else text


def _provenance(block: Any) -> dict[str, Any]:
    """``_meta`` keys from twarc's ``__twarc`` block (``url``, ``version``, ``retrieved_at``)."""
    if not isinstance(block, Mapping):
        return {}
    out: dict[str, Any] = {}
    retrieved = block.get("retrieved_at")
    if retrieved is not None:
        try:
            out["retrieved_at"] = format_time(parse_time(retrieved, "__twarc.retrieved_at"))
        except InvalidRecordError:
            out["retrieved_at"] = retrieved  # provenance is kept as given rather than lost
    if block.get("url") is not None:
        out["query_url"] = block["url"]
    if block.get("version") is not None:
        out["twarc_version"] = block["version"]
    return out
