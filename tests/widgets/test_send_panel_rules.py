"""SendPanel with sending rules (issue 16): the rules and who is not sent now, per reason, next
to the Send button and in the saved HTML; the "Cancel campaign" kill switch behind a typed word,
run against a real Sandbox and its movable clock (a cancelled scheduled push never arrives)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.message import Message
from onesig_nb.widgets import SendPanel

RULES = osn.Rules(max_per_person=(1, "24h"), quiet_hours=("21:00", "08:00"))
DAY_IDS = [f"day-{i}" for i in range(4)]
NIGHT_IDS = [f"night-{i}" for i in range(2)]


def zone_at(now: datetime, hour: int) -> str:
    """An IANA zone where it is ``hour`` o'clock (and some minutes) at ``now``."""
    offset = (hour - now.hour) % 24
    offset = offset - 24 if offset > 12 else offset
    # Etc/GMT signs are inverted: Etc/GMT-4 is UTC+4
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.fixture
def sb():
    """A sandbox of the test's own (its clock moves)."""
    with osn.Sandbox() as sandbox:
        sandbox.add_users([{"external_id": e, "platform": "ios"} for e in DAY_IDS + NIGHT_IDS])
        yield sandbox


@pytest.fixture
def zones(sb):
    """Each person's time zone: 10:00 for the day people (09:00 to 15:00 over the next five
    hours: never quiet), 23:00 for the night people (quiet hours until 08:00)."""
    now = sb.now()
    day, night = zone_at(now, 10), zone_at(now, 23)
    return {**dict.fromkeys(DAY_IDS, day), **dict.fromkeys(NIGHT_IDS, night)}


@pytest.fixture
def client(sb):
    client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
    yield client
    client.close()


def campaign(name, ids, zones, client, journal, *, rules=RULES, **kw) -> Campaign:
    cohort = osn.Cohort.from_frame(
        pd.DataFrame({"external_id": ids, "timezone": [zones[i] for i in ids]})
    )
    msg = Message(headings="Sale", contents=f"{name} starts soon")
    return Campaign(name, cohort, msg, client, journal=journal, rules=rules, **kw)


def send_through(panel: SendPanel, n: int) -> None:
    panel.send_button.click()
    panel.confirm_text.value = str(n)
    panel.confirm_button.click()
    assert panel.wait(30)


def delivered(sb, camp: Campaign) -> pd.DataFrame:
    """The sandbox's deliveries of the notifications this campaign created."""
    nids = {b.notification_id for b in camp.journal.batches(camp.name) if b.notification_id}
    assert nids, "the campaign created no notification"
    got = sb.deliveries()
    return got[got.notification_id.isin(nids)]


def test_the_panel_names_the_rules_and_counts_who_is_not_sent_now_by_reason(
    sb, zones, client, tmp_path
):
    first = campaign("first", DAY_IDS[:2], zones, client, tmp_path / "j", now=sb.now)
    assert first.send(progress=False).summary["sent"] == 2  # the cap of these two is used up
    second = campaign("second", DAY_IDS + NIGHT_IDS, zones, client, tmp_path / "j", now=sb.now)
    panel = SendPanel(second, report=False)

    assert panel.plan.reasons() == {"capped": 2, "deferred by quiet hours": 2}
    line = panel.rules_view.value
    assert "Sending rules:" in line and "at most 1 push per person in any day" in line
    assert "quiet hours 21:00-08:00 in each person&#x27;s time zone" in line
    assert "Not sent now:</b> 2 capped, 2 deferred by quiet hours" in line
    # the line sits next to the Send button, which counts the deferred (they get it later)
    row = panel.children.index(panel.rules_view) + 1
    assert panel.send_button in panel.children[row].children
    assert panel.send_button.description == "Send to 4 people"
    assert panel.cancel_campaign_button.layout.display == "none"  # nothing sent yet

    saved = panel.to_html()
    assert saved == panel._repr_mimebundle_()["text/html"]
    assert "Not sent now:</b> 2 capped, 2 deferred by quiet hours" in saved
    assert "at most 1 push per person in any day" in saved
    assert "Sending rules" in saved and panel.plan_view.value in saved  # the plan's rows too


def test_suppressed_people_are_counted_with_the_capped(sb, zones, client, tmp_path):
    rules = osn.Rules(max_per_person=(1, "24h"), suppress=[DAY_IDS[3]])
    campaign("first", DAY_IDS[:2], zones, client, tmp_path / "j", rules=rules, now=sb.now).send(
        progress=False
    )
    camp = campaign("second", DAY_IDS, zones, client, tmp_path / "j", rules=rules, now=sb.now)
    panel = SendPanel(camp, report=False)
    assert "Not sent now:</b> 2 capped, 1 suppressed<" in panel.rules_view.value
    assert "never to" in panel.rules_view.value and "quiet hours" not in panel.rules_view.value
    assert panel.send_button.description == "Send to 1 person"


def test_without_rules_or_reasons_there_is_no_rules_line(sb, zones, client, tmp_path):
    camp = campaign("plain", DAY_IDS, zones, client, tmp_path / "j", rules=osn.Rules())
    panel = SendPanel(camp, report=False)
    assert panel.rules_view.value == "" and "Sending rules" not in panel.to_html()


@pytest.fixture
def scheduled(sb, zones, client, tmp_path):
    """A campaign of the day people scheduled five hours ahead, sent through the panel."""
    when = sb.now() + timedelta(hours=5)
    camp = campaign("sale", DAY_IDS, zones, client, tmp_path / "j", now=sb.now, schedule=when)
    panel = SendPanel(camp, report=False)
    assert panel.cancel_campaign_button.layout.display == "none"
    send_through(panel, len(DAY_IDS))
    assert "Scheduled for 4 people" in panel.results.value
    assert camp.status == "sent" and camp.result().schedule is not None
    return panel


