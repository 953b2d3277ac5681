"""The sandbox clock: scheduled and time-zone-delayed pushes are delivered when their time
comes (issue 13, item 7 and "A clock"). Sources: v11.6 create-message (``send_after``,
``delayed_option``, ``delivery_time_of_day``) and view-message (``remaining``,
``completed_at``, ``send_after`` as integer Unix time); v1.2.2 ``send_after`` examples.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

import onesig_nb as osn
from onesig_nb.sandbox.schedule import next_local_time, parse_send_after, parse_time_of_day

from .conftest import Api

SPEC_EXAMPLES = [
    "Thu Sep 24 2015 14:00:00 GMT-0700 (PDT)",
    "September 24th 2015, 2:00:00 pm UTC-07:00",
    "2015-09-24 14:00:00 GMT-0700",
    "Sept 24 2015 14:00:00 GMT-0700",
    "Thu Sep 24 2015 14:00:00 GMT-0700 (Pacific Daylight Time)",
    "2015-09-24T14:00:00-07:00",
    "2015-09-24T21:00:00Z",
]


@pytest.mark.parametrize("text", SPEC_EXAMPLES)
def test_every_documented_send_after_format_reads_as_the_same_instant(text):
    """v1.2.2 send_after: "All examples are the exact same date & time"; v11.6: ISO 8601."""
    assert parse_send_after(text) == datetime(2015, 9, 24, 21, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "want"), [("9:00AM", time(9)), ("21:45", time(21, 45)), ("09:45:30", time(9, 45, 30)),
                       ("12:15PM", time(12, 15)), ("12:00am", time(0))]
)  # fmt: skip
def test_delivery_time_of_day_formats(text, want):
    """v11.6 delivery_time_of_day: '9:00AM', '21:45', '09:45:30'."""
    assert parse_time_of_day(text) == want


def test_next_local_time_respects_the_zone():
    start = datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()
    tokyo = next_local_time(start, time(9), "Asia/Tokyo")  # 09:00 JST = 00:00 UTC next day
    assert datetime.fromtimestamp(tokyo, UTC) == datetime(2026, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def sb():
    with osn.Sandbox() as sandbox:
        sandbox.add_users(
            [
                {"external_id": "lis", "platform": "ios", "timezone": "Europe/Lisbon"},
                {"external_id": "nyc", "platform": "android", "timezone": "America/New_York"},
                {"external_id": "tyo", "platform": "web", "timezone": "Asia/Tokyo"},
            ]
        )
        yield sandbox


def test_now_is_an_aware_utc_time_and_advance_moves_it(sb):
    before = sb.now()
    assert before.tzinfo is not None and before.utcoffset() == timedelta(0)
    assert abs((before - datetime.now(UTC)).total_seconds()) < 5
    after = sb.advance(hours=12, minutes=30)
    assert timedelta(hours=12, minutes=30) <= after - before < timedelta(hours=12, minutes=31)
    with pytest.raises(osn.OneSigNbError):
        sb.advance(hours=-1)


def test_a_scheduled_push_waits_then_is_delivered_and_can_no_longer_be_canceled(sb):
    api = Api(sb)
    when = (sb.now() + timedelta(hours=3)).replace(microsecond=0)
    nid = api.push(["lis", "nyc"], send_after=when.isoformat()).json()["id"]
    notes = sb.notifications().set_index("id")
    assert notes.loc[nid, "state"] == "scheduled" and notes.loc[nid, "remaining"] == 2
    assert sb.deliveries().empty
    view = api.current("GET", f"/notifications/{nid}", params={"app_id": sb.app_id}).json()
    assert view["remaining"] == 2 and view["successful"] == 0 and "completed_at" not in view
    assert view["send_after"] == int(when.timestamp())
    legacy = api.legacy("GET", f"/notifications/{nid}", params={"app_id": sb.app_id}).json()
    assert legacy["completed_at"] is None
    sb.advance(hours=2)
    assert sb.deliveries().empty
    sb.advance(hours=1, minutes=1)
    assert sorted(sb.deliveries(nid).external_id) == ["lis", "nyc"]
    view = api.current("GET", f"/notifications/{nid}", params={"app_id": sb.app_id}).json()
    assert view["remaining"] == 0 and view["successful"] == 2
    assert view["completed_at"] == int(when.timestamp())
    assert sb.notifications().set_index("id").loc[nid, "state"] == "delivered"
    r = api.current("DELETE", f"/notifications/{nid}", params={"app_id": sb.app_id})
    assert r.status_code == 400
    api.http.close()


def test_tomorrow_nine_in_each_persons_time_zone(sb):
    """The notebook story: schedule for 09:00 local tomorrow, see it pending, advance, see it
    delivered per time zone, and cancel another one."""
    api = Api(sb)
    now = sb.now()
    tomorrow = (now + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, time(0), tzinfo=UTC) - timedelta(hours=14)  # covers Tokyo
    start = max(start, now + timedelta(minutes=1))
    body = {"send_after": start.isoformat(), "delayed_option": "timezone",
            "delivery_time_of_day": "9:00AM"}  # fmt: skip
    nid = api.push(["lis", "nyc", "tyo"], **body).json()["id"]
    other = api.push(["lis"], **body).json()["id"]
    assert sb.deliveries().empty
    due = {
        ext: next_local_time(start.timestamp(), time(9), zone)
        for ext, zone in [("lis", "Europe/Lisbon"), ("nyc", "America/New_York"),
                          ("tyo", "Asia/Tokyo")]
    }  # fmt: skip
    assert api.current(
        "DELETE", f"/notifications/{other}", params={"app_id": sb.app_id}
    ).json() == {"success": True}
    delivered = []
    for ext in sorted(due, key=due.get):
        sb.advance(seconds=max(0.0, due[ext] - sb.now().timestamp()) + 1)
        delivered.append(sorted(sb.deliveries(nid).external_id))
        local = datetime.fromtimestamp(
            due[ext],
            ZoneInfo({"lis": "Europe/Lisbon", "nyc": "America/New_York", "tyo": "Asia/Tokyo"}[ext]),
        )
        assert local.time() == time(9)
    order = sorted(due, key=due.get)
    assert delivered == [sorted(order[:1]), sorted(order[:2]), sorted(order)]
    assert sb.deliveries(other).empty  # canceled before its time
    states = sb.notifications().set_index("id").state
    assert states[nid] == "delivered" and states[other] == "canceled"
    api.http.close()


def test_the_clock_and_pending_schedules_survive_a_restart(tmp_path):
    db = tmp_path / "clock.sqlite"
    with osn.Sandbox(db=db) as first:
        first.add_users([{"external_id": "u", "platform": "ios"}])
        ahead = first.advance(days=3)
        nid = (
            Api(first).push(["u"], send_after=(ahead + timedelta(hours=1)).isoformat()).json()["id"]
        )
    with osn.Sandbox(db=db) as second:
        assert second.now() - ahead < timedelta(minutes=1) and second.now() >= ahead
        assert second.deliveries().empty
        second.advance(hours=2)
        assert list(second.deliveries(nid).external_id) == ["u"]


def test_tag_changes_reach_personalization_only_after_the_delay():
    """docs: edit-tags-with-external-user-id: "allow 60+ seconds" after a tag update."""
    with osn.Sandbox(tag_delay_s=60) as sb:
        sb.add_users([{"external_id": "u", "platform": "ios", "tags": {"first_name": "Ana"}}])
        api = Api(sb)
        sb.advance(minutes=5)
        r = api.current(
            "PATCH",
            f"/apps/{sb.app_id}/users/by/external_id/u",
            {"properties": {"tags": {"first_name": "Bea"}}},
        )
        assert r.status_code == 202 and sb.user_tags("u")["first_name"] == "Bea"
        hi = {"en": "Hi {{ first_name }}"}
        early = api.push(["u"], contents=hi).json()["id"]
        sb.advance(seconds=61)
        late = api.push(["u"], contents=hi).json()["id"]
        assert list(sb.deliveries(early).contents) == ["Hi Ana"]
        assert list(sb.deliveries(late).contents) == ["Hi Bea"]
        api.http.close()


def test_the_clock_admin_route_needs_the_key(sb):
    r = httpx.post(f"{sb.url}/_sandbox/clock", json={"seconds": 3600})
    assert r.status_code == 401
    assert abs((sb.now() - datetime.now(UTC)).total_seconds()) < 60


OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (external_id TEXT PRIMARY KEY, onesignal_id TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL);
CREATE TABLE subscriptions (id TEXT PRIMARY KEY, external_id TEXT NOT NULL, platform TEXT NOT NULL,
    type TEXT NOT NULL, enabled INTEGER NOT NULL, token TEXT);
CREATE TABLE notifications (id TEXT PRIMARY KEY, api TEXT NOT NULL, idempotency_key TEXT UNIQUE,
    app_id TEXT NOT NULL, request TEXT NOT NULL, response TEXT NOT NULL,
    recipients INTEGER NOT NULL, canceled INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL);
CREATE TABLE replies (idempotency_key TEXT PRIMARY KEY, status INTEGER NOT NULL,
    body TEXT NOT NULL);
INSERT INTO meta VALUES ('app_id', '11111111-2222-4333-8444-555555555555');
INSERT INTO users VALUES ('old', 'o-1', '{"a": "1"}', 0);
INSERT INTO subscriptions VALUES ('s-1', 'old', 'ios', 'iOSPush', 1, NULL);
INSERT INTO notifications VALUES ('n-1', 'current', NULL, '11111111-2222-4333-8444-555555555555',
    '{"contents": {"en": "x"}}', '{"id": "n-1"}', 1, 0, 1700000000);
"""


def test_a_store_file_from_the_previous_sandbox_opens_with_its_data(tmp_path):
    """Subscriptions gain language/time zone (en, UTC); old notifications count as delivered."""
    import sqlite3

    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(OLD_SCHEMA)
    with osn.Sandbox(db=db) as sb:
        assert sb.user_tags("old") == {"a": "1"}
        note = sb.notifications().iloc[0]
        assert (note.state, note.completed_at) == ("delivered", 1700000000)
        nid = Api(sb).push(["old"], contents={"en": "Hi"}).json()["id"]
        assert list(sb.deliveries(nid).contents) == ["Hi"]
