"""Sending rules: who may get a push, and when, across every campaign of an app.

    rules = osn.Rules(max_per_person=(1, "24h"), quiet_hours=("21:00", "08:00"),
                      timezone_trait="timezone", suppress="marketing_opt_out == true")
    osn.Campaign("nudge", cohort, msg, client, rules=rules)
    osn.set_rules(rules)          # the default of every campaign of this notebook (or one app)

- **Frequency cap** (``max_per_person=(n, window)``): nobody gets more than ``n`` pushes in any
  ``window``, counting every campaign and experiment of the app in the journal (the journal is
  the ledger; :mod:`~onesig_nb.campaign.caps`). People over the cap are left out with "capped
  until <time>".
- **Quiet hours** (``quiet_hours=(start, end)``, local times): people for whom the push would
  arrive inside them, in their own time zone, get it at the end of the quiet hours instead
  (``send_after``), never dropped (:mod:`~onesig_nb.campaign.timing`).
- **Time zones** come from a Segment trait (``timezone_trait``, IANA names as Segment's
  ``context.timezone`` gives them); a missing or unknown one falls back to ``default_timezone``
  and the plan says for how many people. ``timezone_trait=None`` leaves local-time schedules
  to each device's own time zone (OneSignal's ``delayed_option="timezone"``).
- **Suppression** (``suppress=``): ids, a cohort, a CSV file, or a trait rule such as
  ``"marketing_opt_out == true"``; those people never get a push
  (:mod:`~onesig_nb.campaign.suppression`).

Rules are checked when planning and again, for the frequency cap, inside the transaction that
journals the send's intents, so two notebooks sending at the same moment cannot both pass it.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from onesig_nb._times import positive_duration
from onesig_nb.campaign.suppression import Suppression
from onesig_nb.errors import ValidationError
from onesig_nb.onesignal.push import canonical_json

__all__ = ["Rules", "clear_rules", "default_rules", "load_rules", "parse_clock", "set_rules"]


def parse_clock(value: Any, *, name: str) -> _dt.time:
    """``"21:00"``, ``"8:30"``, ``"9:00PM"`` or a :class:`datetime.time` as a time of day."""
    if isinstance(value, _dt.time):
        return value.replace(tzinfo=None)
    text = str(value).strip().upper().replace(" ", "")
    meridiem = text[-2:] if text[-2:] in ("AM", "PM") else ""
    core = text[: -len(meridiem)] if meridiem else text
    try:
        hour, minute = (int(p) for p in core.split(":"))
        if meridiem:
            if not 1 <= hour <= 12:
                raise ValueError
            hour = hour % 12 + (12 if meridiem == "PM" else 0)
        return _dt.time(hour, minute)
    except ValueError:
        raise ValidationError(
            f"{name} must be a local time of day such as '21:00' or '8:30', not {value!r}."
        ) from None


def _zone(name: Any, *, what: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{what} must be an IANA time zone name such as 'UTC', 'Europe/Berlin' or "
            f"'America/New_York', not {name!r}."
        ) from None


@dataclass(frozen=True, kw_only=True, eq=False)
class Rules:
    """The sending rules of a campaign (or the default of an app: :func:`set_rules`).

    :param max_per_person: ``(n, window)``: at most ``n`` pushes per person in any ``window``
        (``"24h"``, ``"7 days"``, a timedelta), across every campaign of the app in the journal
    :param quiet_hours: ``(start, end)`` local times (``("21:00", "08:00")``); a push that
        would arrive inside them is deferred to ``end`` in the person's time zone
    :param timezone_trait: the cohort trait holding each person's IANA time zone; ``None``:
        local-time schedules use each device's time zone (OneSignal decides; quiet hours then
        use ``default_timezone``)
    :param default_timezone: the zone of people whose trait is missing or unknown
    :param suppress: who never gets a push: external ids, a cohort, a CSV path (its
        ``external_id`` column, else its first), or a trait rule (``"opt_out == true"``)
    :param skip_missing: leave out people who lack a variable the message reads without a
        fallback ("missing required variable 'first_name'") instead of sending them a text
        with a gap (which otherwise has to be acknowledged)
    """

    max_per_person: tuple[int, Any] | None = None
    quiet_hours: tuple[Any, Any] | None = None
    timezone_trait: str | None = "timezone"
    default_timezone: str = "UTC"
    suppress: Any = None
    skip_missing: bool = False
    #: the checked forms of the fields above (set in __post_init__)
    cap: tuple[int, _dt.timedelta] | None = field(init=False, repr=False, compare=False)
    quiet: tuple[_dt.time, _dt.time] | None = field(init=False, repr=False, compare=False)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    suppression: Suppression | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cap", _check_cap(self.max_per_person))
        object.__setattr__(self, "quiet", _check_quiet(self.quiet_hours))
        object.__setattr__(self, "zone", _zone(self.default_timezone, what="default_timezone"))
        if self.timezone_trait is not None and (
            not isinstance(self.timezone_trait, str) or not self.timezone_trait.strip()
        ):
            raise ValidationError(
                "timezone_trait must be the name of a cohort trait (e.g. 'timezone') or None "
                f"(each device's own time zone), not {self.timezone_trait!r}."
            )
        object.__setattr__(
            self, "suppression", None if self.suppress is None else Suppression(self.suppress)
        )
        if not isinstance(self.skip_missing, bool):
            raise ValidationError(f"skip_missing must be True or False, not {self.skip_missing!r}.")

    def _identity(self) -> tuple:
        """What makes two rules the same (a suppression list compares by its ids)."""
        who = None if self.suppression is None else self.suppression.fingerprint()
        return (canonical_json(self.settings()), who)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rules):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    @property
    def empty(self) -> bool:
        """True when these rules change nothing (no cap, no quiet hours, no suppression)."""
        return (
            self.cap is None
            and self.quiet is None
            and self.suppression is None
            and not self.skip_missing
        )

    def settings(self) -> dict:
        """What the rules are, as the journal records them (JSON, comparable)."""
        out: dict[str, Any] = {}
        if self.cap is not None:
            out["max_per_person"] = [self.cap[0], int(self.cap[1].total_seconds())]
        if self.quiet is not None:
            out["quiet_hours"] = [t.strftime("%H:%M") for t in self.quiet]
        if self.quiet is not None or self.cap is not None:
            out["timezone_trait"] = self.timezone_trait
            out["default_timezone"] = self.default_timezone
        if self.suppression is not None:
            out["suppress"] = self.suppression.describe()
        if self.skip_missing:
            out["skip_missing"] = True
        return out

    def lines(self) -> list[str]:
        """The rules in plain words, one per line (the plan and the panel show them)."""
        out = []
        if self.cap is not None:
            n, window = self.cap
            out.append(
                f"at most {n} push{'es' if n != 1 else ''} per person in any "
                f"{_span_text(window)}, across every campaign of this app in the journal"
            )
        if self.quiet is not None:
            start, end = (t.strftime("%H:%M") for t in self.quiet)
            where = (
                f"the '{self.timezone_trait}' trait, else {self.default_timezone}"
                if self.timezone_trait
                else self.default_timezone
            )
            out.append(f"quiet hours {start}-{end} in each person's time zone ({where})")
        if self.suppression is not None:
            out.append(f"never to {self.suppression.describe()}")
        if self.skip_missing:
            out.append("not to people missing a variable the message needs (no fallback)")
        return out or ["no sending rules"]

    def __str__(self) -> str:
        return "; ".join(self.lines())


def _span_text(span: _dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}" if n != 1 else unit
    return f"{seconds} seconds"


def _check_cap(value: Any) -> tuple[int, _dt.timedelta] | None:
    if value is None:
        return None
    try:
        n, window = value
    except (TypeError, ValueError):
        n, window = None, None
    if type(n) is not int or n < 1:
        raise ValidationError(
            f"max_per_person must be (count, window) such as (1, '24h') or (3, '7 days'), "
            f"with a count of at least 1, not {value!r}."
        )
    if isinstance(window, (int, float)):
        raise ValidationError(
            f"max_per_person's window needs a unit: write (n, '24h') or (n, '7 days'), not a "
            f"bare number ({window!r})."
        )
    span = positive_duration(window, name="max_per_person's window", example="24h")
    if span < _dt.timedelta(seconds=1):
        raise ValidationError(
            f"max_per_person's window must be at least a second (such as '24h'), not {window!r}."
        )
    return n, span.to_pytimedelta()


def _check_quiet(value: Any) -> tuple[_dt.time, _dt.time] | None:
    if value is None:
        return None
    try:
        start, end = value
    except (TypeError, ValueError):
        raise ValidationError(
            f"quiet_hours must be (start, end) local times such as ('21:00', '08:00'), "
            f"not {value!r}."
        ) from None
    start = parse_clock(start, name="quiet_hours' start")
    end = parse_clock(end, name="quiet_hours' end")
    if start == end:
        raise ValidationError(
            f"quiet_hours starts and ends at {start:%H:%M}: give two different times, such as "
            "('21:00', '08:00'), or leave quiet_hours out."
        )
    return start, end


# -- the default rules of a notebook --------------------------------------------------------
_DEFAULTS: dict[str | None, Rules] = {}
_DEFAULTS_LOCK = threading.Lock()


def set_rules(rules: Rules | None = None, /, *, app_id: str | None = None, **fields: Any) -> Rules:
    """Set the rules every campaign (and experiment, panel, send) of this process uses when it
    is given none: ``osn.set_rules(max_per_person=(1, "24h"))`` or ``osn.set_rules(rules)``.

    :param app_id: only for that OneSignal app (default: every app)
    Every plan shows the rules it uses. ``set_rules(None)`` removes the default.
    """
    if rules is not None and fields:
        raise ValidationError("Pass set_rules() either a Rules or its fields, not both.")
    if rules is None and not fields:
        clear_rules(app_id=app_id)
        return Rules()
    chosen = rules if rules is not None else Rules(**fields)
    if not isinstance(chosen, Rules):
        raise ValidationError(f"set_rules() takes an osn.Rules, not {type(chosen).__name__}.")
    with _DEFAULTS_LOCK:
        _DEFAULTS[app_id] = chosen
    return chosen


def clear_rules(*, app_id: str | None = None) -> None:
    """Remove the default rules (of one app, or the one for every app)."""
    with _DEFAULTS_LOCK:
        _DEFAULTS.pop(app_id, None)


def default_rules(app_id: str | None) -> Rules | None:
    """The default set for ``app_id`` (else for every app), or None."""
    with _DEFAULTS_LOCK:
        return _DEFAULTS.get(app_id) or _DEFAULTS.get(None)


def load_rules(source: Any) -> Rules:
    """A :class:`Rules` from a mapping or a YAML file (``onesig-nb send --rules rules.yaml``).

    The YAML holds the same names as :class:`Rules`::

        max_per_person: [1, 24h]
        quiet_hours: ["21:00", "08:00"]
        timezone_trait: timezone
        suppress: "marketing_opt_out == true"
    """
    if isinstance(source, Rules):
        return source
    if not isinstance(source, Mapping):
        from pathlib import Path

        import yaml

        path = Path(source)
        if not path.is_file():
            raise ValidationError(f"Rules file {str(path)!r} does not exist.")
        try:
            source = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValidationError(f"Rules file {str(path)!r} is not valid YAML: {exc}") from None
        if source is None:
            source = {}
        if not isinstance(source, Mapping):
            raise ValidationError(
                f"Rules file {str(path)!r} must hold a mapping such as "
                "'max_per_person: [1, 24h]', not a list or a single value."
            )
        suppress = source.get("suppress")
        if isinstance(suppress, str) and not any(op in suppress for op in "=<>"):
            beside = path.parent / suppress  # a CSV named in the file is read beside it
            if not Path(suppress).is_absolute() and beside.is_file():
                source = {**source, "suppress": str(beside)}
    known = {
        "max_per_person", "quiet_hours", "timezone_trait", "default_timezone", "suppress",
        "skip_missing",
    }  # fmt: skip
    unknown = sorted(set(source) - known)
    if unknown:
        raise ValidationError(f"Unknown rule(s) {unknown}; rules are {sorted(known)}.")
    fields = dict(source)
    for key in ("max_per_person", "quiet_hours"):
        if isinstance(fields.get(key), list):
            fields[key] = tuple(fields[key])
    if isinstance(fields.get("quiet_hours"), tuple):
        # YAML 1.1 reads an unquoted 21:00 as the base-60 number 1260: read it back as a time
        fields["quiet_hours"] = tuple(
            f"{v // 60}:{v % 60:02d}" if type(v) is int else v for v in fields["quiet_hours"]
        )
    return Rules(**fields)
