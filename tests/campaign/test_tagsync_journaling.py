"""TagSync's journal guarantees with its grouped, JSON-unpacked writes: an intent is committed
before its request goes out, every answer is journaled before run() returns (or raises), a run
killed midway is resumed without resending what was confirmed, a journal failure stops the
sync, and the rows stored are what the row-by-row writes stored."""

from __future__ import annotations

import sqlite3

import pytest

from onesig_nb.campaign import TagSync
from onesig_nb.errors import JournalError
from onesig_nb.journal import Journal

from .fakes import FakeClient, FakeCohort

#: More users than the first groups of intents (64, then 500), so later groups are written
#: while edits are in flight.
USERS = 1_234


class IntentCheckingClient(FakeClient):
    """Refuses to "send" an edit whose intent is not committed in the journal file (read
    through a connection of its own, so only committed rows count)."""

    def __init__(self, path, **kw):
        super().__init__(**kw)
        self.path = path
        self.unjournaled: list[tuple[str, int]] = []

    def iter_tag_edits(self, edits):
        conn = sqlite3.connect(self.path)
        try:

            def checked():
                for edit in edits:
                    row = conn.execute(
                        "SELECT state FROM tag_edits WHERE external_id=? AND part=?",
                        (edit.external_id, edit.ref),
                    ).fetchone()
                    if row is None or row[0] != "intent":
                        self.unjournaled.append((edit.external_id, edit.ref))
                    yield edit

            yield from super().iter_tag_edits(checked())
        finally:
            conn.close()


class DyingClient(FakeClient):
    """Answers ``die_after`` edits, then the process is "killed" (KeyboardInterrupt)."""

    def __init__(self, die_after: int, **kw):
        super().__init__(**kw)
        self.die_after = die_after

    def iter_tag_edits(self, edits):
        for n, res in enumerate(super().iter_tag_edits(edits)):
            if self.die_after is not None and n >= self.die_after:
                raise KeyboardInterrupt("simulated kill")
            yield res


