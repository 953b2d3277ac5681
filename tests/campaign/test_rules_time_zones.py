"""Quiet hours and local-time schedules per person's time zone, checked where it counts: when
the sandbox delivered each push (``sb.deliveries().delivered_at``, Unix seconds on the sandbox
clock) after its clock was moved on.

- Quiet hours ("21:00", "08:00"): people inside them (in their own zone, from the ``timezone``
  trait) are ``deferred`` with the reason and get the push at exactly 08:00 local, never
  inside the quiet hours; the others get it at once; people without a zone, or with one that
  is not an IANA name, use ``default_timezone`` and the plan counts them.
- ``schedule="YYYY-MM-DD 09:00 local"``: 09:00 local for each person, one create request per
  distinct UTC instant, the plan's timing table counting the people of each instant.
- Daylight-saving changes: 09:00 local on the change day is 23 h (clocks forward) or 25 h
  (clocks back) after 09:00 the day before, and a quiet night that loses or gains an hour
  ends at 08:00 on the new offset. The sandbox clock only moves forward, so each test looks for
  the next such change after the sandbox's own time and moves the clock there: the tests pass
  in any order on one module-wide sandbox, whatever day they run.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.campaign.timing import in_quiet_hours
from onesig_nb.message import Message

UTC = dt.UTC
QUIET = ("21:00", "08:00")
NIGHT = (dt.time(21), dt.time(8))
MSG = Message(headings="Hello", contents="A push that respects the night")


@pytest.fixture(scope="module")
def sb():
    """One sandbox for the file (each test adds its own people and only moves the clock on)."""
    with osn.Sandbox() as sandbox:
        yield sandbox


# ``client`` is tests/campaign/conftest.py's: a client of this file's sandbox.


def add_people(sb, zones: dict[str, str | None]) -> osn.Cohort:
    """Sandbox users (one iOS device each) and the cohort whose ``timezone`` trait holds
    ``zones`` (None: no trait)."""
    sb.add_users([{"external_id": eid, "platform": "ios"} for eid in zones])
    frame = pd.DataFrame({"external_id": list(zones), "timezone": list(zones.values())})
    return osn.Cohort.from_frame(frame)


def move_to(sb, when: dt.datetime) -> None:
    """Move the sandbox clock on to ``when`` (never back)."""
    ahead = (when - sb.now()).total_seconds()
    assert ahead >= 0, f"the sandbox clock is already past {when}"
    sb.advance(seconds=ahead)


def deliveries(sb, result) -> dict[str, dt.datetime]:
    """``{external_id: when the sandbox delivered it}`` for the pushes of ``result`` (each
    person once: one device each)."""
    frame = sb.deliveries()
    frame = frame[frame["notification_id"].isin(result.notification_ids)]
    assert not frame["external_id"].duplicated().any(), "someone got the push twice"
    return {
        eid: dt.datetime.fromtimestamp(at, UTC)
        for eid, at in zip(frame["external_id"], frame["delivered_at"], strict=True)
    }


def creates(sb) -> int:
    """Create-notification requests the sandbox has answered so far."""
    log = sb.requests()
    return int(((log["method"] == "POST") & log["path"].str.contains("notifications")).sum())


def next_local(after: dt.datetime, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The first instant after ``after`` whose wall time in ``zone`` is ``at`` (in UTC)."""
    day = after.astimezone(zone).date()
    for days in range(3):
        when = dt.datetime.combine(day + dt.timedelta(days=days), at, zone).astimezone(UTC)
        if when > after:
            return when
    raise AssertionError("unreachable")


def next_utc(after: dt.datetime, at: dt.time) -> dt.datetime:
    return next_local(after + dt.timedelta(minutes=1), at, ZoneInfo("UTC"))


def next_change(zone: ZoneInfo, after: dt.date, *, forward: bool) -> dt.date:
    """The first day after ``after`` on which ``zone``'s clocks go forward (or back)."""
    day = after + dt.timedelta(days=1)
    for _ in range(800):
        noon_before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), zone)
        noon = dt.datetime.combine(day, dt.time(12), zone)
        change = noon.utcoffset() - noon_before.utcoffset()
        if (change > dt.timedelta(0)) if forward else (change < dt.timedelta(0)):
            return day
        day += dt.timedelta(days=1)
    raise AssertionError(f"{zone.key} changes no clocks")


def local_at(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, at, zone).astimezone(UTC)


def campaign(name, cohort, client, tmp_path, sb, **kw) -> Campaign:
    return Campaign(
        name, cohort, MSG, client, journal=tmp_path / f"{name}.sqlite", now=sb.now, **kw
    )


