"""TagSync against the fake client: diff-based, deletes, 100-tag cap, resumable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from onesig_nb.campaign import TagSync, campaigns
from onesig_nb.errors import CampaignConflict, ValidationError

from .fakes import FakeClient, FakeCohort


def cohort(n=100, seed=0, **overrides):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "external_id": [f"u{i:04d}" for i in range(n)],
            "plan": rng.choice(["free", "pro"], n),
            "ltv": rng.integers(0, 500, n).astype(float),
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return FakeCohort(df)


def test_first_run_writes_everyone_and_unchanged_rerun_sends_zero_requests(tmp_path):
    client, j = FakeClient(), tmp_path / "j.sqlite"
    res = TagSync("s", cohort(), client, tags=["plan", "ltv"], journal=j).run(progress=False)
    assert res.summary["updated"] == 100 and res.requests == 100
    assert client.tags["u0001"]["ltv"] == str(int(cohort().df.ltv[1]))
    before = client.count("tags")
    again = TagSync("s", cohort(), client, tags=["plan", "ltv"], journal=j)
    assert again.plan().requests == 0
    res2 = again.run(progress=False)
    assert client.count("tags") == before and res2.requests == 0
    assert res2.summary["unchanged"] == 100


def test_ten_percent_changed_traits_send_exactly_those_users(tmp_path):
    client, j = FakeClient(), tmp_path / "j.sqlite"
    base = cohort()
    TagSync("s", base, client, tags=["plan", "ltv"], journal=j).run(progress=False)
    df = base.df.copy()
    changed = set(df.external_id.sample(10, random_state=3))
    df.loc[df.external_id.isin(changed), "ltv"] += 1
    n0 = len(client.requests)
    res = TagSync("s", FakeCohort(df), client, tags=["plan", "ltv"], journal=j).run(progress=False)
    sent_to = {r["external_id"] for r in client.requests[n0:]}
    assert sent_to == changed and res.requests == 10
    frame = res.to_frame()
    assert set(frame[frame.status == "updated"].external_id) == changed
    assert all(set(t) == {"ltv"} for t in frame[frame.status == "updated"].tags)


def test_none_and_nan_delete_the_tag_by_sending_empty_string(tmp_path):
    client, j = FakeClient(), tmp_path / "j.sqlite"
    TagSync("s", cohort(3), client, tags=["plan", "ltv"], journal=j).run(progress=False)
    df = cohort(3).df.copy()
    df["ltv"] = [np.nan, None, 5.0]
    df["ltv"] = df["ltv"].astype(object)
    df.loc[1, "ltv"] = None
    res = TagSync("s", FakeCohort(df), client, tags=["plan", "ltv"], journal=j).run(progress=False)
    assert "ltv" not in client.tags["u0000"] and "ltv" not in client.tags["u0001"]
    assert res.to_frame().set_index("external_id").loc["u0000", "tags"] == {"ltv": ""}
    plan = TagSync("s", FakeCohort(df), client, tags=["plan", "ltv"], journal=j).plan()
    assert plan.requests == 0


def test_more_than_100_tags_are_split_into_requests_of_at_most_100(tmp_path):
    traits = {f"t{i}": [str(i)] * 2 for i in range(230)}
    c = FakeCohort(pd.DataFrame({"external_id": ["a", "b"], **traits}))
    naps = []
    sync = TagSync(
        "wide", c, FakeClient(), tags=list(traits), journal=tmp_path / "j", sleep=naps.append
    )
    res = sync.run(progress=False)  # the fake client asserts <= 100 tags per request
    assert res.requests == 6 and len(sync.client.tags["a"]) == 230
    assert naps == [1.0, 1.0]  # 1 update per user per second between passes


def test_failed_users_are_retried_on_the_next_run_only(tmp_path):
    client, j = FakeClient(), tmp_path / "j.sqlite"
    client.fail_tags_for = {"u0003", "u0007"}
    res = TagSync("s", cohort(), client, tags=["plan"], journal=j).run(progress=False)
    assert res.summary["failed"] == 2
    client.fail_tags_for = set()
    n0 = len(client.requests)
    TagSync("s", cohort(), client, tags=["plan"], journal=j).run(progress=False)
    assert {r["external_id"] for r in client.requests[n0:]} == {"u0003", "u0007"}


def test_tag_map_renames_and_bad_columns_are_refused(tmp_path):
    client = FakeClient()
    TagSync(
        "s", cohort(2), client, tags=["plan"], tag_map={"plan": "tier"}, journal=tmp_path / "j"
    ).run(progress=False)
    assert set(client.tags["u0000"]) == {"tier"}
    with pytest.raises(ValidationError, match="no trait column"):
        TagSync("s", cohort(2), client, tags=["nope"], journal=tmp_path / "j")


def test_name_shared_with_a_campaign_is_refused_and_syncs_are_listed(tmp_path):
    from onesig_nb.campaign import Campaign
    from onesig_nb.message import Message

    j = tmp_path / "j.sqlite"
    client = FakeClient()
    Campaign("x", cohort(2), Message(contents="Hi"), client, journal=j).send(progress=False)
    with pytest.raises(CampaignConflict):
        TagSync("x", cohort(2), client, tags=["plan"], journal=j).run(progress=False)
    TagSync("y", cohort(2), client, tags=["plan"], journal=j).run(progress=False)
    assert set(campaigns(j).kind) == {"campaign", "tagsync"}
