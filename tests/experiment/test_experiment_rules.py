"""An experiment's arms follow the sending rules like any campaign, and its plan says why each
person is not sent now: the holdout ("held out") and the arms' rules (capped, ...)."""

from __future__ import annotations

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.message import Message

IDS = [f"p{i:02d}" for i in range(60)]


@pytest.fixture(scope="module")
def sb():
    with osn.Sandbox() as sandbox:
        sandbox.add_users([{"external_id": e, "platform": "ios"} for e in IDS])
        yield sandbox


def test_the_plan_lists_the_holdout_and_the_people_an_earlier_campaign_capped(sb, tmp_path):
    client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
    rules = osn.Rules(max_per_person=(1, "24h"))
    journal = tmp_path / "j.sqlite"
    first = osn.Cohort.from_frame(pd.DataFrame({"external_id": IDS[:20]}))
    osn.Campaign(
        "first", first, Message(contents="x"), client, journal=journal, rules=rules,
        reachability="skip",
    ).send(progress=False)  # fmt: skip
    exp = osn.Experiment(
        "exp", osn.Cohort.from_frame(pd.DataFrame({"external_id": IDS})),
        {"A": Message(contents="a"), "B": Message(contents="b")}, client,
        journal=journal, holdout=0.2, rules=rules, now=sb.now, reachability="skip",
    )  # fmt: skip
    plan = exp.plan()
    arms = exp.assign()
    held = {i for i, a in arms.items() if a == "holdout"}
    frame = plan.excluded
    assert set(frame.loc[frame["arm"] == "holdout", "external_id"]) == held
    capped = set(frame.loc[frame["reason"].str.startswith("capped"), "external_id"])
    assert capped == set(IDS[:20]) - held
    assert plan.reasons() == {"capped": len(capped), "held out": len(held)}
    assert plan.to_send == len(IDS) - len(held) - len(capped)

    exp.send(confirm=True, progress=False)
    delivered = sb.deliveries().groupby("external_id").size()
    assert (delivered == 1).all()  # nobody twice within the day: the arms respected the cap
    assert set(delivered.index) == (set(IDS) - held) | set(IDS[:20])
