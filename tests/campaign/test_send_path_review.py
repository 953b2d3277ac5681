"""Regression tests for the send path: each pins a bug that once let a push be lost, doubled or misreported."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from onesig_nb.campaign import TagSync
from onesig_nb.campaign.campaign import MAX_TEST_RECIPIENTS, Campaign
from onesig_nb.errors import (
    AuthError,
    CampaignConflict,
    ConfirmationRequired,
    JournalError,
    ValidationError,
)
from onesig_nb.journal import Journal
from onesig_nb.message import Message
from onesig_nb.onesignal.dialects import dialect_for

from .fakes import FakeClient, FakeCohort


@pytest.fixture
def journal(tmp_path):
    return tmp_path / "campaigns.sqlite"


def make(journal, n=50, *, client=None, name="nudge", **kw):
    client = client or FakeClient(max_ids=10)
    cohort = kw.pop("cohort", None)
    cohort = FakeCohort.of(n, first_name="Ana") if cohort is None else cohort
    return Campaign(name, cohort, Message(contents="Hi", headings="Cart"), client,
                    journal=journal, **kw)  # fmt: skip


class ShapeClient(FakeClient):
    """Answers every create-notification with one fixed 200 body, parsed by the real dialect."""

    def __init__(self, body, *, api="current"):
        super().__init__(api=api)
        self.body, self.dialect = body, dialect_for(api)

    def iter_notifications(self, reqs):
        for req in reqs:
            self.requests.append({"kind": "notification", "key": req.idempotency_key})
            yield self.dialect.notification_response(req, 200, self.body, {})


# -- "created nothing" answers ------------------------------------------------------------
@pytest.mark.parametrize(
    ("api", "body", "expected"),
    [
        ("legacy", {"id": "", "recipients": 0,
                    "errors": {"invalid_external_user_ids": ["u000000", "u000001"]}},
         ["unsubscribed", "unsubscribed", "not_reached"]),
        ("current", {"id": "", "errors": {"invalid_aliases": {"external_id": ["u000000"]}}},
         ["unsubscribed", "not_reached", "not_reached"]),
        ("current", {"id": "", "errors": ["All included players are not subscribed"]},
         ["not_reached"] * 3),
        ("current", {"id": "", "errors": {}}, ["not_reached"] * 3),
        ("legacy", {"recipients": 0}, ["not_reached"] * 3),
    ],
)  # fmt: skip
def test_an_answer_that_created_nothing_finishes_the_batch_by_structure(
    journal, api, body, expected
):
    camp = make(journal, n=3, client=ShapeClient(body, api=api))
    res = camp.send(progress=False)
    frame = res.to_frame()
    assert frame.status.tolist() == expected
    assert res.summary["failed"] == 0 and res.complete and not res.note
    assert camp.status == "sent"
    assert frame.loc[frame.status == "not_reached", "error"].str.contains("no notification").all()
    again = camp.send(progress=False)  # finished: nothing is re-requested
    assert again.requests == 0 and camp.client.count() == 1


def test_send_test_classifies_a_created_nothing_answer_like_send(journal):
    body = {"id": "", "errors": {"invalid_aliases": {"external_id": ["qa-1"]}}}
    camp = make(journal, client=ShapeClient(body))
    res = camp.send_test(["qa-1", "qa-2"])
    assert res.to_frame().status.tolist() == ["unsubscribed", "not_reached"]


# -- send_test limits and single strings ----------------------------------------------
def test_send_test_refuses_more_than_a_qa_list_or_more_than_confirm_above(journal):
    camp = make(journal, n=50)
    with pytest.raises(ValidationError, match="QA list"):
        camp.send_test(camp.cohort.external_ids)
    with pytest.raises(ValidationError, match=str(MAX_TEST_RECIPIENTS)):
        camp.send_test([f"qa-{i}" for i in range(MAX_TEST_RECIPIENTS + 1)])
    small = make(journal, name="small", confirm_above=5)
    with pytest.raises(ValidationError, match="confirm_above=5"):
        small.send_test(small.cohort.external_ids[:6])
    assert camp.client.count() == 0 and small.client.count() == 0
    assert small.send_test(small.cohort.external_ids[:5]).summary["sent"] == 5


def test_a_single_string_is_one_test_id_not_its_characters(journal):
    camp = make(journal, test_users="qa-1")
    assert camp.test_users == ("qa-1",)
    assert camp.send_test().to_frame().external_id.tolist() == ["qa-1"]
    assert camp.send_test("qa-2").to_frame().external_id.tolist() == ["qa-2"]


# -- a busy journal is not "corrupt" and loses nothing ---------------------------------
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
    assert len(ids) == len(set(ids)) == 50 and res.summary["sent"] == 50


# -- conflict text on a half-sent campaign ------------------------------------------------
def test_conflict_on_a_half_sent_campaign_puts_extend_first_and_warns_about_a_new_name(journal):
    client = FakeClient(max_ids=10)
    client.fail_next = 1
    make(journal, n=20, client=client).send(progress=False)
    bigger = make(journal, n=25, client=client)
    assert bigger.status == "partial"
    with pytest.raises(CampaignConflict) as exc:
        bigger.send(progress=False)
    text = str(exc.value)
    assert "already sent" not in text and "unfinished" in text
    assert text.index("send(extend=True)") < text.index("new campaign name")
    assert "push again to the 10 people already reached" in text
    bigger.send(extend=True, progress=False)
    ids = [e for _, e in client.deliveries]
    assert len(ids) == len(set(ids)) == 25


# -- duplicate ids -------------------------------------------------------------------------
def test_duplicate_ids_in_a_duck_typed_cohort_are_sent_once_and_reported(journal):
    cohort = FakeCohort(pd.DataFrame({"external_id": ["u1", "u2", "u1", "u3", "u2"]}))
    camp = make(journal, cohort=cohort, batch_size=2)
    plan = camp.plan()
    assert plan.duplicates == 2 and "2 duplicate external id" in plan.note
    assert plan.to_send == 3
    res = camp.send(progress=False)
    delivered = [e for _, e in camp.client.deliveries]
    assert sorted(delivered) == ["u1", "u2", "u3"] and res.summary["sent"] == 3


# -- two kernels start the same campaign at once -----------------------------------------
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


# -- a confirmed count is always checked -----------------------------------
def test_a_confirmed_count_that_no_longer_matches_is_refused_even_below_confirm_above(journal):
    camp = make(journal, n=30, confirm_above=1_000)
    with pytest.raises(ConfirmationRequired, match="confirmed for 3 people"):
        camp.send(confirm=3, progress=False)
    assert camp.client.count() == 0
    assert camp.send(confirm=30, progress=False).summary["sent"] == 30


# -- interrupted sends ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "stop", [KeyboardInterrupt("Ctrl-C"), AuthError("HTTP 403", status=403)], ids=repr
)
def test_an_interrupted_send_says_so_lists_everyone_and_the_next_send_resumes(journal, stop):
    client = FakeClient(max_ids=10)
    client.raise_after = (2, stop)
    camp = make(journal, client=client)
    with pytest.raises(type(stop)):
        camp.send(progress=False)
    assert camp.status == "interrupted"
    res = camp.result()
    frame = res.to_frame()
    assert len(frame) == 50 and frame.external_id.is_unique
    assert res.summary["sent"] == 20 and res.summary["pending"] == 30
    assert not res.complete and "pending" in res.note and "send() again" in res.note
    client.raise_after = None
    again = camp.send(progress=False)
    assert again.requests == 3 and again.summary["sent"] == 50 and camp.status == "sent"


# -- keys older than OneSignal's idempotency window ---------------------------------------
def test_resuming_batches_older_than_the_idempotency_window_is_refused(journal):
    client = FakeClient(max_ids=10)
    client.crash_after = 2
    camp = make(journal, client=client)
    with pytest.raises(KeyboardInterrupt):
        camp.send(progress=False)
    with sqlite3.connect(journal) as c:
        c.execute("UPDATE batches SET created_at='2020-01-01T00:00:00+00:00'")
    client.crash_after = None
    before = client.count()
    with pytest.raises(CampaignConflict, match="30 days") as exc:
        camp.send(progress=False)
    assert "resend_expired=True" in str(exc.value) and "second time" in str(exc.value)
    assert client.count() == before and camp.plan().state == "conflict"
    res = camp.send(resend_expired=True, progress=False)
    assert res.summary["sent"] == 50 and res.requests == 3


# -- TagSync: people without a OneSignal user ----------------------------------------------
def test_tagsync_reports_users_missing_from_onesignal_honestly_and_retries_them_later(journal):
    client = FakeClient()
    client.missing_users = {"u000001", "u000003"}
    cohort = FakeCohort.of(5, plan="pro")
    res = TagSync("t", cohort, client, tags=["plan"], journal=journal).run(progress=False)
    frame = res.to_frame().set_index("external_id")
    assert res.summary["not_in_onesignal"] == 2 and res.summary["failed"] == 0
    assert res.summary["updated"] == 3
    assert frame.loc["u000001", "status"] == "not_in_onesignal"
    assert Journal(journal).run("t")["status"] == "synced"
    client.missing_users = set()  # they installed the app since
    later = TagSync("t", cohort, client, tags=["plan"], journal=journal)
    assert later.plan().changed_users == 2
    assert later.run(progress=False).summary["updated"] == 2


# -- what "sent" means ---------------------------------------------------------------------
def test_plan_and_result_say_sent_means_accepted_and_name_excluded_platforms(journal):
    camp = make(journal, exclude_platforms=("ios",))
    plan = camp.plan()
    text = str(plan) + plan._repr_html_()
    assert "accepted the push" in text and "report()" in text
    assert "only devices are ios" in text
    res = camp.send(progress=False)
    assert "accepted the push" in res.summary["sent_means"]
    assert "report()" in res._repr_html_()
