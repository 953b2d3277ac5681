"""A changed campaign under a used name is refused with advice that fits its state."""

from __future__ import annotations

import pytest

from onesig_nb.errors import CampaignConflict
from onesig_nb.message import Message

from .conftest import make
from .fakes import FakeClient


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


def test_conflict_state_says_what_differs(journal):
    make(journal).send(progress=False)
    plan = make(journal, msg=Message(contents="Other text")).plan()
    assert plan.state == "conflict"
    assert plan.state_text == "blocked: different message"


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
