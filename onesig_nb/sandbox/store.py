"""The sandbox's SQLite store: app identity, users, subscriptions, notifications, deliveries, log.

One connection, used only from the server's event loop thread. Writes go into an open
transaction and are made durable by :meth:`Store.commit`, which the server calls once per loop
iteration for every request that wrote something (group commit); no handler answers 2xx before
that commit returned. WAL with ``synchronous=NORMAL``: a committed write survives a clean
restart (and a process crash; only an OS crash can lose the last commits).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from onesig_nb.sandbox.clock import Clock
from onesig_nb.sandbox.limits import (
    DEFAULT_LANGUAGE,
    DEFAULT_TIMEZONE,
    IDEMPOTENCY_WINDOW_SECONDS,
    TAG_CAP_ERROR,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    external_id TEXT PRIMARY KEY,
    onesignal_id TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    external_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    type TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    token TEXT,
    language TEXT NOT NULL DEFAULT 'en',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    created_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS subscriptions_user ON subscriptions (external_id);
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    api TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    app_id TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    canceled INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    send_after REAL,
    completed_at REAL
);
CREATE TABLE IF NOT EXISTS replies (
    idempotency_key TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    at REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS scheduled (
    notification_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    language TEXT NOT NULL,
    due_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS scheduled_due ON scheduled (due_at);
CREATE INDEX IF NOT EXISTS scheduled_notification ON scheduled (notification_id);
CREATE TABLE IF NOT EXISTS templates (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tag_log (
    external_id TEXT NOT NULL,
    at REAL NOT NULL,
    before TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tag_log_user ON tag_log (external_id, at);
CREATE TABLE IF NOT EXISTS deliveries (
    notification_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    status TEXT NOT NULL,
    converted INTEGER NOT NULL DEFAULT 0,
    heading TEXT, subtitle TEXT, contents TEXT, url TEXT, error TEXT,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_notification ON deliveries (notification_id);
CREATE TABLE IF NOT EXISTS exports (
    token TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    polls INTEGER NOT NULL DEFAULT 0,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER,
    api TEXT, idempotency_key TEXT, fault TEXT, applied INTEGER, at REAL NOT NULL
);
"""

#: Columns added since the first store files were written: (table, column, declaration).
#: A store file from an older sandbox gains them on open (SQLite ADD COLUMN keeps the rows).
MIGRATIONS = (
    ("subscriptions", "language", "TEXT NOT NULL DEFAULT 'en'"),
    ("subscriptions", "timezone", "TEXT NOT NULL DEFAULT 'UTC'"),
    ("subscriptions", "created_at", "REAL NOT NULL DEFAULT 0"),
    ("notifications", "send_after", "REAL"),
    ("notifications", "completed_at", "REAL"),
    ("replies", "at", "REAL NOT NULL DEFAULT 0"),
    ("deliveries", "delivered_at", "REAL"),
)

KEY_SALT = "onesig-sandbox:"


def _digest(key: str) -> str:
    return hashlib.sha256((KEY_SALT + key).encode()).hexdigest()


#: platform name -> OneSignal subscription type
SUBSCRIPTION_TYPES = {"ios": "iOSPush", "android": "AndroidPush", "web": "ChromePush"}
PLATFORM_OF_TYPE = {v: k for k, v in SUBSCRIPTION_TYPES.items()}

DELIVERY_COLUMNS = (
    "notification_id",
    "external_id",
    "platform",
    "heading",
    "subtitle",
    "contents",
    "url",
    "status",
    "converted",
    "subscription_id",
    "error",
    "delivered_at",
)


class TagCapExceeded(Exception):
    """An edit that would leave a user holding more tags than the plan allows."""

    def __init__(self, cap: int) -> None:
        super().__init__(TAG_CAP_ERROR.format(n=cap))
        self.cap = cap


