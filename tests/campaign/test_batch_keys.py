"""Batch keys are derived in one place and never change for the same inputs.

Campaign journals in the field hold their batches' keys, and a caller may resend a push with
its key within OneSignal's 30 days: a key that changed would push those batches again. The
values below were computed by the code that shipped before the campaign and the client shared
one key module (commit 789a2de), and must stay byte-identical.
"""

from __future__ import annotations

import pytest

from onesig_nb.campaign import Campaign
from onesig_nb.campaign.batches import plan_batches
from onesig_nb.errors import ValidationError
from onesig_nb.message import Message
from onesig_nb.onesignal.push import (
    batch_key,
    campaign_batch_key,
    split_push,
    unique_ids,
    valid_ids,
)

from .fakes import FakeClient, FakeCohort

PAYLOAD = {
    "contents": {"en": "Hi {{ first_name }} – 20% off"},
    "headings": {"en": "Black Friday"},
    "name": "bf",
    "ttl": 3600,
    "data": {"x": 1.5},
}
IDS = ["u2", "u1", "é-3"]


def test_campaign_batch_keys_are_the_ones_journals_already_hold():
    assert campaign_batch_key("black-friday", "send", PAYLOAD, IDS, None) == (
        "39b79cd2-b020-535d-af23-4c104929267f"
    )
    assert campaign_batch_key("black-friday", "send", PAYLOAD, IDS, ("android", "web")) == (
        "33743607-08e5-547e-84e8-1ee573067317"
    )
    assert campaign_batch_key("black-friday", "test-0", PAYLOAD, ["qa-1"], ("android", "web")) == (
        "b2a8b9c0-077f-5314-a24c-4a688be13f92"
    )


def test_push_batch_keys_are_the_ones_earlier_pushes_got():
    assert batch_key("push-1", IDS, PAYLOAD) == "2687612e-a0a9-5530-b285-699eecf86fc5"
    assert batch_key("push-1", IDS, PAYLOAD, ("web", "android")) == (
        "02676140-faf6-586d-809e-515c41693317"
    )
    uuid_key = "6f1c2a52-6e0f-5b7a-9a51-0c3e5d1b7a10"
    assert batch_key(uuid_key, ["u1"], PAYLOAD) == "2bc3e467-f656-5c4f-b0b3-9db14c954e67"


def test_cutting_a_push_and_a_campaign_into_batches_keeps_their_keys():
    reqs = split_push(
        ["c", "a", "b"], PAYLOAD, limit=2, idempotency_key="push-1", platforms=("ios",)
    )
    assert [(r.external_ids, r.idempotency_key) for r in reqs] == [
        (("a", "b"), "8df205db-7d91-5cbf-9dbb-782861a25598"),
        (("c",), "5457fd05-6519-5b4e-9960-d73a2ddc4401"),
    ]
    batches = plan_batches("bf", [(PAYLOAD, ["c", "a", "b"])], batch_size=2, platforms=None, seq0=5)
    assert [(b.seq, b.external_ids, b.idempotency_key) for b in batches] == [
        (5, ("c", "a"), "a5bc5821-3ee5-5c6d-9d3c-eeadde17c386"),
        (6, ("b",), "f83bd6f5-0f82-5fcf-8c0e-fadfa1ad9fc4"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "keys"),
    [
        (
            {},
            [
                "0c1ecabb-328c-5830-975c-19016c8f6a7d",
                "e6b9fd8a-56d6-57e6-940c-2b4c89668bf9",
                "83cb9dd5-131f-5a69-9c02-ac9b80766911",
            ],
        ),
        (
            {"exclude_platforms": ("ios",)},
            [
                "797a4968-1d05-5618-a93c-32dfe25e56d3",
                "139787b5-0269-5a5a-b350-123f86c75296",
                "20f840a7-19a2-5860-8781-5b6b7dd4832f",
            ],
        ),
    ],
)
def test_a_campaign_plans_the_keys_it_planned_before(tmp_path, kwargs, keys):
    cohort = FakeCohort.of(5, first_name=["Ana", "Ben", "Ana", "Chloé", "Ben"])
    msg = Message(contents="Hi {{ first_name | default: 'there' }}", headings="Cart")
    camp = Campaign(
        "nudge", cohort, msg, FakeClient(max_ids=2), journal=tmp_path / "j.sqlite", **kwargs
    )
    plan = camp.plan()
    assert plan.sample_payload["body"]["idempotency_key"] == keys[0]
    camp.send(progress=False)
    sent = [b.idempotency_key for b in camp.journal.batches("nudge", kind="send")]
    assert sent == keys


def test_one_rule_says_which_ids_are_usable():
    assert valid_ids(["a", "", " ", None, 3, "a", "b"]) == (["a", "b"], ["", " ", None, 3], 1)
    assert unique_ids(["b", "a", "b", None, 7]) == ["b", "a", "7"]
    with pytest.raises(ValidationError, match="empty"):
        unique_ids(["a", ""])
    with pytest.raises(ValidationError, match="not one string"):
        unique_ids("abc")
