"""Labelling in the terminal: the user answers y/n for (post, service) pairs to teach the classifier.

The relevance model (:mod:`outage_signals.classifying`) is trained on a corpus of labelled
examples. Users who monitor services the corpus covers thinly label their own posts here and
train on the result. An item is one ``(post, service)`` pair with the current model's
P(relevant) for it, as :func:`~outage_signals.classifying.score_posts` produces them (a post
without ``service`` gives one pair per catalog service its text names).

Order: the most uncertain pairs come first (smallest ``|P(relevant) - threshold|``), because a
label near the decision boundary teaches the model the most; ties keep the input order.

Output is JSON Lines in the corpus format, one line per answer::

    {"text": "...", "service": "chatgpt", "label": 1, "kind": null, "lang": "en",
     "id": "123", "source": "bluesky"}

``id`` and ``source`` are written when the post has them; the corpus loader reads only
``text``, ``service``, ``label``, ``kind`` and ``lang`` and ignores the rest.

Durability: each line is appended, flushed and fsynced as soon as it is answered, so Ctrl-C, a
closed terminal or a crash loses at most the item on screen. Undo rewrites the file atomically
(temporary file beside it, then ``os.replace``).

Resuming: pairs already in the output file are not asked again. A line with ``source`` and
``id`` identifies ``(source, id, service)``; a line without them identifies ``(text, service)``
with the text normalised (NFKC, case-folded, whitespace collapsed), which is all it carries.

I/O is injected (``ask`` and ``say``), so tests drive the loop without a terminal and the CLI
decides how to prompt.
"""

from __future__ import annotations

import json
import os
import textwrap
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outage_signals.errors import InputError
from outage_signals.jsonl import atomic_replace
from outage_signals.records import Post

#: Identity of a labelled pair: ``("post", source, id, service)`` or ``("text", text, service)``.
Key = tuple[str, ...]

#: The prompt for one answer; ``ask`` receives it verbatim.
PROMPT = "relevant? [y/n/s/u/q/?] "
#: The prompt for the optional ``kind`` after y or n.
KIND_PROMPT = "kind (one word, Enter for none): "

HELP = """\
y  relevant: the post reports a problem with this service (label 1)
n  not relevant: no problem, or a problem with something else (label 0)
s  skip: write nothing; the post comes back in a later session
u  undo the last label written in this session and show that post again
q  quit; every answer so far is already saved
?  this help"""

_ANSWERS = frozenset("ynsuq")


@dataclass(frozen=True)
class Item:
    """One pair to label: ``post`` judged for ``service``, with the model's P(relevant) (0–1)."""

    post: Post
    service: str
    probability: float

    @property
    def key(self) -> Key:
        """``("post", source, id, service)`` when the post has both, else the text key."""
        if self.post.source and self.post.id:
            return ("post", self.post.source, self.post.id, self.service)
        return self.text_key

    @property
    def text_key(self) -> Key:
        """``("text", normalised text, service)``: how a line without id and source is known."""
        return ("text", _normalise(self.post.text), self.service)


@dataclass(frozen=True)
class Summary:
    """What one session did, counted in (post, service) pairs.

    ``relevant`` / ``not_relevant``: labels 1 / 0 written in this session (after undos).
    ``skipped``: pairs whose last answer was s. ``remaining``: pairs still unlabelled after the
    session (the skipped ones and those not reached). ``already``: pairs left out because the
    output file held them when the session started.
    """

    relevant: int
    not_relevant: int
    skipped: int
    remaining: int
    already: int

    def __str__(self) -> str:
        return (f"{self.relevant} relevant, {self.not_relevant} not relevant, "
                f"{self.skipped} skipped, {self.remaining} remaining "
                f"({self.already} already labelled)")


