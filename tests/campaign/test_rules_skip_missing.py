"""Rules(skip_missing=True): people who lack a variable the message needs (no fallback) are left
out with that reason, instead of being sent "Hi !" after an acknowledgement."""

from __future__ import annotations

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.errors import ConfirmationRequired
from onesig_nb.message import Message

IDS = [f"m{i}" for i in range(6)]
NAMES = ["Ana", None, "", "Ben", None, "Cy"]


@pytest.fixture
def sb():
    with osn.Sandbox() as sandbox:
        sandbox.add_users([{"external_id": e, "platform": "ios"} for e in IDS])
        yield sandbox


def campaign(sb, tmp_path, message, rules):
    client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": IDS, "first_name": NAMES}))
    return osn.Campaign("hi", cohort, message, client, journal=tmp_path / "j", rules=rules)


def test_people_without_the_variable_are_left_out_with_the_reason(sb, tmp_path):
    camp = campaign(
        sb, tmp_path, Message(contents="Hi {{ first_name }}!"), osn.Rules(skip_missing=True)
    )
    plan = camp.plan()
    assert plan.reasons() == {"missing required variable": 3}
    assert set(plan.excluded["external_id"]) == {"m1", "m2", "m4"}
    assert camp.text_warnings() == ()  # nobody gets a gap, so nothing to acknowledge
    frame = camp.send(progress=False).to_frame().set_index("external_id")
    assert frame.loc[["m1", "m2", "m4"], "status"].eq("excluded").all()
    assert frame.loc["m1", "error"].startswith("missing required variable 'first_name'")
    assert sorted(sb.deliveries()["contents"]) == ["Hi Ana!", "Hi Ben!", "Hi Cy!"]


def test_a_fallback_means_nobody_is_missing_anything(sb, tmp_path):
    msg = Message(contents="Hi {{ first_name | default: 'there' }}!")
    camp = campaign(sb, tmp_path, msg, osn.Rules(skip_missing=True))
    assert camp.plan().reasons() == {}
    camp.send(progress=False)
    assert sorted(sb.deliveries()["contents"]).count("Hi there!") == 3


def test_without_the_rule_the_gap_must_be_acknowledged(sb, tmp_path):
    camp = campaign(sb, tmp_path, Message(contents="Hi {{ first_name }}!"), osn.Rules())
    with pytest.raises(ConfirmationRequired, match="missing-variable"):
        camp.send(progress=False)
