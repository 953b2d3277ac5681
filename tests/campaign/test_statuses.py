"""Statuses that mean what they say (issue 14): "sent" only for people OneSignal can have
delivered to, "accepted (unconfirmed)" when nobody could check, one definition for every
count, and a report whose per-platform table and batch count agree with its totals and plan."""

from __future__ import annotations

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.campaign.report import CampaignReport
from onesig_nb.campaign.sending import outcome
from onesig_nb.campaign.views import (
    ACCEPTED_STATUSES,
    RESULT_STATUSES,
    STATUS_WORDS,
    CampaignResult,
)
from onesig_nb.errors import TransportError
from onesig_nb.message import Message
from onesig_nb.onesignal.models import NotificationResponse

MSG = Message(contents="Hi {{ first_name | default: 'there' }}", headings="Cart")
IDS = ["known", "known-listed", "unknown", "unknown-listed"]
CONFIRMED = {"known", "known-listed"}
LISTED = ("known-listed", "unknown-listed")


def _statuses(resp: NotificationResponse) -> dict[str, str]:
    _state, _nid, _err, rows = outcome(resp, IDS, str, CONFIRMED)
    return {eid: status for eid, status, _n, _e in rows}


def test_accepted_is_sent_only_for_people_known_reachable():
    """A listed id with a known subscribed device was reached on it (OneSignal lists devices,
    v11.6 create-message 200 example); an unchecked one is never "sent"."""
    accepted = NotificationResponse(None, id="n-1", status=200, invalid_external_ids=LISTED)
    assert _statuses(accepted) == {
        "known": "sent",
        "known-listed": "sent",
        "unknown": "accepted_unconfirmed",
        "unknown-listed": "some_devices_unsubscribed",
    }
    refused = NotificationResponse(
        None, id="", status=200, invalid_external_ids=LISTED,
        errors=("All included players are not subscribed",),
    )  # fmt: skip
    assert set(_statuses(refused).values()) == {"unsubscribed", "not_reached"}
    failed = NotificationResponse(None, error=TransportError("reset"))
    assert set(_statuses(failed).values()) == {"failed"}


def test_every_status_is_defined_once_worded_and_counted():
    assert set(STATUS_WORDS) == set(RESULT_STATUSES)
    assert set(ACCEPTED_STATUSES) <= set(RESULT_STATUSES) and "excluded" not in ACCEPTED_STATUSES
    assert STATUS_WORDS["accepted_unconfirmed"] == "accepted (unconfirmed)"
    frame = pd.DataFrame(
        {"external_id": [f"p{i}" for i in range(len(RESULT_STATUSES))],
         "status": list(RESULT_STATUSES), "notification_id": None, "error": None}
    )  # fmt: skip
    s = CampaignResult("all", frame).summary
    assert all(s[k] == 1 for k in RESULT_STATUSES)
    assert sum(s[k] for k in RESULT_STATUSES) == s["recipients"]
    assert s["accepted"] == len(ACCEPTED_STATUSES)


def test_the_banner_names_unconfirmed_and_excluded_people():
    rows = [("a", "sent"), ("b", "accepted_unconfirmed"), ("c", "excluded"), ("d", "excluded")]
    errors = [None, None, "excluded before sending: not in this OneSignal app (...)", "x"]
    frame = pd.DataFrame(rows, columns=["external_id", "status"]).assign(
        notification_id=["n", "n", None, None], error=errors
    )
    kind, text = CampaignResult("c", frame, requests=1).headline()
    assert kind == "ok" and text.startswith("✓ Sent to 1 person. 1 more person was accepted ")
    assert "2 excluded before sending (1 not in OneSignal, 1 without a subscribed device)" in text


@pytest.mark.parametrize("mode", ["auto", "skip"])
def test_the_report_adds_up_and_counts_the_plans_batches(sb, client, tmp_path, mode):
    ids = [f"cp-{i:04d}" for i in range(40)] + ["nobody"]
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": ids}))
    camp = Campaign(
        f"adds-up-{mode}", cohort, MSG, client, journal=tmp_path / "j", batch_size=10,
        reachability=mode,
    )  # fmt: skip
    plan = camp.plan()
    res = camp.send(progress=False)
    report = camp.report(poll_interval=0.01)
    assert report.batches == plan.batches == res.requests
    assert report.targeted == res.summary["accepted"]
    table = report.platform_table()
    parts = table.drop(index="total")
    for col in ("successful", "failed", "errored", "converted"):
        assert int(parts[col].sum()) == int(table.loc["total", col]) == report.totals[col]
    if mode == "auto":  # nobody with only dead devices got a request
        assert report.totals["failed"] == 0 and res.summary["sent"] == 36
        assert res.summary["excluded"] == 5


def test_a_report_whose_platforms_miss_devices_shows_them_apart():
    frame = pd.DataFrame(
        [["n1", 10, 45, 0, 2, 0]],
        columns=["notification_id", "successful", "failed", "errored", "converted", "remaining"],
    )
    platforms = pd.DataFrame({"successful": [10], "failed": [0]}, index=["ios"])
    report = CampaignReport("r", frame, platforms, targeted=55, complete=True, batches=2)
    table = report.platform_table()
    assert table.loc["not by platform", "failed"] == 45 and table.loc["total", "failed"] == 45
    assert "2 batches, 1 notification (1 created none)" in report._repr_html_()
