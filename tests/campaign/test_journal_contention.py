"""A journal another kernel or process holds: reported busy (never "corrupt"), and nothing is
lost or sent twice when the send runs again."""

from __future__ import annotations

import sqlite3

import pytest

from onesig_nb.errors import JournalError
from onesig_nb.journal import Journal

from .conftest import make
from .fakes import FakeClient


def test_a_locked_journal_is_reported_busy_not_corrupt(journal):
    Journal(journal).close()
    holder = sqlite3.connect(journal, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(JournalError) as exc:
            Journal(journal, timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    text = str(exc.value)
    assert "in use by another notebook or process" in text and "Do not delete" in text
    assert "corrupt" not in text and "Move that file aside" not in text


def test_a_journal_lock_mid_send_is_a_journal_error_and_the_resume_loses_nothing(journal):
    client = FakeClient(max_ids=10)
    camp = make(Journal(journal, timeout=0.05), client=client)
    holder = sqlite3.connect(journal, isolation_level=None)

    def lock_after_first_batch(done, total):
        if done == 10:
            holder.execute("BEGIN IMMEDIATE")  # another process grabs the journal

    with pytest.raises(JournalError, match="in use by another") as exc:
        camp.send(progress=lock_after_first_batch)
    assert "send() again" in str(exc.value) or "running send() again" in str(exc.value)
    holder.execute("ROLLBACK")
    holder.close()
    states = [b.state for b in camp.journal.batches("nudge")]
    assert states[0] == "done" and set(states[1:]) == {"intent"}
    res = camp.send(progress=False)
    ids = [e for _, e in client.deliveries]
    assert len(ids) == len(set(ids)) == 50 and res.summary["accepted_unconfirmed"] == 50


def test_racing_kernels_after_a_test_send_get_a_journal_error_that_says_run_again(
    journal, monkeypatch
):
    client = FakeClient(max_ids=10)
    a = make(Journal(journal), client=client)
    b = make(Journal(journal), client=client)
    a.send_test(["qa-1"])
    stale = a._decide(extend=False)  # kernel A decided "new" ...
    b.send(progress=False)  # ... kernel B started (and finished) the campaign meanwhile
    monkeypatch.setattr(a, "_decide", lambda **kw: stale)
    with pytest.raises(JournalError, match="Run it again") as exc:
        a.send(progress=False)
    assert isinstance(exc.value.__cause__, sqlite3.IntegrityError)
    monkeypatch.undo()
    assert a.send(progress=False).already_sent
    ids = [e for _, e in client.deliveries if e != "qa-1"]
    assert len(ids) == len(set(ids)) == 50