class Store:
    """SQLite persistence for one sandbox app, on the sandbox's own :class:`Clock`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self._migrate()
        self.db.executescript(SCHEMA)
        stored = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        self.clock = Clock(float(stored.get("clock_offset", 0.0)))
        #: tags per user the plan allows (None = no cap); set by the server
        self.max_tags: int | None = None
        #: seconds a tag edit takes to reach personalization (0 = at once); set by the server
        self.tag_delay_s = 0.0
        self.dirty = False
        self.db.execute("BEGIN")
        self._next_due = self.next_due()

    def _migrate(self) -> None:
        for table, column, decl in MIGRATIONS:
            cols = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if cols and column not in cols:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
                if (table, column) == ("notifications", "completed_at"):
                    # an older sandbox delivered everything at once
                    self.db.execute("UPDATE notifications SET completed_at = created_at")

    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward and remember the offset (it survives a restart)."""
        now = self.clock.advance(seconds)
        self.write(
            "INSERT OR REPLACE INTO meta VALUES ('clock_offset', ?)", (repr(self.clock.offset),)
        )
        return now

    # -- transactions ---------------------------------------------------------------------
    def write(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        self.dirty = True
        return self.db.execute(sql, tuple(args))

    @contextlib.contextmanager
    def savepoint(self):
        """All of a handler's writes, or none of them if it raises."""
        self.db.execute("SAVEPOINT handler")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK TO handler")
            self.db.execute("RELEASE handler")
            raise
        self.db.execute("RELEASE handler")

    def commit(self) -> None:
        """Make every write so far durable and open the next transaction."""
        if self.dirty:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")
            self.dirty = False

    def close(self) -> None:
        try:
            self.commit()
            self.db.execute("COMMIT")
        except sqlite3.Error:
            pass
        self.db.close()

    def one(self, sql: str, args: Iterable[Any] = ()) -> Any:
        return self.db.execute(sql, tuple(args)).fetchone()

    def rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cur = self.db.execute(sql, tuple(args))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # -- app identity ---------------------------------------------------------------------
    def identity(self, app_id: str | None, api_key: str | None) -> tuple[str, str]:
        """The app id and key: explicit values win, else the stored ones, else new ones.

        A key the sandbox generated is stored as is (so a restart on the same file can print
        it); a key the caller supplied may be a real OneSignal key and is stored only as a
        salted SHA-256, so a restart on that file must be given the key again.
        """
        stored = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        app_id = app_id or stored.get("app_id") or str(uuid.uuid4())
        if api_key:
            self.write("DELETE FROM meta WHERE key = 'api_key'")
            self.write(
                "INSERT OR REPLACE INTO meta VALUES ('api_key_hash', ?)", (_digest(api_key),)
            )
        elif stored.get("api_key"):
            api_key = stored["api_key"]
        elif stored.get("api_key_hash"):
            raise ValueError(
                f"The sandbox store {self.path} was created with an API key you supplied, which "
                "is kept only as a hash. Pass the same key again (api_key=... or --api-key)."
            )
        else:
            api_key = "os_v2_app_" + secrets.token_hex(24)
            self.write("INSERT OR REPLACE INTO meta VALUES ('api_key', ?)", (api_key,))
        self.write("INSERT OR REPLACE INTO meta VALUES ('app_id', ?)", (app_id,))
        self.commit()
        return app_id, api_key

    # -- users ----------------------------------------------------------------------------
    def user(self, external_id: str) -> dict[str, Any] | None:
        row = self.one(
            "SELECT external_id, onesignal_id, tags FROM users WHERE external_id = ?",
            (external_id,),
        )
        if row is None:
            return None
        return {"external_id": row[0], "onesignal_id": row[1], "tags": json.loads(row[2])}

    def ensure_user(self, external_id: str) -> str:
        row = self.one("SELECT onesignal_id FROM users WHERE external_id = ?", (external_id,))
        if row:
            return row[0]
        oid = str(uuid.uuid4())
        self.write(
            "INSERT INTO users (external_id, onesignal_id, tags, created_at) VALUES (?,?,?,?)",
            (external_id, oid, "{}", self.now()),
        )
        return oid

    def add_subscription(
        self,
        external_id: str,
        platform: str,
        enabled: bool,
        token: str | None = None,
        *,
        language: str = DEFAULT_LANGUAGE,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> str:
        sid = str(uuid.uuid4())
        self.write(
            "INSERT INTO subscriptions (id, external_id, platform, type, enabled, token,"
            " language, timezone, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                sid,
                external_id,
                platform,
                SUBSCRIPTION_TYPES[platform],
                int(enabled),
                token,
                language,
                timezone,
                self.now(),
            ),
        )
        return sid

    def subscriptions(self, external_id: str) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT id, platform, type, enabled, token, language, timezone FROM subscriptions"
            " WHERE external_id = ? ORDER BY rowid",
            (external_id,),
        )

    def patch_tags(self, external_id: str, tags: Mapping[str, str]) -> bool:
        """Merge ``tags`` into the user's tags (``""`` deletes). False if no such user.

        Raises :class:`TagCapExceeded` when the result would hold more than ``max_tags``
        (limits table, ``tag_cap``: even an update or delete that leaves the user over it).
        One UPDATE in the common case (SQLite's ``json_patch``; null deletes a key), so the
        sandbox keeps its tag-edit throughput.
        """
        patch = json.dumps({k: (None if v == "" else v) for k, v in tags.items()})
        before = None
        if self.tag_delay_s > 0:
            before = self.one("SELECT tags FROM users WHERE external_id = ?", (external_id,))
        if self.max_tags is None:
            cur = self.write(
                "UPDATE users SET tags = json_patch(tags, ?) WHERE external_id = ?",
                (patch, external_id),
            )
        else:
            cur = self.write(
                "UPDATE users SET tags = json_patch(tags, ?1) WHERE external_id = ?2"
                " AND (SELECT COUNT(*) FROM json_each(json_patch(tags, ?1))) <= ?3",
                (patch, external_id, self.max_tags),
            )
        if cur.rowcount:
            if before is not None:  # what personalization still sees for tag_delay_s
                self.write(
                    "INSERT INTO tag_log VALUES (?,?,?)", (external_id, self.now(), before[0])
                )
            return True
        if self.max_tags is None:
            return False
        if self.one("SELECT 1 FROM users WHERE external_id = ?", (external_id,)) is None:
            return False
        raise TagCapExceeded(self.max_tags)

    def tags_of(
        self, external_ids: list[str], *, as_of: float | None = None
    ) -> dict[str, dict[str, str]]:
        """Each user's tags; with ``as_of``, as they were then (needs the tag log)."""
        out: dict[str, dict[str, str]] = {}
        for start in range(0, len(external_ids), 500):
            chunk = external_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for ext, tags in self.db.execute(
                f"SELECT external_id, tags FROM users WHERE external_id IN ({marks})", chunk
            ):
                out[ext] = json.loads(tags)
            if as_of is None:
                continue
            for ext, before in self.db.execute(
                "SELECT external_id, before FROM tag_log WHERE rowid IN (SELECT MIN(rowid)"
                f" FROM tag_log WHERE at > ? AND external_id IN ({marks}) GROUP BY external_id)",
                (as_of, *chunk),
            ):
                out[ext] = json.loads(before)
        return out

    def subscriptions_of(
        self, external_ids: list[str]
    ) -> dict[str, list[tuple[str, str, int, str, str, float]]]:
        """external id -> [(id, platform, enabled, language, timezone, created_at)]."""
        out: dict[str, list[tuple[str, str, int, str, str, float]]] = {}
        for start in range(0, len(external_ids), 500):
            chunk = external_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for ext, *sub in self.db.execute(
                "SELECT external_id, id, platform, enabled, language, timezone, created_at"
                f" FROM subscriptions WHERE external_id IN ({marks}) ORDER BY rowid",
                chunk,
            ):
                out.setdefault(ext, []).append(tuple(sub))
        return out

    def all_users(self) -> list[dict[str, Any]]:
        users = self.rows("SELECT external_id, onesignal_id, tags FROM users ORDER BY rowid")
        subs = self.rows(
            "SELECT external_id, platform, enabled, language, timezone FROM subscriptions"
            " ORDER BY rowid"
        )
        by_user: dict[str, list[dict[str, Any]]] = {}
        for s in subs:
            sub = {"platform": s["platform"], "subscribed": bool(s["enabled"])}
            if s["language"] != DEFAULT_LANGUAGE:  # shown only when set, as add_users takes them
                sub["language"] = s["language"]
            if s["timezone"] != DEFAULT_TIMEZONE:
                sub["timezone"] = s["timezone"]
            by_user.setdefault(s["external_id"], []).append(sub)
        for u in users:
            u["tags"] = json.loads(u["tags"])
            u["subscriptions"] = by_user.get(u["external_id"], [])
        return users

    # -- idempotency ----------------------------------------------------------------------
    def reply_for(self, key: str) -> tuple[int, dict[str, Any]] | None:
        """The remembered answer for ``key`` within the 30-day window, else None.

        An expired key is forgotten: its reply is dropped and the old notification keeps no
        key, so the next request with it is a new notification (v1.2.2 ``external_id``).
        """
        row = self.one("SELECT status, body, at FROM replies WHERE idempotency_key = ?", (key,))
        if row is None:
            return None
        if row[2] < self.now() - IDEMPOTENCY_WINDOW_SECONDS:
            self.write("DELETE FROM replies WHERE idempotency_key = ?", (key,))
            self.write(
                "UPDATE notifications SET idempotency_key = NULL WHERE idempotency_key = ?", (key,)
            )
            return None
        return row[0], json.loads(row[1])

    def remember_reply(self, key: str, status: int, body: dict[str, Any]) -> None:
        self.write(
            "INSERT OR REPLACE INTO replies (idempotency_key, status, body, at) VALUES (?,?,?,?)",
            (key, status, json.dumps(body), self.now()),
        )

    # -- notifications --------------------------------------------------------------------
    def add_notification(self, row: dict[str, Any]) -> None:
        self.write(
            "INSERT INTO notifications (id, api, idempotency_key, app_id, request, response,"
            " recipients, created_at, send_after) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                row["id"],
                row["api"],
                row["idempotency_key"],
                row["app_id"],
                json.dumps(row["request"]),
                json.dumps(row["response"]),
                row["recipients"],
                row["created_at"],
                row["send_after"],
            ),
        )

    def schedule(self, rows: list[tuple]) -> None:
        """(notification_id, external_id, subscription_id, platform, language, due_at) rows."""
        self.dirty = True
        self.db.executemany("INSERT INTO scheduled VALUES (?,?,?,?,?,?)", rows)
        soonest = min((r[5] for r in rows), default=None)
        if soonest is not None and (self._next_due is None or soonest < self._next_due):
            self._next_due = soonest

    def next_due(self) -> float | None:
        row = self.one("SELECT MIN(due_at) FROM scheduled")
        return row[0] if row else None

    def due(self, now: float) -> list[dict[str, Any]]:
        """Scheduled deliveries whose time has come, oldest first (cheap when none is)."""
        if self._next_due is None or self._next_due > now:
            return []
        rows = self.rows(
            "SELECT rowid AS rid, * FROM scheduled WHERE due_at <= ? ORDER BY due_at, rowid",
            (now,),
        )
        if not rows:
            self._next_due = self.next_due()
        return rows

    def add_deliveries(self, deliveries: list[tuple], done_rowids: list[int] = ()) -> None:
        """Rows in :data:`DELIVERY_COLUMNS` order (``delivered_at``: Unix seconds on the sandbox
        clock); ``done_rowids`` are the scheduled rows they deliver."""
        self.dirty = True
        self.db.executemany(
            f"INSERT INTO deliveries ({', '.join(DELIVERY_COLUMNS)})"
            f" VALUES ({','.join('?' * len(DELIVERY_COLUMNS))})",
            deliveries,
        )
        if done_rowids:
            self.db.executemany(
                "DELETE FROM scheduled WHERE rowid = ?", [(r,) for r in done_rowids]
            )
            self._next_due = self.next_due()

    def finish_if_done(self, notification_id: str, at: float) -> None:
        """Set ``completed_at`` once nothing of the notification is left to deliver."""
        left = self.one(
            "SELECT COUNT(*) FROM scheduled WHERE notification_id = ?", (notification_id,)
        )[0]
        if not left:
            self.write(
                "UPDATE notifications SET completed_at = ? WHERE id = ? AND completed_at IS NULL"
                " AND canceled = 0",
                (at, notification_id),
            )

    def remaining(self, notification_id: str) -> int:
        return self.one(
            "SELECT COUNT(*) FROM scheduled WHERE notification_id = ?", (notification_id,)
        )[0]

    def notification(self, notification_id: str) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM notifications WHERE id = ?", (notification_id,))
        if not rows:
            return None
        row = rows[0]
        row["request"] = json.loads(row["request"])
        row["response"] = json.loads(row["response"])
        return row

    def delivery_counts(self, notification_id: str) -> dict[str, Any]:
        counts = {"sent": 0, "failed": 0, "errored": 0, "converted": 0}
        per_platform: dict[str, dict[str, int]] = {}
        for status, platform, converted, n in self.db.execute(
            "SELECT status, platform, converted, COUNT(*) FROM deliveries"
            " WHERE notification_id = ? GROUP BY status, platform, converted",
            (notification_id,),
        ):
            counts[status] = counts.get(status, 0) + n
            stats = per_platform.setdefault(platform, {})
            key = {"sent": "successful"}.get(status, status)
            stats[key] = stats.get(key, 0) + n
            if converted:
                counts["converted"] += n
                stats["converted"] = stats.get("converted", 0) + n
        counts["platforms"] = per_platform
        return counts

    def cancel(self, notification_id: str) -> int:
        """Drop what is still scheduled and mark the notification canceled; rows dropped."""
        cur = self.write("DELETE FROM scheduled WHERE notification_id = ?", (notification_id,))
        self.write("UPDATE notifications SET canceled = 1 WHERE id = ?", (notification_id,))
        self._next_due = self.next_due()
        return cur.rowcount

    def notifications(self) -> list[dict[str, Any]]:
        rows = self.rows(
            "SELECT id, idempotency_key, api, created_at, recipients, canceled, request,"
            " send_after, completed_at, (SELECT COUNT(*) FROM scheduled s"
            " WHERE s.notification_id = n.id) AS remaining"
            " FROM notifications n ORDER BY created_at, rowid"
        )
        for r in rows:
            req = json.loads(r.pop("request"))
            r["canceled"] = bool(r["canceled"])
            r["contents"] = req.get("contents")
            r["headings"] = req.get("headings")
            r["request"] = req
            r["state"] = state_of(r)
        return rows

    def deliveries(self, notification_id: str | None = None) -> list[dict[str, Any]]:
        cols = ", ".join(DELIVERY_COLUMNS)
        if notification_id:
            return self.rows(
                f"SELECT {cols} FROM deliveries WHERE notification_id = ? ORDER BY rowid",
                (notification_id,),
            )
        return self.rows(f"SELECT {cols} FROM deliveries ORDER BY rowid")

    # -- request log ----------------------------------------------------------------------
    def log_request(self, entry: tuple) -> None:
        self.write(
            "INSERT INTO requests (method, path, status, api, idempotency_key, fault, applied, at)"
            " VALUES (?,?,?,?,?,?,?,?)",
            entry,
        )

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        rows = self.rows("SELECT * FROM requests WHERE seq > ? ORDER BY seq", (since,))
        for r in rows:
            r["applied"] = None if r["applied"] is None else bool(r["applied"])
        return rows

    def request_count(self) -> int:
        return self.one("SELECT COUNT(*) FROM requests")[0]

    def reset(self) -> None:
        for table in (
            "users",
            "subscriptions",
            "notifications",
            "replies",
            "deliveries",
            "scheduled",
            "tag_log",
            "templates",
            "exports",
            "requests",
        ):
            self.write(f"DELETE FROM {table}")
        self.write("DELETE FROM meta WHERE key = 'clock_offset'")
        self.clock.offset = 0.0
        self._next_due = None
        self.commit()


def state_of(row: Mapping[str, Any]) -> str:
    """A notification's state: canceled, delivered, sending (some due) or scheduled."""
    if row["canceled"]:
        return "canceled"
    if not row["remaining"]:
        return "delivered"
    return "scheduled" if row["remaining"] == row["recipients"] else "sending"
