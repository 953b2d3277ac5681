"""Campaign: plan, test, confirm and send one push to a cohort exactly once, then report.

    camp = Campaign("black-friday", cohort, msg, client, journal="campaigns.sqlite")
    camp.plan()                    # who, how many requests, which platforms, lint, sample payload
    camp.send_test(["qa-1"])       # recorded in the journal as a test
    result = camp.send(confirm=True)
    result.to_frame(); camp.report()

Exactly-once: the recipients are cut into batches whose idempotency keys are uuid5 over the
campaign name and the batch content. All batch intents are journaled before the first request;
each outcome is journaled as it comes back. Re-running ``send()`` (after a restart, a kill, or
just running the cell again) sends only the unfinished batches, with the same keys, so OneSignal
(or the sandbox) replays instead of pushing twice. :class:`TagSync` lives in
:mod:`onesig_nb.tagsync` and is re-exported here.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

# The client package first: onesig_nb.config imports onesignal.limits, and importing config
# before the onesignal package is initialised hits a config <-> onesignal.client import cycle.
from . import onesignal as _onesignal  # noqa: F401
from .campaign_views import SENT_MEANS, CampaignPlan, CampaignReport, CampaignResult
from .config import mask, redact
from .errors import CampaignConflict, ConfirmationRequired, JournalError, ValidationError
from .journal import Batch, Journal, open_journal
from .onesignal import limits
from .onesignal.models import PLATFORMS, NotificationRequest
from .tagsync import TagSync, TagSyncResult

__all__ = [
    "Campaign",
    "CampaignPlan",
    "CampaignReport",
    "CampaignResult",
    "TagSync",
    "TagSyncResult",
    "batch_key",
    "campaigns",
]

log = logging.getLogger("onesig_nb.campaign")

#: Namespace of every idempotency key this toolkit derives (uuid5; fixed forever, because
#: changing it would give a resumed campaign new keys and so allow duplicates).
KEY_NAMESPACE = "6f1c2a52-6e0f-5b7a-9a51-0c3e5d1b7a10"

PERSONALIZATION_MODES = ("auto", "server", "client")

#: A test send is for a small QA list: more ids than this are refused (use send() for a cohort).
MAX_TEST_RECIPIENTS = 20

#: A resumed batch that was already attempted is refused when its intent is older than this:
#: OneSignal forgets idempotency keys after limits.IDEMPOTENCY_WINDOW_SECONDS (30 days), so a
#: batch that went out before a crash would be pushed again. One day of margin for clock skew.
RESUME_KEY_MAX_AGE_SECONDS = limits.IDEMPOTENCY_WINDOW_SECONDS - 24 * 3600

_UNSUBSCRIBED = "not subscribed"
_PENDING = "not sent yet, or its answer was not recorded: send() again resumes it"


def _outcome(resp: Any, ids: Sequence[str], clean: Callable[[str], str]) -> tuple:
    """(batch state, notification id, batch error, recipient rows) of one answer.

    Decided from the response's structure, never from OneSignal's error wording: ``.error`` set
    = the request failed (retried by the next send); an ``id`` = a notification was created
    (ids in ``invalid_external_ids`` are unsubscribed, the rest accepted: "sent"); no ``id`` and
    no ``.error`` = the batch is finished and OneSignal pushed to nobody in it (listed ids are
    "unsubscribed", the rest "not_reached": unknown to OneSignal or without a subscription).
    """
    if resp.error is not None:
        err = clean(f"{type(resp.error).__name__}: {resp.error}")
        return "failed", None, err, [(i, "failed", None, err) for i in ids]
    nid = resp.id or None
    invalid = set(resp.invalid_external_ids)
    if nid is not None:
        rows = [
            (i, "unsubscribed", nid, _UNSUBSCRIBED) if i in invalid else (i, "sent", nid, None)
            for i in ids
        ]
        return "done", nid, None, rows
    said = "; ".join(resp.errors) if resp.errors else "it gave no reason"
    why = clean(f"OneSignal created no notification for this batch ({said})")
    rows = [
        (i, "unsubscribed", None, _UNSUBSCRIBED) if i in invalid else (i, "not_reached", None, why)
        for i in ids
    ]
    return "done", None, None, rows


def _one_or_many(ids: Any) -> list[str]:
    """A single id string is one id (not its characters); anything else is iterated."""
    if ids is None:
        return []
    if isinstance(ids, str):
        return [ids]
    return [str(i) for i in ids]


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def batch_key(
    campaign: str, kind: str, payload: dict, external_ids: Sequence[str], platforms
) -> str:
    """The idempotency key of one batch: uuid5 over the campaign name and the batch content."""
    import uuid

    digest = hashlib.sha256(
        _canon({"p": payload, "ids": list(external_ids), "pl": platforms}).encode()
    ).hexdigest()
    return str(uuid.uuid5(uuid.UUID(KEY_NAMESPACE), f"{campaign}\x1f{kind}\x1f{digest}"))


def _secret(client: Any) -> str | None:
    for attr in ("api_key", "_api_key", "_key"):
        value = getattr(client, attr, None)
        if isinstance(value, str) and value:
            return value
    headers = getattr(client, "_headers", None)
    auth = headers.get("Authorization") if isinstance(headers, dict) else None
    if isinstance(auth, str) and " " in auth:
        return auth.split(" ", 1)[1]
    creds = getattr(client, "credentials", None)
    return getattr(creds, "api_key", None)


def _as_cohort(cohort: Any) -> Any:
    if hasattr(cohort, "external_ids") and hasattr(cohort, "fingerprint"):
        return cohort
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(cohort, pd.DataFrame):
        from .cohort import Cohort

        return Cohort.from_frame(cohort)
    raise ValidationError(
        f"cohort must be a Cohort (onesig_nb.load_cohort(...)) or a DataFrame with an "
        f"external_id column, not {type(cohort).__name__}."
    )


def _chunks(ids: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


class Campaign:
    """One push to one cohort, sent exactly once through a journal.

    :param name: unique within the journal; it anchors the idempotency keys
    :param cohort: a :class:`~onesig_nb.Cohort` (or a DataFrame with ``external_id``)
    :param message: a :class:`~onesig_nb.Message`
    :param client: a :class:`~onesig_nb.OneSignal` client (real API or sandbox)
    :param journal: SQLite file (or open :class:`~onesig_nb.journal.Journal`)
    :param exclude_platforms: e.g. ``("ios",)`` when Segment already pushes to iOS
        (OneSignal's Segment guide: never send the same push from both)
    :param personalization: ``"auto"`` (the message decides), ``"server"`` (OneSignal renders
        the Liquid per user) or ``"client"`` (rendered here, identical texts grouped)
    :param test_users: default QA list for :meth:`send_test` (a string = one id)
    :param confirm_above: sends to more people need ``confirm=True`` or ``confirm=<count>``
    :param schedule: a datetime or ISO string for ``send_after``
    :param batch_size: recipients per request (default and maximum: the client's limit)
    :param tag_map: trait -> tag renames, used when rendering client-side
    """

    def __init__(
        self,
        name: str,
        cohort: Any,
        message: Any,
        client: Any,
        *,
        journal: Journal | str | os.PathLike = "campaigns.sqlite",
        exclude_platforms: Iterable[str] = (),
        personalization: str = "auto",
        test_users: Iterable[str] = (),
        confirm_above: int = 1_000,
        schedule: Any = None,
        batch_size: int | None = None,
        tag_map: dict | None = None,
    ):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("A campaign needs a non-empty name (it anchors exactly-once).")
        if personalization not in PERSONALIZATION_MODES:
            raise ValidationError(
                f"personalization must be one of {PERSONALIZATION_MODES}, not {personalization!r}."
            )
        excluded = tuple(sorted({str(p).lower() for p in exclude_platforms}))
        unknown = [p for p in excluded if p not in PLATFORMS]
        if unknown:
            raise ValidationError(
                f"exclude_platforms has unknown platforms {unknown}; use some of {PLATFORMS}."
            )
        self.platforms = tuple(p for p in PLATFORMS if p not in excluded)
        if not self.platforms:
            raise ValidationError(
                "exclude_platforms excludes every platform; nothing could be sent."
            )
        max_ids = int(getattr(client, "max_ids_per_request", limits.CURRENT_MAX_ALIASES))
        if batch_size is not None and not 1 <= batch_size <= max_ids:
            raise ValidationError(f"batch_size must be between 1 and {max_ids:,} for this client.")
        self.name = name
        self.cohort = _as_cohort(cohort)
        self.message = message
        self.client = client
        self.exclude_platforms = excluded
        self.personalization = personalization
        self.test_users = tuple(_one_or_many(test_users))
        self.confirm_above = int(confirm_above)
        self.schedule = schedule
        self.batch_size = batch_size or max_ids
        self.tag_map = tag_map
        self.journal = open_journal(journal)
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (
            f"Campaign({self.name!r}, recipients={len(self.cohort):,}, "
            f"journal={str(self.journal.path)!r})"
        )

    # -- derived facts ------------------------------------------------------------------------
    @property
    def app_id(self) -> str:
        return str(getattr(self.client, "app_id", "") or "")

    @property
    def api(self) -> str:
        return str(getattr(self.client, "api", "current") or "current")

    def _mode(self) -> tuple[str, str]:
        if self.personalization != "auto":
            return self.personalization, "chosen explicitly"
        if "mode" not in self._cache:
            p = self.message.personalization(self.cohort)
            self._cache["mode"] = (p.mode, getattr(p, "reason", ""))
        return self._cache["mode"]

    def _platform_setting(self) -> tuple[str, ...] | None:
        return None if not self.exclude_platforms else self.platforms

    def _content_fingerprint(self) -> str:
        settings = {
            "message": self.message.fingerprint,
            "mode": self._mode()[0],
            "platforms": self._platform_setting(),
            "schedule": self._send_after(),
        }
        return hashlib.sha256(_canon(settings).encode()).hexdigest()

    def _cohort_fingerprint(self) -> str:
        """Who gets what: the ids alone when OneSignal renders (traits do not change the push),
        the cohort's own fingerprint (ids + traits) when texts are rendered here."""
        if self._mode()[0] == "client":
            return self.cohort.fingerprint
        ids = sorted(self._valid_ids()[0])
        return hashlib.sha256("\x1f".join(ids).encode()).hexdigest()

    def _send_after(self) -> str | None:
        if self.schedule is None:
            return None
        if isinstance(self.schedule, _dt.datetime):
            when = self.schedule
            if when.tzinfo is None:
                when = when.replace(tzinfo=_dt.UTC)
            return when.isoformat()
        return str(self.schedule)

    def _finish(self, payload: dict) -> dict:
        payload = dict(payload)
        payload.setdefault("name", self.name[: limits.MAX_NAME_CHARS])
        if self._send_after():
            payload["send_after"] = self._send_after()
        return payload

    def _groups(self, ids: list[str], kind: str = "send") -> list[tuple[dict, list[str]]]:
        """(payload, ids) groups before cutting into batches."""
        mode = self._mode()[0]
        if mode != "client":
            return [(self._finish(self.message.to_payload()), ids)]
        full = len(ids) == len(self.cohort)
        cohort = self.cohort if full else self.cohort.subset(ids)
        return [
            (self._finish(p), list(g))
            for p, g in self.message.client_batches(cohort, tag_map=self.tag_map)
        ]

    def _planned(self, ids: list[str], seq0: int) -> list[Batch]:
        platforms = self._platform_setting()
        out: list[Batch] = []
        for payload, group in self._groups(ids):
            for chunk in _chunks(group, self.batch_size):
                key = batch_key(self.name, "send", payload, chunk, platforms)
                out.append(
                    Batch(self.name, seq0 + len(out), "send", key, payload, chunk, platforms)
                )
        return out

    def _all_batches(self) -> list[Batch]:
        fp = (self.cohort.fingerprint, self._content_fingerprint(), self.batch_size)
        if self._cache.get("batches_fp") != fp:
            self._cache["batches"] = self._planned(self._valid_ids()[0], 0)
            self._cache["batches_fp"] = fp
        return self._cache["batches"]

    def _valid_ids(self) -> tuple[list[str], list[str], int]:
        """(usable ids, each once, first occurrence kept; empty/non-string ids; duplicates)."""
        valid: list[str] = []
        invalid: list = []
        seen: set[str] = set()
        duplicates = 0
        for eid in self.cohort.external_ids:
            if not (isinstance(eid, str) and eid.strip()):
                invalid.append(eid)
            elif eid in seen:
                duplicates += 1
            else:
                seen.add(eid)
                valid.append(eid)
        return valid, invalid, duplicates

    def _lint(self) -> list:
        if "lint" not in self._cache:
            self._cache["lint"] = list(self.message.lint(self.cohort))
        return self._cache["lint"]

    # -- what to do now -----------------------------------------------------------------------
    def _decide(self, *, extend: bool, resend_expired: bool = False) -> dict:
        """Compare the journal with this campaign; say what a send would do (no writes)."""
        run = self.journal.run(self.name)
        if run is not None and run["kind"] != "campaign":
            raise CampaignConflict(
                f"{self.name!r} is a tag sync in journal {str(self.journal.path)!r}; "
                "give the campaign a different name."
            )
        if run is not None and run["app_id"] and self.app_id and run["app_id"] != self.app_id:
            raise CampaignConflict(
                f"Campaign {self.name!r} in journal {str(self.journal.path)!r} belongs to app "
                f"{run['app_id']}, but this client is app {self.app_id}. Nothing was sent. Use a "
                "new campaign name, or a separate journal file for each app."
            )
        existing = self.journal.batches(self.name, kind="send") if run else []
        same = run is not None and (
            run["cohort_fingerprint"] == self._cohort_fingerprint()
            and run["message_fingerprint"] == self._content_fingerprint()
        )
        unfinished = [b for b in existing if b.state != "done"]
        if not resend_expired:
            self._refuse_expired(unfinished)
        if not existing:
            new = self._all_batches()
            first = self.journal.next_seq(self.name) if run else 0
            if first:  # test sends came first and hold the lowest numbers
                new = [dataclasses.replace(b, seq=b.seq + first) for b in new]
            state = "new"
        elif same:
            new = []
            state = "resume" if unfinished else "sent"
        elif not extend:
            what = [
                w
                for w, changed in (
                    ("cohort", run["cohort_fingerprint"] != self._cohort_fingerprint()),
                    (
                        "message or settings",
                        run["message_fingerprint"] != self._content_fingerprint(),
                    ),
                )
                if changed
            ]
            raise CampaignConflict(self._conflict_text(what, existing, unfinished))
        else:
            reached = self.journal.targeted_ids(self.name)
            ids = [i for i in self._valid_ids()[0] if i not in reached]
            new = self._planned(ids, self.journal.next_seq(self.name)) if ids else []
            state = "extend"
        return {
            "run": run,
            "existing": existing,
            "unfinished": unfinished,
            "new": new,
            "state": state,
        }

    def _conflict_text(self, what: list[str], existing: list[Batch], unfinished: list) -> str:
        where = f"(journal {str(self.journal.path)!r})"
        changed = " and ".join(what)
        reached = self.journal.targeted_ids(self.name)
        new = sum(1 for i in self._valid_ids()[0] if i not in reached)
        if unfinished:
            people = sum(b.size for b in unfinished)
            done = sum(b.size for b in existing if b.state == "done")
            return (
                f"Campaign {self.name!r} {where} is unfinished: {len(unfinished)} of "
                f"{len(existing)} batches ({people:,} people) are not confirmed sent, and its "
                f"{changed} changed since it started. Nothing was sent. Call "
                f"send(extend=True): it first finishes those batches with their original keys "
                f"and content (nobody gets the push twice), then sends to the {new:,} people of "
                f"this cohort it has not addressed yet. Do not use a new campaign name for this: "
                f"it would push again to the {done:,} people already reached."
            )
        return (
            f"Campaign {self.name!r} was already sent {where} with a different {changed}. "
            f"Nothing was sent. Call send(extend=True) to send it only to the {new:,} people "
            "this campaign has not reached yet, or use a new campaign name to send it to "
            "everyone again as a new campaign (people already reached get it a second time)."
        )

    def _refuse_expired(self, unfinished: list[Batch]) -> None:
        """Refuse to resume attempted batches whose keys OneSignal may have forgotten."""
        now = _dt.datetime.now(_dt.UTC)
        stale = []
        for b in unfinished:
            if not b.attempts or not b.created_at:
                continue  # never requested: OneSignal has not seen this key, sending is safe
            written = _dt.datetime.fromisoformat(b.created_at)
            if written.tzinfo is None:
                written = written.replace(tzinfo=_dt.UTC)
            if (now - written).total_seconds() > RESUME_KEY_MAX_AGE_SECONDS:
                stale.append(b)
        if not stale:
            return
        days = limits.IDEMPOTENCY_WINDOW_SECONDS // 86_400
        people = sum(b.size for b in stale)
        raise CampaignConflict(
            f"Campaign {self.name!r} has {len(stale)} unfinished batch(es) ({people:,} people) "
            f"that were attempted more than {days - 1} days ago (first on "
            f"{min(b.created_at for b in stale)}). Nothing was sent. OneSignal remembers "
            f"idempotency keys for {days} days only, so if any of them did go out before the "
            "interruption, resending now would push to those people a second time. Options: "
            "check in the OneSignal dashboard (or client.view_notification) whether a "
            f"notification named {self.name!r} reached them; if it did not, call "
            "send(resend_expired=True) (onesig-nb send: --resend-expired) to send those "
            "batches now; if it did, leave the campaign as it is (result() lists those "
            "people as 'pending')."
        )

    def plan(self, *, extend: bool = False, resend_expired: bool = False) -> CampaignPlan:
        """What ``send()`` would do now: nothing is sent and nothing is written."""
        note = ""
        try:
            d = self._decide(extend=extend, resend_expired=resend_expired)
        except CampaignConflict as exc:
            d = {"state": "conflict", "unfinished": [], "new": [], "existing": []}
            note = str(exc)
        todo = d["unfinished"] + d["new"]
        if d["state"] == "sent":
            note = "Already sent: send() would send nothing again."
        elif d["state"] == "resume":
            note = f"Unfinished: send() resumes {len(todo)} batches with their original keys."
        if len(self.cohort) == 0:
            note = "The cohort is empty: nobody to send to."
        duplicates = self._valid_ids()[2]
        if duplicates:
            dup = (
                f"{duplicates:,} duplicate external id(s) in the cohort were dropped: each "
                "person is sent to once."
            )
            note = f"{note} {dup}".strip()
        all_batches = todo or (d["existing"] if d["state"] == "sent" else self._all_batches())
        mode, reason = self._mode()
        requests = len(todo) if d["state"] != "conflict" else 0
        return CampaignPlan(
            name=self.name,
            state=d["state"],
            recipients=len(self.cohort),
            to_send=sum(b.size for b in todo),
            batches=len(all_batches),
            requests=requests,
            platforms=self.platforms,
            personalization=mode,
            reason=reason,
            api=self.api,
            estimated_seconds=self._estimate(requests),
            findings=self._lint(),
            sample_payload=self._sample(all_batches[0]) if all_batches else {},
            note=note,
            duplicates=duplicates,
            caveats=self._caveats(),
        )

    def _caveats(self) -> list[str]:
        out = [SENT_MEANS]
        if self.exclude_platforms:
            out.append(
                f"exclude_platforms={self.exclude_platforms}: people whose only devices are "
                f"{' / '.join(self.exclude_platforms)} get nothing from this push, yet are counted "
                "'sent' (OneSignal accepted the request and does not say per person which "
                "devices it pushed to). report() shows delivery per platform."
            )
        return out

    def _estimate(self, requests: int) -> float:
        # The create-message budget (free plan 150/s) dominates; add one round trip per wave of
        # concurrent requests (~0.3 s against the real API).
        rate = limits.CREATE_NOTIFICATION_PER_SECOND_FREE
        workers = max(1, int(getattr(self.client, "max_workers", 32) or 32))
        return round(requests / rate + 0.3 * -(-requests // workers), 2)

    def _sample(self, batch: Batch) -> dict:
        ids = list(batch.external_ids[:3])
        if batch.size > 3:
            ids.append(f"... {batch.size - 3:,} more")
        body: dict[str, Any] = {"app_id": self.app_id}
        if self.api == "legacy":
            body["include_external_user_ids"] = ids
            body["external_id"] = batch.idempotency_key
        else:
            body["include_aliases"] = {"external_id": ids}
            body["target_channel"] = "push"
            body["idempotency_key"] = batch.idempotency_key
        body.update(batch.payload)
        if batch.platforms:
            flags = {"ios": "isIos", "android": "isAndroid", "web": "isAnyWeb"}
            body.update({flag: p in batch.platforms for p, flag in flags.items()})
        scheme = "Basic" if self.api == "legacy" else "Key"
        return {
            "headers": {"Authorization": f"{scheme} {mask(_secret(self.client))}"},
            "body": body,
        }

    @property
    def status(self) -> str:
        """new | tested | sending | interrupted | partial | sent (from the journal).

        ``interrupted``: a send stopped (AuthError, Ctrl-C, ...) with batches unanswered;
        ``partial``: some batches failed; both resume with ``send()``. A process killed
        outright cannot say so: its campaign stays ``sending`` (``send()`` resumes it too).
        """
        run = self.journal.run(self.name)
        if run is None:
            return "new"
        batches = self.journal.batches(self.name, kind="send")
        if not batches:
            return "tested"
        if all(b.state == "done" for b in batches):
            return "sent"
        if run["status"] == "interrupted" and any(b.state == "intent" for b in batches):
            return "interrupted"
        return "partial" if any(b.state == "failed" for b in batches) else "sending"

    # -- sending ------------------------------------------------------------------------------
    def _check_sendable(self) -> None:
        if len(self.cohort) == 0:
            raise ValidationError(
                f"The cohort of campaign {self.name!r} is empty: nobody to send to. Nothing was "
                "sent. Check the audience key, id_type and as_of of load_cohort()."
            )
        errors = [f for f in self._lint() if f.severity == "error"]
        if errors:
            listed = "; ".join(f"{f.code}: {f.message}" for f in errors)
            raise ValidationError(
                f"The message has {len(errors)} lint error(s), so nothing was sent: {listed}. "
                "Fix the message (see campaign.plan() or message.lint(cohort)) and try again."
            )

    def _clean(self, text: str) -> str:
        return redact(text, _secret(self.client))

    def _run(self, batches: list[Batch], progress: Any) -> int:
        """Send journaled batches; record each outcome as it arrives. Returns requests made."""
        if not batches:
            return 0
        max_ids = int(getattr(self.client, "max_ids_per_request", 0) or 0)
        too_big = [b for b in batches if max_ids and b.size > max_ids]
        if too_big:
            raise ValidationError(
                f"Campaign {self.name!r} was started with batches of {too_big[0].size:,} ids, "
                f"more than this client's limit of {max_ids:,} ({self.api} API). Nothing was "
                "sent. Resume it with the client (api=...) it was started with."
            )
        by_seq = {b.seq: b for b in batches}
        self.journal.mark_attempt(self.name, by_seq)
        reqs = [
            NotificationRequest(
                payload=b.payload,
                external_ids=b.external_ids,
                idempotency_key=b.idempotency_key,
                platforms=b.platforms,
                ref=b.seq,
            )
            for b in batches
        ]
        total = sum(b.size for b in batches)
        bar, callback = None, None
        if callable(progress):
            callback = progress
        elif progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=self.name, unit="people")
        done = 0
        try:
            for resp in self.client.iter_notifications(reqs):
                b = by_seq[resp.ref]
                self._record(b, resp)
                done += b.size
                if bar is not None:
                    bar.update(b.size)
                if callback is not None:
                    callback(done, total)
        finally:
            if bar is not None:
                bar.close()
        return len(reqs)

    def _record(self, b: Batch, resp: Any) -> None:
        state, nid, err, rows = _outcome(resp, b.external_ids, self._clean)
        self.journal.record_outcome(
            self.name, b.seq, state=state, notification_id=nid,
            http_status=resp.status, error=err, recipients=rows,
        )  # fmt: skip

    def send(
        self,
        *,
        confirm: bool | int | None = None,
        extend: bool = False,
        progress: Any = True,
        resend_expired: bool = False,
    ) -> CampaignResult:
        """Send to the cohort exactly once (resuming anything unfinished).

        :param confirm: needed above ``confirm_above`` recipients: ``True`` or the number of
            people this call sends to (as the plan shows it). A number is always checked: if
            the send would now reach a different number of people, nothing is sent.
        :param extend: after changing the cohort or message, send only to people this campaign
            has not reached yet instead of refusing
        :param progress: show a tqdm bar (``False`` for none, or a ``callback(done, total)``)
        :param resend_expired: resume batches attempted more than 29 days ago, although
            OneSignal no longer deduplicates their keys (see the error that asks for it)
        """
        started = time.monotonic()
        self._check_sendable()
        d = self._decide(extend=extend, resend_expired=resend_expired)
        todo: list[Batch] = d["unfinished"] + d["new"]
        if not todo:
            note = self._nothing_note(d)
            log.warning(note)
            return self._result(0, started, already_sent=True, note=note)
        count = sum(b.size for b in todo)
        if type(confirm) is int and confirm not in (count, len(self.cohort)):
            raise ConfirmationRequired(
                f"Campaign {self.name!r} was confirmed for {confirm:,} people, but it would now "
                f"send to {count:,} (the cohort or the journal changed since). Nothing was sent. "
                f"Check campaign.plan(), then call send(confirm={count})."
            )
        if count > self.confirm_above and not (confirm is True or type(confirm) is int):
            raise ConfirmationRequired(
                f"Campaign {self.name!r} would send to {count:,} people, more than "
                f"confirm_above={self.confirm_above:,}. Nothing was sent. Check campaign.plan(), "
                f"then call send(confirm={count}) (or send(confirm=True))."
            )
        run_fields = {
            "cohort_fingerprint": self._cohort_fingerprint(),
            "message_fingerprint": self._content_fingerprint(),
            "settings": self._settings(),
            "recipients": len(self.cohort),
            "status": "sending",
        }
        if d["run"] is None:
            run_fields.pop("status")
            self.journal.create_run(
                self.name, kind="campaign", app_id=self.app_id, batches=d["new"], **run_fields
            )
        elif d["new"]:
            if d["state"] == "extend":
                run_fields["rounds"] = d["run"]["rounds"] + 1
            self.journal.add_batches(self.name, d["new"], **run_fields)
        elif d["run"]["status"] != "sending":
            self.journal.update_run(self.name, status="sending")
        self._record_invalid()
        duplicates = self._valid_ids()[2]
        if duplicates:
            log.warning(
                "campaign %s: %d duplicate external id(s) in the cohort were dropped",
                self.name,
                duplicates,
            )
        # From here on every batch has its intent in the journal: a kill now loses nothing.
        try:
            requests = self._run(todo, progress)
        except JournalError:
            raise  # the journal is busy or broken: do not wait on it again for the status
        except BaseException:
            try:
                self._update_status(interrupted=True)
            except JournalError as exc:  # keep the original error; the status is cosmetic
                log.warning("campaign %s: could not record the interruption: %s", self.name, exc)
            raise
        self._update_status()
        result = self._result(requests, started)
        log.info("campaign %s: %s", self.name, result.summary)
        return result

    def _nothing_note(self, d: dict) -> str:
        run = d["run"] or {}
        when = run.get("finished_at") or run.get("updated_at") or "earlier"
        if d["state"] == "extend":
            return (
                f"Campaign {self.name!r}: everyone in this cohort was already reached; "
                "nothing was sent."
            )
        return (
            f"Campaign {self.name!r} was already sent ({when}); nothing was sent again. "
            "To send the same message again on purpose, use a new campaign name."
        )

    def _settings(self) -> dict:
        return {
            "exclude_platforms": list(self.exclude_platforms),
            "personalization": self._mode()[0],
            "schedule": self._send_after(),
            "batch_size": self.batch_size,
            "api": self.api,
        }

    def _record_invalid(self) -> None:
        invalid = self._valid_ids()[1]
        if invalid:
            self.journal.record_outcome(
                self.name, -1, state="done", notification_id=None, http_status=None, error=None,
                recipients=[(str(e), "invalid", None, "empty external id") for e in invalid],
            )  # fmt: skip

    def _update_status(self, *, interrupted: bool = False) -> None:
        batches = self.journal.batches(self.name, kind="send")
        if batches and all(b.state == "done" for b in batches):
            now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            self.journal.update_run(self.name, status="sent", finished_at=now)
        elif interrupted and any(b.state == "intent" for b in batches):
            self.journal.update_run(self.name, status="interrupted")
        elif any(b.state == "failed" for b in batches):
            self.journal.update_run(self.name, status="partial")

    def _result(
        self, requests: int, started: float, *, already_sent: bool = False, note: str = ""
    ) -> CampaignResult:
        import pandas as pd

        rows = self.journal.recipients(self.name)
        known = {r["external_id"] for r in rows}
        for b in self.journal.batches(self.name, kind="send", states=("intent",)):
            for eid in b.external_ids:
                if eid not in known:  # unanswered (interrupted) batches: listed, not hidden
                    known.add(eid)
                    rows.append(
                        {"external_id": eid, "status": "pending", "notification_id": None,
                         "error": _PENDING, "batch": b.seq}
                    )  # fmt: skip
        frame = pd.DataFrame(
            rows, columns=["external_id", "status", "notification_id", "error", "batch"]
        ).drop(columns="batch")
        counts = frame["status"].value_counts() if len(frame) else {}
        failed, pending = int(counts.get("failed", 0)), int(counts.get("pending", 0))
        if (failed or pending) and not note:
            parts = []
            if failed:
                parts.append(f"{failed:,} recipients failed (see the error column)")
            if pending:
                parts.append(f"{pending:,} are pending (the send was interrupted)")
            note = (
                f"{' and '.join(parts)}. Call send() again to finish their batches with the "
                "same keys: nobody gets the push twice."
            )
        nids = tuple(sorted({n for n in frame["notification_id"].dropna() if n}))
        return CampaignResult(
            name=self.name, frame=frame, requests=requests, already_sent=already_sent,
            note=note, seconds=time.monotonic() - started, notification_ids=nids,
        )  # fmt: skip

    def result(self) -> CampaignResult:
        """The per-recipient outcome so far, from the journal (sends nothing)."""
        return self._result(0, time.monotonic())

    def send_test(self, ids: Iterable[str] | str | None = None) -> CampaignResult:
        """Send the message to a QA list now; recorded in the journal as a test.

        :param ids: at most :data:`MAX_TEST_RECIPIENTS` external ids (and no more than
            ``confirm_above``); a single string is one id. Default: ``test_users``.
        """
        ids = list(dict.fromkeys(_one_or_many(ids if ids is not None else self.test_users)))
        if not ids:
            raise ValidationError(
                "No test recipients: pass send_test(['qa-id', ...]) or Campaign(test_users=...)."
            )
        cap = min(MAX_TEST_RECIPIENTS, self.confirm_above)
        if len(ids) > cap:
            why = (
                f"confirm_above={self.confirm_above:,}"
                if cap < MAX_TEST_RECIPIENTS
                else f"MAX_TEST_RECIPIENTS={MAX_TEST_RECIPIENTS}"
            )
            raise ValidationError(
                f"send_test got {len(ids):,} ids, but a test send is for a small QA list (at "
                f"most {cap}: {why}) and is never asked to confirm. Nothing was sent. Pass a few "
                "QA ids, or use send() (which asks for confirmation) to reach the cohort."
            )
        self._check_sendable()
        started = time.monotonic()
        if self.journal.run(self.name) is None:
            self.journal.create_run(
                self.name, kind="campaign", app_id=self.app_id,
                cohort_fingerprint=self._cohort_fingerprint(),
                message_fingerprint=self._content_fingerprint(), settings=self._settings(),
                recipients=len(self.cohort),
            )  # fmt: skip
        payload = self._test_payload(ids)
        seq = self.journal.next_seq(self.name)
        n = len(self.journal.batches(self.name, kind="test"))
        key = batch_key(self.name, f"test-{n}", payload, ids, self._platform_setting())
        batch = Batch(self.name, seq, "test", key, payload, tuple(ids), self._platform_setting())
        self.journal.add_batches(self.name, [batch])
        req = NotificationRequest(payload, tuple(ids), key, self._platform_setting(), ref=seq)
        resp = next(iter(self.client.iter_notifications([req])))
        state, nid, err, rows = _outcome(resp, ids, self._clean)
        self.journal.record_outcome(
            self.name, seq, state=state, notification_id=nid, http_status=resp.status, error=err,
        )  # fmt: skip
        import pandas as pd

        frame = pd.DataFrame(rows, columns=["external_id", "status", "notification_id", "error"])
        return CampaignResult(
            name=f"{self.name} (test)", frame=frame, requests=1, seconds=time.monotonic() - started,
            notification_ids=(resp.id,) if resp.id else (),
        )  # fmt: skip

    def _test_payload(self, ids: list[str]) -> dict:
        payload = self._finish(self.message.to_payload())
        if self._mode()[0] == "client":
            members = [i for i in ids if i in set(self.cohort.external_ids)]
            sample = members[:1] or self.cohort.external_ids[:1]
            payload = self._finish(
                self.message.client_batches(self.cohort.subset(sample), tag_map=self.tag_map)[0][0]
            )
        payload["name"] = f"[TEST] {payload.get('name', self.name)}"[: limits.MAX_NAME_CHARS]
        return payload

    # -- reporting ----------------------------------------------------------------------------
    def report(
        self,
        *,
        poll_interval: float = 2.0,
        timeout: float = 120.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> CampaignReport:
        """Fetch OneSignal's delivery stats per notification, polling until complete."""
        import pandas as pd

        sleep = sleep or time.sleep
        clock = clock or time.monotonic
        batches = [b for b in self.journal.batches(self.name, kind="send") if b.notification_id]
        nids = sorted({b.notification_id for b in batches})
        stats: dict[str, Any] = {}
        deadline = clock() + timeout
        while True:
            for nid in nids:
                if nid not in stats or not stats[nid].complete:
                    stats[nid] = self.client.view_notification(nid)
            if all(s.complete for s in stats.values()) or clock() >= deadline:
                break
            sleep(poll_interval)
        cols = ["notification_id", "successful", "failed", "errored", "converted", "remaining"]
        frame = pd.DataFrame(
            [
                [n, s.successful, s.failed, s.errored, s.converted, s.remaining]
                for n, s in stats.items()
            ],
            columns=cols,
        )
        per: dict[str, dict[str, int]] = {}
        for s in stats.values():
            for platform, counts in (s.platform_delivery_stats or {}).items():
                acc = per.setdefault(platform, {})
                for k, v in counts.items():
                    if isinstance(v, (int, float)):
                        acc[k] = acc.get(k, 0) + int(v)
        platforms = pd.DataFrame.from_dict(per, orient="index").fillna(0).astype(int)
        platforms.index.name = "platform"
        targeted = sum(1 for r in self.journal.recipients(self.name) if r["status"] == "sent")
        return CampaignReport(
            name=self.name, frame=frame, platforms=platforms, targeted=targeted,
            complete=all(s.complete for s in stats.values()),
        )  # fmt: skip


def campaigns(journal: Journal | str | os.PathLike = "campaigns.sqlite"):
    """Past campaigns and tag syncs of a journal as a DataFrame, newest first."""
    import pandas as pd

    path = journal.path if isinstance(journal, Journal) else journal
    if not isinstance(journal, Journal) and not os.path.exists(path):
        raise JournalError(f"No campaign journal at {str(path)!r}; check the path.")
    j = open_journal(journal)
    cols = [
        "name", "kind", "status", "recipients", "sent", "failed", "batches", "tests", "rounds",
        "app_id", "created_at", "updated_at", "finished_at",
    ]  # fmt: skip
    return pd.DataFrame(j.runs(), columns=cols)