def rank(items: Iterable[Item], threshold: float) -> list[Item]:
    """``items`` with the most uncertain first: smallest ``|probability - threshold|``.

    ``threshold`` is the model's decision threshold (0–1). Ties keep the input order; distances
    are rounded to 1e-9 so that pairs equally far from the threshold on paper (0.4 and 0.6 around
    0.5) tie despite floating-point error. A probability outside 0–1 raises :class:`ValueError`.
    """
    items = list(items)
    for item in items:
        if not 0.0 <= item.probability <= 1.0:
            raise ValueError(f"probability must be within 0–1, got {item.probability!r}")
    return sorted(items, key=lambda item: round(abs(item.probability - threshold), 9))


def already_labeled(path: str | os.PathLike[str]) -> set[Key]:
    """Keys of the pairs labelled in the output file at ``path`` (empty if it does not exist).

    Reading is tolerant: blank lines, extra fields and lines without ``id``/``source`` are fine.
    A line that is not a labelled example (not JSON, or missing ``text``, ``service`` or a 0/1
    ``label``) raises :class:`InputError` naming the file and the 1-based line, because appending
    to a file the loader would then reject would waste the session.
    """
    name = str(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    keys: set[Key] = set()
    with handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                keys.add(_line_key(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                # UnicodeDecodeError and JSONDecodeError are ValueErrors.
                raise InputError(f"{name}:{lineno}: not a labelled example ({exc})") from None
    return keys


def label_loop(
    items: Iterable[Item],
    path: str | os.PathLike[str],
    threshold: float,
    ask: Callable[[str], str],
    say: Callable[[str], None],
    *,
    ask_kind: bool = False,
    width: int = 78,
) -> Summary:
    """Ask the user to label ``items`` and append each answer to the JSON Lines file ``path``.

    ``threshold``: the model's decision threshold (0–1), used for the order (see :func:`rank`)
    and shown beside each P(relevant). ``ask(prompt)`` returns one line typed by the user and
    raises :class:`EOFError` at end of input, which ends the session like ``q`` (as does
    :class:`KeyboardInterrupt` raised by ``ask``). ``say(text)`` shows text, one call per block.
    ``ask_kind``: after y or n, also ask for a ``kind`` (one free word; Enter for none).
    ``width``: columns the post text is wrapped to. End of input while asking for the kind
    ends the session without writing that item, since its answer was not finished.

    Pairs already in ``path`` are left out, and a pair given twice is asked once. Parent
    directories are created. Returns the :class:`Summary` for the caller to print.
    """
    target = Path(path)
    if str(path) == "-" or target.name.endswith(".gz"):
        raise InputError(f"{path}: labels go to a plain .jsonl file (it is appended to as you answer)")
    done = already_labeled(target)
    pending: list[Item] = []
    seen: set[Key] = set()
    already = 0
    for item in rank(items, threshold):
        if item.key in done or item.text_key in done:
            already += 1
        elif item.key not in seen:
            seen.add(item.key)
            pending.append(item)

    written: list[tuple[int, str]] = []  # (index in pending, line) of this session's labels
    outcome: dict[int, int | None] = {}  # index in pending -> label, or None when skipped
    i = 0
    while i < len(pending):
        item = pending[i]
        say(_describe(item, i + 1, len(pending), threshold, width))
        answer = _answer(ask, say)
        if answer == "q":
            break
        if answer == "s":
            outcome[i] = None
            i += 1
            continue
        if answer == "u":
            if not written:
                say("nothing to undo in this session")
                continue
            i, line = written.pop()
            _remove_line(target, line)
            del outcome[i]
            say(f"undone: label for [{i + 1}/{len(pending)}]")
            continue
        label = 1 if answer == "y" else 0
        kind = None
        if ask_kind:
            try:
                kind = _kind(ask, say)
            except (EOFError, KeyboardInterrupt):
                break  # the answer was not finished: nothing is written for this item
        line = json.dumps(_record(item, label, kind), ensure_ascii=False)
        _append_line(target, line)
        written.append((i, line))
        outcome[i] = label
        i += 1

    labels = [v for v in outcome.values() if v is not None]
    return Summary(
        relevant=labels.count(1),
        not_relevant=labels.count(0),
        skipped=sum(v is None for v in outcome.values()),
        remaining=len(pending) - len(labels),
        already=already,
    )


# --- answers and display --------------------------------------------------------------------


def _answer(ask: Callable[[str], str], say: Callable[[str], None]) -> str:
    """One of y n s u q; ``?`` shows the help and unknown answers ask again."""
    while True:
        try:
            raw = ask(PROMPT)
        except (EOFError, KeyboardInterrupt):
            return "q"
        key = raw.strip().lower()
        if key in _ANSWERS:
            return key
        if key == "?":
            say(HELP)
        else:
            say(f"unknown answer {raw.strip()!r}: type y, n, s, u, q or ? for help")


def _kind(ask: Callable[[str], str], say: Callable[[str], None]) -> str | None:
    """A free word for ``kind``, or None for an empty answer; raises EOFError like ``ask``."""
    while True:
        kind = ask(KIND_PROMPT).strip()
        if not kind:
            return None
        if len(kind.split()) == 1:
            return kind
        say("one word, please (e.g. is_it_down), or Enter for none")


def _describe(item: Item, position: int, total: int, threshold: float, width: int) -> str:
    """The block shown for one item: progress, service, P(relevant), then the wrapped text."""
    lines = [f"[{position}/{total}] {item.service}  "
             f"P(relevant) {item.probability:.2f} (threshold {threshold:.2f})"]
    for paragraph in _printable(item.post.text).splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, width, initial_indent="  ", subsequent_indent="  ")
                     or [""])
    if item.post.url:
        lines.append(f"  {_printable(item.post.url)}")
    return "\n".join(lines)


def _printable(text: str) -> str:
    # Posts are untrusted: control characters (terminal escape sequences among them) are shown
    # as spaces rather than sent to the user's terminal. Newlines are kept to split paragraphs.
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) != "Cc" else " "
        for ch in text.replace("\r\n", "\n")
    )


