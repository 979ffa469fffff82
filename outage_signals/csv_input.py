"""Opening a user's CSV file: one clear error when it cannot be read."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from outage_signals.errors import InputError


@contextmanager
def open_csv(path: Path, what: str = "") -> Iterator[csv.DictReader]:
    """A ``csv.DictReader`` over ``path`` (UTF-8); ``reader.line_num`` locates bad rows.

    A missing or unreadable file raises :class:`InputError` naming it (``what``: what the file
    was meant to hold, for the message).
    """
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read{' ' + what if what else ''}: "
                         f"{exc.strerror}") from None
    with handle:
        yield csv.DictReader(handle)
