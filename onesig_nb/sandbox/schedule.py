"""When each subscription gets a notification: ``send_after``, ``delayed_option`` and
``delivery_time_of_day``, read as the specs describe them.

- ``send_after`` (v11.6: ISO 8601 or anything JavaScript's ``Date()`` parses; v1.2.2 examples
  such as ``"Thu Sep 24 2015 14:00:00 GMT-0700 (PDT)"`` and ``"September 24th 2015, 2:00:00 pm
  UTC-07:00"``). Without an offset it is read as UTC (limits table, ``send_after_without_zone``).
- ``delayed_option: "timezone"`` with ``delivery_time_of_day`` (``"9:00AM"``, ``"21:45"``,
  ``"09:45:30"``): the next such local time, in the subscription's time zone, at or after the
  start (``send_after`` or now).
- ``delayed_option: "last-active"``: the sandbox has no sessions, so a subscription's last
  activity is its creation time; delivery is at that time of day, within 24 h of the start.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DELAYED_OPTIONS = ("timezone", "last-active")

_PAREN = re.compile(r"\([^)]*\)")
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b", re.IGNORECASE)
#: "GMT-0700" / "UTC+02:00": dateutil reads a sign after GMT/UTC the POSIX way (inverted), so
#: the prefix is dropped and the offset kept as JavaScript's Date() reads it.
_ZONE_PREFIX = re.compile(r"\b(?:GMT|UTC)\s*(?=[+-]\d)", re.IGNORECASE)
_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?\s*$")


class BadSchedule(ValueError):
    """A scheduling field OneSignal would refuse."""


def parse_send_after(text: object) -> float:
    """Unix seconds for a ``send_after`` value (raises :class:`BadSchedule`)."""
    if not isinstance(text, str) or not text.strip():
        raise BadSchedule("send_after must be a date-time string such as 2025-09-24T14:00:00Z")
    from dateutil import parser

    cleaned = _PAREN.sub(" ", text)
    cleaned = _ORDINAL.sub(r"\1", cleaned)
    cleaned = re.sub(r"\bSept\b", "Sep", cleaned, flags=re.IGNORECASE)
    cleaned = _ZONE_PREFIX.sub("", cleaned).strip()
    try:
        when = parser.parse(cleaned)
    except (ValueError, OverflowError) as exc:
        raise BadSchedule(f"send_after {text!r} is not a date-time OneSignal can read") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def parse_time_of_day(text: object) -> time:
    """``"9:00AM"``, ``"21:45"`` or ``"09:45:30"`` as a :class:`datetime.time`."""
    found = _TIME_OF_DAY.match(text) if isinstance(text, str) else None
    if not found:
        raise BadSchedule("delivery_time_of_day must look like '9:00AM', '21:45' or '09:45:30'")
    hour, minute, second = int(found[1]), int(found[2]), int(found[3] or 0)
    meridiem = (found[4] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise BadSchedule("delivery_time_of_day: a 12-hour time runs from 1 to 12")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise BadSchedule(f"delivery_time_of_day {text!r} is not a time of day")
    return time(hour, minute, second)


def zone(name: str | None) -> ZoneInfo:
    """An IANA time zone (``ValueError`` naming the zone if unknown)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Lisbon"
        ) from exc


def next_local_time(start: float, at: time, tz_name: str | None) -> float:
    """The first instant at or after ``start`` whose local time in ``tz_name`` is ``at``."""
    tz = zone(tz_name)
    local = datetime.fromtimestamp(start, tz)
    for days in range(0, 3):
        day = (local + timedelta(days=days)).date()
        candidate = datetime.combine(day, at, tzinfo=tz).timestamp()
        if candidate >= start:
            return candidate
    raise AssertionError("unreachable: a time of day recurs within two days")


def due_time(
    *,
    start: float,
    delayed_option: str | None,
    time_of_day: time | None,
    tz_name: str | None,
    last_active: float,
) -> float:
    """When one subscription gets the notification."""
    if delayed_option == "timezone" and time_of_day is not None:
        return next_local_time(start, time_of_day, tz_name)
    if delayed_option == "last-active":
        moment = datetime.fromtimestamp(last_active, UTC).time()
        return next_local_time(start, moment, "UTC")
    return start
