"""Which personalization a campaign uses (server or client), and why, in plain words.

Server mode sends one templated notification per batch and lets OneSignal fill ``{{ first_name }}``
from the tags IT stores. That is only what the marketer previewed (rendered from the cohort's
traits) when those tags are in OneSignal with the current values. The journal is the proof: a
:class:`~onesig_nb.campaign.tagsync.TagSync` of the same journal and app remembers, per person, the value
it last wrote for each tag. ``"auto"`` therefore pre-renders (client mode: what you preview is
exactly what is sent) unless the journal shows that, for every recipient, every variable of the
template holds the value :func:`onesig_nb.segment.tags.tags_from_traits` gives for their current traits.

Being written is not enough: OneSignal asks to allow 60+ seconds after a tag edit before sending
messages personalized from it (:data:`TAG_PROPAGATION_SECONDS`). Until the journal shows the
writes are that old, ``"auto"`` pre-renders and says so, and an explicit ``"server"`` gets a
warning in the plan's checks.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from onesig_nb._words import count as count_words
from onesig_nb._words import people
from onesig_nb.message.rendering import LANG_FIELDS
from onesig_nb.segment.tags import tags_from_traits

__all__ = [
    "FRESH_CODE",
    "PERSONALIZATION_MODES",
    "TAG_PROPAGATION_SECONDS",
    "UNPROVEN_CODE",
    "ModeChoice",
    "TagProof",
    "choose_mode",
    "prove_synced_tags",
]

#: What ``Campaign(personalization=...)`` accepts.
PERSONALIZATION_MODES = ("auto", "server", "client")

#: The plain-words promise of client mode.
PRE_RENDERED = "pre-rendered: each person gets exactly the preview"

#: After a tag edit, OneSignal asks to "allow 60+ seconds" before sending messages personalized
#: from those tags (docs: "Edit tags with external user id"; the "tag propagation" row of
#: ../shared/reference/onesignal-behaviour-sources.md). Server mode waits this long after the
#: last write the journal proves.
TAG_PROPAGATION_SECONDS = 60

#: The journal stores times to the second, cut short (``journal.store.utc_now``): a write
#: recorded at 12:00:00 may have happened at 12:00:00.9, so ages are counted this much lower.
JOURNAL_TIME_STEP_SECONDS = 1

#: The plan's finding code when the journal cannot prove the tags server mode reads.
UNPROVEN_CODE = "personalization-tags-unproven"

#: The plan's finding code when the proven tags were written too recently to be relied on.
FRESH_CODE = "personalization-tags-fresh"


@dataclass(frozen=True)
class ModeChoice:
    """The mode a campaign sends in, the reason shown in its plan, and a warning if any.

    ``fresh_until``: set when the decision rests on tags written less than
    :data:`TAG_PROPAGATION_SECONDS` ago; from then on the same inputs decide differently, so a
    cached choice must be made again.
    """

    mode: str  # "none" | "server" | "client"
    reason: str
    warning: str = ""
    warning_code: str = UNPROVEN_CODE
    fresh_until: _dt.datetime | None = None


@dataclass
class TagProof:
    """Which template variables the journal proves are in OneSignal for every recipient."""

    proven: set[str] = field(default_factory=set)
    why_not: dict[str, str] = field(default_factory=dict)  # variable -> plain reason
    syncs: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)  # names, when

    def source_text(self, variables: Iterable[str]) -> str:
        """``first_name from tags synced by TagSync 'x' on 2024-05-01 14:03 UTC``."""
        names: set[str] = set()
        when = ""
        for v in variables:
            syncs, at = self.syncs.get(v, ((), ""))
            names.update(syncs)
            when = max(when, at)
        listed = ", ".join(repr(n) for n in sorted(names))
        label = "TagSync" if len(names) == 1 else "TagSyncs"
        return f"tags synced by {label} {listed} on {_when(when)}"

    def why_text(self, variables: Iterable[str]) -> str:
        return "; ".join(self.why_not[v] for v in sorted(variables) if v in self.why_not)

    def last_written(self, variables: Iterable[str]) -> _dt.datetime | None:
        """When the latest of the writes that prove ``variables`` was journaled (None: unknown)."""
        times = [_parse(self.syncs[v][1]) for v in variables if v in self.syncs]
        known = [t for t in times if t is not None]
        return max(known) if known else None

    def sync_names(self, variables: Iterable[str]) -> str:
        """``TagSync 'a'`` / ``TagSyncs 'a', 'b'``: the syncs whose writes prove ``variables``."""
        names = sorted({n for v in variables for n in self.syncs.get(v, ((), ""))[0]})
        label = "TagSync" if len(names) == 1 else "TagSyncs"
        return f"{label} {', '.join(repr(n) for n in names)}"


def _when(iso: str) -> str:
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else "an unknown date"


def _parse(iso: str) -> _dt.datetime | None:
    """The journal's ISO time as an aware UTC datetime (None when missing or unreadable)."""
    try:
        at = _dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=_dt.UTC)


