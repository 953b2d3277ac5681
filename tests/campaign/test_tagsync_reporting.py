"""What a TagSync tells a marketer: people missing from OneSignal, plans and results as cards."""

from __future__ import annotations

from onesig_nb.campaign import TagSync
from onesig_nb.journal import Journal

from .fakes import FakeClient, FakeCohort


def test_tagsync_reports_users_missing_from_onesignal_honestly_and_retries_them_later(journal):
    client = FakeClient()
    client.missing_users = {"u000001", "u000003"}
    cohort = FakeCohort.of(5, plan="pro")
    res = TagSync("t", cohort, client, tags=["plan"], journal=journal).run(progress=False)
    frame = res.to_frame().set_index("external_id")
    assert res.summary["not_in_onesignal"] == 2 and res.summary["failed"] == 0
    assert res.summary["updated"] == 3
    assert frame.loc["u000001", "status"] == "not_in_onesignal"
    assert Journal(journal).run("t")["status"] == "synced"
    client.missing_users = set()  # they installed the app since
    later = TagSync("t", cohort, client, tags=["plan"], journal=journal)
    assert later.plan().changed_users == 2
    assert later.run(progress=False).summary["updated"] == 2


def test_tagsync_plan_and_result_are_cards_in_words(journal):
    client = FakeClient()
    client.missing_users = {"u000001"}
    cohort = FakeCohort.of(4, plan="free", ltv=352.46)
    sync = TagSync("tags", cohort, client, tags=["plan", "ltv"], journal=journal)
    plan = sync.plan()
    assert plan.headline() == "Will update 4 people: set 8 tags (plan, ltv), delete 0."
    assert plan.headline() in plan._repr_html_() and "plan=free, ltv=352.46" in plan._repr_html_()
    res = sync.run(progress=False)
    frame = res.to_frame()
    assert list(frame.columns) == ["external_id", "status", "tags", "note"]
    assert "no OneSignal user" in frame.set_index("external_id").loc["u000001", "note"]
    page = res._repr_html_()
    assert "not in OneSignal yet" in page and "plan=free, ltv=352.46" in page
    assert "TagSyncResult(" not in page and "{'plan'" not in page
    again = TagSync("tags", cohort, client, tags=["plan", "ltv"], journal=journal).plan()
    assert again.headline().startswith("Will update 1 person:")