def _states(path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT state, COUNT(*) FROM tag_edits GROUP BY state"))


def test_every_request_has_its_intent_committed_before_it_goes_out(journal):
    client = IntentCheckingClient(journal)
    cohort = FakeCohort.of(USERS, plan="pro", ltv=12.5)
    res = TagSync("t", cohort, client, tags=["plan", "ltv"], journal=journal).run(progress=False)
    assert res.summary["updated"] == USERS
    assert len(client.requests) == USERS and client.unjournaled == []


def test_every_answer_is_journaled_before_run_returns(journal):
    client = FakeClient()
    client.missing_users = {"u000007"}
    client.fail_tags_for = {"u000011", "u000999"}
    cohort = FakeCohort.of(USERS, plan="pro")
    res = TagSync("t", cohort, client, tags=["plan"], journal=journal).run(progress=False)
    assert res.summary["updated"] == USERS - 3
    assert _states(journal) == {"done": USERS - 3, "failed": 3}
    j = Journal(journal)
    state = j.tag_state("app-1")
    assert len(state) == USERS - 3 and "u000011" not in state and "u000007" not in state
    failed = {e["external_id"]: e for e in j.tag_edits("t") if e["state"] == "failed"}
    assert failed["u000007"]["http_status"] == 404 and failed["u000011"]["http_status"] == 503
    assert "503" in failed["u000011"]["error"]
    assert j.run("t")["status"] == "partial"
    assert j.run("t")["cohort_fingerprint"] == cohort.fingerprint


def test_a_run_killed_midway_keeps_its_answers_and_the_rerun_sends_only_the_rest(journal):
    cohort = FakeCohort.of(USERS, plan="pro")
    dying = DyingClient(die_after=777)
    with pytest.raises(KeyboardInterrupt):
        TagSync("t", cohort, dying, tags=["plan"], journal=journal).run(progress=False)
    # every answer that came back is journaled; the rest stayed intents (or were never sent)
    assert _states(journal)["done"] == 777
    confirmed = set(Journal(journal).tag_state("app-1"))
    assert len(confirmed) == 777

    again = FakeClient()
    sync = TagSync("t", cohort, again, tags=["plan"], journal=journal)
    assert sync.plan().changed_users == USERS - 777
    res = sync.run(progress=False)
    sent = [r["external_id"] for r in again.requests]
    assert len(sent) == len(set(sent)) == USERS - 777
    assert not confirmed & set(sent)
    assert res.summary["updated"] == USERS - 777 and res.summary["unchanged"] == 777


def test_a_failing_journal_stops_the_sync_and_is_raised(journal, monkeypatch):
    client = FakeClient()
    sync = TagSync("t", FakeCohort.of(USERS, plan="pro"), client, tags=["plan"], journal=journal)
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise JournalError("disk full")

    monkeypatch.setattr(sync.journal, "record_tag_results", broken)
    with pytest.raises(JournalError, match="disk full"):
        sync.run(progress=False)
    assert len(client.requests) < USERS  # it stopped sending instead of carrying on unjournaled


def test_no_edit_goes_out_when_its_intent_cannot_be_journaled(journal, monkeypatch):
    client = FakeClient()
    sync = TagSync("t", FakeCohort.of(USERS, plan="pro"), client, tags=["plan"], journal=journal)

    def broken(*args, **kwargs):
        raise JournalError("read-only")

    monkeypatch.setattr(sync.journal, "add_tag_intents", broken)
    with pytest.raises(JournalError, match="read-only"):
        sync.run(progress=False)
    assert client.requests == []


def test_progress_is_reported_once_per_request_across_passes(journal):
    traits = {f"t{i}": ["x"] * 3 for i in range(150)}
    cohort = FakeCohort.of(3, **traits)
    seen = []
    sync = TagSync("w", cohort, FakeClient(), tags=list(traits), journal=journal, sleep=lambda s: 0)
    res = sync.run(progress=lambda done, total: seen.append((done, total)))
    assert res.requests == 6 and seen == [(n, 6) for n in range(1, 7)]
    edits = Journal(journal).tag_edits("w")
    assert sorted((e["external_id"], e["part"], e["state"]) for e in edits) == sorted(
        (f"u{i:06d}", p, "done") for i in range(3) for p in (0, 1)
    )
    assert all(list(e["tags"]) == sorted(e["tags"]) for e in edits)
    assert sum(len(e["tags"]) for e in edits) == 3 * 150


def test_intents_and_answers_are_stored_as_before(journal):
    """One JSON statement per group stores what the row-by-row writes stored: the tags as
    dumps_json writes them (sorted keys, UTF-8 kept), statuses, errors and the tag state."""
    from onesig_nb.journal.store import dumps_json

    j = Journal(journal)
    j.create_run("t", kind="tagsync", app_id="app", recipients=3)
    tricky = {"b": 'Chloé "la" \\ ☃', "a": "", "c": "1"}
    j.add_tag_intents("t", 1, [("u1", 0, tricky), ("u2", 0, {"a": "x"}), ("u2", 1, {"z": "y"})])
    j.record_tag_results(
        "t",
        1,
        "app",
        [
            ("u1", 0, tricky, True, 200, None),
            ("u2", 0, {"a": "x"}, False, 503, "HTTP 503"),
            ("u2", 1, {"z": "y"}, True, 202, None),
        ],
    )
    rows = {(r["external_id"], r["part"]): r for r in j.tag_edits("t", 1)}
    with sqlite3.connect(journal) as conn:
        text = conn.execute("SELECT tags FROM tag_edits WHERE external_id='u1'").fetchone()[0]
    assert text == dumps_json(tricky)
    assert rows["u1", 0]["tags"] == tricky and rows["u1", 0]["state"] == "done"
    assert (rows["u2", 0]["state"], rows["u2", 0]["http_status"]) == ("failed", 503)
    assert rows["u2", 0]["error"] == "HTTP 503"
    assert (rows["u2", 1]["state"], rows["u2", 1]["http_status"]) == ("done", 202)
    assert j.tag_state("app") == {"u1": tricky, "u2": {"z": "y"}}