@dataclass(frozen=True)
class _Freshness:
    """How long ago the proving writes were journaled, when that is under OneSignal's wait."""

    age: int  # whole seconds, counted low (see JOURNAL_TIME_STEP_SECONDS)
    until: _dt.datetime  # when server mode may rely on them
    syncs: str  # "TagSync 'x'"

    @property
    def wait(self) -> int:
        return max(1, TAG_PROPAGATION_SECONDS - self.age)


def _freshness(proof: TagProof, variables: list[str], now: _dt.datetime) -> _Freshness | None:
    """None when the writes proving ``variables`` are at least TAG_PROPAGATION_SECONDS old."""
    written = proof.last_written(variables)
    if written is None:
        return None
    age = (now - written).total_seconds() - JOURNAL_TIME_STEP_SECONDS
    if age >= TAG_PROPAGATION_SECONDS:
        return None
    until = written + _dt.timedelta(seconds=TAG_PROPAGATION_SECONDS + JOURNAL_TIME_STEP_SECONDS)
    return _Freshness(max(0, int(age)), until, proof.sync_names(variables))


def prove_synced_tags(
    journal: Any,
    app_id: str,
    cohort: Any,
    variables: Iterable[str],
    *,
    tag_map: Mapping[str, str] | None = None,
) -> TagProof:
    """Check, per variable, that a TagSync of ``journal`` last wrote for ``app_id`` exactly the
    tag every recipient's current traits give (``''``, a deleted tag, matches a missing trait)."""
    proof = TagProof()
    wanted = sorted(set(variables))
    if not wanted:
        return proof
    writes = journal.tag_writes(app_id, wanted)
    df = cohort.df
    for v in wanted:
        if not writes.get(v):
            proof.why_not[v] = f"no TagSync in this journal wrote {v} for app {app_id or '(none)'}"
    checked = [v for v in wanted if v not in proof.why_not]
    if not checked:
        return proof
    tag_map = dict(tag_map or {})
    cols = [c for c in df.columns if c != "external_id" and str(tag_map.get(c, c)) in checked]
    records = df[cols].to_dict("records") if cols else [{}] * len(df)
    ids = df["external_id"].tolist()
    missing = {v: 0 for v in checked}
    changed: dict[str, list[tuple]] = {v: [] for v in checked}
    used: dict[str, dict[str, str]] = {v: {} for v in checked}
    for eid, traits in zip(ids, records, strict=True):
        if not (isinstance(eid, str) and eid.strip()):
            continue  # never sent to (reported as invalid)
        expected = tags_from_traits(traits, tag_map=tag_map)
        for v in checked:
            hit = writes[v].get(eid)
            if hit is None:
                missing[v] += 1
                continue
            value, run, at = hit
            if value != expected.get(v, ""):
                changed[v].append((run, at))
            else:
                used[v][run] = max(used[v].get(run, ""), at)
    for v in checked:
        if changed[v]:
            run, at = max(changed[v], key=lambda r: r[1])
            proof.why_not[v] = (
                f"{v} changed for {people(len(changed[v]))} since TagSync {run!r} wrote it on "
                f"{_when(at)}"
            )
        elif missing[v]:
            proof.why_not[v] = f"no TagSync in this journal wrote {v} for {people(missing[v])}"
        else:
            proof.proven.add(v)
            proof.syncs[v] = (tuple(sorted(used[v])), max(used[v].values(), default=""))
    return proof


def _languages(message: Any) -> set[str]:
    return {lg for f in LANG_FIELDS for lg, t in (getattr(message, f, None) or {}).items() if t}


