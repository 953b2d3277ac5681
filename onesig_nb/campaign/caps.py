"""The frequency cap: may one more push reach a person at a given time, and if not, until when?

The journal of the app is the ledger (:meth:`~onesig_nb.journal.journal.Journal.deliveries`):
every push a campaign or experiment planned for a person, as the span of time in which it
reaches them. A push that went out reaches them at one instant; one scheduled by each device's
own time zone sometime in the 24 hours after its start; one still unfinished (journaled, not
answered yet, or failed and waiting to be resumed) at any time from now on, because a resume
may send it whenever it runs. Counting the whole span is the safe reading: a push is counted in
every window it might fall in.

A new push at time ``t`` is allowed when every window of the cap's length that contains ``t``
holds fewer than ``n`` pushes. Times are whole seconds (the journal keeps seconds).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["FOREVER", "CapRace", "Span", "allowed", "capped", "next_allowed", "spans_of"]


class CapRace(Exception):
    """Raised inside the intents' transaction when another send took the cap first: nothing
    was written, and the campaign decides again with the ledger as it is now."""


#: The end of a span that is still open (an unfinished push may go out at any later time).
FOREVER = math.inf


@dataclass(frozen=True)
class Span:
    """When one journaled push reaches (or may reach) a person: ``[start, end]`` in Unix
    seconds; ``end`` is :data:`FOREVER` for a push not sent yet."""

    start: float
    end: float
    run: str = ""

    @classmethod
    def of(cls, start: _dt.datetime, end: _dt.datetime | None, run: str = "") -> Span:
        s = start.timestamp()
        return cls(s, FOREVER if end is None else max(s, end.timestamp()), run)


def _in_window(span: Span, lo: float, hi: float) -> bool:
    """Whether ``span`` may fall in the window ``[lo, hi)``."""
    return span.start < hi and span.end >= lo


def allowed(spans: Sequence[Span], t: float, *, n: int, window: float) -> bool:
    """May one more push reach the person at ``t``: does every window of length ``window``
    containing ``t`` hold fewer than ``n`` of ``spans``?"""
    near = [s for s in spans if _in_window(s, t - window + 1, t + window)]
    if len(near) < n:
        return True
    # The windows containing t start in (t - window, t]; the count in a window only rises
    # where a span enters it, so it is enough to look at the first window and at each one
    # that starts just as a span's start comes within reach.
    starts = {t - window + 1}
    starts.update(s.start - window + 1 for s in near if t - window + 1 < s.start - window + 1 <= t)
    for lo in starts:
        if sum(_in_window(s, lo, lo + window) for s in near) >= n:
            return False
    return True


def next_allowed(spans: Sequence[Span], t: float, *, n: int, window: float) -> float | None:
    """The first time at or after ``t`` when one more push may reach the person; None when an
    unfinished push holds the cap open (it may still go out at any time)."""
    if allowed(spans, t, n=n, window=window):
        return t
    candidates = sorted({s.end + window for s in spans if s.end != FOREVER and s.end + window > t})
    for c in candidates:
        if allowed(spans, c, n=n, window=window):
            return c
    return None


def capped(
    times: dict[str, float],
    ledger: dict[str, list[Span]],
    *,
    n: int,
    window: float,
) -> dict[str, float | None]:
    """``{external_id: next allowed time (None: held by an unfinished push)}`` of the people
    in ``times`` (``{external_id: when the push would reach them}``) the cap leaves out."""
    out: dict[str, float | None] = {}
    for eid, t in times.items():
        t = math.floor(t)  # the journal keeps whole seconds (cut, not rounded): so does this
        spans = ledger.get(eid)
        if spans and not allowed(spans, t, n=n, window=window):
            out[eid] = next_allowed(spans, t, n=n, window=window)
    return out


def spans_of(rows: Iterable[tuple[str, str, str | None, str]]) -> dict[str, list[Span]]:
    """The ledger's rows ``(external_id, start ISO, end ISO or None, run)`` by person."""
    out: dict[str, list[Span]] = {}
    for eid, start, end, run in rows:
        s = _dt.datetime.fromisoformat(start)
        e = None if end is None else _dt.datetime.fromisoformat(end)
        out.setdefault(eid, []).append(Span.of(s, e, run))
    return out