# -- quiet hours ---------------------------------------------------------------------------------
QUIET_PEOPLE = {
    "q-ny-1": "America/New_York",
    "q-ny-2": "America/New_York",
    "q-berlin": "Europe/Berlin",
    "q-kolkata": "Asia/Kolkata",
    "q-chatham": "Pacific/Chatham",
    "q-none": None,
    "q-blank": "",
    "q-bad": "Mars/Olympus",
}
FALLBACK = "America/Sao_Paulo"  # -03:00 all year: 03:00 UTC is midnight there
FELL_BACK = ("q-none", "q-blank", "q-bad")


def zone_of(eid: str) -> ZoneInfo:
    return ZoneInfo(QUIET_PEOPLE[eid] if eid not in FELL_BACK else FALLBACK)


def test_quiet_hours_defer_people_to_eight_local_in_their_own_zone(sb, client, tmp_path):
    """At 03:00 UTC it is night in New York (22:00/23:00), Berlin (04:00/05:00) and Sao Paulo
    (00:00, the default zone of the three without a usable zone), but morning in Kolkata
    (08:30) and afternoon in Chatham (16:45 or 15:45): whatever the season."""
    cohort = add_people(sb, QUIET_PEOPLE)
    start = next_utc(sb.now(), dt.time(3))
    move_to(sb, start)
    rules = osn.Rules(quiet_hours=QUIET, default_timezone=FALLBACK)
    camp = campaign("quiet-night", cohort, client, tmp_path, sb, rules=rules)
    deferred = [e for e in QUIET_PEOPLE if e not in ("q-kolkata", "q-chatham")]
    expected = {e: next_local(start, dt.time(8), zone_of(e)) for e in deferred}
    expected |= {"q-kolkata": start, "q-chatham": start}

    plan = camp.plan()
    assert plan.reasons() == {"deferred by quiet hours": 6}
    why = dict(zip(plan.excluded["external_id"], plan.excluded["reason"], strict=True))
    assert set(why) == set(deferred)
    for eid in deferred:
        assert why[eid] == (
            f"deferred by quiet hours to 08:00 local ({zone_of(eid).key}), "
            f"{expected[eid]:%Y-%m-%d %H:%M} UTC"
        )
    assert plan.timing_notes == [
        f"2 people have no 'timezone' trait: {FALLBACK} is used for them",
        f"1 person has a 'timezone' that is not a time zone name ('Mars/Olympus'): {FALLBACK} "
        "is used for them",
    ]
    instants = {e: t.replace(second=0, microsecond=0) for e, t in expected.items()}
    assert plan.requests == len(set(instants.values())) == 4
    per_instant = plan.timing.groupby("utc")["people"].sum().to_dict()
    assert per_instant == pd.Series(instants).value_counts().to_dict()

    before = creates(sb)
    result = camp.send(progress=False)
    assert creates(sb) - before == len(result.notification_ids) == 4
    rows = result.to_frame().set_index("external_id")
    assert (rows.loc[deferred, "status"] == "deferred").all()
    assert rows.loc[deferred, "error"].to_dict() == {e: why[e] for e in deferred}
    assert set(rows.loc[["q-kolkata", "q-chatham"], "status"]) == {"sent"}

    # the people outside the quiet hours got it at once; nobody else yet
    now = deliveries(sb, result)
    assert set(now) == {"q-kolkata", "q-chatham"}
    for eid, at in now.items():
        assert dt.timedelta(0) <= at - start < dt.timedelta(seconds=30), eid

    sb.advance(hours=13)  # past 08:00 in New York, the last of them (13:00 UTC at most)
    got = deliveries(sb, result)
    assert set(got) == set(QUIET_PEOPLE)
    for eid in deferred:
        assert got[eid] == expected[eid], eid  # exactly 08:00 local, to the second
        assert got[eid].astimezone(zone_of(eid)).time() == dt.time(8)
    for eid, at in got.items():
        assert not in_quiet_hours(at.astimezone(zone_of(eid)).time().replace(tzinfo=None), NIGHT)


def test_a_push_scheduled_for_one_instant_is_deferred_where_that_is_night(sb, client, tmp_path):
    """``schedule=<one instant>`` under quiet hours: 12:00 UTC is 07:00/08:00 in New York
    (07:00 in winter: deferred an hour), 17:30 in Kolkata and 01:45/00:45 in Chatham."""
    zones = {"o-ny": "America/New_York", "o-kolkata": "Asia/Kolkata",
             "o-chatham": "Pacific/Chatham"}  # fmt: skip
    cohort = add_people(sb, zones)
    when = next_utc(sb.now() + dt.timedelta(hours=2), dt.time(12))
    rules = osn.Rules(quiet_hours=QUIET)
    camp = campaign("one-instant", cohort, client, tmp_path, sb, rules=rules, schedule=when)
    result = camp.send(progress=False)
    assert deliveries(sb, result) == {}
    move_to(sb, when + dt.timedelta(days=1))
    got = deliveries(sb, result)
    for eid, name in zones.items():
        zone = ZoneInfo(name)
        wall = when.astimezone(zone).time()
        assert got[eid] == (next_local(when, dt.time(8), zone) if in_quiet_hours(wall, NIGHT)
                            else when), eid  # fmt: skip
    assert got["o-kolkata"] == when
    assert got["o-chatham"] == next_local(when, dt.time(8), ZoneInfo("Pacific/Chatham"))
    statuses = result.to_frame().set_index("external_id")["status"]
    assert statuses["o-chatham"] == "deferred" and statuses["o-kolkata"] == "sent"


