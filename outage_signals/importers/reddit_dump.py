"""Reddit posts from Pushshift / Arctic Shift style dumps turned into post records.

A dump holds one JSON object per line, either submissions (``RS_*`` files; they have a
``title``) or comments (``RC_*`` files; they have a ``body``). Both kinds may share a file.

Mapping: ``id`` is the base-36 id without its ``t3_``/``t1_`` kind prefix; ``created_utc`` is
seconds since the Unix epoch (an integer, a float or a numeric string, depending on the dump's
year) and becomes an ISO 8601 UTC timestamp. A submission's text is its title, then a blank
line and its self text when there is any (``[removed]`` and ``[deleted]`` bodies are dropped).
A comment whose body was removed or deleted carries no signal and is skipped (:func:`parse`
returns ``None`` so the reader can count it). ``[deleted]`` authors become ``None``. Extra
fields: ``kind`` (``submission`` or ``comment``) and, for comments, ``link_id`` (the
submission's ``t3_`` name, as the dump gives it). ``retrieved_on`` / ``retrieved_utc`` (epoch
seconds) become ``_meta.retrieved_at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from outage_signals.errors import InvalidRecordError
from outage_signals.records import Post, format_time, post_from_dict

#: What Reddit shows in place of text that a moderator or its author took down.
REMOVED_MARKERS = ("[removed]", "[deleted]")
_BASE_URL = "https://www.reddit.com"


def parse(obj: Any) -> list[Post] | None:
    """The post in one decoded dump line, or ``None`` for a comment whose text is gone.

    Raises :class:`InvalidRecordError` (without a location) for a line that is not a
    submission or comment, or lacks ``id`` or a usable ``created_utc``.
    """
    if not isinstance(obj, Mapping):
        raise InvalidRecordError(f"expected a JSON object, got {type(obj).__name__}")
    if "title" in obj:
        kind = "submission"
    elif "body" in obj:
        kind = "comment"
    else:
        raise InvalidRecordError("not a Reddit submission or comment (no 'title' or 'body')")

    post_id = obj.get("id")
    if post_id in (None, ""):
        raise InvalidRecordError("missing required field(s): id")
    if not isinstance(post_id, str):
        raise InvalidRecordError(f"id must be a string, got {type(post_id).__name__}")
    post_id = post_id.removeprefix("t3_").removeprefix("t1_")
    created = _epoch(obj.get("created_utc"), "created_utc")
    if created is None:
        raise InvalidRecordError("missing required field(s): created_utc")

    if kind == "submission":
        text = _submission_text(obj.get("title"), obj.get("selftext"))
    else:
        text = obj.get("body")
        if isinstance(text, str) and text.strip() in REMOVED_MARKERS:
            return None

    subreddit = obj.get("subreddit") or None
    author = obj.get("author")
    record: dict[str, Any] = {
        "id": post_id,
        "source": "reddit",
        "created_at": format_time(created),
        "text": text,
        "author": None if author in REMOVED_MARKERS else author,
        "url": _url(obj, kind, post_id, subreddit),
        "subreddit": subreddit,
        "_meta": _provenance(obj),
        "kind": kind,
    }
    if kind == "comment":
        record["link_id"] = obj.get("link_id")
    return [post_from_dict(record)]


def _epoch(value: Any, name: str) -> datetime | None:
    """Seconds since the epoch (int, float or numeric string) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidRecordError(f"{name} must be seconds since the epoch, got {type(value).__name__}")
    try:
        seconds = float(value)
        return datetime.fromtimestamp(seconds, UTC)
    except ValueError:
        raise InvalidRecordError(f"{name} is not a number: {value!r}") from None
    except (OverflowError, OSError):
        raise InvalidRecordError(f"{name} is out of range: {value!r}") from None


def _submission_text(title: Any, selftext: Any) -> Any:
    if not isinstance(title, str):
        return title  # post_from_dict reports the wrong type
    if isinstance(selftext, str) and selftext.strip() and selftext.strip() not in REMOVED_MARKERS:
        return f"{title}\n\n{selftext}"
    return title


def _url(obj: Mapping[str, Any], kind: str, post_id: str, subreddit: Any) -> str | None:
    permalink = obj.get("permalink")
    if isinstance(permalink, str) and permalink:
        # Dumps store the path ("/r/…/comments/…/"); a few tools store the whole address.
        return permalink if permalink.startswith("http") else _BASE_URL + permalink
    if not isinstance(subreddit, str):
        return None
    if kind == "submission":
        return f"{_BASE_URL}/r/{subreddit}/comments/{post_id}/"
    link_id = obj.get("link_id")
    if not isinstance(link_id, str) or not link_id:
        return None
    # "_" stands in for the title slug, which Reddit ignores when resolving the link.
    return f"{_BASE_URL}/r/{subreddit}/comments/{link_id.removeprefix('t3_')}/_/{post_id}/"


def _provenance(obj: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("retrieved_on", "retrieved_utc"):
        try:
            when = _epoch(obj.get(key), key)
        except InvalidRecordError:
            continue  # a broken retrieval time should not cost the post itself
        if when is not None:
            return {"retrieved_at": format_time(when)}
    return {}
