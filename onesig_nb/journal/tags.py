"""Tag-sync state in the journal: per app and user, the tag values a
:class:`~onesig_nb.TagSync` last wrote (so an unchanged re-run sends nothing), and the intents
and outcomes of each round's tag edits, read and written through a
:class:`~onesig_nb.journal.store.JournalStore` given to :class:`TagSyncState`. Callers use them
through :class:`~onesig_nb.journal.journal.Journal`."""

from __future__ import annotations

import json
from collections.abc import Iterable

import orjson

from onesig_nb.journal.store import JournalStore, utc_now

__all__ = ["TagSyncState"]


class TagSyncState:
    """The tag_state and tag_edits tables of a journal file.

    :param store: the open journal file this state lives in
    """

    def __init__(self, store: JournalStore):
        self.store = store

    # -- tag syncs ----------------------------------------------------------------------------
    def tag_state(self, app_id: str, external_ids: Iterable[str] | None = None) -> dict:
        """``{external_id: {tag: value}}`` as last written through this journal for ``app_id``."""
        state: dict[str, dict[str, str]] = {}
        wanted = None if external_ids is None else set(external_ids)
        rows = self.store.rows(
            "SELECT external_id, tag, value FROM tag_state WHERE app_id=?", (app_id or "",)
        )
        for eid, tag, value in rows:
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
        for tag, eid, value, run, at in self.store.rows(sql, [app_id or "", *wanted]):
            out[tag][eid] = (value, run, at)
        return out

    def tag_state_version(self, app_id: str) -> tuple[int, int]:
        """Changes whenever a tag value is written for ``app_id`` (for caching decisions)."""
        rows = self.store.query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(rowid), 0) AS last FROM tag_state WHERE app_id=?",
            (app_id or "",),
        )
        return int(rows[0]["n"]), int(rows[0]["last"])

    def add_tag_intents(
        self, run: str, round_: int, edits: Iterable[tuple[str, int, dict]]
    ) -> None:
        """Record tag edits ``(external_id, part, tags)`` before they are sent (one transaction).

        Each part's edits go to SQLite as one JSON object ``{external_id: tags}`` that SQLite
        unpacks itself (``json_each``): one statement, not a Python round trip per row. ``tags``
        is stored as compact JSON with sorted keys, as :func:`~.store.dumps_json` writes it.
        """
        groups: dict[int, dict[str, dict]] = {}
        for eid, part, tags in edits:
            if len(tags) > 1:
                tags = dict(sorted(tags.items()))
            group = groups.get(part)
            if group is None:
                group = groups[part] = {}
            group[eid] = tags
        if not groups:
            return
        with self.store.transaction() as c:
            for part, group in groups.items():
                c.execute(
                    "INSERT OR REPLACE INTO tag_edits(run, round, external_id, part, tags, "
                    "state) SELECT ?, ?, key, ?, value, 'intent' FROM json_each(?)",
                    (run, round_, part, orjson.dumps(group, option=orjson.OPT_NON_STR_KEYS)),
                )

    def record_tag_results(
        self,
        run: str,
        round_: int,
        app_id: str,
        results: Iterable[tuple[str, int, dict, bool, int | None, str | None]],
    ) -> None:
        """Record outcomes ``(external_id, part, tags, ok, status, error)``; successes update
        the tag state so the next run only sends what changed. One transaction.

        Successes (nearly all) go to SQLite as one JSON object ``{external_id: tags}`` per part
        and HTTP status, unpacked by SQLite (``json_each``); failures are written row by row."""
        done: dict[tuple[int, int | None], dict[str, dict]] = {}
        failed = []
        for r in results:
            if r[3]:
                key = (r[1], r[4])
                group = done.get(key)
                if group is None:
                    group = done[key] = {}
                group[r[0]] = r[2]
            else:
                failed.append(r)
        if not done and not failed:
            return
        now = utc_now()
        with self.store.transaction() as c:
            for (part, status), group in done.items():
                payload = orjson.dumps(group, option=orjson.OPT_NON_STR_KEYS)
                c.execute(
                    "UPDATE tag_edits SET state='done', http_status=?, error=NULL "
                    "WHERE run=? AND round=? AND part=? "
                    "AND external_id IN (SELECT key FROM json_each(?))",
                    (status, run, round_, part, payload),
                )
                c.execute(
                    "INSERT OR REPLACE INTO tag_state(app_id, external_id, tag, value, run, "
                    "written_at) SELECT ?, j.key, t.key, t.value, ?, ? "
                    "FROM json_each(?) AS j, json_each(j.value) AS t",
                    (app_id or "", run, now, payload),
                )
            if failed:
                c.executemany(
                    "UPDATE tag_edits SET state='failed', http_status=?, error=? "
                    "WHERE run=? AND round=? AND external_id=? AND part=?",
                    [(st, err, run, round_, eid, part) for eid, part, _t, _ok, st, err in failed],
                )

    def tag_edits(self, run: str, round_: int | None = None) -> list[dict]:
        """The tag edits of a tag sync (of one round, if given), in order, tags decoded."""
        sql, params = "SELECT * FROM tag_edits WHERE run=?", [run]
        if round_ is not None:
            sql += " AND round=?"
            params.append(round_)
        rows = self.store.query(sql + " ORDER BY round, rowid", params)
        for r in rows:
            r["tags"] = json.loads(r["tags"])
        return rows