# -- a local time of day -------------------------------------------------------------------------
LOCAL_PEOPLE = {
    "l-ny-1": "America/New_York",
    "l-ny-2": "America/New_York",
    "l-berlin": "Europe/Berlin",
    "l-paris": "Europe/Paris",  # another zone, the same instant as Berlin
    "l-kolkata": "Asia/Kolkata",
    "l-chatham": "Pacific/Chatham",
    "l-none": None,  # the default zone, UTC
}


def test_nine_local_reaches_each_person_at_nine_in_their_zone(sb, client, tmp_path):
    cohort = add_people(sb, LOCAL_PEOPLE)
    day = sb.now().date() + dt.timedelta(days=3)
    zones = {e: ZoneInfo(z or "UTC") for e, z in LOCAL_PEOPLE.items()}
    expected = {e: local_at(day, dt.time(9), z) for e, z in zones.items()}
    camp = campaign("nine-local", cohort, client, tmp_path, sb, rules=osn.Rules(),
                    schedule=f"{day.isoformat()} 09:00 local")  # fmt: skip

    plan = camp.plan()
    instants = set(expected.values())
    assert len(instants) == 5 and plan.requests == 5
    table = plan.timing
    assert set(table["utc"]) == instants
    assert table.groupby("utc")["people"].sum().to_dict() == (
        pd.Series(expected).value_counts().to_dict()
    )
    assert set(table["local_time"]) == {f"{day.isoformat()} 09:00"}
    assert set(table["why"]) == {"scheduled"}
    assert plan.timing_notes == ["1 person has no 'timezone' trait: UTC is used for them"]
    assert plan.reasons() == {}

    before = creates(sb)
    result = camp.send(progress=False)
    assert creates(sb) - before == len(result.notification_ids) == len(instants)
    assert set(result.to_frame()["status"]) == {"sent"}

    first = min(instants)  # Chatham's 09:00 comes first (the evening before, in UTC)
    assert first == expected["l-chatham"]
    move_to(sb, first - dt.timedelta(seconds=1))
    assert deliveries(sb, result) == {}
    move_to(sb, first)
    assert deliveries(sb, result) == {"l-chatham": first}
    move_to(sb, max(instants) + dt.timedelta(minutes=1))
    got = deliveries(sb, result)
    assert got == expected
    for eid, at in got.items():
        assert at.astimezone(zones[eid]).time() == dt.time(9), eid


def test_nine_local_by_each_devices_own_zone_is_that_day_everywhere(sb, client, tmp_path):
    """``timezone_trait=None``: OneSignal times the push by each device's zone (one request,
    ``delayed_option="timezone"``; the sandbox delivers at the first 09:00 in the device's
    zone at or after ``send_after``). "<day> 09:00 local" must still mean 09:00 on <day> for
    a device in New York, not 09:00 the day before: ``send_after`` must not start before
    (<day> - 1) 09:00 has passed everywhere the campaign may reach. (Devices at UTC-10 and
    below cannot be served with one request: the 09:00s of one day span 26 hours.)"""
    zones = {"v-ny": "America/New_York", "v-berlin": "Europe/Berlin",
             "v-kolkata": "Asia/Kolkata", "v-chatham": "Pacific/Chatham"}  # fmt: skip
    sb.add_users([{"external_id": e, "platform": "ios", "timezone": z} for e, z in zones.items()])
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": list(zones)}))
    day = sb.now().date() + dt.timedelta(days=3)
    camp = campaign("device-nine", cohort, client, tmp_path, sb,
                    rules=osn.Rules(timezone_trait=None),
                    schedule=f"{day.isoformat()} 09:00 local")  # fmt: skip
    body = camp.plan().sample_payload["body"]
    assert (body["delayed_option"], body["delivery_time_of_day"]) == ("timezone", "09:00")
    result = camp.send(progress=False)
    assert len(result.notification_ids) == 1
    move_to(sb, local_at(day, dt.time(9), ZoneInfo("America/New_York")) + dt.timedelta(hours=1))
    got = deliveries(sb, result)
    wrong = {
        e: f"{at.astimezone(ZoneInfo(zones[e])):%Y-%m-%d %H:%M %Z}"
        for e, at in got.items()
        if at != local_at(day, dt.time(9), ZoneInfo(zones[e]))
    }
    assert not wrong, f"not at {day} 09:00 local: {wrong}"
    assert set(got) == set(zones)


# -- daylight-saving changes ---------------------------------------------------------------------
CHANGES = [
    pytest.param("America/New_York", True, id="new-york-forward"),
    pytest.param("America/New_York", False, id="new-york-back"),
    pytest.param("Europe/Berlin", True, id="berlin-forward"),
    pytest.param("Europe/Berlin", False, id="berlin-back"),
    pytest.param("Pacific/Chatham", True, id="chatham-forward"),  # +12:45 -> +13:45
    pytest.param("Pacific/Chatham", False, id="chatham-back"),
]


@pytest.mark.parametrize(("name", "forward"), CHANGES)
def test_nine_local_on_a_daylight_saving_day(sb, client, tmp_path, name, forward):
    """09:00 local on the day the clocks change comes 23 h (forward) or 25 h (back) after
    09:00 the day before; in Kolkata (no daylight saving) 24 h."""
    zone, kolkata = ZoneInfo(name), ZoneInfo("Asia/Kolkata")
    slug = f"d-{zone.key.split('/')[-1].lower()}-{'fwd' if forward else 'back'}"
    people = {f"{slug}-here": name, f"{slug}-kolkata": "Asia/Kolkata"}
    cohort = add_people(sb, people)
    change = next_change(zone, sb.now().date() + dt.timedelta(days=2), forward=forward)
    eve = change - dt.timedelta(days=1)
    move_to(sb, min(local_at(eve, dt.time(9), z) for z in (zone, kolkata)) - dt.timedelta(hours=1))

    results = {}
    for day in (eve, change):
        camp = campaign(f"{slug}-{day}", cohort, client, tmp_path, sb, rules=osn.Rules(),
                        schedule=f"{day.isoformat()} 09:00 local")  # fmt: skip
        results[day] = camp.send(progress=False)
        assert len(results[day].notification_ids) == 2
    move_to(sb, local_at(change, dt.time(9), zone) + dt.timedelta(hours=12))

    got = {day: deliveries(sb, r) for day, r in results.items()}
    here, control = people
    for day in (eve, change):
        assert got[day][here] == local_at(day, dt.time(9), zone)
        assert got[day][here].astimezone(zone).time() == dt.time(9)
        assert got[day][control].astimezone(kolkata).time() == dt.time(9)
    hours = 23 if forward else 25
    assert got[change][here] - got[eve][here] == dt.timedelta(hours=hours)
    assert got[change][control] - got[eve][control] == dt.timedelta(hours=24)
    # the UTC instant moved by the hour the clocks moved
    shift = dt.timedelta(hours=-1 if forward else 1)
    assert got[change][here] - dt.timedelta(days=1) - got[eve][here] == shift


@pytest.mark.parametrize(("name", "forward"), CHANGES[:4])
def test_a_quiet_night_with_a_daylight_saving_change_ends_at_eight_on_the_new_offset(
    sb, client, tmp_path, name, forward
):
    """A push at 00:30 local on the night the clocks change waits for 08:00 local: 6.5 h of
    real time when the night loses an hour, 8.5 h when it gains one. Someone in Auckland (day
    there) gets it at once."""
    zone, other = ZoneInfo(name), ZoneInfo("Pacific/Auckland")
    slug = f"n-{zone.key.split('/')[-1].lower()}-{'fwd' if forward else 'back'}"
    people = {f"{slug}-here": name, f"{slug}-auckland": other.key}
    cohort = add_people(sb, people)
    change = next_change(zone, sb.now().date() + dt.timedelta(days=2), forward=forward)
    start = local_at(change, dt.time(0, 30), zone)  # before the change (02:00 or 03:00)
    move_to(sb, start)
    camp = campaign(slug, cohort, client, tmp_path, sb, rules=osn.Rules(quiet_hours=QUIET))
    result = camp.send(progress=False)
    here, control = people
    end = local_at(change, dt.time(8), zone)
    rows = result.to_frame().set_index("external_id")
    assert rows.loc[here, "status"] == "deferred"
    assert rows.loc[here, "error"] == (
        f"deferred by quiet hours to 08:00 local ({name}), {end:%Y-%m-%d %H:%M} UTC"
    )
    assert not in_quiet_hours(start.astimezone(other).time().replace(tzinfo=None), NIGHT)
    assert rows.loc[control, "status"] == "sent"

    move_to(sb, start + dt.timedelta(hours=12))
    got = deliveries(sb, result)
    assert got[here] == end and got[here].astimezone(zone).time() == dt.time(8)
    assert got[here] - start == dt.timedelta(hours=6.5 if forward else 8.5)
    assert dt.timedelta(0) <= got[control] - start < dt.timedelta(seconds=30)
