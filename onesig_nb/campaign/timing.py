"""When the push reaches each person: now, one instant, a local time of day, or the end of the
person's quiet hours, and the requests (``send_after`` groups) that makes.

- ``schedule=None``: now; ``schedule=datetime`` (or ISO text): that one instant for everyone.
- ``schedule="2026-12-01 09:00 local"``: 09:00 on that day in each person's time zone. With a
  time-zone trait (:class:`~onesig_nb.campaign.rules.Rules`' ``timezone_trait``) each person's
  instant is computed here and people sharing one go in one request (``send_after``); with
  ``timezone_trait=None`` OneSignal uses each device's own zone (``delayed_option="timezone"``
  with ``delivery_time_of_day``; v11.6 create-message), in one request.
- Quiet hours: a person whose push would arrive inside them, in their local time, gets it at
  their end (``send_after``), never dropped.

Local times are turned into instants with :mod:`zoneinfo` on the day itself, so daylight saving
changes and half- or 45-minute offsets come out right. A local time that does not exist on that
day (the hour skipped when clocks go forward) is read as the same wall time on the earlier
offset, which lands it after the gap: later, never earlier. A repeated one (clocks going back)
is its first occurrence. People with no time zone, or one that is not an IANA name, use the
default zone, and the plan says how many.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onesig_nb.campaign.rules import Rules, parse_clock
from onesig_nb.errors import ValidationError
from onesig_nb.journal.spans import ledger_span

__all__ = [
    "EARLIEST_OFFSET",
    "LATEST_OFFSET",
    "LocalSchedule",
    "Timing",
    "in_quiet_hours",
    "is_local",
    "local_instant",
    "parse_schedule",
    "person_zones",
    "plan_timing",
    "ledger_span",
    "quiet_end",
]

#: The first and last UTC offsets in use (Kiribati's Line Islands, +14:00; Baker Island's
#: -12:00): a local time of day happens somewhere between these two instants.
EARLIEST_OFFSET = _dt.timedelta(hours=14)
LATEST_OFFSET = _dt.timedelta(hours=-12)

_LOCAL = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?:\s*[AaPp][Mm])?)\s+local\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class LocalSchedule:
    """A time of day on one date, in each person's own time zone."""

    day: _dt.date
    at: _dt.time

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.at:%H:%M} local"


def is_local(schedule: Any) -> bool:
    """Whether ``schedule`` is a local time of day (``"2026-12-01 09:00 local"``)."""
    return isinstance(schedule, LocalSchedule) or (
        isinstance(schedule, str) and _LOCAL.match(schedule) is not None
    )


def parse_schedule(schedule: Any) -> _dt.datetime | LocalSchedule | None:
    """``schedule=`` as one aware UTC instant, a :class:`LocalSchedule`, or None (now)."""
    if schedule is None:
        return None
    if isinstance(schedule, LocalSchedule):
        return schedule
    if isinstance(schedule, _dt.datetime):
        when = schedule if schedule.tzinfo is not None else schedule.replace(tzinfo=_dt.UTC)
        return when.astimezone(_dt.UTC)
    text = str(schedule)
    m = _LOCAL.match(text)
    if m:
        try:
            day = _dt.date.fromisoformat(m.group(1))
        except ValueError:
            raise ValidationError(f"schedule {text!r} has no such date ({m.group(1)}).") from None
        return LocalSchedule(day, parse_clock(m.group(2), name="the schedule's time of day"))
    try:
        when = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"schedule {text!r} is not a time this campaign can plan with: give a datetime, an "
            "ISO time such as '2026-12-01T09:00:00Z', or a local time of day such as "
            "'2026-12-01 09:00 local' (09:00 in each person's time zone)."
        ) from None
    return parse_schedule(when)


def local_instant(day: _dt.date, at: _dt.time, zone: ZoneInfo) -> _dt.datetime:
    """``at`` on ``day`` in ``zone`` as a UTC instant (a skipped wall time lands after the gap;
    a repeated one is its first occurrence)."""
    return _dt.datetime.combine(day, at, zone).astimezone(_dt.UTC)


