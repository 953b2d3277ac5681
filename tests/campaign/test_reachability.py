"""The plan knows who can be reached before anything goes out (issue 14, "Reachability").

On the sample workspace the plan's reachable count is the manifest's, before any push; people
known not to be in OneSignal or without a subscribed device get no request; the answer is
cached per app in the journal with its age; small cohorts are looked up one by one; and
``reachability="skip"`` checks nothing (everyone accepted is then "accepted (unconfirmed)").
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign, TagSync
from onesig_nb.campaign.reachability import LOOKUP_MAX_PEOPLE, MAX_AGE_SECONDS
from onesig_nb.message import Message

from .conftest import make
from .fakes import FakeClient, FakeCohort

MSG = Message(contents="Hi {{ first_name | default: 'there' }}", headings="Cart")
EXPORT = "/players/csv_export"


def _clock(start: dt.datetime):
    """A clock for ``Campaign(now=...)`` that a test moves by setting ``.at``."""

    class Clock:
        at = start

        def __call__(self):
            return self.at

    return Clock()


@pytest.fixture
def sample_client(sandbox):
    with osn.OneSignal(sandbox.app_id, sandbox.api_key, base_url=sandbox.url) as client:
        yield client


@pytest.mark.parametrize("audience", ["cart_abandoners", "new_signups"])
def test_on_the_sample_the_plan_counts_the_reachable_people_and_sent_is_who_got_it(
    sample_workspace, sample_manifest, sandbox, sample_client, tmp_path, audience
):
    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience=audience)
    reachable = set(sample_manifest["audiences"][audience]["reachable"])
    camp = Campaign(
        f"reach-{audience}", cohort, MSG, sample_client, journal=tmp_path / "j.sqlite"
    )  # fmt: skip
    before = len(sandbox.notifications())
    plan = camp.plan()
    assert len(sandbox.notifications()) == before  # the plan sent nothing
    assert plan.reachability["reachable"] == len(reachable)
    assert plan.to_send == len(reachable) and plan.reachability["unknown"] == 0
    assert set(plan.excluded.external_id) == set(cohort.external_ids) - reachable
    assert set(plan.excluded.reason) <= {"not_in_onesignal", "unsubscribed"}
    assert f"{len(reachable)} reachable" in plan.headline()
    assert "from the subscription export just now" in plan.headline()

    result = camp.send(confirm=True, progress=False)
    frame = result.to_frame()
    got = sandbox.deliveries()
    got = got[got.notification_id.isin(result.notification_ids)]
    assert set(frame.loc[frame.status == "sent", "external_id"]) == set(got.external_id)
    assert set(got.external_id) == reachable
    assert set(frame.status) <= {"sent", "excluded"}
    excluded = frame[frame.status == "excluded"]
    assert set(excluded.external_id) == set(cohort.external_ids) - reachable
    assert excluded.error.str.startswith("excluded before sending").all()


def test_the_check_is_cached_per_app_with_its_age_and_redone_when_old(sb, client, tmp_path):
    ids = [f"cp-{i:04d}" for i in range(30)] + ["nobody-1", "nobody-2"]
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": ids}))
    clock = _clock(dt.datetime.now(dt.UTC))
    j = tmp_path / "j.sqlite"
    first = Campaign("a", cohort, MSG, client, journal=j, now=clock).plan()
    assert first.reachability["not_in_onesignal"] == 2 and first.reachability["unsubscribed"] == 3
    start = sb.request_count()
    clock.at += dt.timedelta(minutes=12)
    second = Campaign("b", cohort, MSG, client, journal=j, now=clock).plan()
    # the journal's cache, no new export: only the two ids the export lacked are looked up
    assert sorted(sb.requests(start).path) == sorted(
        f"/apps/{sb.app_id}/users/by/external_id/nobody-{n}" for n in (1, 2)
    )
    start = sb.request_count()
    assert "12 min ago" in second.reach_text()  # the oldest answer it relies on
    assert second.reachability == first.reachability
    clock.at += dt.timedelta(seconds=MAX_AGE_SECONDS)
    Campaign("c", cohort, MSG, client, journal=j, now=clock).plan()
    assert list(sb.requests(start).path) == [EXPORT]  # too old: exported again


def test_a_small_cohort_is_looked_up_user_by_user(sb, client, tmp_path):
    ids = ["cp-0000", "cp-0004", "nobody"]  # reachable, unsubscribed, not in OneSignal
    assert len(ids) <= LOOKUP_MAX_PEOPLE
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": ids}))
    start = sb.request_count()
    plan = Campaign("few", cohort, MSG, client, journal=tmp_path / "j").plan()
    log = sb.requests(start)
    assert len(log) == 3 and log.path.str.contains("/users/by/external_id/").all()
    assert dict(zip(plan.excluded.external_id, plan.excluded.reason, strict=True)) == {
        "cp-0004": "unsubscribed",
        "nobody": "not_in_onesignal",
    }
    assert plan.to_send == 1


def test_a_campaign_that_excludes_a_platform_excludes_people_only_on_it(sb, client, tmp_path):
    ids = ["cp-0000", "cp-0001", "cp-0002"]  # ios, android, web
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": ids}))
    camp = Campaign(
        "no-ios", cohort, MSG, client, journal=tmp_path / "j", exclude_platforms=("ios",)
    )  # fmt: skip
    plan = camp.plan()
    assert plan.excluded.to_dict("records") == [
        {"external_id": "cp-0000", "reason": "other_platforms_only"}
    ]
    res = camp.send(progress=False)
    assert res.summary["sent"] == 2 and res.summary["excluded"] == 1


def test_skip_checks_nothing_and_accepted_is_never_called_sent(sb, client, tmp_path):
    ids = [f"cp-{i:04d}" for i in range(30)] + ["nobody"]
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": ids}))
    start = sb.request_count()
    camp = Campaign("huge", cohort, MSG, client, journal=tmp_path / "j", reachability="skip")
    plan = camp.plan()
    assert sb.request_count() == start and plan.reachability["unknown"] == len(ids)
    assert plan.excluded.empty and "reachability='skip'" in plan.headline()
    res = camp.send(progress=False)
    assert res.summary["sent"] == 0
    assert res.summary["accepted_unconfirmed"] + res.summary["some_devices_unsubscribed"] == 31
    assert "accepted (unconfirmed)" in res.headline()[1]


def test_earlier_answers_in_the_journal_are_used_without_any_request(journal):
    client = FakeClient(max_ids=10)
    client.missing_users = {"u000001"}
    cohort = FakeCohort.of(3, first_name="Ana")
    TagSync("tags", cohort, client, tags=["first_name"], journal=journal).run(progress=False)
    camp = make(journal, cohort=cohort, client=client, reachability="journal")
    plan = camp.plan()
    assert plan.excluded.to_dict("records") == [
        {"external_id": "u000001", "reason": "not_in_onesignal"}
    ]
    assert plan.reachability["unknown"] == 2
    assert "earlier answers in the journal" in plan.reach_text()
    res = camp.send(progress=False)
    assert res.summary["excluded"] == 1 and res.summary["accepted_unconfirmed"] == 2


def test_people_who_joined_since_the_export_are_looked_up_not_excluded(tmp_path):
    """An export says who existed then; a few ids it lacks are checked one by one, so people
    who joined the app since are reached rather than excluded on the export's word."""
    import pandas as pd

    import onesig_nb as osn

    with osn.Sandbox() as sb:
        sb.add_users([{"external_id": f"old-{i}", "platform": "android"} for i in range(30)])
        journal = tmp_path / "j.sqlite"
        with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, rate_limits=False) as client:
            old = osn.Cohort.from_frame(
                pd.DataFrame({"external_id": [f"old-{i}" for i in range(30)]})
            )
            msg = osn.Message("Hi")
            assert (
                osn.Campaign("first", old, msg, client, journal=journal)
                .plan()
                .reachability["reachable"]
                == 30
            )  # 30 > the lookup limit: this used the export
            sb.add_users([{"external_id": "newcomer", "platform": "ios"}])
            both = osn.Cohort.from_frame(pd.DataFrame({"external_id": ["old-1", "newcomer"]}))
            reach = osn.Campaign("second", both, msg, client, journal=journal).plan().reachability
            assert reach["reachable"] == 2 and reach.get("not_in_onesignal", 0) == 0
