"""The journal's SQLite file: its schema, opening it safely, running transactions and queries,
and turning SQLite errors into :class:`~onesig_nb.errors.JournalError` texts that say what to do.

:class:`JournalStore` is the one connection a :class:`~onesig_nb.journal.journal.Journal` owns;
the campaign records (:mod:`.runs`) and the tag-sync state (:mod:`.tags`) are given it and use
only its public :meth:`~JournalStore.transaction`, :meth:`~JournalStore.query` and
:meth:`~JournalStore.rows`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onesig_nb.errors import JournalError
from onesig_nb.journal.spans import ledger_span

__all__ = ["BUSY_TIMEOUT_SECONDS", "SCHEMA_VERSION", "JournalStore", "dumps_json", "utc_now"]

#: Version of the table layout below. Bump it (and add a migration) when the layout changes.
#: v2: the ``deliveries`` ledger (sending rules' frequency cap) and ``batches.hold``.
SCHEMA_VERSION = 2

#: How long a write waits for another process (kernel, ``onesig-nb send``) holding the journal
#: before giving up with a :class:`JournalError` that says the journal is busy.
BUSY_TIMEOUT_SECONDS = 30.0

#: Marker stored in the ``meta`` table so a random SQLite file is not mistaken for a journal.
_APPLICATION = "onesig_nb-journal"

#: The ledger the frequency cap reads (v2): every push planned for a person, with when it may
#: reach them (:mod:`onesig_nb.journal.ledger`).
_DELIVERIES_TABLE = """
CREATE TABLE IF NOT EXISTS deliveries (
    app_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    run TEXT NOT NULL,
    seq INTEGER NOT NULL,
    start TEXT NOT NULL,                 -- ISO UTC: the first moment it may reach them
    until TEXT NOT NULL,                 -- the last (device time zones spread it over a day)
    PRIMARY KEY (run, external_id)
);
"""

_SCHEMA = (
    _DELIVERIES_TABLE
    + """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                  -- 'campaign' | 'tagsync'
    app_id TEXT,
    cohort_fingerprint TEXT,
    message_fingerprint TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    recipients INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'new',
    rounds INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS batches (
    run TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,                  -- 'send' | 'test'
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    external_ids TEXT NOT NULL,
    platforms TEXT,
    size INTEGER NOT NULL,
    state TEXT NOT NULL,                 -- 'intent' | 'done' | 'failed' | 'cancelled'
    attempts INTEGER NOT NULL DEFAULT 0,
    notification_id TEXT,
    http_status INTEGER,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    hold TEXT,                           -- why it waits (quiet hours), shown per person
    PRIMARY KEY (run, seq)
);
CREATE TABLE IF NOT EXISTS recipients (
    run TEXT NOT NULL,
    external_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,  -- campaign.views.RESULT_STATUSES (sent, accepted_unconfirmed, ...)
    notification_id TEXT,
    error TEXT,
    PRIMARY KEY (run, external_id)
);
CREATE TABLE IF NOT EXISTS tag_state (
    app_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    value TEXT NOT NULL,                 -- '' = deleted by us
    run TEXT NOT NULL,
    written_at TEXT NOT NULL,
    PRIMARY KEY (app_id, external_id, tag)
);
CREATE TABLE IF NOT EXISTS reach_checks (
    app_id TEXT NOT NULL,
    source TEXT NOT NULL,                -- 'export': every subscription of the app was listed
    checked_at TEXT NOT NULL,
    people INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, source)
);
CREATE TABLE IF NOT EXISTS reachability (
    app_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    known INTEGER NOT NULL,              -- 1: OneSignal knows the id; 0: it does not (404)
    platforms TEXT NOT NULL,             -- subscribed push platforms, comma-separated
    source TEXT NOT NULL,                -- 'export' | 'lookup'
    checked_at TEXT NOT NULL,
    PRIMARY KEY (app_id, external_id)
);
CREATE INDEX IF NOT EXISTS deliveries_by_app ON deliveries (app_id, until);
CREATE INDEX IF NOT EXISTS deliveries_by_batch ON deliveries (run, seq);
CREATE TABLE IF NOT EXISTS tag_edits (
    run TEXT NOT NULL,
    round INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    part INTEGER NOT NULL,
    tags TEXT NOT NULL,
    state TEXT NOT NULL,                 -- 'intent' | 'done' | 'failed'
    http_status INTEGER,
    error TEXT,
    PRIMARY KEY (run, round, external_id, part)
);
"""
)


def utc_now() -> str:
    """The time now, as the journal stores it: ISO 8601 in UTC, to the second."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def dumps_json(value: Any) -> str:
    """``value`` as the journal stores JSON: sorted keys, no spaces, UTF-8 kept (comparable)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _migrate_to_v2(conn: sqlite3.Connection) -> None:
    """v1 -> v2: ``batches.hold``, and the ``deliveries`` ledger filled from the sends already
    journaled, so a frequency cap counts the pushes of campaigns sent before the upgrade.

    Each push counts from when its answer came back (else its intent) or, when it was
    scheduled, from its ``send_after``; one delivered by each device's time zone
    (``delayed_option``) over the 24 hours after that. Two processes opening the same v1 file
    at once: the second finds it migrated under the write lock and leaves it alone.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] >= 2:
            conn.execute("ROLLBACK")
            return
        columns = {r[1] for r in conn.execute("PRAGMA table_info(batches)")}
        if "hold" not in columns:
            conn.execute("ALTER TABLE batches ADD COLUMN hold TEXT")
        conn.execute(_DELIVERIES_TABLE)
        rows = conn.execute(
            "SELECT r.app_id, b.run, b.seq, b.external_ids, b.payload,"
            " COALESCE(b.finished_at, b.created_at)"
            " FROM batches b JOIN runs r ON r.name = b.run"
            " WHERE b.kind = 'send' AND r.kind = 'campaign'"
        ).fetchall()
        ledger = []
        for app, run, seq, ids, payload, at in rows:
            answered = _dt.datetime.fromisoformat(at)
            answered = answered if answered.tzinfo else answered.replace(tzinfo=_dt.UTC)
            start, until = ledger_span(json.loads(payload), answered)
            ledger += [(app or "", eid, run, seq, start, until) for eid in json.loads(ids)]
        conn.executemany(
            "INSERT OR IGNORE INTO deliveries(app_id, external_id, run, seq, start, until) "
            "VALUES (?,?,?,?,?,?)",
            ledger,
        )
        conn.execute("PRAGMA user_version=2")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class JournalStore:
    """One journal SQLite file (WAL mode): opening, closing, transactions and queries.

    :param path: the file; created with its folder when missing
    :param timeout: seconds a write waits while another process holds the journal
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = Path(path)
        self.timeout = float(timeout)
        self._lock = threading.RLock()
        self._conn = self._open()

    # -- opening ------------------------------------------------------------------------------
    def _refuse(self, what: str) -> JournalError:
        return JournalError(
            f"The campaign journal {str(self.path)!r} {what}. Nothing was sent. Move that file "
            f"aside (e.g. rename it to {self.path.name}.broken) to start a new journal, or pass "
            "journal= the path of the right one. A new journal forgets what was already sent, so "
            "use a new campaign name with it only if you are sure the old sends are finished."
        )

    def _busy(self, exc: sqlite3.Error) -> JournalError | None:
        """The JournalError for "locked by someone else" / "read-only", or None (= other)."""
        name = str(getattr(exc, "sqlite_errorname", "") or "")
        text = str(exc).lower()
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
            return JournalError(
                f"The campaign journal {str(self.path)!r} is in use by another notebook or "
                f"process (another kernel, or onesig-nb send), which held it for more than "
                f"{self.timeout:g} s ({exc}). Nothing already recorded in it is lost, and any "
                "batch whose answer was not recorded stays unfinished: running send() again "
                "resumes it with the same keys, so nobody gets the push twice. Wait for the other "
                "process to finish (or close it), then run again. Do not delete or move the "
                "journal: it is what remembers who was already sent to."
            )
        if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
            return JournalError(
                f"The campaign journal {str(self.path)!r} cannot be written ({exc}): check the "
                "file's permissions and that its folder is not on a read-only disk. Nothing was "
                "sent. Do not delete it: it is what remembers who was already sent to."
            )
        return None

    def _open(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise JournalError(
                f"journal={str(self.path)!r} is a folder; pass a file path such as "
                f"{str(self.path / 'campaigns.sqlite')!r}."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise JournalError(
                f"Cannot open the campaign journal {str(self.path)!r}: {exc}. Check the path and "
                "its permissions."
            ) from exc
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if version > SCHEMA_VERSION:
                conn.close()
                raise JournalError(
                    f"The campaign journal {str(self.path)!r} was written by a newer onesig_nb "
                    f"(journal schema v{version}; this version reads up to v{SCHEMA_VERSION}). "
                    "Nothing was sent. Upgrade onesig_nb (pip install -U onesig-nb) to keep "
                    "using it, or pass journal= a different file."
                )
            if tables and "meta" not in tables:
                conn.close()
                raise self._refuse("is a SQLite database but not an onesig_nb journal")
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key='application'").fetchone()
                if not row or row[0] != _APPLICATION:
                    conn.close()
                    raise self._refuse("is a SQLite database but not an onesig_nb journal")
                check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
                if check != "ok":
                    conn.close()
                    raise self._refuse(f"is damaged (SQLite integrity check: {check})")
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against a killed process in WAL mode (only an OS crash could
            # lose the last commit), which is the failure this journal exists for.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            if "batches" in tables and version < 2:
                _migrate_to_v2(conn)
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('application', ?), "
                "('created_at', ?)",
                (_APPLICATION, utc_now()),
            )
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except JournalError:
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            busy = self._busy(exc) if isinstance(exc, sqlite3.OperationalError) else None
            if busy is not None:
                raise busy from exc
            raise self._refuse(f"is corrupt or not a SQLite file ({exc})") from exc
        return conn

    def close(self) -> None:
        """Close the connection (waits for a transaction of another thread to end)."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"JournalStore({str(self.path)!r})"

    def _translate(self, exc: sqlite3.OperationalError) -> BaseException:
        return self._busy(exc) or JournalError(
            f"The campaign journal {str(self.path)!r} could not be used ({exc}). Nothing already "
            "recorded in it is lost; fix the cause (disk full? permissions?) and run again: "
            "send() resumes unfinished batches with their original keys."
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; SQLite lock timeouts become a JournalError saying what to do."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc
            try:
                yield self._conn
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise self._translate(exc) from exc
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise self._translate(exc) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows ``sql`` selects, as dicts by column name."""
        with self._lock:
            try:
                cur = self._conn.execute(sql, params)
                cols = [d[0] for d in cur.description]
                return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows ``sql`` selects, as plain tuples (for large reads that unpack by position)."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc
