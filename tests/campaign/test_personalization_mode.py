"""personalization="auto": what the marketer previews is what phones get.

Server mode lets OneSignal fill ``{{ first_name }}`` from the tags IT stores, so "auto" only
chooses it when the journal proves a TagSync wrote every recipient's current value at least 60 s
ago (OneSignal's tag-propagation wait); otherwise it pre-renders (client mode). The sandbox is
seeded with STALE first_name tags to catch a leak. Tests that need the wait over pass a clock
that runs ahead (``Campaign(now=...)``); none sleeps.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign, TagSync
from onesig_nb.campaign.mode import FRESH_CODE, TAG_PROPAGATION_SECONDS
from onesig_nb.journal import Journal
from onesig_nb.message import Message

from .conftest import AFTER_TAG_PROPAGATION, people
from .fakes import FakeClient, FakeCohort

MSG = Message(contents="Hi {{ first_name | default: 'there' }}", headings="Your cart")
N, BATCH = 60, 25


@pytest.fixture(scope="module")
def stale_people(sb) -> pd.DataFrame:
    """60 sandbox users whose stored first_name tag is stale; one has no first_name trait."""
    df = people(N, prefix="pm")
    df["first_name"] = df["first_name"].astype(object)
    df.loc[7, "first_name"] = None  # trait missing: its tag must be deleted, not left stale
    sb.add_users(
        [
            {
                "external_id": e,
                "platform": p,
                "subscribed": bool(s),
                "tags": {"first_name": "Stale"},
            }
            for e, p, s in df[["external_id", "platform", "subscribed"]].itertuples(index=False)
        ]
    )
    return df


def _cohort(df: pd.DataFrame) -> osn.Cohort:
    return osn.Cohort.from_frame(df[["external_id", "first_name", "plan"]])


def _delivered_equals_preview(sb, result, cohort, roster) -> None:
    got = sb.deliveries()
    got = got[got.notification_id.isin(result.notification_ids)].set_index("external_id")
    preview = MSG.render(cohort).set_index("external_id")
    reachable = sorted(roster.loc[roster.subscribed, "external_id"])
    assert sorted(got.index) == reachable
    for col in ("contents", "heading"):
        assert got.loc[reachable, col].tolist() == preview.loc[reachable, col].tolist()
    assert "Stale" not in set(got["contents"])


def _unproven(plan) -> list:
    return [f for f in plan.findings if f.code == "personalization-tags-unproven"]


def _campaign(name, cohort, client, journal, **kw) -> Campaign:
    return Campaign(
        name, cohort, MSG, client, journal=journal, batch_size=BATCH, confirm_above=10_000, **kw
    )


def test_auto_without_a_tagsync_prerenders_so_stale_onesignal_tags_never_show(
    sb, client, stale_people, tmp_path
):
    cohort = _cohort(stale_people)
    camp = _campaign("auto-no-sync", cohort, client, tmp_path / "j.sqlite")
    plan = camp.plan()
    assert plan.personalization == "client"
    assert "pre-rendered: each person gets exactly the preview" in str(plan)
    assert "no TagSync in this journal wrote first_name" in plan._repr_html_()
    result = camp.send(progress=False)
    _delivered_equals_preview(sb, result, cohort, stale_people)


def test_auto_after_a_tagsync_of_those_people_sends_one_templated_notification_per_batch(
    sb, client, stale_people, tmp_path
):
    j = tmp_path / "j.sqlite"
    cohort = _cohort(stale_people)
    synced = TagSync("names-sync", cohort, client, tags=["first_name"], journal=j).run(
        progress=False
    )
    assert synced.summary["updated"] == N
    camp = _campaign("auto-synced", cohort, client, j, now=AFTER_TAG_PROPAGATION)
    plan = camp.plan()
    assert plan.personalization == "server"
    assert "OneSignal fills first_name from tags synced by TagSync 'names-sync' on " in str(plan)
    assert "names-sync" in plan._repr_html_() and not _unproven(plan)
    before = sb.request_count()
    result = camp.send(progress=False)
    assert sb.request_count() - before == result.requests == -(-N // BATCH)  # one per batch
    assert all("{{" in b.payload["contents"]["en"] for b in camp.journal.batches(camp.name))
    _delivered_equals_preview(sb, result, cohort, stale_people)


def test_auto_after_a_tagsync_goes_back_to_prerendering_when_a_trait_changed_since(
    sb, client, stale_people, tmp_path
):
    j = tmp_path / "j.sqlite"
    TagSync("names-sync", _cohort(stale_people), client, tags=["first_name"], journal=j).run(
        progress=False
    )
    moved = stale_people.copy()
    moved.loc[3, "first_name"] = "Zoé"  # cp-0003 renamed after the sync: OneSignal is stale
    cohort = _cohort(moved)
    camp = _campaign("auto-moved", cohort, client, j)
    plan = camp.plan()
    assert plan.personalization == "client"
    assert "first_name changed for 1 person since TagSync 'names-sync'" in plan.reason
    result = camp.send(progress=False)
    _delivered_equals_preview(sb, result, cohort, moved)
    got = sb.deliveries()
    got = got[got.notification_id.isin(result.notification_ids)].set_index("external_id")
    assert got.loc["pm-0003", "contents"] == "Hi Zoé"


def test_explicit_server_mode_with_unsynced_tags_warns_in_the_plan(client, stale_people, tmp_path):
    camp = _campaign("server-unsynced", _cohort(stale_people), client, tmp_path / "j.sqlite",
                     personalization="server")  # fmt: skip
    plan = camp.plan()
    assert plan.personalization == "server"
    warnings = _unproven(plan)
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert "cannot prove" in warnings[0].message and "first_name" in warnings[0].message
    assert "cannot prove" in str(plan) and "cannot prove" in plan._repr_html_()


def test_explicit_server_mode_after_a_tagsync_does_not_warn(client, stale_people, tmp_path):
    j = tmp_path / "j.sqlite"
    cohort = _cohort(stale_people)
    TagSync("names-sync", cohort, client, tags=["first_name"], journal=j).run(progress=False)
    plan = _campaign(
        "server-synced", cohort, client, j, personalization="server", now=AFTER_TAG_PROPAGATION
    ).plan()
    assert plan.personalization == "server" and not _unproven(plan)
    assert not [f for f in plan.findings if f.code == FRESH_CODE]
    assert "TagSync 'names-sync'" in plan.reason


def test_a_tagsync_for_another_app_proves_nothing(tmp_path):
    j = tmp_path / "j.sqlite"
    cohort = FakeCohort.of(10, first_name="Ana")
    TagSync("other-app", cohort, FakeClient(app_id="app-2"), tags=["first_name"], journal=j).run(
        progress=False
    )
    camp = Campaign("c", cohort, MSG, FakeClient(app_id="app-1"), journal=j)
    assert camp.plan().personalization == "client"
    synced_here = FakeClient(app_id="app-1")
    TagSync("this-app", cohort, synced_here, tags=["first_name"], journal=j).run(progress=False)
    later = Campaign("c", cohort, MSG, synced_here, journal=j, now=AFTER_TAG_PROPAGATION)
    assert later.plan().personalization == "server"


def test_a_tagsync_after_the_send_keeps_the_campaign_already_sent(tmp_path):
    j, client = tmp_path / "j.sqlite", FakeClient()
    cohort = FakeCohort.of(10, first_name="Ana")
    first = Campaign("c", cohort, MSG, client, journal=j).send(progress=False)
    assert first.summary["accepted_unconfirmed"] == 10
    TagSync("later-sync", cohort, client, tags=["first_name"], journal=j).run(progress=False)
    before = client.count()
    again = Campaign("c", cohort, MSG, client, journal=j, now=AFTER_TAG_PROPAGATION)
    plan = again.plan()
    assert plan.state == "sent" and plan.personalization == "client"
    assert "kept from when this campaign started" in plan.reason
    assert again.send(progress=False).already_sent and client.count() == before


# -- OneSignal's tag-propagation wait --------------------------------------------------------
class Clock:
    """A clock a test sets: ``seconds`` after the journal's last tag write."""

    def __init__(self, written: dt.datetime) -> None:
        self.written, self.seconds = written, 0.0

    def __call__(self) -> dt.datetime:
        return self.written + dt.timedelta(seconds=self.seconds)


def _synced_clock(j, client, cohort) -> Clock:
    TagSync("names", cohort, client, tags=["first_name"], journal=j).run(progress=False)
    writes = Journal(j).tag_writes(client.app_id, ["first_name"])["first_name"]
    return Clock(max(dt.datetime.fromisoformat(at) for _, _, at in writes.values()))


def test_auto_prerenders_until_the_tagsync_is_60_s_old_then_sends_one_templated_push(tmp_path):
    """OneSignal docs, "Edit tags with external user id": allow 60+ seconds after a tag update
    before sending messages personalized from it. Right after a TagSync, "auto" pre-renders and
    says why; once the journaled writes are 60 s old, the same Campaign object switches."""
    j, client = tmp_path / "j.sqlite", FakeClient()
    cohort = FakeCohort.of(10, first_name="Ana")
    clock = _synced_clock(j, client, cohort)
    camp = Campaign("fresh", cohort, MSG, client, journal=j, now=clock)
    clock.seconds = 13  # stored to the second, so at least 12 s have passed
    plan = camp.plan()
    assert plan.personalization == "client"
    assert (
        "tags written 12 s ago by TagSync 'names'; OneSignal asks for 60 s before "
        "personalizing from them, so the texts are pre-rendered" in plan.reason
    )
    assert "plan again in 48 s" in plan.reason and not plan.findings
    clock.seconds = TAG_PROPAGATION_SECONDS  # the write may be 0.9 s younger than stored
    assert camp.plan().personalization == "client"
    clock.seconds = TAG_PROPAGATION_SECONDS + 1
    plan = camp.plan()
    assert plan.personalization == "server" and "TagSync 'names'" in plan.reason
    res = camp.send(progress=False)
    assert res.requests == 1 and res.summary["accepted_unconfirmed"] == 10
    assert "{{" in camp.journal.batches("fresh")[0].payload["contents"]["en"]


