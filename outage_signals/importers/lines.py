"""Open archive files, compressed or not, and walk them one line at a time.

Supported inputs: plain files, gzip (``.gz``), Zstandard (``.zst``, as in the Pushshift and
Arctic Shift Reddit dumps), bzip2 (``.bz2``) and xz (``.xz``), and ``-`` for standard input
(always read as plain text; pipe a compressed stream through ``zstd -dc`` and the like). A file's
compression is recognised from its first bytes, not its name, so renamed files still work; a
name that promises a compression the content lacks is reported instead of read as garbage.

Memory stays constant whatever the file size: data is decompressed a chunk at a time and
handed out line by line. Lines are bytes in, ``str`` out, decoded as
UTF-8 one line at a time so that a bad byte is reported on the line that holds it.

Errors: a missing or unreadable file is an :class:`~outage_signals.errors.InputError`; a corrupt
or truncated compressed stream, or a line longer than :data:`MAX_LINE_BYTES`, is an
:class:`~outage_signals.errors.InvalidRecordError` naming the file and the 1-based line where
reading stopped.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sys
import zlib
from collections.abc import Iterator
from typing import IO

from outage_signals.errors import InputError, InvalidRecordError

#: Compressed bytes fed to the Zstandard decoder per step. Its output for one step is not
#: bounded, so the step is small: JSON dumps compress 10-50x, very repetitive ones ~300x, and
#: 4 KiB in then stays near 1 MB out. The Python overhead per step is negligible beside JSON
#: parsing.
ZSTD_INPUT_BYTES = 1 << 12
#: A line longer than this is not a JSON Lines record (the largest Pushshift lines are a few
#: MB); stopping here keeps a non-JSON-Lines file from being read into memory whole.
MAX_LINE_BYTES = 64 << 20
#: Pushshift dumps are written with ``zstd --long=31``; the library's default limit (128 MiB)
#: refuses them, so allow the format's maximum window.
ZSTD_MAX_WINDOW = 1 << 31

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bzip2", ".xz": "xz"}
# What each decompressor raises on bad data. zstd errors are turned into OSError below.
_STREAM_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


def display_name(path: str) -> str:
    """How a path appears in error messages: ``<stdin>`` for ``-``, else as given."""
    return "<stdin>" if path == "-" else path


def check_input(path: str) -> None:
    """Raise :class:`InputError` unless ``path`` is ``-`` or an existing regular file."""
    if path == "-":
        return
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory; pass the archive files themselves")
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")


def compression_of(path: str) -> str | None:
    """``gzip``, ``zstd``, ``bzip2``, ``xz`` or ``None`` (plain), from the file's first bytes."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def open_binary(path: str) -> IO[bytes]:
    """Open ``path`` as a stream of decompressed bytes (``-``: standard input, not closed)."""
    if path == "-":
        return sys.stdin.buffer
    check_input(path)
    try:
        kind = compression_of(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from None
    claimed = _SUFFIXES.get(os.path.splitext(path)[1].lower())
    if claimed is not None and kind != claimed:
        raise InvalidRecordError(f"the name says {claimed} but the content is not {claimed} data", path, 1)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    if kind == "zstd":
        return io.BufferedReader(_ZstdReader(open(path, "rb")), buffer_size=1 << 18)
    return open(path, "rb")


def iter_raw_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_bytes)`` for every line of ``path``, 1-based, newline kept.

    Raises :class:`InvalidRecordError` when the stream itself cannot be read further.
    """
    name = display_name(path)
    handle = open_binary(path)
    lineno = 0
    try:
        while True:
            try:
                raw = handle.readline(MAX_LINE_BYTES)
            except _STREAM_ERRORS as exc:
                # Nothing after a corrupt block can be trusted, so this ends the file.
                raise InvalidRecordError(f"cannot read further: {_describe(exc)}", name, lineno + 1) from None
            if not raw:
                return
            lineno += 1
            if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise InvalidRecordError(
                    f"line is longer than {MAX_LINE_BYTES >> 20} MiB; is this a JSON Lines file?",
                    name,
                    lineno,
                )
            yield lineno, raw
    finally:
        if path != "-":
            handle.close()


def decode_line(raw: bytes) -> str:
    """Decode one line as UTF-8 without its line ending (and without a leading BOM).

    Raises :class:`InvalidRecordError` (without a location; the caller adds it).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRecordError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)"
        ) from None
    return text.rstrip("\r\n").removeprefix("\ufeff")


def iter_lines(path: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line of ``path``; bad UTF-8 raises with its line."""
    for lineno, raw in iter_raw_lines(path):
        try:
            yield lineno, decode_line(raw)
        except InvalidRecordError as exc:
            raise InvalidRecordError(exc.problem, display_name(path), lineno) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return f"{exc} (is the file truncated?)"
    return str(exc) or type(exc).__name__


class _ZstdReader(io.RawIOBase):
    """Raw Zstandard reader that notices truncation.

    ``zstandard``'s own ``stream_reader`` reports a file cut off mid-frame as a clean end of
    data, which would silently drop the tail of a multi-GB dump. This one feeds a decompression
    object frame by frame and raises when the input ends inside a frame. Frames follow each
    other (``read_across_frames``), as in files written by parallel ``zstd -T``.
    """

    def __init__(self, raw: IO[bytes]):
        try:
            import zstandard
        except ImportError:
            raw.close()
            raise InputError(
                "reading .zst files needs the zstandard package: pip install zstandard"
            ) from None
        self._error = zstandard.ZstdError
        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._obj = self._dctx.decompressobj()
        self._in_frame = False  # some of the current frame has been fed but it has not ended
        self._out = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]  # io's buffer protocol
        while self._pos >= len(self._out):
            chunk = self._raw.read(ZSTD_INPUT_BYTES)
            if not chunk:
                if self._in_frame:
                    raise EOFError("zstd stream ends in the middle of a frame")
                return 0
            self._out = b""  # let the spent output go before the next one is made
            self._out, self._pos = self._feed(chunk), 0
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = memoryview(self._out)[self._pos : self._pos + n]  # no temporary copy
        self._pos += n
        return n

    def _feed(self, data: bytes) -> bytes:
        parts = []
        try:
            while data:
                self._in_frame = True
                parts.append(self._obj.decompress(data))
                if not self._obj.eof:
                    break
                # The frame ended inside this chunk; the rest starts the next frame.
                data = self._obj.unused_data
                self._obj = self._dctx.decompressobj()
                self._in_frame = False
        except self._error as exc:
            raise OSError(f"corrupt zstd data: {exc}") from None
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()
