"""The SQLite journal that makes campaign sends exactly-once across restarts.

Every batch of a campaign is written here with its deterministic idempotency key *before* its
request goes out (state ``intent``) and its outcome *after* the answer came back (``done`` or
``failed``, plus one row per recipient). A kernel that dies between the two leaves an ``intent``
row; the next ``send()`` re-sends exactly that batch with exactly that key, and OneSignal (or the
sandbox) answers with the original result instead of pushing twice.

The journal also remembers, per app and user, the tag values a :class:`~onesig_nb.TagSync` last
wrote, so an unchanged re-run sends nothing.

Schema versions are stored in ``PRAGMA user_version``; a file written by a newer onesig_nb, or a
file that is not a journal at all, is refused with a :class:`~onesig_nb.errors.JournalError`
that says what to do. The API key is never written here: callers redact error texts first.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import JournalError

__all__ = ["BUSY_TIMEOUT_SECONDS", "SCHEMA_VERSION", "Batch", "Journal", "open_journal"]

log = logging.getLogger("onesig_nb.journal")

#: Version of the table layout below. Bump it (and add a migration) when the layout changes.
SCHEMA_VERSION = 1

#: How long a write waits for another process (kernel, ``onesig-nb send``) holding the journal
#: before giving up with a :class:`JournalError` that says the journal is busy.
BUSY_TIMEOUT_SECONDS = 30.0

#: Marker stored in the ``meta`` table so a random SQLite file is not mistaken for a journal.
_APPLICATION = "onesig_nb-journal"

_SCHEMA = """
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
    state TEXT NOT NULL,                 -- 'intent' | 'done' | 'failed'
    attempts INTEGER NOT NULL DEFAULT 0,
    notification_id TEXT,
    http_status INTEGER,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    PRIMARY KEY (run, seq)
);
CREATE TABLE IF NOT EXISTS recipients (
    run TEXT NOT NULL,
    external_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,                -- sent|invalid|unsubscribed|not_reached|failed
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


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Batch:
    """One journaled create-notification request (what was, or will be, sent)."""

    run: str
    seq: int
    kind: str
    idempotency_key: str
    payload: dict
    external_ids: tuple[str, ...]
    platforms: tuple[str, ...] | None
    state: str = "intent"
    attempts: int = 0
    notification_id: str | None = None
    http_status: int | None = None
    error: str | None = None
    created_at: str | None = None  # when the intent was written (ISO, UTC)

    @property
    def size(self) -> int:
        return len(self.external_ids)


class Journal:
    """A campaign journal in one SQLite file (WAL mode, safe against a killed process).

    :param path: the file; created with its folder when missing
    :param timeout: seconds a write waits while another process holds the journal

    >>> with Journal("campaigns.sqlite") as j:  # doctest: +SKIP
    ...     j.runs()
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
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('application', ?), "
                "('created_at', ?)",
                (_APPLICATION, _now()),
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
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def _translate(self, exc: sqlite3.OperationalError) -> BaseException:
        return self._busy(exc) or JournalError(
            f"The campaign journal {str(self.path)!r} could not be used ({exc}). Nothing already "
            "recorded in it is lost; fix the cause (disk full? permissions?) and run again: "
            "send() resumes unfinished batches with their original keys."
        )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
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

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cur = self._conn.execute(sql, params)
                cols = [d[0] for d in cur.description]
                return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc

    # -- runs (campaigns and tag syncs) -------------------------------------------------------
    def run(self, name: str) -> dict | None:
        """The journal row of a campaign or tag sync, or None when the name is new."""
        rows = self._query("SELECT * FROM runs WHERE name=?", (name,))
        if not rows:
            return None
        row = rows[0]
        row["settings"] = json.loads(row["settings"])
        return row

    def create_run(
        self,
        name: str,
        *,
        kind: str,
        app_id: str | None,
        cohort_fingerprint: str | None = None,
        message_fingerprint: str | None = None,
        settings: dict | None = None,
        recipients: int = 0,
        batches: Iterable[Batch] = (),
    ) -> None:
        """Create a run together with the intents of its batches, in one transaction."""
        now = _now()
        try:
            self._create_run(
                name, kind, app_id, cohort_fingerprint, message_fingerprint, settings,
                recipients, batches, now,
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise JournalError(
                f"{name!r} was started in journal {str(self.path)!r} by another process at the "
                "same moment. Nothing was sent from here. Run it again: it will resume that "
                "send with the same keys instead of starting a second one."
            ) from exc

    def _create_run(
        self, name, kind, app_id, cohort_fingerprint, message_fingerprint, settings,
        recipients, batches, now,
    ) -> None:  # fmt: skip
        with self._tx() as c:
            c.execute(
                "INSERT INTO runs(name, kind, app_id, cohort_fingerprint, message_fingerprint, "
                "settings, recipients, status, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    name,
                    kind,
                    app_id,
                    cohort_fingerprint,
                    message_fingerprint,
                    _dumps(settings or {}),
                    recipients,
                    "sending" if kind == "campaign" else "new",
                    now,
                    now,
                ),
            )
            self._insert_batches(c, batches, now)

    def update_run(self, name: str, **fields: Any) -> None:
        """Change columns of a run (``settings`` is JSON-encoded for you)."""
        if "settings" in fields:
            fields["settings"] = _dumps(fields["settings"])
        fields["updated_at"] = _now()
        cols = ", ".join(f"{k}=?" for k in fields)
        with self._tx() as c:
            c.execute(f"UPDATE runs SET {cols} WHERE name=?", (*fields.values(), name))

    def runs(self) -> list[dict]:
        """Every run with its batch and recipient counts, newest first."""
        return self._query(
            """
            SELECT r.name, r.kind, r.status, r.recipients, r.rounds, r.app_id,
                   r.created_at, r.updated_at, r.finished_at,
                   (SELECT COUNT(*) FROM batches b WHERE b.run=r.name AND b.kind='send')
                       AS batches,
                   (SELECT COUNT(*) FROM batches b WHERE b.run=r.name AND b.kind='test')
                       AS tests,
                   (SELECT COUNT(*) FROM recipients p WHERE p.run=r.name AND p.status='sent')
                       AS sent,
                   (SELECT COUNT(*) FROM recipients p WHERE p.run=r.name AND p.status='failed')
                       AS failed
            FROM runs r ORDER BY r.created_at DESC, r.name
            """
        )

    # -- batches ------------------------------------------------------------------------------
    @staticmethod
    def _insert_batches(c: sqlite3.Connection, batches: Iterable[Batch], now: str) -> None:
        c.executemany(
            "INSERT INTO batches(run, seq, kind, idempotency_key, payload, external_ids, "
            "platforms, size, state, created_at) VALUES (?,?,?,?,?,?,?,?,'intent',?)",
            [
                (
                    b.run,
                    b.seq,
                    b.kind,
                    b.idempotency_key,
                    _dumps(b.payload),
                    _dumps(list(b.external_ids)),
                    None if b.platforms is None else _dumps(list(b.platforms)),
                    b.size,
                    now,
                )
                for b in batches
            ],
        )

    def add_batches(self, run: str, batches: Iterable[Batch], **run_fields: Any) -> None:
        """Write intents for more batches of an existing run and update its columns, in one
        transaction (so a crash leaves either both or neither)."""
        now = _now()
        if "settings" in run_fields:
            run_fields["settings"] = _dumps(run_fields["settings"])
        try:
            with self._tx() as c:
                self._insert_batches(c, batches, now)
                if run_fields:
                    run_fields["updated_at"] = now
                    cols = ", ".join(f"{k}=?" for k in run_fields)
                    c.execute(f"UPDATE runs SET {cols} WHERE name=?", (*run_fields.values(), run))
        except sqlite3.IntegrityError as exc:
            raise JournalError(
                f"{run!r} was started or changed in journal {str(self.path)!r} by another "
                "process (another kernel, or onesig-nb send) at the same moment. Nothing was "
                "sent from here. Run it again: it will resume that send with the same keys "
                "instead of starting a second one."
            ) from exc

    def next_seq(self, run: str) -> int:
        rows = self._query(
            "SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM batches WHERE run=?", (run,)
        )
        return int(rows[0]["n"])

    def batches(
        self, run: str, *, kind: str | None = "send", states: Iterable[str] | None = None
    ) -> list[Batch]:
        """Batches of a run in order, optionally only of one kind and some states."""
        sql, params = "SELECT * FROM batches WHERE run=?", [run]
        if kind is not None:
            sql += " AND kind=?"
            params.append(kind)
        if states is not None:
            states = list(states)
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params += states
        out = []
        for r in self._query(sql + " ORDER BY seq", params):
            out.append(
                Batch(
                    run=r["run"],
                    seq=r["seq"],
                    kind=r["kind"],
                    idempotency_key=r["idempotency_key"],
                    payload=json.loads(r["payload"]),
                    external_ids=tuple(json.loads(r["external_ids"])),
                    platforms=None if r["platforms"] is None else tuple(json.loads(r["platforms"])),
                    state=r["state"],
                    attempts=r["attempts"],
                    notification_id=r["notification_id"],
                    http_status=r["http_status"],
                    error=r["error"],
                    created_at=r["created_at"],
                )
            )
        return out

    def mark_attempt(self, run: str, seqs: Iterable[int]) -> None:
        """Count one more attempt for these batches (called just before their requests)."""
        with self._tx() as c:
            c.executemany(
                "UPDATE batches SET attempts=attempts+1 WHERE run=? AND seq=?",
                [(run, s) for s in seqs],
            )

    def record_outcome(
        self,
        run: str,
        seq: int,
        *,
        state: str,
        notification_id: str | None,
        http_status: int | None,
        error: str | None,
        recipients: Iterable[tuple[str, str, str | None, str | None]] = (),
    ) -> None:
        """Record a batch's answer and its recipients' outcomes in one transaction.

        ``recipients`` rows are ``(external_id, status, notification_id, error)``.
        """
        with self._tx() as c:
            c.execute(
                "UPDATE batches SET state=?, notification_id=?, http_status=?, error=?, "
                "finished_at=? WHERE run=? AND seq=?",
                (state, notification_id, http_status, error, _now(), run, seq),
            )
            c.executemany(
                "INSERT OR REPLACE INTO recipients(run, external_id, seq, status, "
                "notification_id, error) VALUES (?,?,?,?,?,?)",
                [(run, eid, seq, st, nid, err) for eid, st, nid, err in recipients],
            )

    def recipients(self, run: str) -> list[dict]:
        """Per-recipient outcomes of a run's real sends (tests excluded)."""
        return self._query(
            "SELECT external_id, status, notification_id, error, seq AS batch "
            "FROM recipients WHERE run=? ORDER BY seq, rowid",
            (run,),
        )

    def targeted_ids(self, run: str) -> set[str]:
        """Everyone a real batch of this run was (or is about to be) addressed to."""
        out: set[str] = set()
        for (ids,) in self._conn.execute(
            "SELECT external_ids FROM batches WHERE run=? AND kind='send'", (run,)
        ):
            out.update(json.loads(ids))
        return out

    # -- tag syncs ----------------------------------------------------------------------------
    def tag_state(self, app_id: str, external_ids: Iterable[str] | None = None) -> dict:
        """``{external_id: {tag: value}}`` as last written through this journal for ``app_id``."""
        state: dict[str, dict[str, str]] = {}
        wanted = None if external_ids is None else set(external_ids)
        with self._lock:
            cur = self._conn.execute(
                "SELECT external_id, tag, value FROM tag_state WHERE app_id=?", (app_id or "",)
            )
            for eid, tag, value in cur:
                if wanted is None or eid in wanted:
                    state.setdefault(eid, {})[tag] = value
        return state

    def tag_writes(self, app_id: str, tags: Iterable[str]) -> dict[str, dict[str, tuple]]:
        """``{tag: {external_id: (value, tag sync name, written_at)}}`` for ``app_id``: the
        value a TagSync of this journal last wrote for each of ``tags`` (``''`` = deleted)."""
        wanted = sorted(set(tags))
        out: dict[str, dict[str, tuple]] = {t: {} for t in wanted}
        if not wanted:
            return out
        marks = ",".join("?" * len(wanted))
        sql = (
            "SELECT s.tag, s.external_id, s.value, s.run, s.written_at FROM tag_state s "
            "JOIN runs r ON r.name = s.run AND r.kind = 'tagsync' "
            f"WHERE s.app_id=? AND s.tag IN ({marks})"
        )
        with self._lock:
            try:
                for tag, eid, value, run, at in self._conn.execute(sql, [app_id or "", *wanted]):
                    out[tag][eid] = (value, run, at)
            except sqlite3.OperationalError as exc:
                raise self._translate(exc) from exc
        return out

    def tag_state_version(self, app_id: str) -> tuple[int, int]:
        """Changes whenever a tag value is written for ``app_id`` (for caching decisions)."""
        rows = self._query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(rowid), 0) AS last FROM tag_state WHERE app_id=?",
            (app_id or "",),
        )
        return int(rows[0]["n"]), int(rows[0]["last"])

    def add_tag_intents(
        self, run: str, round_: int, edits: Iterable[tuple[str, int, dict]]
    ) -> None:
        """Record tag edits ``(external_id, part, tags)`` before they are sent."""
        with self._tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO tag_edits(run, round, external_id, part, tags, state) "
                "VALUES (?,?,?,?,?,'intent')",
                [(run, round_, eid, part, _dumps(tags)) for eid, part, tags in edits],
            )

    def record_tag_results(
        self,
        run: str,
        round_: int,
        app_id: str,
        results: Iterable[tuple[str, int, dict, bool, int | None, str | None]],
    ) -> None:
        """Record outcomes ``(external_id, part, tags, ok, status, error)``; successes update
        the tag state so the next run only sends what changed."""
        now = _now()
        results = list(results)
        with self._tx() as c:
            c.executemany(
                "UPDATE tag_edits SET state=?, http_status=?, error=? "
                "WHERE run=? AND round=? AND external_id=? AND part=?",
                [
                    ("done" if ok else "failed", st, err, run, round_, eid, part)
                    for eid, part, _tags, ok, st, err in results
                ],
            )
            c.executemany(
                "INSERT OR REPLACE INTO tag_state(app_id, external_id, tag, value, run, "
                "written_at) VALUES (?,?,?,?,?,?)",
                [
                    (app_id or "", eid, tag, value, run, now)
                    for eid, _part, tags, ok, _st, _err in results
                    if ok
                    for tag, value in tags.items()
                ],
            )

    def tag_edits(self, run: str, round_: int | None = None) -> list[dict]:
        sql, params = "SELECT * FROM tag_edits WHERE run=?", [run]
        if round_ is not None:
            sql += " AND round=?"
            params.append(round_)
        rows = self._query(sql + " ORDER BY round, rowid", params)
        for r in rows:
            r["tags"] = json.loads(r["tags"])
        return rows


def open_journal(journal: Journal | str | os.PathLike) -> Journal:
    """Return ``journal`` itself when it is already open, else open the file it names."""
    return journal if isinstance(journal, Journal) else Journal(journal)
