"""A journal written before the delivery ledger (schema v1) keeps working, and what it sent
counts against the frequency cap.

The v1 file is built by hand with :mod:`sqlite3` from the v1 layout (today's schema without
the ``deliveries`` table and ``batches.hold``): a finished campaign whose one batch went to
three people an hour ago. Today's :class:`~onesig_nb.journal.Journal` migrates it in place
(``user_version`` 2, ``batches.hold`` added, the ledger filled from the journaled sends), so a
new capped campaign leaves those three out.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.errors import JournalError
from onesig_nb.journal import Journal
from onesig_nb.message import Message

#: The journal's tables as onesig_nb wrote them before schema v2 (user_version 1).
V1_SCHEMA = """
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

OLD = ["old-1", "old-2", "old-3"]
NEW = ["new-1", "new-2"]


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def v1_journal(path, app_id: str, sent_at: dt.datetime, *, payload: dict | None = None) -> None:
    """A v1 journal file: campaign ``spring`` sent (done) to :data:`OLD` at ``sent_at``, in
    one batch, after a test send to a QA id (not a push to the cohort)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(V1_SCHEMA)
    at = iso(sent_at)
    before = iso(sent_at - dt.timedelta(minutes=5))
    con.execute(
        "INSERT INTO meta(key, value) VALUES ('application', 'onesig_nb-journal'), "
        "('created_at', ?)",
        (before,),
    )
    con.execute(
        "INSERT INTO runs(name, kind, app_id, cohort_fingerprint, message_fingerprint, "
        "settings, recipients, status, rounds, created_at, updated_at, finished_at) "
        "VALUES ('spring', 'campaign', ?, 'c0ffee', 'beef', '{}', 3, 'sent', 1, ?, ?, ?)",
        (app_id, before, at, at),
    )
    payload = payload or {"contents": {"en": "Spring is here"}, "name": "spring"}
    rows = [
        (0, "test", "key-test", ["qa-1"], "nid-test", before),
        (1, "send", "key-send", OLD, "nid-send", at),
    ]
    for seq, kind, key, ids, nid, finished in rows:
        con.execute(
            "INSERT INTO batches(run, seq, kind, idempotency_key, payload, external_ids, "
            "platforms, size, state, attempts, notification_id, http_status, error, "
            "created_at, finished_at) VALUES ('spring', ?, ?, ?, ?, ?, NULL, ?, 'done', 1, ?, "
            "200, NULL, ?, ?)",
            (seq, kind, key, json.dumps(payload), json.dumps(ids), len(ids), nid, before, finished),
        )
    con.executemany(
        "INSERT INTO recipients(run, external_id, seq, status, notification_id, error) "
        "VALUES ('spring', ?, 1, 'sent', 'nid-send', NULL)",
        [(eid,) for eid in OLD],
    )
    con.execute("PRAGMA user_version=1")
    con.close()


def columns(path, table: str) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
    finally:
        con.close()


def user_version(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def sb():
    with osn.Sandbox() as sandbox:
        sandbox.add_users([{"external_id": eid, "platform": "ios"} for eid in OLD + NEW])
        yield sandbox


@pytest.fixture
def client(sb):
    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url) as c:
        yield c


def capped_campaign(name, client, journal, sb, **kw) -> Campaign:
    return Campaign(
        name, osn.Cohort.from_frame(pd.DataFrame({"external_id": OLD + NEW})),
        Message(contents="Summer is coming"), client, journal=journal,
        rules=osn.Rules(max_per_person=(1, "24h")), now=sb.now, **kw,
    )  # fmt: skip


def test_a_v1_journal_is_migrated_and_its_sends_count_against_the_cap(sb, client, tmp_path):
    path = tmp_path / "v1.sqlite"
    sent_at = sb.now() - dt.timedelta(hours=1)
    v1_journal(path, sb.app_id, sent_at)
    assert user_version(path) == 1 and "hold" not in columns(path, "batches")

    journal = Journal(path)
    assert user_version(path) == 2
    assert "hold" in columns(path, "batches")
    assert {"app_id", "external_id", "run", "seq", "start", "until"} <= columns(path, "deliveries")

    # the old campaign is still there, as it was
    assert journal.run("spring")["status"] == "sent"
    assert [b.hold for b in journal.batches("spring", kind=None)] == [None, None]
    rows = journal.deliveries(sb.app_id, since=iso(sent_at - dt.timedelta(days=1)))
    assert sorted(r[0] for r in rows) == OLD  # the cohort's push, not the QA test
    assert {(r[1], r[2], r[3]) for r in rows} == {(iso(sent_at), iso(sent_at), "spring")}
    assert not journal.deliveries(sb.app_id, since=iso(sent_at + dt.timedelta(seconds=1)))

    camp = capped_campaign("summer", client, journal, sb)
    frame = camp.send(progress=False).to_frame().set_index("external_id")
    assert sorted(frame.index[frame["status"] == "sent"]) == NEW
    held = frame.loc[OLD]
    assert (held["status"] == "excluded").all()
    until = iso(sent_at + dt.timedelta(hours=24))[:16].replace("T", " ")
    assert held["error"].str.startswith(f"capped until {until} UTC").all(), held["error"]
    got = sb.deliveries()
    assert (
        sorted(got.loc[got["notification_id"].isin(frame["notification_id"]), "external_id"]) == NEW
    )
    journal.close()

    again = Journal(path)  # opening it again migrates nothing twice
    rows = again.deliveries(sb.app_id, since=iso(sent_at - dt.timedelta(days=1)))
    assert sorted(r[0] for r in rows if r[3] == "spring") == OLD
    again.close()


def test_a_v1_scheduled_send_counts_at_the_time_it_goes_out(sb, client, tmp_path):
    """A v1 batch scheduled (``send_after``) for tomorrow reaches people tomorrow: the ledger
    must place it there, not at the time its request was answered."""
    path = tmp_path / "v1.sqlite"
    answered = sb.now() - dt.timedelta(minutes=10)
    goes_out = (answered + dt.timedelta(hours=20)).replace(second=0)
    payload = {"contents": {"en": "Tomorrow"}, "name": "spring", "send_after": iso(goes_out)}
    v1_journal(path, sb.app_id, answered, payload=payload)
    journal = Journal(path)
    rows = journal.deliveries(sb.app_id, since=iso(answered - dt.timedelta(days=1)))
    assert {r[1] for r in rows} == {iso(goes_out)}, rows

    # a capped campaign an hour after the scheduled push leaves its people out
    camp = capped_campaign(
        "next-day", client, journal, sb, schedule=goes_out + dt.timedelta(hours=1)
    )
    frame = camp.send(progress=False).to_frame().set_index("external_id")
    assert (frame.loc[OLD, "status"] == "excluded").all(), frame
    journal.close()


def test_two_kernels_opening_a_v1_journal_at_once_both_get_a_journal(tmp_path):
    """Two notebooks upgraded together open the same v1 journal: the second must not find it
    "corrupt" because the first migrated it while it waited for the write lock."""
    path = tmp_path / "v1.sqlite"
    v1_journal(path, "app", dt.datetime.now(dt.UTC))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. an old kernel still writing to it
    opened: list = []

    def open_it() -> None:
        try:
            opened.append(Journal(path))
        except JournalError as exc:
            opened.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # both have read the v1 layout and wait for the lock
    holder.execute("ROLLBACK")
    holder.close()
    for t in threads:
        t.join(timeout=60)
    errors = [o for o in opened if not isinstance(o, Journal)]
    for o in opened:
        if isinstance(o, Journal):
            o.close()
    assert not errors, errors
    assert user_version(path) == 2
    con = sqlite3.connect(path)
    n = con.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
    con.close()
    assert n == len(OLD)
