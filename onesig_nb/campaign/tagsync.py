"""TagSync: write cohort traits to OneSignal data tags, sending only what changed.

    sync = TagSync("ltv-sync", cohort, client, tags=["plan", "ltv"], journal="campaigns.sqlite")
    sync.plan()          # users, changed users, requests, deletes
    result = sync.run()  # diff-based; an unchanged re-run sends zero requests

The journal remembers, per app and user, the value this toolkit last wrote for each tag. A run
sends a user only the tags whose value differs from that memory; ``None``/NaN sends ``""``,
which deletes the tag. Each request carries at most 100 tags (OneSignal's per-request cap).
Resuming is natural: a killed run leaves the unwritten users "changed", so the next run sends
exactly them (a tag edit is idempotent, so the few whose answer was not journaled yet are just
written again with the same value).
"""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from onesig_nb._html import banner, card, count_cells, table_caption
from onesig_nb._words import agree, count, duration_text, people, tags_text
from onesig_nb.campaign.batches import as_cohort
from onesig_nb.campaign.protocols import TagClient
from onesig_nb.errors import CampaignConflict, ValidationError
from onesig_nb.journal import Journal, open_journal
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.models import TagEdit
from onesig_nb.segment.tags import tag_value

__all__ = ["SYNC_STATUSES", "TagSync", "TagSyncPlan", "TagSyncResult"]

log = logging.getLogger("onesig_nb.campaign.tagsync")

#: Intents are journaled in groups of this many (one SQLite transaction each); the first group
#: is smaller, so the first request waits for a small write only.
_INTENTS_EVERY = 500
_FIRST_INTENTS = 64

#: Answers are journaled in groups of this many (one SQLite transaction each).
_ANSWERS_EVERY = 500

#: Per-user statuses of a tag sync result.
SYNC_STATUSES = ("updated", "unchanged", "not_in_onesignal", "failed")

#: Status precedence when one user's tags went out in several requests (worst wins).
_RANK = {"updated": 0, "not_in_onesignal": 1, "failed": 2}

#: (status, note) of a changed user none of whose requests failed.
_UPDATED = ("updated", None)


def _user_missing(res: Any) -> bool:
    """True when OneSignal answered 404 for the user (no such external id in the app yet)."""
    if res.ok or res.status != 404:
        return False
    body = getattr(res.error, "body", None)
    codes = []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        codes = [str(e.get("code", "")) for e in body["errors"] if isinstance(e, dict)]
    return not any(c.startswith("app") for c in codes)  # a wrong app id is a real failure


@dataclass
class TagSyncPlan:
    """What ``run()`` would send now (nothing sent, nothing written)."""

    name: str
    users: int
    changed_users: int
    unchanged_users: int
    requests: int
    tags_set: int
    tags_deleted: int
    estimated_seconds: float
    sample: dict = field(default_factory=dict)
    tag_names: tuple[str, ...] = ()

    def headline(self) -> str:
        """``Will update 236 people: set 472 tags (plan, ltv), delete 0.``"""
        names = f" ({', '.join(self.tag_names)})" if self.tag_names else ""
        if not self.changed_users:
            return (
                f"Nothing to update: all {people(self.users)} already have these tags{names} "
                "as this journal last wrote them."
            )
        return (
            f"Will update {people(self.changed_users)}: set {count(self.tags_set, 'tag')}"
            f"{names}, delete {self.tags_deleted:,}."
        )

    def __str__(self) -> str:
        return (
            f"TagSync {self.name!r}: {self.headline()} {self.unchanged_users:,} unchanged; "
            f"{count(self.requests, 'request')}, {duration_text(self.estimated_seconds)}."
        )

    def _repr_html_(self) -> str:
        e = html.escape
        cells = count_cells(
            [
                (self.users, "people in the cohort"),
                (self.changed_users, "to update"),
                (self.unchanged_users, "unchanged"),
                (self.tags_set, "tags to set"),
                (self.tags_deleted, "tags to delete"),
                (self.requests, "requests"),
            ]
        )
        sample = ""
        if self.sample.get("external_id"):
            sample = (
                f"<p>For example <code>{e(str(self.sample['external_id']))}</code>: "
                f"<code>{e(tags_text(self.sample.get('tags')))}</code></p>"
            )
        body = (
            f"{banner(e(self.headline()), 'info' if self.changed_users else 'ok')}{cells}{sample}"
            f"<p style='color:#555'>{e(duration_text(self.estimated_seconds))} under "
            "OneSignal's rate limits. An empty trait deletes its tag.</p>"
        )
        return card(f"Tag sync plan {self.name}", body, css_class="onesig-tagplan")


