"""Who a campaign can reach, known before anything goes out.

OneSignal silently ignores external ids it does not know and accepts a push for people whose
every device is unsubscribed (onesignal-behaviour-sources.md: "unknown external ids",
"errors.invalid_aliases"), so its answer alone cannot say who got a push. This module asks
before sending, the cheapest way that answers:

1. the journal's cache for this app (:mod:`onesig_nb.journal.reach`), if younger than
   :data:`MAX_AGE_SECONDS`;
2. per-user lookups (view user) for at most :data:`LOOKUP_MAX_PEOPLE` people not in the cache;
3. else OneSignal's subscription export (one request, a file ready in seconds to minutes),
   which lists every device of the app, so an id absent from it is not in OneSignal;
4. what earlier answers in the journal say (a TagSync's 404, a batch answered "not
   subscribed") for people still unknown.

Each person of the cohort gets one of :data:`STATES`. People known not to be in OneSignal, or
with no subscribed device on the campaign's platforms, are excluded from the send (no request
for them); the rest are sent to, and only those known reachable can be called "sent"
(:data:`~onesig_nb.campaign.views.RESULT_STATUSES`). ``reachability="skip"`` checks nothing:
everyone is ``unknown``, as before this check existed.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from onesig_nb._words import people
from onesig_nb.errors import APIError, AuthError, TransportError, ValidationError
from onesig_nb.journal import Journal
from onesig_nb.onesignal.models import PLATFORMS, Subscription

__all__ = [
    "EXCLUDED_STATES",
    "LOOKUP_MAX_PEOPLE",
    "MAX_AGE_SECONDS",
    "MODES",
    "REASON_WORDS",
    "STATES",
    "Reachability",
    "ReachabilityClient",
    "age_text",
    "check_reachability",
    "subscribed_platforms",
]

log = logging.getLogger("onesig_nb.campaign.campaign")

#: ``Campaign(reachability=...)``: ``auto`` (the cheapest source that answers), ``export``,
#: ``lookup`` (view user per person, whatever the cohort's size), ``journal`` (only what the
#: journal already knows: no request) or ``skip`` (check nothing: everyone ``unknown``).
MODES = ("auto", "export", "lookup", "journal", "skip")

#: A person's reachability for one campaign.
STATES = ("reachable", "unsubscribed", "other_platforms_only", "not_in_onesignal", "unknown")

#: The states whose people get no request (excluded before sending).
EXCLUDED_STATES = ("not_in_onesignal", "unsubscribed", "other_platforms_only")

#: Each excluded state in words (``plan().excluded["reason"]`` holds the state itself).
REASON_WORDS = {
    "not_in_onesignal": "not in this OneSignal app",
    "unsubscribed": "no subscribed device",
    "other_platforms_only": "subscribed only on platforms this campaign excludes",
    "unknown": "not checked",
    "reachable": "reachable",
}

#: Per-user lookups are used for at most this many people not yet known; more use the export.
#: View user shares the view budget, 1 request/s per app after a burst of 10 (docs:
#: rate-limits; onesig_nb.onesignal.ratelimit): 20 lookups take about 10 s, about what an export
#: takes to be ready, and 500 would take 8 minutes.
LOOKUP_MAX_PEOPLE = 20

#: Cached answers younger than this are reused (the plan shows their age); older ones are
#: checked again. Six hours: a day of campaigns shares one export, and a device that
#: unsubscribed since is still listed by OneSignal in the send's answer (invalid_aliases).
MAX_AGE_SECONDS = 6 * 3600


@runtime_checkable
class ReachabilityClient(Protocol):
    """What a client needs to check reachability (:class:`~onesig_nb.onesignal.OneSignal`
    has both; a client without them gets ``unknown`` for everyone)."""

    def export_subscriptions(self) -> list[Subscription]:
        """Every subscription of the app (OneSignal's subscription CSV export)."""
        ...

    def user_subscriptions(self, external_id: str) -> list[Subscription] | None:
        """One user's subscriptions (view user); None when OneSignal does not know the id."""
        ...


def subscribed_platforms(subs: Iterable[Subscription]) -> frozenset[str]:
    """The push platforms (``ios``/``android``/``web``) with at least one subscribed device."""
    return frozenset(s.platform for s in subs if s.subscribed and s.platform in PLATFORMS)


def age_text(seconds: float) -> str:
    """``just now`` / ``12 min ago`` / ``3 h ago`` / ``2 days ago``."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86_400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86_400)} days ago"


@dataclass(frozen=True)
class Reachability:
    """Each usable cohort id's reachability (:data:`STATES`), where it came from and when.

    ``source``: ``export``, ``lookup``, ``journal`` (earlier answers), ``cache`` (an earlier
    export or lookup, see ``checked_at``), ``skip`` or ``none`` (the client cannot check).
    ``checked_at``: the oldest answer used; ``note``: why a check could not be made.
    """

    states: Mapping[str, str]
    source: str
    checked_at: _dt.datetime | None = None
    now: _dt.datetime | None = None
    note: str = ""

    def counts(self) -> dict[str, int]:
        """People per state (every state present, zeros included)."""
        out = dict.fromkeys(STATES, 0)
        for state in self.states.values():
            out[state] += 1
        return out

    @property
    def reachable(self) -> frozenset[str]:
        """The ids known to have a subscribed device on the campaign's platforms."""
        return frozenset(i for i, s in self.states.items() if s == "reachable")

    @property
    def excluded(self) -> dict[str, str]:
        """``{external_id: state}`` of the people the send leaves out (no request for them)."""
        return {i: s for i, s in self.states.items() if s in EXCLUDED_STATES}

    def sendable(self, ids: Sequence[str]) -> list[str]:
        """``ids`` without the excluded people, in order."""
        out = self.excluded
        return [i for i in ids if i not in out]

    def excluded_frame(self):
        """A DataFrame ``external_id, reason`` (a state of :data:`EXCLUDED_STATES`)."""
        import pandas as pd

        rows = list(self.excluded.items())
        return pd.DataFrame(rows, columns=["external_id", "reason"])

    def reason_text(self, state: str) -> str:
        """Why a person is excluded, as the result's ``error`` column says it."""
        return f"excluded before sending: {REASON_WORDS.get(state, state)} ({self.where()})"

    def where(self) -> str:
        """``reachability from the export 12 min ago`` / ``reachability not checked``."""
        if self.source == "skip":
            return "reachability not checked: reachability='skip'"
        if self.source == "none":
            return "reachability not checked: this client cannot check it"
        if self.checked_at is None or self.now is None:
            return f"reachability from {_SOURCE_WORDS.get(self.source, self.source)}"
        age = age_text(max(0.0, (self.now - self.checked_at).total_seconds()))
        return f"reachability from {_SOURCE_WORDS.get(self.source, self.source)} {age}"

    def sentence(self) -> str:
        """``308 reachable, 36 not in OneSignal, 2 unsubscribed (reachability from the export
        12 min ago).`` (only the states present)."""
        c = self.counts()
        words = {
            "reachable": "reachable",
            "not_in_onesignal": "not in OneSignal",
            "unsubscribed": "unsubscribed",
            "other_platforms_only": "only on excluded platforms",
            "unknown": "unknown",
        }
        parts = [f"{c[k]:,} {w}" for k, w in words.items() if c[k]]
        if not self.states:
            return ""
        text = f"{', '.join(parts)} ({self.where()})."
        if self.excluded:
            text += f" {people(len(self.excluded)).capitalize()} excluded: no request for them."
        if self.note:
            text += f" {self.note}"
        return text


_SOURCE_WORDS = {
    "export": "the subscription export",
    "lookup": "user lookups",
    "journal": "earlier answers in the journal",
    "cache": "the cached check",
}


def _parse(at: str) -> _dt.datetime:
    when = _dt.datetime.fromisoformat(at)
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


def _state(known: bool, platforms: frozenset[str], wanted: tuple[str, ...] | None) -> str:
    if not known:
        return "not_in_onesignal"
    if not platforms:
        return "unsubscribed"
    if wanted is not None and not (platforms & set(wanted)):
        return "other_platforms_only"
    return "reachable"


def _known(
    ids: Sequence[str],
    *,
    journal: Journal,
    app_id: str,
    platforms: tuple[str, ...] | None,
    now: _dt.datetime,
    max_age: float,
    confirm_absent: int = 0,
) -> tuple[dict[str, str], list[_dt.datetime], set[str]]:
    """(states of the ids the cache knows freshly, the times used, sources used).

    An id absent from a fresh export is taken as not in OneSignal, unless at most
    ``confirm_absent`` ids are: then they stay unknown, to be looked up one by one (people who
    joined the app since the export must not be excluded on its word alone).
    """
    states: dict[str, str] = {}
    times: list[_dt.datetime] = []
    sources: set[str] = set()
    export_at = journal.reach_export(app_id)
    export = _parse(export_at) if export_at else None
    if export is not None and (now - export).total_seconds() > max_age:
        export = None
    for eid, (known, plats, source, at) in journal.reach_records(app_id, ids).items():
        when = _parse(at)
        if (now - when).total_seconds() <= max_age:
            states[eid] = _state(known, plats, platforms)
            times.append(when)
            sources.add(source)
    if export is not None:
        missing = [i for i in ids if i not in states]
        if len(missing) <= confirm_absent:
            missing = []
        for eid in missing:
            states[eid] = "not_in_onesignal"
        if missing:
            times.append(export)
            sources.add("export")
    return states, times, sources


def check_reachability(
    ids: Sequence[str],
    *,
    mode: str,
    client: Any,
    journal: Journal,
    app_id: str,
    platforms: tuple[str, ...] | None,
    now: _dt.datetime,
    max_age: float = MAX_AGE_SECONDS,
    lookup_max: int = LOOKUP_MAX_PEOPLE,
) -> Reachability:
    """Each of ``ids`` reachable or not, from the cheapest source that answers (module doc).

    :param ids: the cohort's usable external ids, each once
    :param mode: one of :data:`MODES`
    :param platforms: the campaign's platforms when it excludes some (None: all)
    :param now: the time the campaign decides for (ages the cache)
    :raises AuthError: the key was refused (other failures leave people ``unknown`` and say
        why in the result's ``note``)
    """
    if mode not in MODES:
        raise ValidationError(f"reachability must be one of {MODES}, not {mode!r}.")
    if mode == "skip":
        return Reachability(dict.fromkeys(ids, "unknown"), "skip", now=now)
    can_export = callable(getattr(client, "export_subscriptions", None))
    can_lookup = callable(getattr(client, "user_subscriptions", None))
    confirm = lookup_max if can_lookup and mode in ("auto", "lookup") else 0
    kw = dict(journal=journal, app_id=app_id, platforms=platforms, now=now, max_age=max_age)
    states, times, sources = _known(ids, **kw, confirm_absent=confirm)
    todo = [i for i in ids if i not in states]
    note = ""
    if todo and mode != "journal":
        at = now.astimezone(_dt.UTC).isoformat(timespec="seconds")
        try:
            if can_lookup and (mode == "lookup" or (mode == "auto" and len(todo) <= lookup_max)):
                answers = {}
                for eid in todo:
                    subs = client.user_subscriptions(eid)
                    answers[eid] = None if subs is None else subscribed_platforms(subs)
                journal.save_reach_lookups(app_id, answers, checked_at=at)
            elif can_export and mode in ("auto", "export"):
                found: dict[str, set[str]] = {}
                for sub in client.export_subscriptions():
                    if sub.external_id is None:
                        continue
                    plats = found.setdefault(sub.external_id, set())
                    if sub.subscribed and sub.platform in PLATFORMS:
                        plats.add(sub.platform)
                journal.save_reach_export(app_id, found, checked_at=at)
            elif mode in ("export", "lookup"):
                raise ValidationError(
                    f"reachability={mode!r}, but this client cannot {mode} subscriptions. Use "
                    "reachability='auto' (or 'skip' to send without checking)."
                )
        except AuthError:
            raise
        except (APIError, TransportError) as exc:
            note = f"Reachability could not be checked ({exc}); those people are unknown."
            log.warning("reachability check failed: %s", exc)
        states, times, sources = _known(ids, **kw)
    unknown = [i for i in ids if i not in states]
    if unknown:
        hints = journal.reach_hints(app_id)
        for eid in unknown:
            if eid in hints:
                known, plats, _src, at = hints[eid]
                states[eid] = _state(known, plats, platforms)
                times.append(_parse(at))
                sources.add("journal")
    out = {i: states.get(i, "unknown") for i in ids}
    if sources:
        source = sources.pop() if len(sources) == 1 else "cache"
    else:
        source = "journal" if mode == "journal" else "none"
    return Reachability(out, source, checked_at=min(times) if times else None, now=now, note=note)
