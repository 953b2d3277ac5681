"""A scheduled campaign looks scheduled until the time comes, then delivered (issue 13, "Done
when": tomorrow 09:00 in each person's time zone, pending, clock advanced, delivered, another one
canceled). Run against a real Sandbox and its movable clock; sources: v11.6 create-message
(``send_after``, ``delayed_option``, ``delivery_time_of_day``), view-message (``remaining``,
``completed_at``, ``send_after`` as Unix time) and cancel-message (scheduled or sending only).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.campaign.report import SendSchedule, utc_text
from onesig_nb.errors import NotCancellable
from onesig_nb.message import Message

ZONES = {"ana": "Europe/Lisbon", "ben": "America/New_York", "kai": "Asia/Tokyo"}


@pytest.fixture
def sb():
    """A sandbox of the test's own (its clock moves): three people in three time zones."""
    with osn.Sandbox() as sandbox:
        sandbox.add_users(
            [
                {"external_id": ext, "platform": "ios", "timezone": tz, "tags": {"first_name": ext}}
                for ext, tz in ZONES.items()
            ]
        )
        yield sandbox


# ``client`` is tests/campaign/conftest.py's: a client of this file's sandbox.


@pytest.fixture
def cohort():
    import pandas as pd

    return osn.Cohort.from_frame(pd.DataFrame({"external_id": list(ZONES)}))


def tomorrow_start(now: datetime) -> tuple[datetime, datetime]:
    """(send_after, tomorrow's date at 00:00 UTC): send_after is when tomorrow begins in the
    earliest of the three zones (Tokyo), so each person's first 09:00 after it is tomorrow's."""
    soon = now + timedelta(minutes=1)
    day = soon.date() + timedelta(days=1)
    start = min(datetime.combine(day, time(0), ZoneInfo(z)) for z in ZONES.values())
    return max(soon, start.astimezone(UTC)), datetime.combine(day, time(0), UTC)


def nine_local(day: datetime, zone: str) -> datetime:
    return datetime.combine(day.date(), time(9), ZoneInfo(zone))


def no_sleep(seconds: float) -> None:
    raise AssertionError("a scheduled push is viewed once, never polled")


def local_nine_message(send_after: datetime) -> Message:
    return Message(
        headings="Good morning",
        contents="Hi {{ first_name | default: 'there' }}",
        send_after=send_after,
        delayed_option="timezone",
        delivery_time_of_day="9:00AM",
    )


def test_tomorrow_nine_local_is_scheduled_then_goes_out_zone_by_zone(sb, client, cohort, tmp_path):
    start, day = tomorrow_start(sb.now())
    camp = Campaign("morning", cohort, local_nine_message(start), client, journal=tmp_path / "j")
    assert "09:00 in each person's own time zone" in str(camp.plan())

    result = camp.send(progress=False)
    kind, text = result.headline()
    assert kind == "ok" and text.startswith("✓ Scheduled for 3 people")
    assert f"09:00 in each person's own time zone (the first 09:00 after {utc_text(start)})" in text
    assert "Sent to" not in text

    report = camp.report(sleep=no_sleep)
    assert (report.state, report.pending, report.complete) == ("scheduled", 3, False)
    assert report.totals["successful"] == 0 and sb.deliveries().empty
    assert report.schedule.start == start.replace(microsecond=0)
    assert "Scheduled, not delivered yet" in report.state_text()
    assert "3 devices pending" in report.state_text()
    page = report._repr_html_()
    assert "pending (scheduled)" in page and "Delivery complete" not in page

    first = nine_local(day, ZONES["kai"])  # Tokyo's 09:00 comes first
    sb.advance(seconds=(first - sb.now()).total_seconds() + 1)
    report = camp.report(sleep=no_sleep)
    assert (report.state, report.totals["successful"], report.pending) == ("going out", 1, 2)
    assert "1 device delivered so far, 2 devices still pending" in report.state_text()

    last = nine_local(day, ZONES["ben"])  # New York's 09:00 comes last
    sb.advance(seconds=(last - sb.now()).total_seconds() + 1)
    report = camp.report(sleep=no_sleep)
    assert (report.state, report.complete, report.pending) == ("delivered", True, 0)
    assert report.totals["successful"] == 3
    assert "Delivery complete." in report._repr_html_()
    assert sorted(sb.deliveries().external_id) == sorted(ZONES)


