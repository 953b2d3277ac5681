"""Who the sending rules hold back in one plan or send, and why: suppressed, capped until a
time, or deferred by quiet hours; and the cap's second check, inside the transaction that
journals the send's intents.

:func:`apply_rules` is read-only (the plan and the send both call it); :func:`cap_guard`
returns the check :meth:`~onesig_nb.journal.journal.Journal.create_run` runs under the
journal's write lock, so two notebooks sending two campaigns at once cannot both pass the cap:
the second one finds the first one's ledger rows, writes nothing, and decides again.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from onesig_nb.campaign import caps
from onesig_nb.campaign.rules import Rules
from onesig_nb.campaign.timing import Timing, is_local, ledger_span, plan_timing
from onesig_nb.journal import Batch, Journal

__all__ = ["Holds", "apply_rules", "cap_guard", "capped_text", "stamp"]


def _iso(when: _dt.datetime) -> str:
    return when.astimezone(_dt.UTC).isoformat(timespec="seconds")


def capped_text(until: float | None, *, n: int, window: _dt.timedelta) -> str:
    """Why a person is left out by the cap, and until when."""
    limit = f"{n} per {_span(window)}"
    if until is None:
        return (
            f"capped ({limit}): an unfinished send of another campaign may still reach them; "
            "finish it (send()) or cancel it (cancel()) first"
        )
    when = _dt.datetime.fromtimestamp(until, _dt.UTC)
    return f"capped until {when:%Y-%m-%d %H:%M} UTC ({limit})"


def _span(window: _dt.timedelta) -> str:
    hours = window.total_seconds() / 3600
    if hours % 24 == 0:
        days = int(hours // 24)
        return "day" if days == 1 else f"{days} days"
    return f"{hours:g} h"


@dataclass
class Holds:
    """What the rules decided for one plan or send."""

    #: ``{external_id: reason}`` of people never sent to (``suppressed: ...``)
    suppressed: dict[str, str] = field(default_factory=dict)
    #: ``{external_id: reason}`` of people over the frequency cap (``capped until ...``)
    capped: dict[str, str] = field(default_factory=dict)
    #: when each of the others gets it (None: at once, as OneSignal sends)
    timing: Timing | None = None

    #: ``{external_id: reason}`` of people lacking a variable the message needs
    #: (``missing required variable ...``; ``skip_missing``)
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def excluded(self) -> dict[str, str]:
        """People the rules leave out of this send, with why."""
        return {**self.suppressed, **self.missing, **self.capped}

    @property
    def held(self) -> dict[str, str]:
        """Everyone the rules leave out or defer, with why (the plan's excluded table)."""
        deferred = self.timing.deferred if self.timing is not None else {}
        return {**self.excluded, **deferred}


def apply_rules(
    ids: Sequence[str],
    *,
    rules: Rules,
    frame: Any,
    schedule: Any,
    now: _dt.datetime,
    journal: Journal,
    app_id: str,
    run: str,
    required: set[str] | None = None,
    tag_map: dict | None = None,
) -> Holds:
    """Apply ``rules`` to ``ids`` (the people a send could reach) at ``now``.

    :param frame: the cohort's DataFrame (external_id + traits), for suppression rules and
        time zones
    :param schedule: the campaign's ``schedule=`` (when everyone, or each person, gets it)
    :param run: the campaign's name: its own journaled pushes are not counted against it
    :param required: the variables the message reads without a fallback (``skip_missing``);
        ``tag_map`` renames traits to the tag names those variables use
    """
    out = Holds()
    if rules.suppression is not None:
        why = f"suppressed: {rules.suppression.describe()}"
        wanted = set(ids)
        sub = frame[frame["external_id"].astype(str).isin(wanted)]
        out.suppressed = {eid: why for eid in rules.suppression.suppressed(sub)}
    if rules.skip_missing and required:
        out.missing = _missing_variables(ids, frame, sorted(required), tag_map, out.suppressed)
    rest = [i for i in ids if i not in out.suppressed and i not in out.missing]
    if rules.quiet is not None or rules.cap is not None or is_local(schedule):
        out.timing = plan_timing(rest, frame=frame, rules=rules, schedule=schedule, now=now)
    if rules.cap is not None and rest:
        n, window = rules.cap
        assert out.timing is not None
        times = {eid: out.timing.at[eid].timestamp() for eid in rest}
        ledger = _ledger(journal, app_id, run, times, window)
        for eid, until in caps.capped(times, ledger, n=n, window=window.total_seconds()).items():
            out.capped[eid] = capped_text(until, n=n, window=window)
        for eid in out.capped:
            out.timing.at.pop(eid, None)
            out.timing.send_after.pop(eid, None)
            out.timing.deferred.pop(eid, None)
    return out


def _missing_variables(
    ids: Sequence[str],
    frame: Any,
    variables: list[str],
    tag_map: dict | None,
    skip: dict[str, str],
) -> dict[str, str]:
    """``{external_id: reason}`` of ``ids`` with no value for some of ``variables`` (as the
    preview renders them: an absent or empty tag)."""
    import numpy as np

    from onesig_nb.message.rendering import TagColumns

    wanted = [i for i in ids if i not in skip]
    sub = frame[frame["external_id"].astype(str).isin(set(wanted))]
    tags = TagColumns(sub.reset_index(drop=True), tag_map)
    sub_ids = sub["external_id"].astype(str).tolist()
    out: dict[str, str] = {}
    for var in variables:
        absent = np.equal(tags.column(var), None)
        for eid in np.asarray(sub_ids, dtype=object)[absent]:
            out.setdefault(str(eid), f"missing required variable '{var}' (skip_missing)")
    return out


def _ledger(
    journal: Journal, app_id: str, run: str, times: dict[str, float], window: _dt.timedelta
) -> dict[str, list[caps.Span]]:
    """The ledger's pushes of other campaigns that may fall in a window around ``times``."""
    since = _dt.datetime.fromtimestamp(min(times.values()), _dt.UTC) - window
    rows = journal.deliveries(app_id, since=_iso(since), people=times)
    return caps.spans_of(r for r in rows if r[3] != run)


def stamp(batches: Sequence[Batch], now: _dt.datetime) -> tuple[Batch, ...]:
    """``batches`` with the time their push may reach people (the delivery ledger's rows)."""
    out = []
    for b in batches:
        start, until = ledger_span(b.payload, now)
        out.append(dataclasses.replace(b, deliver_at=start, deliver_until=until))
    return tuple(out)


def cap_guard(
    batches: Sequence[Batch], *, rules: Rules, journal: Journal, app_id: str, run: str
) -> Callable[[], None] | None:
    """The check run inside the intents' transaction: raises :class:`~onesig_nb.campaign.caps.
    CapRace` when, with the ledger as it is under the write lock, someone in ``batches``
    (stamped: :func:`stamp`) is now over the cap. None when there is no cap."""
    if rules.cap is None or not batches:
        return None
    n, window = rules.cap
    times = {
        eid: _dt.datetime.fromisoformat(b.deliver_at or "").timestamp()
        for b in batches
        for eid in b.external_ids
    }

    def guard() -> None:
        ledger = _ledger(journal, app_id, run, times, window)
        over = caps.capped(times, ledger, n=n, window=window.total_seconds())
        if over:
            raise caps.CapRace(f"{len(over):,} people were capped by another send meanwhile")

    return guard
