"""Each delivery row says when it was delivered: ``delivered_at``, Unix seconds on the sandbox
clock (``Sandbox.now()`` / ``advance()``). An immediate push is delivered when its create request
is handled; a scheduled one (``send_after``, ``delayed_option: "timezone"``) at its due time on
the sandbox clock, not at the later moment ``advance()`` moved the clock past it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import onesig_nb as osn

ZONES = {"raj": "Asia/Kolkata", "ben": "America/New_York"}


@pytest.fixture
def sb():
    """A sandbox of the test's own (its clock moves): two people in two time zones."""
    with osn.Sandbox() as sandbox:
        sandbox.add_users(
            [{"external_id": ext, "platform": "ios", "timezone": tz} for ext, tz in ZONES.items()]
        )
        yield sandbox


@pytest.fixture
def client(sb):
    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, api="current") as c:
        yield c


def delivered_at(sb: osn.Sandbox, notification_id: str) -> dict[str, datetime]:
    """external id -> when the sandbox delivered the notification to them (aware UTC)."""
    rows = sb.deliveries(notification_id)
    return {
        ext: datetime.fromtimestamp(at, UTC)
        for ext, at in zip(rows.external_id, rows.delivered_at, strict=True)
    }


def test_delivered_at_is_the_last_column_of_the_deliveries_frame(sb, client):
    sent = client.send_push(["raj"], {"contents": {"en": "Hi"}})
    assert list(sb.deliveries(sent.notification_ids[0]).columns)[-1] == "delivered_at"


def test_an_immediate_push_is_delivered_at_the_sandbox_time_it_was_sent(sb, client):
    sb.advance(days=3)  # the sandbox clock, not the wall clock
    sent_at = sb.now()
    sent = client.send_push(list(ZONES), {"contents": {"en": "Now"}})
    when = delivered_at(sb, sent.notification_ids[0])
    assert sorted(when) == sorted(ZONES)
    for at in when.values():
        assert abs((at - sent_at).total_seconds()) < 2


def test_a_send_after_push_is_delivered_at_its_instant_not_when_the_clock_passed_it(sb, client):
    when = (sb.now() + timedelta(hours=5)).replace(microsecond=0)
    payload = {"contents": {"en": "Later"}, "send_after": when.isoformat()}
    sent = client.send_push(list(ZONES), payload)
    assert sb.deliveries(sent.notification_ids[0]).empty
    moved_to = sb.advance(hours=6)
    assert moved_to - when > timedelta(minutes=59)
    assert delivered_at(sb, sent.notification_ids[0]) == {"raj": when, "ben": when}


def test_a_nine_am_local_push_is_delivered_at_nine_in_each_persons_zone(sb, client):
    start = sb.now() + timedelta(minutes=1)
    payload = {
        "contents": {"en": "Good morning"},
        "send_after": start.isoformat(),
        "delayed_option": "timezone",
        "delivery_time_of_day": "9:00AM",
    }
    sent = client.send_push(list(ZONES), payload)
    sb.advance(days=2)  # past every zone's first 09:00 after the start
    when = delivered_at(sb, sent.notification_ids[0])
    assert sorted(when) == sorted(ZONES)
    for ext, zone in ZONES.items():
        local = when[ext].astimezone(ZoneInfo(zone))
        assert local.time() == time(9)
        assert start <= when[ext] < start + timedelta(days=1)  # the first 09:00 after start
    assert when["raj"] != when["ben"]
