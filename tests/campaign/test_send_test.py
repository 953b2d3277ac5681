"""Test sends are for a small QA list: limits, single ids, refusals in words."""

from __future__ import annotations

import pytest

from onesig_nb.campaign.campaign import MAX_TEST_RECIPIENTS
from onesig_nb.errors import ValidationError

from .conftest import make


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
    assert small.send_test(small.cohort.external_ids[:5]).summary["accepted_unconfirmed"] == 5


def test_a_single_string_is_one_test_id_not_its_characters(journal):
    camp = make(journal, test_users="qa-1")
    assert camp.test_users == ("qa-1",)
    assert camp.send_test().to_frame().external_id.tolist() == ["qa-1"]
    assert camp.send_test("qa-2").to_frame().external_id.tolist() == ["qa-2"]


def test_too_many_test_ids_are_refused_in_words(journal):
    camp = make(journal)
    with pytest.raises(ValidationError) as exc:
        camp.send_test([f"qa-{i}" for i in range(21)])
    assert "at most 20 QA ids" in str(exc.value) and "MAX_TEST_RECIPIENTS" not in str(exc.value)
