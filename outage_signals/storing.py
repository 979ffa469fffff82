"""The post store: one SQLite file that collectors write and analysis commands read.

A store holds post records keyed by ``(source, id)`` and the collectors' checkpoints, so a
collect that is interrupted resumes where it stopped and a window collected twice changes
nothing. Every write is one transaction: a page of posts and the checkpoint that says the page
is done are committed together, or not at all.

Layout (schema version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version`` and upgraded by
:data:`MIGRATIONS` when an older file is opened):

- ``posts``: one row per ``(source, id)``; ``created_us`` is the post time in microseconds
  since the Unix epoch (UTC) for ordering and window queries; ``record`` the contract's JSON
  object; ``content_hash`` a hash of the record without ``_meta``, so that fetching a post again
  only rewrites it when its content changed.
- ``post_services``: every service a post was collected for (a post naming two services may
  be found by both collectors).
- ``checkpoints``: a JSON state per ``(source, service, query)``, owned by the collector.
- ``incidents``, ``outbox``, ``status_incidents``: what scheduled runs detected, what they
  must tell whom, and what providers' status pages said (owned by :mod:`outage_signals.ledger`).

The file runs in WAL mode, so a reader (``detect --store``) never blocks a collector.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from outage_signals.errors import InputError
from outage_signals.records import Post, format_time, post_from_dict

ENV_STORE = "OUTAGE_SIGNALS_STORE"

#: Schema migrations, in order; ``MIGRATIONS[n]`` takes a file from version n to n + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE posts (
        source       TEXT NOT NULL,
        id           TEXT NOT NULL,
        created_us   INTEGER NOT NULL,
        service      TEXT,
        record       TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        stored_at    TEXT NOT NULL,
        PRIMARY KEY (source, id)
    ) WITHOUT ROWID;
    CREATE INDEX posts_by_time ON posts (created_us);
    CREATE TABLE post_services (
        source  TEXT NOT NULL,
        id      TEXT NOT NULL,
        service TEXT NOT NULL,
        PRIMARY KEY (service, source, id)
    ) WITHOUT ROWID;
    CREATE INDEX post_services_by_post ON post_services (source, id);
    CREATE TABLE checkpoints (
        source  TEXT NOT NULL,
        service TEXT NOT NULL,
        query   TEXT NOT NULL,
        state   TEXT NOT NULL,
        PRIMARY KEY (source, service, query)
    ) WITHOUT ROWID;
    """,
    # 2: the scheduled run's memory (see outage_signals.ledger).
    """
    CREATE TABLE incidents (
        id             INTEGER PRIMARY KEY,
        service        TEXT NOT NULL,
        start_us       INTEGER NOT NULL,
        last_seen_us   INTEGER NOT NULL,
        state          TEXT NOT NULL,
        level          TEXT NOT NULL,
        announced      TEXT,
        notified_posts INTEGER NOT NULL DEFAULT 0,
        record         TEXT NOT NULL,
        opened_at      TEXT NOT NULL,
        resolved_at    TEXT
    );
    CREATE INDEX incidents_by_state ON incidents (state, service);
    CREATE TABLE outbox (
        id          INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        event       TEXT NOT NULL,
        destination TEXT NOT NULL,
        payload     TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        next_try_us INTEGER NOT NULL,
        sent_at     TEXT,
        failed_at   TEXT,
        last_error  TEXT
    );
    CREATE INDEX outbox_pending ON outbox (sent_at, failed_at, next_try_us);
    CREATE TABLE status_incidents (
        page    TEXT NOT NULL,
        id      TEXT NOT NULL,
        service TEXT NOT NULL,
        record  TEXT NOT NULL,
        PRIMARY KEY (page, id)
    ) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_store_path() -> Path:
    """``$OUTAGE_SIGNALS_STORE``, else ``$XDG_DATA_HOME/outage-signals/posts.db``
    (``~/.local/share/outage-signals/posts.db``)."""
    explicit = os.environ.get(ENV_STORE)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "outage-signals" / "posts.db"


@dataclass
class SaveCounts:
    """What one save did: new posts, posts whose content changed, posts already stored as is."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: SaveCounts) -> SaveCounts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def micros(ts: datetime) -> int:
    """Microseconds since the Unix epoch (UTC) of an aware time, exactly (no float rounding)."""
    delta = ts.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def content_hash(record: dict[str, Any]) -> str:
    """SHA-256 of the record without its provenance block (``_meta`` changes on every fetch)."""
    body = {k: v for k, v in record.items() if k != "_meta"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class PostStore:
    """A post store in one SQLite file (created, or migrated to the current schema, on open).

    Use as a context manager or call :meth:`close`. One instance belongs to one thread.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a directory, not a store file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a usable SQLite store ({exc})") from None
        # NORMAL is durable against a killed process in WAL mode (not against power loss).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> PostStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a usable SQLite store ({exc})") from None
        if version > SCHEMA_VERSION:
            raise InputError(
                f"{self.path}: store schema version {version} is newer than this outage-signals "
                f"understands ({SCHEMA_VERSION}); upgrade outage-signals"
            )
        for step in range(version, SCHEMA_VERSION):
            with self._transaction():
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {step + 1}")

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _transaction(self):
        return _Transaction(self._db)

    def transaction(self):
        """A write transaction (``BEGIN IMMEDIATE``) for modules that keep their own tables in
        the store (:mod:`outage_signals.ledger`): committed on exit, rolled back on an error."""
        return _Transaction(self._db)

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (autocommit mode; write through :meth:`transaction`)."""
        return self._db

    # -- writing -----------------------------------------------------------------------------

    def save(
        self,
        posts: Iterable[Post],
        checkpoint: tuple[str, str, str, dict[str, Any] | None] | None = None,
    ) -> SaveCounts:
        """Upsert ``posts`` and, in the same transaction, set one checkpoint.

        ``checkpoint`` is ``(source, service, query, state)``; a ``None`` state deletes it.
        A post already stored with the same content is left untouched (its first ``_meta``
        is kept); one whose content changed (an edited text, say) is replaced.
        """
        counts = SaveCounts()
        now = format_time(datetime.now(UTC))
        with self._transaction():
            for post in posts:
                record = post.to_dict()
                digest = content_hash(record)
                row = self._db.execute(
                    "SELECT content_hash FROM posts WHERE source = ? AND id = ?", post.key
                ).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO posts (source, id, created_us, service, record, content_hash,"
                        " stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (post.source, post.id, micros(post.created_at), post.service,
                         json.dumps(record, ensure_ascii=False), digest, now),
                    )
                    counts.inserted += 1
                elif row[0] != digest:
                    self._db.execute(
                        "UPDATE posts SET created_us = ?, record = ?, content_hash = ?, stored_at = ?"
                        " WHERE source = ? AND id = ?",
                        (micros(post.created_at), json.dumps(record, ensure_ascii=False), digest,
                         now, post.source, post.id),
                    )
                    counts.updated += 1
                else:
                    counts.unchanged += 1
                if post.service:
                    self._db.execute(
                        "INSERT OR IGNORE INTO post_services (source, id, service) VALUES (?, ?, ?)",
                        (post.source, post.id, post.service),
                    )
            if checkpoint is not None:
                self._put_checkpoint(*checkpoint)
        return counts

    def _put_checkpoint(self, source: str, service: str, query: str,
                        state: dict[str, Any] | None) -> None:
        if state is None:
            self._db.execute(
                "DELETE FROM checkpoints WHERE source = ? AND service = ? AND query = ?",
                (source, service, query),
            )
        else:
            self._db.execute(
                "INSERT INTO checkpoints (source, service, query, state) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (source, service, query) DO UPDATE SET state = excluded.state",
                (source, service, query, json.dumps(state, sort_keys=True)),
            )

    def set_checkpoint(self, source: str, service: str, query: str,
                       state: dict[str, Any] | None) -> None:
        """Set (or with ``None`` delete) one checkpoint on its own."""
        with self._transaction():
            self._put_checkpoint(source, service, query, state)

    # -- reading -----------------------------------------------------------------------------

    def checkpoint(self, source: str, service: str, query: str) -> dict[str, Any] | None:
        """The state saved for ``(source, service, query)``, or ``None``."""
        row = self._db.execute(
            "SELECT state FROM checkpoints WHERE source = ? AND service = ? AND query = ?",
            (source, service, query),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def checkpoints(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """Every checkpoint as ``(source, service, query, state)``."""
        rows = self._db.execute(
            "SELECT source, service, query, state FROM checkpoints ORDER BY source, service, query"
        ).fetchall()
        return [(s, svc, q, json.loads(state)) for s, svc, q, state in rows]

    def posts(
        self,
        *,
        services: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Post]:
        """Stored posts in time order, within ``[since, until)`` (UTC), streamed.

        ``services``: only posts collected for one of these services. A post collected for
        several services comes out once; its ``service`` field is then dropped so that the
        catalog's alias matching decides which services it counts for.
        """
        clauses, params = [], []
        if since is not None:
            clauses.append("p.created_us >= ?")
            params.append(micros(since))
        if until is not None:
            clauses.append("p.created_us < ?")
            params.append(micros(until))
        if sources:
            clauses.append(f"p.source IN ({', '.join('?' * len(sources))})")
            params.extend(sources)
        if services:
            marks = ", ".join("?" * len(services))
            clauses.append(
                f"EXISTS (SELECT 1 FROM post_services s WHERE s.source = p.source AND s.id = p.id"
                f" AND s.service IN ({marks}))"
            )
            params.extend(services)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            "SELECT p.record, (SELECT COUNT(*) FROM post_services s WHERE s.source = p.source"
            f" AND s.id = p.id) FROM posts p {where} ORDER BY p.created_us, p.source, p.id"
        )
        for record, n_services in self._db.execute(sql, params):
            obj = json.loads(record)
            if n_services > 1:
                obj.pop("service", None)
            yield post_from_dict(obj)

    def count(self) -> int:
        """Number of stored posts."""
        return self._db.execute("SELECT COUNT(*) FROM posts").fetchone()[0]

    def summary(self) -> list[tuple[str, str, int, datetime, datetime]]:
        """Per ``(source, service)``: post count and the oldest and newest post time (UTC)."""
        rows = self._db.execute(
            "SELECT p.source, COALESCE(s.service, ''), COUNT(*), MIN(p.created_us), MAX(p.created_us)"
            " FROM posts p LEFT JOIN post_services s ON s.source = p.source AND s.id = p.id"
            " GROUP BY p.source, s.service ORDER BY p.source, s.service"
        ).fetchall()
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return [
            (src, svc, n, epoch + timedelta(microseconds=lo), epoch + timedelta(microseconds=hi))
            for src, svc, n, lo, hi in rows
        ]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any exception (the connection is in
    autocommit mode, so every write goes through one of these)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
