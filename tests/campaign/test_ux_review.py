"""Plans, results and notes a marketer can read: headlines, plain words, honest outcomes."""

from __future__ import annotations

import pytest

from onesig_nb.campaign import Campaign, TagSync
from onesig_nb.errors import APIError, CampaignConflict, ValidationError
from onesig_nb.message import Message
from onesig_nb.onesignal.models import NotificationResponse

from .fakes import FakeClient, FakeCohort

UNKNOWN_APP = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def journal(tmp_path):
    return tmp_path / "campaigns.sqlite"


def make(journal, n=50, *, client=None, msg=None, name="nudge", **kw):
    client = client or FakeClient(max_ids=10)
    cohort = FakeCohort.of(n, first_name="Ana", plan="free", ltv=352.46)
    msg = msg or Message(contents="Hi {{ first_name | default: 'there' }}", headings="Cart")
    return Campaign(name, cohort, msg, client, journal=journal, **kw)


class RefusingClient(FakeClient):
    """Answers every new notification like OneSignal does for an unknown app id."""

    def iter_notifications(self, reqs):
        for req in reqs:
            self.requests.append({"kind": "notification", "key": req.idempotency_key})
            err = APIError(
                "OneSignal answered HTTP 400 to POST /notifications: app_id not found. You may "
                "be missing a Content-Type: application/json header.. Fix the request as the "
                "error text says; retrying the same request will not help.",
                status=400,
            )
            yield NotificationResponse(request=req, status=400, error=err)


# -- #6 permanent refusals ----------------------------------------------------------------------
def test_every_batch_refused_for_an_unknown_app_says_nothing_was_sent_and_not_to_retry(journal):
    camp = make(journal, client=RefusingClient(max_ids=10, app_id=UNKNOWN_APP))
    res = camp.send(progress=False)
    assert res.summary["failed"] == 50 and res.summary["sent"] == 0
    assert res.note == (
        f"Nothing was sent: OneSignal does not know app id '{UNKNOWN_APP}'. Check "
        "ONESIGNAL_APP_ID (Settings > Keys & IDs). Re-running will not help until that is fixed."
    )
    assert "send() again" not in res.note and "Content-Type" not in res.note
    kind, text = res.headline()
    assert kind == "error" and text.startswith("✗ Nothing was sent")
    assert "Nothing was sent: OneSignal does not know app id" in res._repr_html_()


def test_after_fixing_the_app_id_the_same_campaign_sends_with_its_keys(journal):
    bad = make(journal, client=RefusingClient(max_ids=10, app_id=UNKNOWN_APP))
    bad.send(progress=False)
    keys = {r["key"] for r in bad.client.requests}
    fixed = make(journal, client=FakeClient(max_ids=10, app_id="app-right"))
    assert fixed.plan().state == "resume"
    res = fixed.send(progress=False)
    assert res.summary["sent"] == 50 and fixed.status == "sent"
    assert {r["key"] for r in fixed.client.requests} == keys
    assert fixed.journal.run("nudge")["app_id"] == "app-right"


def test_another_permanent_4xx_is_named_and_not_called_retryable(journal):
    class BadRequest(FakeClient):
        def iter_notifications(self, reqs):
            for req in reqs:
                err = APIError("HTTP 400: contents must be a hash", status=400)
                yield NotificationResponse(request=req, status=400, error=err)

    res = make(journal, client=BadRequest(max_ids=10)).send(progress=False)
    assert res.note.startswith("Nothing was sent: OneSignal refused every request (HTTP 400")
    assert "contents must be a hash" in res.note and "Re-running will not help" in res.note


def test_transient_failures_still_say_send_again(journal):
    camp = make(journal)
    camp.client.fail_next = 2
    res = camp.send(progress=False)
    assert "send() again" in res.note and "Re-running will not help" not in res.note
    assert res.headline()[0] == "warn"


# -- #8 Liquid syntax errors --------------------------------------------------------------------
def test_a_liquid_syntax_error_gives_a_blocked_plan_instead_of_raising(journal):
    camp = make(journal, msg=Message(contents="Hi {{ first_name"))
    plan = camp.plan()
    assert plan.state == "blocked" and plan.to_send == 0 and plan.errors
    assert plan.state_text == "blocked: errors in the checks"
    assert "Fix the errors in the checks below first." in plan.headline()
    page = plan._repr_html_()
    assert "Checks" in page and plan.errors[0].message[:20] in page
    with pytest.raises(ValidationError):
        camp.send(progress=False)
    assert camp.client.requests == []


# -- #9 results ---------------------------------------------------------------------------------
def test_result_banner_reconciles_the_counts_with_correct_plurals(journal):
    client = FakeClient(max_ids=100, unsubscribed={"u000003"})
    res = make(journal, client=client).send(progress=False)
    kind, text = res.headline()
    assert kind == "ok"
    assert text == (
        "✓ Sent to 49 people. 1 is unsubscribed and was skipped. Nobody was sent this twice."
    )
    page = res._repr_html_()
    assert "font-size:16px" in page and "people accepted by OneSignal" in page
    assert "showing 20 of 50 — <code>result.to_frame()</code> has everyone" in page
    assert page.index("<th>why</th>") < page.index("<th>notification_id</th>")