def in_quiet_hours(local: _dt.time, quiet: tuple[_dt.time, _dt.time]) -> bool:
    """Whether the wall time ``local`` is inside quiet hours ``(start, end)`` (end excluded;
    a start after the end spans midnight)."""
    start, end = quiet
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_end(
    instant: _dt.datetime, zone: ZoneInfo, quiet: tuple[_dt.time, _dt.time]
) -> _dt.datetime | None:
    """When quiet hours end for a push arriving at ``instant`` in ``zone`` (UTC), or None when
    ``instant`` is outside them."""
    local = instant.astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    if not in_quiet_hours(wall, quiet):
        return None
    end = quiet[1]
    day = local.date() if wall < end else local.date() + _dt.timedelta(days=1)
    out = local_instant(day, end, zone)
    if out <= instant:  # the night clocks go back: the end's second occurrence, if later
        out = _dt.datetime.combine(day, end, zone).replace(fold=1).astimezone(_dt.UTC)
    if out <= instant:  # the end's wall time fell in a gap that moved it back past us
        out = local_instant(day + _dt.timedelta(days=1), end, zone)
    return out


def person_zones(
    frame: Any, ids: Sequence[str], *, rules: Rules
) -> tuple[dict[str, ZoneInfo], list[str]]:
    """(``{external_id: zone}`` from the time-zone trait, notes on the people who fell back to
    the default zone)."""
    default = rules.zone
    trait = rules.timezone_trait
    if trait is None or trait not in getattr(frame, "columns", ()):
        note = (
            f"the cohort has no '{trait}' trait, so everyone's local time is "
            f"{rules.default_timezone}"
            if trait
            else f"quiet hours use {rules.default_timezone} (timezone_trait=None)"
        )
        return {i: default for i in ids}, [note]
    wanted = set(ids)
    sub = frame[frame["external_id"].astype(str).isin(wanted)]
    names = dict(zip(sub["external_id"].astype(str), sub[trait], strict=True))
    cache: dict[str, ZoneInfo | None] = {}
    zones: dict[str, ZoneInfo] = {}
    missing, unknown = 0, Counter()
    for eid in ids:
        name = names.get(eid)
        if _missing(name) or not str(name).strip():
            missing += 1
            zones[eid] = default
            continue
        key = str(name).strip()
        if key not in cache:
            try:
                cache[key] = ZoneInfo(key)
            except (ZoneInfoNotFoundError, ValueError):
                cache[key] = None
        zone = cache[key]
        if zone is None:
            unknown[key] += 1
        zones[eid] = zone or default
    notes = []
    if missing:
        notes.append(
            f"{missing:,} {'person has' if missing == 1 else 'people have'} no '{trait}' "
            f"trait: {rules.default_timezone} is used for them"
        )
    if unknown:
        shown = ", ".join(repr(k) for k, _ in unknown.most_common(3))
        n = sum(unknown.values())
        notes.append(
            f"{n:,} {'person has' if n == 1 else 'people have'} a '{trait}' that is not a "
            f"time zone name ({shown}): {rules.default_timezone} is used for them"
        )
    return zones, notes


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA or NaT."""
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass
class Timing:
    """When the push reaches each person, and why it waits (what :func:`plan_timing` decided).

    ``at``: ``{external_id: UTC instant}`` (the instant the cap counts; ``now`` for a push
    sent at once); ``send_after``: ``{external_id: the send_after text}`` for the people it is
    scheduled for; ``deferred``: ``{external_id: why it waits}`` for people moved by quiet
    hours.
    """

    at: dict[str, _dt.datetime] = field(default_factory=dict)
    send_after: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    zones: dict[str, ZoneInfo] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: payload fields every request gets (OneSignal's device-time-zone delivery)
    extra: dict[str, str] = field(default_factory=dict)
    scheduled: bool = False

    def signature(self) -> str:
        """A digest of who goes when (batches planned under another timing differ)."""
        import hashlib

        h = hashlib.sha256()
        for eid in sorted(self.send_after):
            h.update(f"{eid}\x1f{self.send_after[eid]}\x1f{self.deferred.get(eid, '')}\n".encode())
        h.update(repr(sorted(self.extra.items())).encode())
        return h.hexdigest()

    def group_of(self, eid: str) -> tuple[str | None, str | None]:
        """(send_after, hold) of one person: people with equal ones share requests."""
        return self.send_after.get(eid), self.deferred.get(eid)

    def table(self):
        """A DataFrame: how many people go at what UTC and local time (and why they wait)."""
        import pandas as pd

        rows: Counter = Counter()
        for eid, when in self.at.items():
            zone = self.zones.get(eid)
            local = when.astimezone(zone) if zone is not None else when
            why = (
                "quiet hours"
                if eid in self.deferred
                else ("scheduled" if self.scheduled else "now")
            )
            utc = when.astimezone(_dt.UTC).replace(microsecond=0)
            rows[(utc, local.strftime("%Y-%m-%d %H:%M"), getattr(zone, "key", "UTC"), why)] += 1
        frame = pd.DataFrame(
            [(*k, n) for k, n in rows.items()],
            columns=["utc", "local_time", "time_zone", "why", "people"],
        )
        if self.extra.get("delayed_option") == "timezone":
            frame["local_time"] = f"{self.extra['delivery_time_of_day']} device time"
            frame["time_zone"] = "each device's own"
        return frame.sort_values(["utc", "time_zone"], ignore_index=True)


def _iso(when: _dt.datetime) -> str:
    return when.astimezone(_dt.UTC).isoformat(timespec="seconds")


def deferred_text(until: _dt.datetime, zone: ZoneInfo) -> str:
    local = until.astimezone(zone)
    return (
        f"deferred by quiet hours to {local:%H:%M} local ({zone.key}), {until:%Y-%m-%d %H:%M} UTC"
    )


def plan_timing(
    ids: Sequence[str], *, frame: Any, rules: Rules, schedule: Any, now: _dt.datetime
) -> Timing:
    """When the push reaches each of ``ids``, under ``rules`` and ``schedule``.

    :param frame: the cohort's DataFrame (external_id + traits: the time-zone trait)
    :param schedule: ``schedule=`` of the campaign (see :func:`parse_schedule`)
    :param now: the campaign's clock, read once for this plan
    :raises ValidationError: a local schedule whose time of day is inside the quiet hours
    """
    when = parse_schedule(schedule)
    out = Timing(scheduled=when is not None)
    needs_zones = rules.quiet is not None or isinstance(when, LocalSchedule)
    zones, notes = (
        person_zones(frame, ids, rules=rules) if needs_zones else ({i: rules.zone for i in ids}, [])
    )
    out.zones, out.notes = zones, notes if needs_zones else []
    device = isinstance(when, LocalSchedule) and rules.timezone_trait is None
    if isinstance(when, LocalSchedule) and rules.quiet and in_quiet_hours(when.at, rules.quiet):
        start, end = (t.strftime("%H:%M") for t in rules.quiet)
        raise ValidationError(
            f"schedule {str(when)!r} is inside the quiet hours {start}-{end}: nobody could get "
            "it then. Pick a time outside the quiet hours, or change the rules."
        )
    if device:
        assert isinstance(when, LocalSchedule)
        # OneSignal delivers at the first such local time at or after send_after: starting at
        # the day's first one (in +14:00) gives that day's everywhere from UTC-09:30 to
        # +14:00; one day's local times span 26 hours, so zones further west (UTC-10 and
        # beyond) get the day before's (the note says so)
        earliest = local_instant(when.day, when.at, _dt.timezone(EARLIEST_OFFSET))
        first = max(now, earliest)
        latest = local_instant(when.day, when.at, _dt.timezone(LATEST_OFFSET))
        out.extra = {
            "delayed_option": "timezone",
            "delivery_time_of_day": when.at.strftime("%H:%M"),
        }
        out.notes = [
            f"each device gets it at {when.at:%H:%M} in its own time zone (OneSignal's "
            "delayed_option='timezone'), between "
            f"{max(earliest, now):%Y-%m-%d %H:%M} and {latest:%Y-%m-%d %H:%M} UTC; devices "
            "in zones west of UTC-09:30 (Hawaii, some Pacific islands) get it at that time on "
            "the day before",
        ]
        for eid in ids:
            out.at[eid] = max(earliest, now)
            out.send_after[eid] = _iso(first)
        return out
    late = 0
    for eid in ids:
        zone = zones[eid]
        if isinstance(when, LocalSchedule):
            at = local_instant(when.day, when.at, zone)
            if at <= now:
                late += 1
                at = now
        else:
            at = max(when, now) if when is not None else now  # a past send_after: at once
        if rules.quiet is not None:
            end = quiet_end(at, zone, rules.quiet)
            if end is not None:
                at = end
                out.deferred[eid] = deferred_text(end, zone)
        out.at[eid] = at
        if at > now or when is not None:
            out.send_after[eid] = _iso(at)
    if late:
        out.notes.append(
            f"{str(when)}: that time has already passed for {late:,} "
            f"{'person' if late == 1 else 'people'}, who get it at once"
        )
    return out