def choose_mode(
    requested: str,
    message: Any,
    cohort: Any,
    *,
    journal: Any,
    app_id: str,
    tag_map: Mapping[str, str] | None = None,
    now: _dt.datetime | None = None,
) -> ModeChoice:
    """Decide the mode for ``requested`` ("auto" | "server" | "client") and say why.

    :param now: the time the decision is made for, an aware UTC datetime (default: the system
        clock); tag writes younger than :data:`TAG_PROPAGATION_SECONDS` do not count yet
    """
    if requested == "client":
        return ModeChoice("client", f"chosen explicitly; {PRE_RENDERED}")
    now = now or _dt.datetime.now(_dt.UTC)
    if now.tzinfo is None:  # a naive time is read as UTC, like the journal's
        now = now.replace(tzinfo=_dt.UTC)
    variables = sorted(message.variables)
    reads_all = bool(message.reads_all_tags)
    shown = ", ".join(variables) or "all tags"
    several = len(_languages(message)) > 1
    proof = prove_synced_tags(journal, app_id, cohort, variables, tag_map=tag_map)
    unproven = [v for v in variables if v not in proof.proven]
    fresh = None if (reads_all or unproven) else _freshness(proof, variables, now)
    until = fresh.until if fresh else None
    if reads_all:
        why = "a template reads all of user.tags, which no TagSync can vouch for"
    elif unproven:
        why = proof.why_text(unproven)
    elif fresh:
        why = (
            f"tags written {fresh.age} s ago by {fresh.syncs}; OneSignal asks for "
            f"{TAG_PROPAGATION_SECONDS} s before personalizing from them, so the texts are "
            f"pre-rendered (plan again in {fresh.wait} s for one templated notification)"
        )
    elif several:
        why = (
            "the message is in several languages: OneSignal picks each text by the device's "
            "language, the preview by the 'language' trait"
        )
    else:
        why = ""
    if requested == "server":
        return _explicit_server(proof, variables, shown, why, fresh, reads_all=reads_all)
    synced = set() if why else set(proof.proven)
    p = message.personalization(cohort, tag_map=tag_map, synced_tags=synced)
    if p.mode == "none":
        return ModeChoice("none", p.reason)
    if p.mode == "server":
        return ModeChoice(
            "server",
            f"one templated notification per batch; OneSignal fills {shown} from "
            f"{proof.source_text(variables)}, which equal everyone's current traits",
        )
    texts = p.distinct_texts
    count = f" ({count_words(texts, 'distinct text')})" if texts is not None else ""
    return ModeChoice(
        "client",
        f"{PRE_RENDERED}{count}. Not one templated notification, because {why}",
        fresh_until=until,
    )


def _explicit_server(
    proof: TagProof,
    variables: list[str],
    shown: str,
    why: str,
    fresh: _Freshness | None,
    *,
    reads_all: bool,
) -> ModeChoice:
    """``personalization="server"``: always server; a warning says what the journal cannot
    vouch for (unproven tags), or that the proven ones were written too recently."""
    if not variables and not reads_all:
        return ModeChoice("server", "chosen explicitly; no template reads a tag")
    if not why:
        return ModeChoice(
            "server",
            f"chosen explicitly; OneSignal fills {shown} from {proof.source_text(variables)}",
        )
    if fresh is not None:
        return ModeChoice(
            "server",
            f"chosen explicitly; OneSignal fills {shown} from {proof.source_text(variables)}",
            warning=(
                f"personalization='server', but {fresh.syncs} wrote {shown} only {fresh.age} s "
                f"ago, and OneSignal asks to allow {TAG_PROPAGATION_SECONDS} s after a tag edit "
                "before sending messages personalized from it: people may get their old value. "
                f"Wait {fresh.wait} s and plan again, or use personalization='auto' (it "
                "pre-renders until then)."
            ),
            warning_code=FRESH_CODE,
            fresh_until=fresh.until,
        )
    return ModeChoice(
        "server",
        f"chosen explicitly; OneSignal fills {shown} from the tags it stores",
        warning=(
            f"personalization='server', but the journal cannot prove OneSignal holds the "
            f"current values of {shown} for everyone: {why}. People whose tags are missing "
            "or stale get a different text than the preview. Run a TagSync of those tags "
            "for this cohort first, or use personalization='auto' (it pre-renders unless "
            "the journal proves the tags)."
        ),
    )