def test_explicit_server_within_60_s_of_a_tagsync_warns_in_the_checks_and_still_sends(tmp_path):
    """OneSignal docs, "Edit tags with external user id" (allow 60+ seconds): an explicit
    personalization="server" is the marketer's call, so the plan warns instead of refusing."""
    j, client = tmp_path / "j.sqlite", FakeClient()
    cohort = FakeCohort.of(10, first_name="Ana")
    clock = _synced_clock(j, client, cohort)
    clock.seconds = 13
    camp = Campaign("eager", cohort, MSG, client, journal=j, personalization="server", now=clock)
    plan = camp.plan()
    fresh = [f for f in plan.findings if f.code == FRESH_CODE]
    assert plan.personalization == "server" and not plan.errors and not _unproven(plan)
    assert len(fresh) == 1 and fresh[0].severity == "warning"
    assert "wrote first_name only 12 s ago" in fresh[0].message
    assert "allow 60 s after a tag edit" in fresh[0].message and "Wait 48 s" in fresh[0].message
    assert fresh[0].message in str(plan)
    # a warning, not a refusal
    assert camp.send(progress=False).summary["accepted_unconfirmed"] == 10
    clock.seconds = TAG_PROPAGATION_SECONDS + 1
    later = Campaign("later", cohort, MSG, client, journal=j, personalization="server", now=clock)
    assert later.plan().personalization == "server" and not later.plan().findings
