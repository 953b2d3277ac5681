"""The delivery ledger: every push a campaign of an app planned for a person, and when it may
reach them, kept in the journal so sending rules can count pushes across campaigns.

A row is written with its batch's intent (same transaction) and its time is moved to when the
answer came back for a push sent at once (a resume may run days after the intent). The ledger
leaves out what never reached anyone: a cancelled batch, and people OneSignal answered "not
subscribed" or did not know. A batch not answered yet (or failed, waiting for a resume) is
still *open*: it may go out at any time, and :meth:`DeliveryLedger.deliveries` says so.
Read and written through a :class:`~onesig_nb.journal.store.JournalStore`; callers use
:class:`~onesig_nb.journal.Journal`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from onesig_nb.journal.store import JournalStore

__all__ = ["NOT_REACHED_STATUSES", "DeliveryLedger"]

#: Recipient statuses of people a push did not reach: their ledger rows do not count.
NOT_REACHED_STATUSES = ("not_reached", "unsubscribed", "excluded", "invalid", "cancelled")


class DeliveryLedger:
    """The ``deliveries`` table of a journal file.

    :param store: the open journal file the ledger lives in
    """

    def __init__(self, store: JournalStore):
        self.store = store

    @staticmethod
    def write(
        c: sqlite3.Connection, app_id: str, rows: Iterable[tuple[str, str, int, str, str]]
    ) -> None:
        """Add ``(external_id, run, seq, start, until)`` rows (inside the caller's
        transaction: the one that writes their batches' intents)."""
        c.executemany(
            "INSERT OR REPLACE INTO deliveries(app_id, external_id, run, seq, start, until) "
            "VALUES (?,?,?,?,?,?)",
            [(app_id or "", eid, run, seq, start, until) for eid, run, seq, start, until in rows],
        )

    @staticmethod
    def delivered(c: sqlite3.Connection, run: str, seq: int, at: str) -> None:
        """A batch's answer came back at ``at``: its push reached people no earlier than that."""
        c.execute(
            "UPDATE deliveries SET start = MAX(start, ?), until = MAX(until, ?) "
            "WHERE run = ? AND seq = ?",
            (at, at, run, seq),
        )

    def deliveries(
        self, app_id: str, *, since: str, people: Iterable[str] | None = None
    ) -> list[tuple[str, str, str | None, str]]:
        """The pushes of ``app_id`` that may reach someone at or after ``since`` (ISO UTC):
        ``(external_id, start, until, run)`` rows; ``until`` is None for a push whose batch is
        not answered yet (it may go out at any time). ``people``: only these ids."""
        placeholders = ",".join("?" * len(NOT_REACHED_STATUSES))
        sql = (
            "SELECT d.external_id, d.start, "
            "  CASE WHEN b.state = 'done' THEN d.until ELSE NULL END, d.run "
            "FROM deliveries d "
            "JOIN batches b ON b.run = d.run AND b.seq = d.seq "
            "LEFT JOIN recipients p ON p.run = d.run AND p.external_id = d.external_id "
            "  AND p.seq = d.seq "
            "WHERE d.app_id = ? AND b.state != 'cancelled' "
            "  AND (b.state != 'done' OR d.until >= ?) "
            f"  AND (p.status IS NULL OR p.status NOT IN ({placeholders}))"
        )
        rows = self.store.rows(sql, (app_id or "", since, *NOT_REACHED_STATUSES))
        if people is None:
            return [tuple(r) for r in rows]
        wanted = set(people)
        return [tuple(r) for r in rows if r[0] in wanted]