def test_plural_unsubscribed_and_one_request(journal):
    client = FakeClient(max_ids=100, unsubscribed={"u000003", "u000004"})
    camp = make(journal, client=client)
    plan = camp.plan()
    assert "in 1 request," in plan.headline()
    res = camp.send(progress=False)
    assert "2 are unsubscribed and were skipped." in res.headline()[1]
    again = camp.send(progress=False)
    assert again.headline()[1].startswith("✓ Already sent earlier to 48 people")


def test_report_uses_plain_words_and_tucks_batch_ids_away(journal):
    camp = make(journal)
    camp.send(progress=False)
    report = camp.report(sleep=lambda s: None, poll_interval=0)
    page = report._repr_html_()
    for word in ("clicked", "errors", "still sending", "devices delivered", "<details>"):
        assert word in page
    assert "converted" not in page and "errored" not in page and "remaining" not in page
    assert page.index("<details>") < page.index(report.frame.notification_id.iloc[0])
    labels = [t.get_text() for t in report.figure().axes[0].get_yticklabels()]
    assert "People targeted (accepted)" in labels and "Devices delivered" in labels


# -- #10 the plan's headline --------------------------------------------------------------------
def test_plan_leads_with_who_how_many_and_how_long(journal):
    camp = make(journal, client=FakeClient(max_ids=100))
    plan = camp.plan()
    assert plan.headline() == (
        "Will send to **50 people** (iOS, Android, Web) in 1 request, about 1 s."
    )
    page = plan._repr_html_()
    assert "Will send to <b>50 people</b> (iOS, Android, Web)" in page
    assert ">Checks<" in page and ">Lint<" not in page and "not sent yet" in page
    assert str(plan).splitlines()[:2] == [
        "Campaign 'nudge': not sent yet",
        "  Will send to 50 people (iOS, Android, Web) in 1 request, about 1 s.",
    ]
    camp.send(progress=False)
    assert camp.plan().state_text == "already sent"


def test_conflict_state_says_what_differs(journal):
    make(journal).send(progress=False)
    plan = make(journal, msg=Message(contents="Other text")).plan()
    assert plan.state == "conflict"
    assert plan.state_text == "blocked: different message"


def test_findings_read_as_sentences_with_the_code_on_hover(journal):
    camp = make(journal, msg=Message(contents="Hi {{ frist_name | default: 'there' }}"))
    plan = camp.plan()
    assert plan.findings
    f = plan.findings[0]
    assert f"title='{f.code}'" in plan._repr_html_()
    assert f"{f.code}:" not in str(plan)


# -- #11 conflict advice ------------------------------------------------------------------------
def test_conflict_with_everyone_reached_does_not_offer_extend_to_nobody(journal):
    make(journal).send(progress=False)
    with pytest.raises(CampaignConflict) as exc:
        make(journal, msg=Message(contents="A new text")).send(progress=False)
    text = str(exc.value)
    assert "0 people" not in text and "Call send(extend=True)" not in text
    assert "already reached everyone in this cohort" in text and "new campaign name" in text


def test_conflict_with_new_people_still_offers_extend(journal):
    make(journal, n=40).send(progress=False)
    with pytest.raises(CampaignConflict) as exc:
        make(journal, n=50, msg=Message(contents="A new text")).send(progress=False)
    assert "Call send(extend=True) to send it only to the 10 people" in str(exc.value)


# -- #12 TagSync cards --------------------------------------------------------------------------
def test_tagsync_plan_and_result_are_cards_in_words(journal):
    client = FakeClient()
    client.missing_users = {"u000001"}
    cohort = FakeCohort.of(4, plan="free", ltv=352.46)
    sync = TagSync("tags", cohort, client, tags=["plan", "ltv"], journal=journal)
    plan = sync.plan()
    assert plan.headline() == "Will update 4 people: set 8 tags (plan, ltv), delete 0."
    assert plan.headline() in plan._repr_html_() and "plan=free, ltv=352.46" in plan._repr_html_()
    res = sync.run(progress=False)
    frame = res.to_frame()
    assert list(frame.columns) == ["external_id", "status", "tags", "note"]
    assert "no OneSignal user" in frame.set_index("external_id").loc["u000001", "note"]
    page = res._repr_html_()
    assert "not in OneSignal yet" in page and "plan=free, ltv=352.46" in page
    assert "TagSyncResult(" not in page and "{'plan'" not in page
    again = TagSync("tags", cohort, client, tags=["plan", "ltv"], journal=journal).plan()
    assert again.headline().startswith("Will update 1 person:")


# -- #21 papercuts ------------------------------------------------------------------------------
def test_exclude_platforms_accepts_one_string(journal):
    camp = make(journal, exclude_platforms="ios")
    assert camp.exclude_platforms == ("ios",) and camp.platforms == ("android", "web")


def test_too_many_test_ids_are_refused_in_words(journal):
    camp = make(journal)
    with pytest.raises(ValidationError) as exc:
        camp.send_test([f"qa-{i}" for i in range(21)])
    assert "at most 20 QA ids" in str(exc.value) and "MAX_TEST_RECIPIENTS" not in str(exc.value)


# -- #28 result before sending ------------------------------------------------------------------
def test_result_before_sending_says_not_sent_yet(journal):
    camp = make(journal)
    res = camp.result()
    assert res.not_started == 50
    assert res.headline()[1] == (
        "Not sent yet: click Send to 50 people above (or call campaign.send()), then run this "
        "cell again."
    )
    assert "people accepted" not in res._repr_html_()
    camp.send(progress=False)
    assert camp.result().not_started is None