@dataclass
class TagSyncResult:
    """Per-user outcome of a run: updated / unchanged / not_in_onesignal / failed.

    ``not_in_onesignal``: OneSignal has no user with that external id (404), e.g. they never
    opened the app. Not a failure: nothing is remembered for them, so a later run (after they
    subscribe) writes their tags.
    """

    name: str
    frame: Any = field(repr=False)
    requests: int = 0
    seconds: float = 0.0

    def to_frame(self):
        """external_id, status (updated/unchanged/not_in_onesignal/failed), tags, note."""
        return self.frame.copy()

    @property
    def summary(self) -> dict:
        counts = self.frame["status"].value_counts().to_dict() if len(self.frame) else {}
        return {
            "sync": self.name,
            "users": int(len(self.frame)),
            **{s: int(counts.get(s, 0)) for s in SYNC_STATUSES},
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
        }

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"TagSyncResult({self.name!r}: updated={s['updated']:,} unchanged={s['unchanged']:,} "
            f"not_in_onesignal={s['not_in_onesignal']:,} failed={s['failed']:,}, "
            f"requests={self.requests})"
        )

    def headline(self) -> tuple[str, str]:
        """(banner kind, sentence): ``✓ Updated the tags of 211 people. 25 are not ...``."""
        s = self.summary
        parts = [
            f"Updated the tags of {people(s['updated'])}."
            if s["updated"]
            else "No tags needed changing."
        ]
        if s["unchanged"] and s["updated"]:
            parts.append(f"{people(s['unchanged'])} already had them.")
        n = s["not_in_onesignal"]
        if n:
            parts.append(
                f"{n:,} {agree(n, 'is', 'are')} not in OneSignal yet (never opened the app); "
                "a later run writes their tags."
            )
        if s["failed"]:
            parts.append(f"{people(s['failed'])} failed: run it again to retry them.")
            return "warn", "⚠ " + " ".join(parts)
        return "ok", "✓ " + " ".join(parts)

    def _repr_html_(self) -> str:
        e = html.escape
        s = self.summary
        kind, text = self.headline()
        cells = count_cells(
            [
                (s["updated"], "updated"),
                (s["unchanged"], "unchanged"),
                (s["not_in_onesignal"], "not in OneSignal yet"),
                (s["failed"], "failed"),
                (self.requests, "requests made now"),
            ]
        )
        shown = self.frame.head(20).copy()
        shown["tags"] = shown["tags"].map(tags_text)
        caption = table_caption(len(shown), len(self.frame), "result.to_frame()")
        body = f"{banner(e(text), kind)}{cells}{caption}{shown.to_html(index=False, na_rep='', justify='left')}"
        return card(f"Tag sync {self.name}", body, css_class="onesig-tagresult")


