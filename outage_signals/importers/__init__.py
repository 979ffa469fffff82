"""Import archives people already have (twarc2 output, Reddit dumps) as post records.

:class:`ArchiveReader` streams one or more archive files and yields
:class:`~outage_signals.records.Post` objects, line by line in constant memory, so a tens-of-GB
Pushshift ``.zst`` dump can be converted without unpacking it. Inputs may be plain, ``.gz``,
``.zst``, ``.bz2`` or ``.xz`` files, or ``-`` for plain standard input (see
:mod:`outage_signals.importers.lines`). Formats (:data:`FORMATS`):

- ``twarc2``: API pages or flattened tweets (:mod:`outage_signals.importers.twarc2`);
- ``reddit-dump``: Pushshift / Arctic Shift submissions and comments
  (:mod:`outage_signals.importers.reddit_dump`).

Bad lines behave as in :class:`outage_signals.jsonl.RecordReader`: the first one raises
:class:`~outage_signals.errors.InvalidRecordError` naming the file and 1-based line, or, with
``skip_invalid``, goes to a side file as ``{"path", "line", "problem", "raw"}`` and is counted.
A corrupt or truncated compressed stream always raises, since nothing after it can be read.

Every post's ``_meta`` says where it came from: ``collector`` (``import-<format>``),
``version`` (this package's), ``file`` (the input's base name) and ``line``, plus the
archive's own provenance (for twarc2: ``retrieved_at`` in UTC, ``query_url``,
``twarc_version``; for dumps: ``retrieved_at``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from outage_signals import __version__
from outage_signals.errors import InputError, InvalidRecordError
from outage_signals.importers import reddit_dump, twarc2
from outage_signals.importers.lines import check_input, decode_line, display_name, iter_raw_lines
from outage_signals.jsonl import RejectsSideFile, decode_json
from outage_signals.records import Post

#: Archive formats :class:`ArchiveReader` understands.
FORMATS = ("twarc2", "reddit-dump")

# Each parser turns one decoded line into its posts; None means "deliberately skipped".
_PARSERS: dict[str, Callable[[Any], list[Post] | None]] = {
    "twarc2": twarc2.parse,
    "reddit-dump": reddit_dump.parse,
}


@dataclass
class ArchiveReader(RejectsSideFile):
    """Reads posts from archive files of one format and keeps count of what it read.

    ``fmt``: one of :data:`FORMATS`. ``service``: when set, written into every post's
    ``service`` (for archives collected about one service). ``skip_invalid``: write bad lines
    to ``rejects_path`` instead of raising.

    After iterating, ``read`` holds the number of posts yielded, ``rejected`` the number of
    lines written to the side file (``first_problem`` describes the first), and
    ``skipped_removed`` the number of Reddit comments skipped because their text was removed
    or deleted.
    """

    inputs: list[str]
    fmt: str
    skip_invalid: bool = False
    rejects_path: str = "rejected.jsonl"
    service: str | None = None
    read: int = 0
    rejected: int = 0
    first_problem: str | None = None
    skipped_removed: int = 0
    _rejects: IO[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.fmt not in _PARSERS:
            raise InputError(f"unknown archive format {self.fmt!r}; choose one of: {', '.join(FORMATS)}")
        if isinstance(self.inputs, str | os.PathLike):
            self.inputs = [str(self.inputs)]

    def __iter__(self) -> Iterator[Post]:
        try:
            # Check every input first: failing on file three after an hour on file one helps no one.
            for path in self.inputs:
                check_input(path)
            for path in self.inputs:
                yield from self._read_file(path)
        finally:
            self._close_rejects()

    def _read_file(self, path: str) -> Iterator[Post]:
        name = display_name(path)
        parse = _PARSERS[self.fmt]
        base = {
            "collector": f"import-{self.fmt}",
            "version": __version__,
            "file": name if path == "-" else os.path.basename(path),
        }
        for lineno, raw in iter_raw_lines(path):
            if raw.isspace():  # blank lines (isspace avoids copying a multi-MB line)
                continue
            try:
                posts = parse(decode_json(decode_line(raw)))
            except InvalidRecordError as exc:
                if not self.skip_invalid:
                    raise InvalidRecordError(exc.problem, name, lineno) from None
                # Undecodable bytes become U+FFFD so the side file stays valid UTF-8 JSON.
                self._reject(name, lineno, exc.problem, raw.decode("utf-8", errors="replace"))
                continue
            if posts is None:
                self.skipped_removed += 1
                continue
            for post in posts:
                post.meta = {**base, "line": lineno, **(post.meta or {})}
                if self.service is not None:
                    post.service = self.service
                self.read += 1
                yield post
