"""Failed sends explain themselves: permanent refusals say re-running will not help,
temporary ones say send() again."""

from __future__ import annotations

from onesig_nb.errors import APIError
from onesig_nb.onesignal.models import NotificationResponse

from .conftest import make
from .fakes import FakeClient

UNKNOWN_APP = "00000000-0000-4000-8000-000000000000"


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


def test_every_batch_refused_for_an_unknown_app_says_nothing_was_sent_and_not_to_retry(journal):
    camp = make(journal, client=RefusingClient(max_ids=10, app_id=UNKNOWN_APP))
    res = camp.send(progress=False)
    assert res.summary["failed"] == 50 and res.summary["accepted_unconfirmed"] == 0
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
    assert res.summary["accepted_unconfirmed"] == 50 and fixed.status == "sent"
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
