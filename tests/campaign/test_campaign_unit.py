"""Campaign behaviour against the in-memory fake client: exactly-once, resume, conflicts."""

from __future__ import annotations

import sqlite3

import pytest

from onesig_nb.campaign import campaigns
from onesig_nb.errors import (
    CampaignConflict,
    ConfirmationRequired,
    JournalError,
    ValidationError,
)
from onesig_nb.journal import SCHEMA_VERSION, Journal
from onesig_nb.message import Message
from onesig_nb.onesignal.push import campaign_batch_key as batch_key

from .conftest import make
from .fakes import FAKE_KEY, FakeClient, FakeCohort


def test_send_reaches_everyone_once_and_second_send_makes_zero_requests(journal):
    camp = make(journal)
    result = camp.send(progress=False)
    assert result.summary["accepted_unconfirmed"] == 50 and result.requests == 5
    before = camp.client.count()
    again = camp.send(progress=False)
    assert camp.client.count() == before
    assert again.already_sent and again.requests == 0
    assert "already sent" in again.note and "nothing was sent" in again.note
    assert sorted(e for _, e in camp.client.deliveries) == camp.cohort.external_ids
    assert camp.status == "sent"


def test_rerun_from_a_new_campaign_object_resumes_with_the_same_keys(journal):
    camp = make(journal)
    camp.client.crash_after = 2
    with pytest.raises(KeyboardInterrupt):
        camp.send(progress=False)
    keys_first = [r["key"] for r in camp.client.requests]
    assert camp.status == "interrupted"
    camp.client.crash_after = None
    camp2 = make(journal, client=camp.client)
    result = camp2.send(progress=False)
    resent = [r["key"] for r in camp.client.requests[len(keys_first) :]]
    assert len(resent) == 3 and not set(resent) & set(keys_first)
    ids = [e for _, e in camp.client.deliveries]
    assert len(ids) == len(set(ids)) == 50
    assert result.summary["accepted_unconfirmed"] == 50


def test_a_batch_sent_but_not_journaled_is_replayed_not_pushed_twice(journal, monkeypatch):
    camp = make(journal)
    real = camp.journal.record_outcome
    calls = {"n": 0}

    def dying(*a, **k):  # the answer came back, then the process died before journaling it
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(camp.journal, "record_outcome", dying)
    with pytest.raises(KeyboardInterrupt):
        camp.send(progress=False)
    monkeypatch.setattr(camp.journal, "record_outcome", real)
    result = camp.send(progress=False)
    ids = [e for _, e in camp.client.deliveries]
    assert len(ids) == len(set(ids)) == 50
    assert result.summary["accepted_unconfirmed"] == 50


def test_batch_keys_are_deterministic_uuid5_over_name_and_content():
    k1 = batch_key("a", "send", {"contents": {"en": "x"}}, ["1", "2"], None)
    assert k1 == batch_key("a", "send", {"contents": {"en": "x"}}, ["1", "2"], None)
    assert k1 != batch_key("b", "send", {"contents": {"en": "x"}}, ["1", "2"], None)
    assert k1 != batch_key("a", "send", {"contents": {"en": "x"}}, ["1", "3"], None)
    assert k1[14] == "5"  # RFC 9562 version 5


def test_two_journals_for_the_same_campaign_produce_the_same_keys(tmp_path):
    a, b = make(tmp_path / "a.sqlite"), make(tmp_path / "b.sqlite")
    a.send(progress=False)
    b.send(progress=False)
    keys = [r["key"] for r in a.client.requests]
    assert keys == [r["key"] for r in b.client.requests]


def test_large_send_needs_explicit_confirmation_with_the_count(journal):
    camp = make(journal, n=30, confirm_above=20)
    with pytest.raises(ConfirmationRequired, match=r"send\(confirm=30\)"):
        camp.send(progress=False)
    with pytest.raises(ConfirmationRequired):
        camp.send(confirm=29, progress=False)
    assert camp.client.count() == 0 and camp.journal.run("nudge") is None
    assert camp.send(confirm=30, progress=False).summary["accepted_unconfirmed"] == 30


def test_confirm_true_is_accepted(journal):
    camp = make(journal, n=30, confirm_above=20)
    assert camp.send(confirm=True, progress=False).summary["accepted_unconfirmed"] == 30


def test_changed_cohort_under_same_name_is_refused_naming_both_fixes(journal):
    make(journal, n=20).send(progress=False)
    bigger = make(journal, n=25)
    with pytest.raises(CampaignConflict) as exc:
        bigger.send(progress=False)
    assert "new campaign name" in str(exc.value) and "extend=True" in str(exc.value)
    assert bigger.client.count() == 0