def test_a_push_scheduled_at_one_moment_says_when_in_utc(sb, client, cohort, tmp_path):
    when = (sb.now() + timedelta(hours=5)).replace(second=0, microsecond=0)
    msg = Message(headings="Sale", contents="Starts now")
    camp = Campaign("sale", cohort, msg, client, journal=tmp_path / "j", schedule=when)
    assert camp.plan().schedule.when() == f"at {utc_text(when)}"
    text = camp.send(progress=False).headline()[1]
    assert f"OneSignal accepted it to go out at {utc_text(when)}" in text
    report = camp.report(sleep=no_sleep)
    assert report.state == "scheduled" and f"goes out at {utc_text(when)}" in report.state_text()
    sb.advance(hours=5, minutes=1)
    assert camp.report(sleep=no_sleep).state == "delivered"


def test_a_canceled_push_says_so_and_nothing_of_it_is_delivered(sb, client, cohort, tmp_path):
    start, _ = tomorrow_start(sb.now())
    camp = Campaign("reminder", cohort, local_nine_message(start), client, journal=tmp_path / "j")
    result = camp.send(progress=False)
    for nid in result.notification_ids:
        assert client.cancel_notification(nid) is True
    report = camp.report(sleep=no_sleep)
    assert report.state == "canceled" and report.canceled == len(result.notification_ids)
    assert "Canceled before its time" in report.state_text()
    sb.advance(days=3)
    assert sb.deliveries().empty
    assert camp.report(sleep=no_sleep).totals["successful"] == 0


def test_a_delivered_push_can_no_longer_be_canceled(sb, client, cohort, tmp_path):
    camp = Campaign("now", cohort, Message(contents="Hello"), client, journal=tmp_path / "j")
    result = camp.send(progress=False)
    assert result.schedule is None and result.headline()[1].startswith("✓ Sent to 3 people")
    assert camp.plan().schedule is None and "goes out" not in str(camp.plan())
    with pytest.raises(NotCancellable):
        client.cancel_notification(result.notification_ids[0])
    assert camp.report(sleep=lambda s: None, poll_interval=0).state == "delivered"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"delayed_option": "timezone", "delivery_time_of_day": "9:00AM"},
         "at 09:00 in each person's own time zone (the first 09:00 after it was sent)"),
        ({"delayed_option": "timezone", "delivery_time_of_day": "9:30PM",
          "send_after": "2026-12-01T08:00:00+01:00"},
         "at 21:30 in each person's own time zone (the first 21:30 after 2026-12-01 07:00 UTC)"),
        ({"send_after": "2026-12-01T09:00:00"}, "at 2026-12-01 09:00 UTC"),
        ({"send_after": "Thu Sep 24 2015 14:00:00 GMT-0700 (PDT)"},
         "at Thu Sep 24 2015 14:00:00 GMT-0700 (PDT)"),
        ({"delayed_option": "last-active", "send_after": "2026-12-01T09:00:00Z"},
         "at the time of day each person was last active, within 24 hours of 2026-12-01 09:00 UTC"),
    ],
)  # fmt: skip
def test_schedule_wording(payload, words):
    assert SendSchedule.from_payload(payload).when() == words


def test_a_request_without_schedule_fields_goes_out_at_once():
    assert SendSchedule.from_payload({"contents": {"en": "Hi"}, "name": "x"}) is None
    assert SendSchedule.from_payload(None) is None