class TagSync:
    """Cohort traits -> OneSignal data tags by external id, diff-based and journaled.

    :param name: the sync's name in the journal
    :param cohort: a Cohort (or DataFrame with ``external_id``) holding the trait columns
    :param client: a OneSignal client
    :param tags: trait columns to write
    :param journal: SQLite file (or open Journal) remembering what was written
    :param tag_map: renames ``{trait: tag_name}``
    """

    def __init__(
        self,
        name: str,
        cohort: Any,
        client: TagClient,
        *,
        tags: Iterable[str],
        journal: Journal | str | os.PathLike = "campaigns.sqlite",
        tag_map: dict | None = None,
        sleep: Callable[[float], None] | None = None,
    ):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("A tag sync needs a non-empty name.")
        self.name = name
        self.cohort = as_cohort(cohort)
        self.client = client
        self.tags = [str(t) for t in tags]
        self.tag_map = dict(tag_map or {})
        if not self.tags:
            raise ValidationError("tags= is empty: name the trait columns to write as tags.")
        missing = [t for t in self.tags if t not in self.cohort.df.columns]
        if missing:
            available = [c for c in self.cohort.df.columns if c != "external_id"]
            raise ValidationError(
                f"The cohort has no trait column(s) {missing}. Available traits: {available}."
            )
        self.journal = open_journal(journal)
        self._sleep = sleep or time.sleep

    def __repr__(self) -> str:
        return f"TagSync({self.name!r}, users={len(self.cohort):,}, tags={self.tags})"

    @property
    def app_id(self) -> str:
        return str(self.client.app_id or "")

    def _desired(self) -> tuple[list[str], dict[str, dict[str, str]]]:
        """The cohort's external ids (in order, as text) and ``{external_id: {tag: value}}``
        wanted for them (``""`` = no such tag), tags in the order they were asked for."""
        df = self.cohort.df
        names = [self.tag_map.get(t, t) for t in self.tags]
        eids = [e if type(e) is str else str(e) for e in df["external_id"].tolist()]
        columns = [
            _tag_values(df[t].tolist(), name) for t, name in zip(self.tags, names, strict=True)
        ]
        if len(names) == 1:
            name, values = names[0], columns[0]
            return eids, {eid: {name: v} for eid, v in zip(eids, values, strict=True)}
        rows = zip(*columns, strict=True)
        return eids, {
            eid: dict(zip(names, row, strict=True)) for eid, row in zip(eids, rows, strict=True)
        }

    def _diff(self) -> tuple[dict[str, dict[str, str]], int, list[str]]:
        """``(changes, users, external ids)``: per user, the tags whose value differs from
        what this journal last wrote for the app (all of them when it wrote nothing yet)."""
        eids, desired = self._desired()
        state = self.journal.tag_state(self.app_id)
        if not state:
            return desired, len(desired), eids
        changes: dict[str, dict[str, str]] = {}
        for eid, tags in desired.items():
            known = state.get(eid)
            if known is None:
                changes[eid] = tags
                continue
            changed = {t: v for t, v in tags.items() if known.get(t) != v}
            if changed:
                changes[eid] = changed
        return changes, len(desired), eids

    @staticmethod
    def _parts(tags: dict[str, str]) -> list[dict[str, str]]:
        items = sorted(tags.items())
        step = limits.MAX_TAGS_PER_REQUEST
        return [dict(items[i : i + step]) for i in range(0, len(items), step)]

    def plan(self) -> TagSyncPlan:
        """Users, changed users and requests of a run now (nothing sent or written)."""
        changes, users, _eids = self._diff()
        parts = sum(len(self._parts(t)) for t in changes.values())
        values = [v for t in changes.values() for v in t.values()]
        sample = next(iter(changes.items()), ("", {}))
        return TagSyncPlan(
            name=self.name,
            users=users,
            changed_users=len(changes),
            unchanged_users=users - len(changes),
            requests=parts,
            tags_set=sum(1 for v in values if v != ""),
            tags_deleted=sum(1 for v in values if v == ""),
            estimated_seconds=round(parts / limits.USER_UPDATES_PER_SECOND, 2),
            sample={"external_id": sample[0], "tags": sample[1]},
            tag_names=tuple(self.tag_map.get(t, t) for t in self.tags),
        )

    def run(self, *, progress: Any = True) -> TagSyncResult:
        """Send the changed tags; returns one row per cohort user."""
        import pandas as pd

        started = time.monotonic()
        run = self.journal.run(self.name)
        if run is not None and run["kind"] != "tagsync":
            raise CampaignConflict(
                f"{self.name!r} is a campaign in journal {str(self.journal.path)!r}; give the "
                "tag sync a different name."
            )
        changes, _users, eids = self._diff()
        if run is None:
            self.journal.create_run(
                self.name, kind="tagsync", app_id=self.app_id,
                cohort_fingerprint=self.cohort.fingerprint,
                settings={"tags": self.tags, "tag_map": self.tag_map}, recipients=len(self.cohort),
            )  # fmt: skip
            round_ = 1
        else:
            round_ = run["rounds"] + (1 if changes else 0)
        bad: dict[str, tuple[str, str | None]] = {}
        requests = 0
        if changes:
            self.journal.update_run(
                self.name, rounds=round_, status="syncing", recipients=len(self.cohort),
                cohort_fingerprint=self.cohort.fingerprint,
            )  # fmt: skip
            requests = self._send(changes, round_, bad, progress)
            failed = any(s == "failed" for s, _ in bad.values())
            self.journal.update_run(self.name, status="partial" if failed else "synced")
            missing = sum(1 for s, _ in bad.values() if s == "not_in_onesignal")
            if missing:
                log.info(
                    "tag sync %s: %d cohort member(s) have no OneSignal user yet; their tags "
                    "are written by a later run once they exist",
                    self.name,
                    missing,
                )
        frame = pd.DataFrame(_rows(eids, changes, bad))
        result = TagSyncResult(self.name, frame, requests, time.monotonic() - started)
        if log.isEnabledFor(logging.INFO):
            log.info("tag sync %s: %s", self.name, result.summary)
        return result

    def _journaled(self, edits: dict[str, dict], part: int, round_: int) -> Iterator[TagEdit]:
        """``edits`` (``{external_id: tags}``, tags of request ``part``) as the client pulls
        them, as :class:`TagEdit` with ``ref=part``, each group's intents journaled just before
        its first edit is handed out: every request has its intent first, and the journal
        writes overlap the requests in flight instead of delaying the first one (the first
        group is small, so the first request waits for a small write only). The edits are made
        as they are pulled, overlapping the requests too."""
        eids = list(edits)
        n = len(eids)
        bounds = [0, *range(min(_FIRST_INTENTS, n), n, _INTENTS_EVERY), n]
        for start, end in zip(bounds, bounds[1:], strict=False):
            group = eids[start:end]
            self.journal.add_tag_intents(self.name, round_, [(e, part, edits[e]) for e in group])
            for eid in group:
                tags = edits[eid]
                yield TagEdit(eid, dict(sorted(tags.items())) if len(tags) > 1 else tags, part)

    def _send(self, changes: dict, round_: int, bad: dict, progress: Any) -> int:
        """Send every part of ``changes``; failed users go into ``bad`` as ``{eid: (status,
        note)}`` (worst status of their parts, last note). Every answer is journaled before
        this returns or raises, in groups (one SQLite transaction each)."""
        step = limits.MAX_TAGS_PER_REQUEST
        widest = max(map(len, changes.values()))
        if widest <= step:  # one request per user (nearly always)
            passes, total = [changes], len(changes)
        else:
            parts = {eid: self._parts(tags) for eid, tags in changes.items()}
            total = sum(map(len, parts.values()))
            passes = [
                {eid: ps[part] for eid, ps in parts.items() if len(ps) > part}
                for part in range(-(-widest // step))
            ]
        bar = None
        if progress is True:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=self.name, unit="req")
        tick = bar.update if bar is not None else None
        done, buffer = 0, []
        try:
            for part, edits in enumerate(passes):
                if part:  # OneSignal allows 1 update per user per second
                    self._sleep(1.0 / limits.USER_UPDATES_PER_USER_PER_SECOND)
                add = buffer.append
                for res in self.client.iter_tag_edits(self._journaled(edits, part, round_)):
                    edit = res.edit
                    if res.ok:
                        add((edit.external_id, edit.ref, edit.tags, True, res.status, None))
                    else:
                        eid = edit.external_id
                        err = self.client.redact(f"{res.error}")
                        add((eid, edit.ref, edit.tags, False, res.status, err))
                        if _user_missing(res):
                            status = "not_in_onesignal"
                            err = "no OneSignal user with this external id yet; a later run retries"
                        else:
                            status = "failed"
                        prev = bad.get(eid, _UPDATED)
                        bad[eid] = (max(status, prev[0], key=_RANK.__getitem__), err or prev[1])
                    if len(buffer) >= _ANSWERS_EVERY:
                        self.journal.record_tag_results(self.name, round_, self.app_id, buffer)
                        buffer = []
                        add = buffer.append
                    if progress:
                        done += 1
                        if tick is not None:
                            tick(1)
                        elif callable(progress):
                            progress(done, total)
        finally:
            if buffer:
                self.journal.record_tag_results(self.name, round_, self.app_id, buffer)
            if bar is not None:
                bar.close()
        return total


def _tag_values(values: list, name: str) -> list[str]:
    """A trait column's values as tag values (``""`` = no tag); text passes as it is."""
    return [v if type(v) is str else (tag_value(v, name=name) or "") for v in values]


def _rows(eids: list[str], changes: dict, bad: dict) -> dict[str, list]:
    """A result's columns, one row per cohort user in cohort order.

    A changed user's tags are ``changes[eid]``: every part of it went out (a run that stopped
    early raised instead of returning), its keys in the order the traits were asked for. A
    changed user none of whose requests failed is ``updated``."""
    sent = [changes.get(eid) for eid in eids]
    statuses = ["unchanged" if tags is None else "updated" for tags in sent]
    notes: list[str | None] = [None] * len(eids)
    if bad:
        for i, eid in enumerate(eids):
            outcome = bad.get(eid)
            if outcome is not None:
                statuses[i], notes[i] = outcome
    tags = [{} if t is None else t for t in sent]
    return {"external_id": eids, "status": statuses, "tags": tags, "note": notes}