def test_changed_message_is_refused_and_extend_reaches_only_new_people(journal):
    client = FakeClient(max_ids=10)
    make(journal, n=20, client=client).send(progress=False)
    other = Message(contents="Second try")
    changed = make(journal, client=client, msg=other, cohort=FakeCohort.of(25))
    with pytest.raises(CampaignConflict, match="message"):
        changed.send(progress=False)
    res = changed.send(extend=True, progress=False)
    ids = [e for _, e in client.deliveries]
    assert len(ids) == len(set(ids)) == 25
    assert res.summary["accepted_unconfirmed"] == 25 and res.requests == 1
    assert changed.send(extend=True, progress=False).requests == 0
    assert changed.send(progress=False).already_sent


def test_empty_cohort_is_refused_before_anything_is_sent(journal):
    camp = make(journal, cohort=FakeCohort.of(0))
    with pytest.raises(ValidationError, match="empty"):
        camp.send(progress=False)
    assert camp.client.requests == [] and camp.journal.run("nudge") is None


def test_lint_errors_block_sending(journal):
    camp = make(journal, msg=Message(contents="Hi", url="shop/cart"))
    with pytest.raises(ValidationError, match="lint error"):
        camp.send(confirm=True, progress=False)
    with pytest.raises(ValidationError):
        camp.send_test(["qa-1"])
    assert camp.client.requests == []
    assert camp.plan().errors


def test_corrupt_journal_is_refused_with_what_to_do(journal):
    journal.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(JournalError, match="Move that file") as exc:
        make(journal)
    assert "Nothing was sent" in str(exc.value)


def test_journal_from_a_newer_version_is_refused(journal):
    Journal(journal).close()
    con = sqlite3.connect(journal)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(JournalError, match="newer onesig_nb.*Upgrade"):
        make(journal)


def test_foreign_sqlite_file_is_not_taken_for_a_journal(journal):
    con = sqlite3.connect(journal)
    con.execute("CREATE TABLE t(x)")
    con.close()
    with pytest.raises(JournalError, match="not an onesig_nb journal"):
        make(journal)


def test_exclude_platforms_restricts_every_request(journal):
    seen = []
    client = FakeClient(max_ids=10)
    orig = client.iter_notifications

    def spy(reqs):
        reqs = list(reqs)
        seen.extend(r.platforms for r in reqs)
        return orig(reqs)

    client.iter_notifications = spy
    camp = make(journal, client=client, exclude_platforms=("ios",))
    assert camp.plan().platforms == ("android", "web")
    camp.send(progress=False)
    assert seen and all(p == ("android", "web") for p in seen)
    with pytest.raises(ValidationError):
        make(journal, exclude_platforms=("blackberry",))


def test_people_listed_unsubscribed_are_told_apart_by_whether_their_batch_was_created(journal):
    """v11.6 create-message 200 example: OneSignal lists an id once per unsubscribed device.

    u10..u19 fill one batch: OneSignal creates nothing ("not_reached": nobody got it); u20..u24
    share a batch with reachable people, so their listing only says a device of theirs is not
    subscribed: "some_devices_unsubscribed", accepted with the rest, never "not reached".
    """
    client = FakeClient(max_ids=10, unsubscribed={f"u{i:06d}" for i in range(10, 25)})
    camp = make(journal, client=client)
    res = camp.send(progress=False)
    frame = res.to_frame()
    assert (
        res.summary["some_devices_unsubscribed"] == 5 and res.summary["accepted_unconfirmed"] == 35
    )
    assert res.summary["accepted"] == 40 and res.summary["unsubscribed"] == 0
    assert res.summary["not_reached"] == 10 and res.summary["failed"] == 0
    assert set(frame[frame.status == "some_devices_unsubscribed"].external_id) == {
        f"u{i:06d}" for i in range(20, 25)
    }
    assert (
        frame[frame.status.isin(["sent", "some_devices_unsubscribed"])]
        .notification_id.notna()
        .all()
    )
    assert camp.status == "sent" and res.complete


def test_failed_batches_are_retried_with_same_key_and_errors_hide_the_key(journal, tmp_path):
    camp = make(journal)
    camp.client.fail_next = 2
    res = camp.send(progress=False)
    assert res.summary["failed"] == 20 and "send() again" in res.note
    assert FAKE_KEY not in res.to_frame().error.dropna().str.cat()
    assert camp.status == "partial"
    failed_keys = {r["key"] for r in camp.client.requests[:2]}
    res2 = camp.send(progress=False)
    assert res2.requests == 2 and {r["key"] for r in camp.client.requests[-2:]} == failed_keys
    assert res2.summary["accepted_unconfirmed"] == 50 and camp.status == "sent"
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("campaigns.sqlite*"))
    assert FAKE_KEY.encode() not in raw