# --- the output file ------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _line_key(obj: Any) -> Key:
    if not isinstance(obj, dict):
        raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
    text, service, label = obj["text"], obj["service"], obj["label"]
    if not isinstance(text, str) or not isinstance(service, str) or not service:
        raise TypeError("text and service must be strings")
    if label not in (0, 1):  # as the corpus loader: 0, 1, true, false (and 0.0, 1.0)
        raise ValueError("label must be 0 or 1")
    post_id, source = obj.get("id"), obj.get("source")
    if post_id not in (None, "") and isinstance(source, str) and source:
        return ("post", source, str(post_id), service)
    return ("text", _normalise(text), service)


def _record(item: Item, label: int, kind: str | None) -> dict[str, Any]:
    post = item.post
    out: dict[str, Any] = {"text": post.text, "service": item.service, "label": label,
                           "kind": kind, "lang": post.lang}
    if post.id:
        out["id"] = post.id
    if post.source:
        out["source"] = post.source
    return out


def _append_line(path: Path, line: str) -> None:
    """Append one line and fsync it, so an answer survives a crash the moment it is given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    data = (line + "\n").encode("utf-8")
    with open(path, "a+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                # A hand-edited last line without its newline would otherwise merge with ours.
                data = b"\n" + data
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        _fsync_dir(path.parent)


def _remove_line(path: Path, line: str) -> None:
    """Remove the last occurrence of ``line`` from ``path``, replacing the file atomically."""
    lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip("\r\n") == line:
            del lines[index]
            break
    else:
        raise InputError(f"{path}: cannot undo: the last label of this session is no longer in the file")
    with atomic_replace(path, mode=path.stat().st_mode & 0o7777) as tmp, open(tmp, "wb") as handle:
        handle.write("".join(lines).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes a new or replaced directory entry durable; POSIX only (Windows cannot open a folder).
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
