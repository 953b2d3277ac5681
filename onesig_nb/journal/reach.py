"""Who OneSignal can reach, cached per app in the journal, with when it was checked.

A campaign asks before sending (:mod:`onesig_nb.campaign.reachability`): from OneSignal's
subscription export (every device of the app: an id absent from it is not in OneSignal), from
per-user lookups (view user), or from earlier answers already in this journal (a TagSync's
404 "user not found", a campaign batch OneSignal answered "not subscribed"). The export and
lookup answers are kept here, per app and person, with their time, so the next plan reuses
them and says how old they are. Read and written through a
:class:`~onesig_nb.journal.store.JournalStore`; callers use :class:`~onesig_nb.journal.Journal`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from onesig_nb.journal.store import JournalStore

__all__ = ["ReachRecord", "ReachabilityCache"]

#: ``(known to OneSignal, subscribed push platforms, source, checked_at ISO UTC)`` of a person.
ReachRecord = tuple[bool, frozenset[str], str, str]

_CHUNK = 500


class ReachabilityCache:
    """The ``reach_checks`` and ``reachability`` tables of a journal file.

    :param store: the open journal file the cache lives in
    """

    def __init__(self, store: JournalStore):
        self.store = store

    def save_reach_export(
        self, app_id: str, people: Mapping[str, Iterable[str]], *, checked_at: str
    ) -> None:
        """Replace ``app_id``'s cache with an export: ``people`` maps every external id in it
        to its subscribed push platforms (empty: every device unsubscribed). Ids absent from
        it are, as of ``checked_at``, not in OneSignal."""
        app = app_id or ""
        with self.store.transaction() as c:
            c.execute("DELETE FROM reachability WHERE app_id=?", (app,))
            c.executemany(
                "INSERT INTO reachability(app_id, external_id, known, platforms, source, "
                "checked_at) VALUES (?,?,1,?,'export',?)",
                [(app, eid, ",".join(sorted(p)), checked_at) for eid, p in people.items()],
            )
            c.execute(
                "INSERT OR REPLACE INTO reach_checks(app_id, source, checked_at, people) "
                "VALUES (?,'export',?,?)",
                (app, checked_at, len(people)),
            )

    def save_reach_lookups(
        self, app_id: str, answers: Mapping[str, Iterable[str] | None], *, checked_at: str
    ) -> None:
        """Record per-user lookups: ``{external_id: subscribed platforms}``, None for an id
        OneSignal does not know (view user answered 404)."""
        with self.store.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO reachability(app_id, external_id, known, platforms, "
                "source, checked_at) VALUES (?,?,?,?,'lookup',?)",
                [
                    (app_id or "", eid, int(p is not None), ",".join(sorted(p or ())), checked_at)
                    for eid, p in answers.items()
                ],
            )

    def reach_export(self, app_id: str) -> str | None:
        """When the last full export of ``app_id`` was taken (ISO UTC), or None."""
        rows = self.store.rows(
            "SELECT checked_at FROM reach_checks WHERE app_id=? AND source='export'",
            (app_id or "",),
        )
        return rows[0][0] if rows else None

    def reach_records(self, app_id: str, external_ids: Iterable[str]) -> dict[str, ReachRecord]:
        """What the cache knows of these people: ``{external_id: ReachRecord}``."""
        ids = list(dict.fromkeys(external_ids))
        out: dict[str, ReachRecord] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for eid, known, platforms, source, at in self.store.rows(
                "SELECT external_id, known, platforms, source, checked_at FROM reachability "
                f"WHERE app_id=? AND external_id IN ({marks})",
                [app_id or "", *chunk],
            ):
                plats = frozenset(p for p in platforms.split(",") if p)
                out[eid] = (bool(known), plats, source, at)
        return out

    def reach_hints(self, app_id: str) -> dict[str, ReachRecord]:
        """What earlier answers in this journal say, for ``app_id``: a TagSync's 404 (not in
        OneSignal) and a campaign batch that created no notification and listed the person
        as not subscribed (in OneSignal, no subscribed device). Dated by their run."""
        out: dict[str, ReachRecord] = {}
        for eid, at in self.store.rows(
            "SELECT e.external_id, r.updated_at FROM tag_edits e JOIN runs r ON r.name=e.run "
            "WHERE r.app_id=? AND e.http_status=404",
            (app_id or "",),
        ):
            out[eid] = (False, frozenset(), "journal", at)
        for eid, at in self.store.rows(
            "SELECT p.external_id, r.updated_at FROM recipients p JOIN runs r ON r.name=p.run "
            "WHERE r.app_id=? AND p.status='unsubscribed'",
            (app_id or "",),
        ):
            out.setdefault(eid, (True, frozenset(), "journal", at))
        return out

    def reach_version(self, app_id: str) -> tuple[int, str]:
        """Changes whenever the cache of ``app_id`` changes (for in-memory caching)."""
        rows = self.store.rows(
            "SELECT COUNT(*), COALESCE(MAX(checked_at), '') FROM reachability WHERE app_id=?",
            (app_id or "",),
        )
        return int(rows[0][0]), str(rows[0][1])