def test_plan_says_everything_writes_nothing_and_redacts_the_key(journal):
    camp = make(journal, n=45)
    plan = camp.plan()
    assert (plan.recipients, plan.batches, plan.requests, plan.state) == (45, 5, 5, "new")
    assert plan.personalization == "client"  # auto, no TagSync in the journal: pre-rendered
    assert "each person gets exactly the preview" in plan.reason
    page = plan._repr_html_() + str(plan) + repr(camp)
    assert FAKE_KEY not in page and FAKE_KEY[-4:] in page
    assert "include_aliases" in page and "Estimated duration" in page
    assert camp.journal.runs() == [] and camp.client.requests == []
    camp.send(progress=False)
    assert camp.plan().state == "sent" and camp.plan().requests == 0


def test_client_personalization_sends_one_notification_per_distinct_text(journal):
    cohort = FakeCohort.of(30, first_name=["Ana", "Bo", "Cy"] * 10)
    camp = make(journal, cohort=cohort, personalization="client")
    plan = camp.plan()
    assert plan.personalization == "client" and plan.batches == 3
    camp.send(progress=False)
    texts = {
        r.payload["contents"]["en"]
        for b in [camp.journal.batches("nudge")]
        for r in b  # batches hold the rendered payloads
    }
    assert texts == {"Hi Ana", "Hi Bo", "Hi Cy"}


def test_send_test_is_journaled_as_a_test_and_not_as_the_send(journal):
    camp = make(journal, test_users=("qa-1",))
    res = camp.send_test()
    assert res.summary["accepted_unconfirmed"] == 1 and camp.client.count() == 1
    assert camp.status == "tested"
    row = campaigns(journal).iloc[0]
    assert (row["name"], row["tests"], row["sent"]) == ("nudge", 1, 0)
    assert camp.journal.batches("nudge", kind="test")[0].payload["name"].startswith("[TEST]")
    assert camp.send(progress=False).summary["accepted_unconfirmed"] == 50


def test_report_polls_with_injected_sleep_until_complete(journal):
    camp = make(journal)
    camp.send(progress=False)
    naps = []
    report = camp.report(sleep=naps.append, poll_interval=5)
    assert naps == [5] and report.complete
    assert report.totals["successful"] == 50 and report.targeted == 50
    assert "ios" in report.platforms.index
    assert "data:image/png;base64" in report._repr_html_()


def test_campaigns_lists_runs(journal):
    make(journal, name="a").send(progress=False)
    make(journal, name="b", n=5).send(progress=False)
    df = campaigns(journal)
    assert set(df["name"]) == {"a", "b"} and set(df["status"]) == {"sent"}
    with pytest.raises(JournalError):
        campaigns(journal.parent / "missing.sqlite")


def test_progress_callback_reaches_the_total(journal):
    seen = []
    make(journal).send(progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (50, 50) and len(seen) == 5


def test_default_progress_is_a_tqdm_bar(journal, capsys):
    make(journal).send()
    assert "50/50" in capsys.readouterr().err


def test_journal_uses_wal_and_refuses_a_folder(journal, tmp_path):
    Journal(journal)
    with sqlite3.connect(journal) as conn:  # WAL is a property of the file: any reader sees it
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(JournalError, match="is a folder"):
        Journal(tmp_path)


def test_a_second_process_creating_the_same_run_gets_a_clear_error(journal):
    a, b = Journal(journal), Journal(journal)
    a.create_run("x", kind="campaign", app_id="app")
    with pytest.raises(JournalError, match="resume"):
        b.create_run("x", kind="campaign", app_id="app")


def test_changed_traits_alone_do_not_conflict_when_onesignal_renders(journal):
    server = {"personalization": "server"}
    make(journal, cohort=FakeCohort.of(20, first_name="Ana"), **server).send(progress=False)
    later = make(journal, cohort=FakeCohort.of(20, first_name="Bo"), **server)  # traits moved on
    assert later.send(progress=False).already_sent
    client_side = make(
        journal, name="cs", cohort=FakeCohort.of(20, first_name="Ana"), personalization="client"
    )
    client_side.send(progress=False)
    changed = make(
        journal, name="cs", cohort=FakeCohort.of(20, first_name="Bo"), personalization="client"
    )
    with pytest.raises(CampaignConflict, match="cohort"):
        changed.send(progress=False)


def test_the_fake_and_the_real_client_provide_what_a_campaign_and_a_tag_sync_use():
    from onesig_nb.campaign import PushClient, TagClient
    from onesig_nb.onesignal import OneSignal

    fake = FakeClient()
    assert isinstance(fake, PushClient) and isinstance(fake, TagClient)
    assert fake.redact(f"key {FAKE_KEY}") == f"key {fake.key_hint}"
    real = OneSignal(
        "00000000-0000-4000-8000-000000000001", FAKE_KEY, base_url="http://127.0.0.1:9"
    )
    with real:
        assert isinstance(real, PushClient) and isinstance(real, TagClient)
        assert FAKE_KEY not in real.redact(f"key {FAKE_KEY}") and FAKE_KEY[-4:] in real.key_hint
