"""What each 200 answer to create-notification means for every person in the batch.

Decided from the answer's structure (an ``id`` or not), never from OneSignal's wording; the
same classification serves ``send()`` and ``send_test()``. A listed id in an answer that created
a notification only says one of the person's devices is unsubscribed (OneSignal lists devices):
"some_devices_unsubscribed", never "not reached"."""

from __future__ import annotations

import pytest

from onesig_nb.onesignal.dialects import dialect_for

from .conftest import make
from .fakes import FakeClient


class ShapeClient(FakeClient):
    """Answers every create-notification with one fixed 200 body, parsed by the real dialect."""

    def __init__(self, body, *, api="current"):
        super().__init__(api=api)
        self.body, self.dialect = body, dialect_for(api)

    def iter_notifications(self, reqs):
        for req in reqs:
            self.requests.append({"kind": "notification", "key": req.idempotency_key})
            yield self.dialect.notification_response(req, 200, self.body, {})


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


#: v11.6 create-message, 200 "Message Sent" example: ``user_id_1`` is listed twice, once per
#: unsubscribed subscription. v1.2.2 (legacy): the list "will mark devices that exist in the
#: provided app_id but are no longer subscribed".
CREATED_WITH_LISTED_IDS = [
    ("current", {"id": "b98881cc-1e94-4366-bbd9-db8f3429292b", "external_id": None,
                 "errors": {"invalid_aliases": {"external_id": ["u000000", "u000000", "u000001"]}}}),
    ("legacy", {"id": "b98881cc-1e94-4366-bbd9-db8f3429292b", "recipients": 1,
                "errors": {"invalid_external_user_ids": ["u000000", "u000001"]}}),
]  # fmt: skip


@pytest.mark.parametrize(("api", "body"), CREATED_WITH_LISTED_IDS, ids=["current", "legacy"])
def test_ids_listed_in_a_created_notification_are_accepted_with_some_devices_unsubscribed(
    journal, api, body
):
    """Sources: :data:`CREATED_WITH_LISTED_IDS`. A person with one dead and one live device is
    listed although the push reached them, so a listed id is never "unsubscribed" (not
    reached) once OneSignal created the notification."""
    camp = make(journal, n=3, client=ShapeClient(body, api=api))
    res = camp.send(progress=False)
    frame = res.to_frame().set_index("external_id")
    assert frame.status.tolist() == ["some_devices_unsubscribed"] * 2 + ["accepted_unconfirmed"]
    assert set(frame.notification_id) == {body["id"]}
    assert frame.loc["u000000", "error"].endswith(
        "their other subscribed devices, if any, got the push"
    )
    s = res.summary
    assert (s["accepted_unconfirmed"], s["some_devices_unsubscribed"], s["accepted"]) == (1, 2, 3)
    assert s["unsubscribed"] == s["not_reached"] == s["failed"] == 0
    kind, text = res.headline()
    assert kind == "ok" and "got nothing" not in text
    assert "2 more people were accepted, but OneSignal listed a device of theirs" in text
    assert "some_devices_unsubscribed=2" in repr(res)


def test_send_test_says_a_listed_qa_id_of_a_created_notification_was_accepted(journal):
    """v11.6 create-message 200 example: listed per unsubscribed subscription."""
    body = {"id": "b98881cc-1e94-4366-bbd9-db8f3429292b",
            "errors": {"invalid_aliases": {"external_id": ["qa-1"]}}}  # fmt: skip
    res = make(journal, client=ShapeClient(body)).send_test(["qa-1", "qa-2"])
    assert res.to_frame().status.tolist() == ["some_devices_unsubscribed", "accepted_unconfirmed"]
    assert res.notification_ids == (body["id"],)


def test_the_report_counts_people_with_a_listed_device_as_targeted(journal):
    """They were in a notification OneSignal created; their dead device is a device statistic."""
    client = FakeClient(max_ids=10, unsubscribed={"u000003"})
    camp = make(journal, n=10, client=client)
    res = camp.send(progress=False)
    report = camp.report(sleep=lambda s: None, poll_interval=0)
    assert (
        res.summary["accepted"] == report.targeted == 10
        and res.summary["accepted_unconfirmed"] == 9
    )
