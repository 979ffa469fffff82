"""JSON Lines in and out: plain files, ``.gz`` files, directories of them, and ``-`` for stdio.

Reading is strict by default: the first malformed line raises
:class:`~outage_signals.errors.InvalidRecordError` naming the file, the 1-based line number and
the problem. With ``skip_invalid=True`` each rejected line goes to a side file instead (as a JSON
object with ``path``, ``line``, ``problem`` and the ``raw`` text) and is counted, so nothing is
dropped silently.

Writing to a file is atomic: records go to a temporary file beside the target, which replaces
the target only when every record was written. An interrupted run leaves the old file intact.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from outage_signals.errors import InputError, InvalidRecordError
from outage_signals.records import Post, post_from_dict

#: File names picked up when a directory is given.
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json.gz")


def expand_inputs(inputs: Iterable[str]) -> list[str]:
    """Turn the user's INPUT arguments into a list of files (``-`` stays as stdin).

    A directory contributes its JSON Lines files (see :data:`JSONL_SUFFIXES`), sorted by name,
    recursively. A missing path raises :class:`InputError`.
    """
    files: list[str] = []
    for item in inputs:
        if item == "-":
            files.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(
                str(p) for p in path.rglob("*") if p.is_file() and p.name.endswith(JSONL_SUFFIXES)
            )
            if not found:
                raise InputError(f"{item}: directory holds no .jsonl or .jsonl.gz files")
            files.extend(found)
        elif path.is_file():
            files.append(str(path))
        else:
            raise InputError(f"{item}: no such file or directory")
    return files


def _open_text(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


class RejectsSideFile:
    """For readers with ``rejects_path``, ``rejected``, ``first_problem`` and ``_rejects``:
    append one rejected line to the side file (opened on first use) and count it."""

    rejects_path: str
    rejected: int
    first_problem: str | None
    _rejects: IO[str] | None

    def _reject(self, path: str, line: int, problem: str, raw: str) -> None:
        if self._rejects is None:
            self._rejects = open(self.rejects_path, "a", encoding="utf-8")
        entry = {"path": path, "line": line, "problem": problem, "raw": raw.rstrip("\r\n")}
        self._rejects.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.rejected += 1
        if self.first_problem is None:
            self.first_problem = f"{path}:{line}: {problem}"

    def _close_rejects(self) -> None:
        if self._rejects is not None:
            self._rejects.close()
            self._rejects = None


@dataclass
class RecordReader(RejectsSideFile):
    """Reads post records from one or more inputs and keeps the count of rejected lines.

    ``skip_invalid``: write bad lines to ``rejects_path`` instead of raising.
    After iterating, ``read`` holds the number of records yielded and ``rejected`` the number
    of lines written to the side file.
    """

    inputs: list[str]
    skip_invalid: bool = False
    rejects_path: str = "rejected.jsonl"
    read: int = 0
    rejected: int = 0
    first_problem: str | None = None
    _rejects: IO[str] | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[Post]:
        try:
            for path in expand_inputs(self.inputs):
                yield from self._read_file(path)
        finally:
            self._close_rejects()

    def _read_file(self, path: str) -> Iterator[Post]:
        name = "<stdin>" if path == "-" else path
        handle = _open_text(path)
        try:
            lineno = 0
            while True:
                try:
                    raw = handle.readline()
                except (UnicodeDecodeError, OSError, EOFError) as exc:
                    # A corrupt gzip member or bad UTF-8 makes the rest unreadable.
                    raise InvalidRecordError(f"cannot read: {exc}", name, lineno + 1) from None
                if not raw:
                    break
                lineno += 1
                if not raw.strip():
                    continue
                try:
                    post = post_from_dict(decode_json(raw))
                except InvalidRecordError as exc:
                    err = InvalidRecordError(exc.problem, name, lineno)
                    if not self.skip_invalid:
                        raise err from None
                    self._reject(name, lineno, exc.problem, raw)
                    continue
                self.read += 1
                yield post
        finally:
            if path != "-":
                handle.close()
            else:
                handle.detach()



def decode_json(raw: str) -> Any:
    """``json.loads`` whose error is an :class:`InvalidRecordError` (no location)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRecordError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None


def read_posts(inputs: Iterable[str] | str, **kwargs: Any) -> list[Post]:
    """Read every post from ``inputs`` (see :class:`RecordReader` for the options)."""
    if isinstance(inputs, str | os.PathLike):
        inputs = [str(inputs)]
    return list(RecordReader(list(inputs), **kwargs))


def write_jsonl(objects: Iterable[dict[str, Any]], path: str) -> int:
    """Write JSON objects one per line to ``path`` (``-`` for stdout; ``.gz`` compresses).

    Files are replaced atomically. Returns the number of lines written.
    """
    if path == "-":
        count = 0
        out = sys.stdout
        for obj in objects:
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            count += 1
        out.flush()
        return count

    count = 0
    with atomic_replace(Path(path)) as tmp:
        if path.endswith(".gz"):
            # mtime=0 keeps the bytes reproducible for the same records.
            raw = open(tmp, "wb")
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
            handle: IO[str] = io.TextIOWrapper(gz, encoding="utf-8")
        else:
            raw = None
            handle = open(tmp, "w", encoding="utf-8")
        with handle:
            for obj in objects:
                handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
                count += 1
        if raw is not None:
            raw.close()
    return count


@contextmanager
def atomic_replace(target: Path, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it when the block succeeds.

    Readers see the old file or the new one, never half of it; on an error the temporary file
    is removed and ``target`` is untouched. ``mode``: permissions of the result (default: what
    a plain ``open()`` would give, since ``mkstemp`` makes the file private).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_posts(posts: Iterable[Post], path: str) -> int:
    """Write posts as JSON Lines (see :func:`write_jsonl`)."""
    return write_jsonl((p.to_dict() for p in posts), path)
