"""Read true outage events: the shared postmortem CSV, or ``SERVICE@START/END`` strings.

The CSV has at least ``event_id``, ``service``, ``start_utc`` and ``end_utc`` columns (ISO 8601
with a zone, as in ``../shared/data/outage_events.csv``).
"""

from __future__ import annotations

from pathlib import Path

from outage_signals.csv_input import open_csv
from outage_signals.errors import InputError, InvalidRecordError
from outage_signals.records import parse_time
from outage_signals.simulation.profiles import OutageEvent

REQUIRED_COLUMNS = ("event_id", "service", "start_utc", "end_utc")


def load_events(path: str | Path) -> list[OutageEvent]:
    """Every event in the CSV at ``path``; a bad row raises an error naming file and line."""
    path = Path(path)
    with open_csv(path, "events") as reader:
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
        events = []
        for row in reader:
            try:
                start = parse_time(row["start_utc"], "start_utc")
                end = parse_time(row["end_utc"], "end_utc")
            except InvalidRecordError as exc:
                raise InvalidRecordError(exc.problem, str(path), reader.line_num) from None
            if end <= start:
                raise InvalidRecordError("end_utc is not after start_utc", str(path),
                                         reader.line_num)
            events.append(OutageEvent(service=row["service"], start=start, end=end,
                                      event_id=row["event_id"]))
    return events


def parse_outage(spec: str) -> OutageEvent:
    """``SERVICE@START/END`` (ISO 8601 with zones) -> :class:`OutageEvent`."""
    try:
        service, span = spec.split("@", 1)
        start_text, end_text = span.split("/", 1)
    except ValueError:
        raise InputError(
            f"outage {spec!r} must look like chatgpt@2024-12-26T18:40Z/2024-12-27T02:20Z"
        ) from None
    try:
        start, end = parse_time(start_text, "start"), parse_time(end_text, "end")
    except InvalidRecordError as exc:
        raise InputError(f"outage {spec!r}: {exc.problem}") from None
    if end <= start:
        raise InputError(f"outage {spec!r}: end is not after start")
    return OutageEvent(service=service, start=start, end=end, event_id=f"{service}-{start_text}")
