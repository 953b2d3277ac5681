"""Campaign records in the journal: runs (campaigns and tag syncs), their batches with
idempotency keys, and per-recipient outcomes, read and written through a
:class:`~onesig_nb.journal.store.JournalStore` given to :class:`RunRecords`. Callers use them
through :class:`~onesig_nb.journal.journal.Journal`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from onesig_nb.errors import JournalError
from onesig_nb.journal.ledger import DeliveryLedger
from onesig_nb.journal.store import JournalStore, dumps_json, utc_now

__all__ = ["Batch", "RunRecords"]


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
    #: why this batch waits (quiet hours), shown for each of its people
    hold: str | None = None
    #: when its push may first and last reach its people (ISO UTC; the delivery ledger's row,
    #: written with the intent; None: when the intent is written)
    deliver_at: str | None = None
    deliver_until: str | None = None

    @property
    def size(self) -> int:
        return len(self.external_ids)


class RunRecords:
    """The runs, batches and recipients tables of a journal file.

    :param store: the open journal file these records live in
    """

    def __init__(self, store: JournalStore):
        self.store = store

    # -- runs (campaigns and tag syncs) -------------------------------------------------------
    def run(self, name: str) -> dict | None:
        """The journal row of a campaign or tag sync, or None when the name is new."""
        rows = self.store.query("SELECT * FROM runs WHERE name=?", (name,))
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
        guard: Callable[[], None] | None = None,
    ) -> None:
        """Create a run together with the intents of its batches, in one transaction.

        :param guard: called first inside that transaction (which holds the journal's write
            lock): it may read the journal and raise to write nothing, so a check and the
            intents it allows cannot be split by another process (the frequency cap)
        """
        now = utc_now()
        try:
            self._create_run(
                name, kind, app_id, cohort_fingerprint, message_fingerprint, settings,
                recipients, batches, now, guard,
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise JournalError(
                f"{name!r} was started in journal {str(self.store.path)!r} by another process at the "
                "same moment. Nothing was sent from here. Run it again: it will resume that "
                "send with the same keys instead of starting a second one."
            ) from exc

    def _create_run(
        self, name, kind, app_id, cohort_fingerprint, message_fingerprint, settings,
        recipients, batches, now, guard,
    ) -> None:  # fmt: skip
        with self.store.transaction() as c:
            if guard is not None:
                guard()
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
                    dumps_json(settings or {}),
                    recipients,
                    "sending" if kind == "campaign" else "new",
                    now,
                    now,
                ),
            )
            self._insert_batches(c, batches, now, app_id)

    def update_run(self, name: str, *, unless_status: str | None = None, **fields: Any) -> None:
        """Change columns of a run (``settings`` is JSON-encoded for you); ``unless_status``:
        leave a run whose status is that alone (checked in the same statement)."""
        if "settings" in fields:
            fields["settings"] = dumps_json(fields["settings"])
        fields["updated_at"] = utc_now()
        cols = ", ".join(f"{k}=?" for k in fields)
        where, params = "name=?", [name]
        if unless_status is not None:
            where += " AND status!=?"
            params.append(unless_status)
        with self.store.transaction() as c:
            c.execute(f"UPDATE runs SET {cols} WHERE {where}", (*fields.values(), *params))

    def runs(self) -> list[dict]:
        """Every run with its batch and recipient counts, newest first."""
        return self.store.query(
            """
            SELECT r.name, r.kind, r.status, r.recipients, r.rounds, r.app_id,
                   r.created_at, r.updated_at, r.finished_at,
                   (SELECT COUNT(*) FROM batches b WHERE b.run=r.name AND b.kind='send')
                       AS batches,
                   (SELECT COUNT(*) FROM batches b WHERE b.run=r.name AND b.kind='test')
                       AS tests,
                   (SELECT COUNT(*) FROM recipients p WHERE p.run=r.name AND p.status='sent')
                       AS sent,
                   (SELECT COUNT(*) FROM recipients p WHERE p.run=r.name
                       AND p.status='some_devices_unsubscribed') AS some_devices_unsubscribed,
                   (SELECT COUNT(*) FROM recipients p WHERE p.run=r.name AND p.status='failed')
                       AS failed
            FROM runs r ORDER BY r.created_at DESC, r.name
            """
        )

    # -- batches ------------------------------------------------------------------------------
    @staticmethod
    def _insert_batches(
        c: sqlite3.Connection, batches: Iterable[Batch], now: str, app_id: str | None
    ) -> None:
        """Write batch intents, and the delivery ledger's rows of the real sends."""
        batches = list(batches)
        DeliveryLedger.write(
            c,
            app_id or "",
            [
                (eid, b.run, b.seq, b.deliver_at or now, b.deliver_until or b.deliver_at or now)
                for b in batches
                if b.kind == "send"
                for eid in b.external_ids
            ],
        )
        c.executemany(
            "INSERT INTO batches(run, seq, kind, idempotency_key, payload, external_ids, "
            "platforms, size, state, created_at, hold) VALUES (?,?,?,?,?,?,?,?,'intent',?,?)",
            [
                (
                    b.run,
                    b.seq,
                    b.kind,
                    b.idempotency_key,
                    dumps_json(b.payload),
                    dumps_json(list(b.external_ids)),
                    None if b.platforms is None else dumps_json(list(b.platforms)),
                    b.size,
                    now,
                    b.hold,
                )
                for b in batches
            ],
        )

    def add_batches(
        self,
        run: str,
        batches: Iterable[Batch],
        *,
        guard: Callable[[], None] | None = None,
        **run_fields: Any,
    ) -> None:
        """Write intents for more batches of an existing run and update its columns, in one
        transaction (so a crash leaves either both or neither). ``guard``: as for
        :meth:`create_run`."""
        now = utc_now()
        if "settings" in run_fields:
            run_fields["settings"] = dumps_json(run_fields["settings"])
        try:
            with self.store.transaction() as c:
                if guard is not None:
                    guard()
                app = c.execute("SELECT app_id FROM runs WHERE name=?", (run,)).fetchone()
                self._insert_batches(c, batches, now, app[0] if app else None)
                if run_fields:
                    run_fields["updated_at"] = now
                    cols = ", ".join(f"{k}=?" for k in run_fields)
                    c.execute(f"UPDATE runs SET {cols} WHERE name=?", (*run_fields.values(), run))
        except sqlite3.IntegrityError as exc:
            raise JournalError(
                f"{run!r} was started or changed in journal {str(self.store.path)!r} by another "
                "process (another kernel, or onesig-nb send) at the same moment. Nothing was "
                "sent from here. Run it again: it will resume that send with the same keys "
                "instead of starting a second one."
            ) from exc

    def next_seq(self, run: str) -> int:
        """The sequence number the next batch of ``run`` gets (0 for the first)."""
        rows = self.store.query(
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
        for r in self.store.query(sql + " ORDER BY seq", params):
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
                    hold=r["hold"],
                )
            )
        return out

    def mark_attempt(self, run: str, seqs: Iterable[int]) -> int:
        """Count one more attempt for these batches (called just before their requests).
        Returns how many were marked: a batch cancelled meanwhile (another process's
        ``cancel``) is not, and must not be sent."""
        with self.store.transaction() as c:
            cur = c.executemany(
                "UPDATE batches SET attempts=attempts+1 WHERE run=? AND seq=? "
                "AND state != 'cancelled'",
                [(run, s) for s in seqs],
            )
            return cur.rowcount

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
        at: str | None = None,
    ) -> None:
        """Record a batch's answer and its recipients' outcomes in one transaction.

        ``recipients`` rows are ``(external_id, status, notification_id, error)``; ``at``: when
        the answer came (ISO UTC, the campaign's clock; default: now), which is when a push
        sent at once reached people (the delivery ledger).
        """
        with self.store.transaction() as c:
            if state == "done":
                DeliveryLedger.delivered(c, run, seq, at or utc_now())
            c.execute(
                "UPDATE batches SET state=?, notification_id=?, http_status=?, error=?, "
                "finished_at=? WHERE run=? AND seq=?",
                (state, notification_id, http_status, error, utc_now(), run, seq),
            )
            c.executemany(
                "INSERT OR REPLACE INTO recipients(run, external_id, seq, status, "
                "notification_id, error) VALUES (?,?,?,?,?,?)",
                [(run, eid, seq, st, nid, err) for eid, st, nid, err in recipients],
            )

    def recipients(self, run: str) -> list[dict]:
        """Per-recipient outcomes of a run's real sends (tests excluded)."""
        return self.store.query(
            "SELECT external_id, status, notification_id, error, seq AS batch "
            "FROM recipients WHERE run=? ORDER BY seq, rowid",
            (run,),
        )

    def targeted_ids(self, run: str) -> set[str]:
        """Everyone a real batch of this run was (or is about to be) addressed to (a
        cancelled batch addressed nobody)."""
        out: set[str] = set()
        for (ids,) in self.store.rows(
            "SELECT external_ids FROM batches WHERE run=? AND kind='send' AND state!='cancelled'",
            (run,),
        ):
            out.update(json.loads(ids))
        return out

    def cancel_batches(
        self,
        run: str,
        seqs: Iterable[int],
        *,
        reason: str,
        settings: dict | None = None,
    ) -> int:
        """Mark batches of ``run`` cancelled (nobody in them got the push), their people
        'cancelled' with ``reason``, and the run 'cancelled', in one transaction. Returns the
        people in those batches."""
        seqs = list(seqs)
        now = utc_now()
        people = 0
        with self.store.transaction() as c:
            for seq in seqs:
                row = c.execute(
                    "SELECT external_ids, notification_id FROM batches WHERE run=? AND seq=?",
                    (run, seq),
                ).fetchone()
                if row is None:
                    continue
                ids = json.loads(row[0])
                people += len(ids)
                c.execute(
                    "UPDATE batches SET state='cancelled', finished_at=? WHERE run=? AND seq=?",
                    (now, run, seq),
                )
                c.executemany(
                    "INSERT OR REPLACE INTO recipients(run, external_id, seq, status, "
                    "notification_id, error) VALUES (?,?,?,'cancelled',?,?)",
                    [(run, eid, seq, row[1], reason) for eid in ids],
                )
            fields = {"status": "cancelled", "updated_at": now}
            if settings is not None:
                fields["settings"] = dumps_json(settings)
            cols = ", ".join(f"{k}=?" for k in fields)
            c.execute(f"UPDATE runs SET {cols} WHERE name=?", (*fields.values(), run))
        return people

    def drop_unsent(self, run: str, seqs: Iterable[int], excluded: dict[str, str]) -> list[int]:
        """Retire batches of ``run`` that were never requested (a resume re-plans their people,
        e.g. when the frequency cap now holds some of them back): each becomes 'cancelled'
        and leaves the delivery ledger, and the people in ``excluded`` are recorded with why.
        A batch requested meanwhile (another process) is left alone. Returns the seqs
        retired, in one transaction."""
        done: list[int] = []
        with self.store.transaction() as c:
            for seq in seqs:
                cur = c.execute(
                    "UPDATE batches SET state='cancelled', error=? WHERE run=? AND seq=? "
                    "AND state='intent' AND attempts=0",
                    ("re-planned before it was sent", run, seq),
                )
                if cur.rowcount:
                    done.append(seq)
                    c.execute("DELETE FROM deliveries WHERE run=? AND seq=?", (run, seq))
            c.executemany(
                "INSERT OR REPLACE INTO recipients(run, external_id, seq, status, "
                "notification_id, error) VALUES (?,?,-1,'excluded',NULL,?)",
                [(run, eid, why) for eid, why in excluded.items()],
            )
        return done