def test_a_scheduled_send_through_the_panel_offers_cancel_campaign(scheduled):
    assert scheduled.cancel_campaign_button.layout.display != "none"
    assert not scheduled.cancel_campaign_button.disabled
    assert scheduled.cancel_box.layout.display == "none"  # asked only once clicked
    # a fresh panel over the same campaign (another kernel, a re-run cell) offers it too
    assert SendPanel(scheduled.campaign, report=False).cancel_campaign_button.layout.display != (
        "none"
    )


def test_cancel_campaign_asks_for_the_word_and_keep_it_cancels_nothing(scheduled, sb):
    before = sb.request_count()
    scheduled.cancel_campaign_button.click()
    assert scheduled.cancel_box.layout.display == "flex"
    assert "Type &#x27;cancel&#x27;" in scheduled.status.value
    scheduled.cancel_text.value = "yes"
    assert scheduled.cancel_confirm_button.disabled
    scheduled.cancel_confirm_button.click()  # a click on the disabled button does nothing
    assert scheduled.wait(5) and scheduled.campaign.status == "sent"
    scheduled.cancel_text.value = "sale"  # the campaign name confirms too
    assert not scheduled.cancel_confirm_button.disabled
    scheduled.keep_button.click()
    assert scheduled.cancel_box.layout.display == "none" and "Kept" in scheduled.status.value
    assert sb.request_count() == before and scheduled.campaign.status == "sent"


def test_cancel_campaign_cancels_the_scheduled_push_and_send_then_refuses(scheduled, sb):
    camp = scheduled.campaign
    scheduled.cancel_campaign_button.click()
    scheduled.cancel_text.value = "Cancel"
    scheduled.cancel_confirm_button.click()
    scheduled.cancel_confirm_button.click()  # a second click cancels nothing more
    assert scheduled.wait(30) and not scheduled.cancelling
    assert camp.status == "cancelled"

    shown = scheduled.results.value
    assert "Cancel campaign sale" in shown and "onesig-cancel" in shown
    assert "Cancelled for 4 people (scheduled, not delivered)." in shown
    assert "Cancelled for 4 people" in scheduled.to_html()

    sb.advance(hours=6)
    assert delivered(sb, camp).empty  # the time came and went: nobody got it

    # the campaign refuses to send; the panel says so, with how to send after all
    assert scheduled.send_button.disabled and scheduled.send_button.description == "Cancelled"
    assert "was cancelled" in scheduled.status.value
    assert "send(reopen=True)" in scheduled.status.value
    assert scheduled.cancel_campaign_button.layout.display == "none"
    before = sb.request_count()
    scheduled.send_button.click()
    scheduled.confirm_text.value = str(len(DAY_IDS))
    scheduled.confirm_button.click()
    assert scheduled.wait(5) and sb.request_count() == before
    assert scheduled.confirm_box.layout.display == "none" and camp.status == "cancelled"


LATENCY_MS, MANY, BATCH = 40, 600, 30


def test_cancel_during_a_send_stops_it_and_cancels_what_went_out(tmp_path):
    ids = [f"many-{i:04d}" for i in range(MANY)]
    with osn.Sandbox(latency_ms=LATENCY_MS) as sb:
        sb.add_users(pd.DataFrame({"external_id": ids, "platform": "android"}))
        client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, max_workers=1)
        zones = dict.fromkeys(ids, zone_at(sb.now(), 10))
        when = sb.now() + timedelta(hours=5)
        camp = campaign("big", ids, zones, client, tmp_path / "j", now=sb.now, schedule=when,
                        batch_size=BATCH)  # fmt: skip
        panel = SendPanel(camp, report=False)
        panel.send_button.click()
        panel.confirm_text.value = str(MANY)
        panel.confirm_button.click()
        assert panel.sending and panel.cancel_campaign_button.layout.display != "none"
        deadline = time.monotonic() + 30
        while panel.progress.value < 3 * BATCH and panel.sending and time.monotonic() < deadline:
            time.sleep(0.005)
        panel.cancel_campaign_button.click()
        panel.cancel_text.value = "cancel"
        panel.cancel_confirm_button.click()
        assert panel.wait(60)
        client.close()

        assert camp.status == "cancelled"
        counts = panel.cancellation.counts
        assert counts["gone_out"] == counts["unknown"] == 0
        assert counts["cancelled"] >= 3 * BATCH and counts["stopped"] > 0  # stopped mid-send
        assert counts["cancelled"] + counts["stopped"] == MANY
        assert f"Stopped before sending for {counts['stopped']:,} people" in panel.results.value
        assert "Send resumes" not in panel.status.value  # the cancel, not a resume
        assert "Cancel campaign big" in panel.results.value
        assert panel.send_button.description == "Cancelled" and panel.send_button.disabled
        assert panel.stop_button.layout.display == "none"
        sb.advance(hours=6)
        assert delivered(sb, camp).empty


def test_after_a_test_send_the_confirmation_can_still_be_dismissed(sb, zones, client, tmp_path):
    camp = campaign("qa", DAY_IDS, zones, client, tmp_path / "j", now=sb.now,
                    test_users=["night-0"])  # fmt: skip
    panel = SendPanel(camp, report=False)
    panel.test_button.click()
    panel.send_button.click()
    assert panel.confirm_box.layout.display == "flex" and not panel.cancel_button.disabled
    panel.cancel_button.click()
    assert panel.confirm_box.layout.display == "none" and camp.status == "tested"
