"""Campaign: plan, test, confirm and send one push to a cohort exactly once, then report.

    camp = Campaign("black-friday", cohort, msg, client, journal="campaigns.sqlite")
    camp.plan()                    # who, how many requests, which platforms, lint, sample payload
    camp.send_test(["qa-1"])       # recorded in the journal as a test
    result = camp.send(confirm=True)
    result.to_frame(); camp.report()

The lint gate: a message with lint errors is never sent; a warning that changes the text for
some people (a variable they lack without a fallback, a text cut off, Liquid sent as written)
must be acknowledged, ``send(confirm=N, acknowledge=["missing-variable"])`` (or
``acknowledge=True``); ``require_test=True`` also needs a test send of the same message first.

Stopping: :meth:`Campaign.stop` (from another thread), a ``stop=`` event, or Ctrl-C (a
notebook's Interrupt) during :meth:`Campaign.send` starts no further request; the requests in
flight finish and are journaled, and ``send()`` raises
:class:`~onesig_nb.errors.SendStopped` ("Stopped: N sent, M left; send() resumes ..."). A
stopped send raises rather than returns so that a notebook's Run All, or a script, does not
carry on as if everything went out; ``SendStopped.result`` holds the result so far.

Exactly-once: the recipients are cut into batches whose idempotency keys are uuid5 over the
campaign name and the batch content. All batch intents are journaled before the first request;
each outcome is journaled as it comes back. Re-running ``send()`` (after a restart, a kill, or
just running the cell again) sends only the unfinished batches, with the same keys, so OneSignal
(or the sandbox) replays instead of pushing twice.

This module is the facade: it holds the campaign's settings and caches, and hands each
function of the modules below exactly the inputs it needs. :mod:`~onesig_nb.campaign.planning`
(what a send would do: a :class:`~onesig_nb.campaign.planning.Decision`, and the plan),
:mod:`~onesig_nb.campaign.batches` (batches, and the sample request), :mod:`~onesig_nb.campaign.mode`
(server or client personalization, and why), :mod:`~onesig_nb.campaign.sending` (the send loop
and outcome classification), :mod:`~onesig_nb.campaign.results` (results, statuses, reports)
and :mod:`~onesig_nb.campaign.views` (plan/result/report display). The client is anything
that provides :class:`~onesig_nb.campaign.protocols.PushClient`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from onesig_nb.campaign.batches import (
    as_cohort,
    check_batch_size,
    check_platforms,
    finish_payload,
    one_or_many,
    plan_batches,
    send_after_text,
)
from onesig_nb.campaign.cancel import Cancellation, cancel_campaign
from onesig_nb.campaign.caps import CapRace
from onesig_nb.campaign.holds import Holds, apply_rules, cap_guard, stamp
from onesig_nb.campaign.mode import PERSONALIZATION_MODES, ModeChoice, choose_mode
from onesig_nb.campaign.planning import (
    Decision,
    TextWarning,
    blocked_plan,
    build_plan,
    cancelled_conflict,
    check_acknowledged,
    check_confirmation,
    check_run,
    check_tested,
    decide,
    nothing_note,
    started_mode,
    text_warnings,
    unguarded_variables,
)
from onesig_nb.campaign.protocols import PushClient
from onesig_nb.campaign.reachability import MODES as REACHABILITY_MODES
from onesig_nb.campaign.reachability import Reachability, check_reachability
from onesig_nb.campaign.report import CampaignReport
from onesig_nb.campaign.results import build_result, campaign_status, fetch_report, update_status
from onesig_nb.campaign.rules import Rules, default_rules, load_rules
from onesig_nb.campaign.sending import (
    journal_intents,
    record_invalid,
    run_batches,
    send_test_batch,
    sigint_stops,
    split,
    stopped_text,
    test_payload,
)
from onesig_nb.campaign.timing import is_local
from onesig_nb.campaign.views import CampaignPlan, CampaignResult
from onesig_nb.errors import CampaignConflict, JournalError, SendStopped, ValidationError
from onesig_nb.journal import Batch, Journal, open_journal
from onesig_nb.onesignal.push import canonical_json, valid_ids

__all__ = ["MAX_TEST_RECIPIENTS", "Campaign"]

log = logging.getLogger("onesig_nb.campaign.campaign")

#: A test send is for a small QA list: more ids than this are refused (use send() for a cohort).
MAX_TEST_RECIPIENTS = 20

#: How many times a send decides again when another send took the frequency cap of some of
#: its people between its plan and its intents (each retry sees the other's ledger rows).
CAP_RACE_RETRIES = 5

_NO_RULES = Rules()

#: Run settings a send keeps (written by cancel(): how many times, and when last).
_KEPT = ("cancellations", "cancelled_at")


class Campaign:
    """One push to one cohort, sent exactly once through a journal.

    :param name: unique within the journal; it anchors the idempotency keys
    :param cohort: a :class:`~onesig_nb.Cohort` (or a DataFrame with ``external_id``)
    :param message: a :class:`~onesig_nb.Message`
    :param client: a :class:`~onesig_nb.OneSignal` client (real API or sandbox)
    :param journal: SQLite file (or open :class:`~onesig_nb.journal.journal.Journal`)
    :param exclude_platforms: e.g. ``("ios",)`` when Segment already pushes to iOS
        (OneSignal's Segment guide: never send the same push from both)
    :param personalization: ``"auto"`` (pre-rendered, unless the journal proves a TagSync put
        every variable's current value in OneSignal at least 60 s ago, as OneSignal asks: then
        one templated notification), ``"server"`` (OneSignal renders the Liquid from the tags it
        stores; the plan warns when the journal cannot prove them or they are younger than 60 s)
        or ``"client"`` (rendered here, identical texts grouped)
    :param test_users: default QA list for :meth:`send_test` (a string = one id)
    :param confirm_above: sends to more people need ``confirm=True`` or ``confirm=<count>``
    :param require_test: the real send refuses until a test send (:meth:`send_test`) of the
        message as it is now (same payload) was journaled
    :param schedule: when it goes out: a datetime or ISO string (one instant, ``send_after``),
        or ``"2026-12-01 09:00 local"``: 09:00 that day in each person's time zone (see
        ``rules``' ``timezone_trait``)
    :param rules: the sending rules (:class:`~onesig_nb.campaign.rules.Rules`: frequency
        cap across campaigns, quiet hours, suppression); default: the ones set with
        :func:`~onesig_nb.campaign.rules.set_rules`, if any. The plan shows them and why each
        person left out is not sent now (``plan().excluded``).
    :param batch_size: recipients per request (default and maximum: the client's limit)
    :param tag_map: trait -> tag renames, used when rendering and when checking synced tags
    :param now: returns the current time as an aware UTC datetime (default: the system clock),
        read once per plan/send to age the journal's tag writes; tests pass a fake instead of
        sleeping
    :param reachability: how the plan learns who OneSignal can reach before anything goes
        out (:mod:`~onesig_nb.campaign.reachability`): ``"auto"`` (the journal's cached check,
        else user lookups for a few people, else the subscription export), ``"export"``,
        ``"lookup"``, ``"journal"`` (what the journal already knows; no request) or ``"skip"``
        (check nothing, for huge cohorts: everyone OneSignal accepts is then "accepted
        (unconfirmed)", never "sent"). People known not to be in OneSignal, or without a
        subscribed device on the campaign's platforms, are excluded: no request for them.
    """

    def __init__(
        self,
        name: str,
        cohort: Any,
        message: Any,
        client: PushClient,
        *,
        journal: Journal | str | os.PathLike = "campaigns.sqlite",
        exclude_platforms: Iterable[str] = (),
        personalization: str = "auto",
        test_users: Iterable[str] = (),
        confirm_above: int = 1_000,
        require_test: bool = False,
        schedule: Any = None,
        batch_size: int | None = None,
        tag_map: dict | None = None,
        now: Callable[[], _dt.datetime] | None = None,
        reachability: str = "auto",
        rules: Rules | dict | str | os.PathLike | None = None,
    ):
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("A campaign needs a non-empty name (it anchors exactly-once).")
        if personalization not in PERSONALIZATION_MODES:
            raise ValidationError(
                f"personalization must be one of {PERSONALIZATION_MODES}, not {personalization!r}."
            )
        if reachability not in REACHABILITY_MODES:
            raise ValidationError(
                f"reachability must be one of {REACHABILITY_MODES}, not {reachability!r}."
            )
        excluded, self.platforms = check_platforms(exclude_platforms)
        max_ids = check_batch_size(batch_size, max_ids=client.max_ids_per_request)
        self.name = name
        self.cohort = as_cohort(cohort)
        self.message = message
        self.client = client
        self.exclude_platforms = excluded
        self.personalization = personalization
        self.test_users = tuple(one_or_many(test_users))
        self.confirm_above = int(confirm_above)
        self.require_test = bool(require_test)
        self.schedule = schedule
        self.batch_size = batch_size or max_ids
        self.tag_map = tag_map
        self.reachability = reachability
        self.rules = None if rules is None else load_rules(rules)
        self.journal = open_journal(journal)
        self._cache: dict[str, Any] = {}
        self._pinned: ModeChoice | None = None  # the mode a started campaign keeps (auto only)
        self._now = now or (lambda: _dt.datetime.now(_dt.UTC))
        self._at: _dt.datetime | None = None  # the time this plan/send decides for
        self._stops: set[threading.Event] = set()  # one per running send (stop() sets them)
        self._stops_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"Campaign({self.name!r}, recipients={len(self.cohort):,}, "
            f"journal={str(self.journal.path)!r})"
        )

    # -- derived facts ------------------------------------------------------------------------
    @property
    def app_id(self) -> str:
        return str(self.client.app_id or "")

    @property
    def api(self) -> str:
        return str(self.client.api or "current")

    def _rules(self) -> Rules:
        """The rules this campaign follows: its own, else the default set for its app."""
        if self.rules is not None:
            return self.rules
        return default_rules(self.app_id) or _NO_RULES

    def _holds(self) -> Holds:
        """Who the rules leave out or defer now (decided once per plan/send)."""
        at = self._at or self._tick()
        rules = self._rules()
        if rules.empty and not is_local(self.schedule):
            return Holds()
        reach_ok = self._reach().sendable(self._valid_ids()[0])
        key = (
            at, self.cohort.fingerprint, self._reach_key(), canonical_json(rules.settings()),
            send_after_text(self.schedule), self.journal.path, self.message.fingerprint,
            canonical_json(self.tag_map),
        )  # fmt: skip
        if self._cache.get("holds_key") != key:
            frame = getattr(self.cohort, "df", None)
            if frame is None:
                import pandas as pd

                frame = pd.DataFrame({"external_id": self.cohort.external_ids})
            self._cache["holds"] = apply_rules(
                reach_ok, rules=rules, frame=frame, schedule=self.schedule, now=at,
                journal=self.journal, app_id=self.app_id, run=self.name,
                required=unguarded_variables(self.message), tag_map=self.tag_map,
            )  # fmt: skip
            self._cache["holds_key"] = key
        return self._cache["holds"]

    def _reach_key(self) -> Any:
        return self._cache.get("reach_key")

    def _tick(self) -> _dt.datetime:
        """Read the clock once for the plan/send/test about to be decided: every step of it
        then sees the same time, so the mode cannot flip halfway (tags turning 60 s old)."""
        self._at = self._now()
        return self._at

    def _choice(self) -> ModeChoice:
        """The personalization mode and why; re-decided when the cohort, the message or the
        tags the journal knows for this app change, or when tags it waited for have aged."""
        if self._pinned is not None:
            return self._pinned
        if self.personalization == "client":
            return choose_mode("client", self.message, self.cohort, journal=None, app_id="")
        at = self._at or self._tick()
        key = (
            self.personalization,
            self.cohort.fingerprint,
            self.message.fingerprint,
            canonical_json(self.tag_map),
            self.journal.tag_state_version(self.app_id),
        )
        cached = self._cache.get("mode")
        aged = cached is not None and cached.fresh_until is not None and at >= cached.fresh_until
        if self._cache.get("mode_key") != key or aged:
            self._cache["mode"] = choose_mode(
                self.personalization, self.message, self.cohort,
                journal=self.journal, app_id=self.app_id, tag_map=self.tag_map, now=at,
            )  # fmt: skip
            self._cache["mode_key"] = key
        return self._cache["mode"]

    def _mode(self) -> tuple[str, str]:
        choice = self._choice()
        return choice.mode, choice.reason

    def _matches(self, run: dict) -> bool:
        return (
            run["cohort_fingerprint"] == self._cohort_fingerprint()
            and run["message_fingerprint"] == self._content_fingerprint()
        )

    def _platform_setting(self) -> tuple[str, ...] | None:
        return None if not self.exclude_platforms else self.platforms

    def _content_fingerprint(self) -> str:
        settings = {
            "message": self.message.fingerprint,
            "mode": self._mode()[0],
            "platforms": self._platform_setting(),
            "schedule": send_after_text(self.schedule),
        }
        if not self._rules().empty:  # (no key without rules: older journals still match)
            settings["rules"] = self._rules().settings()
        return hashlib.sha256(canonical_json(settings).encode()).hexdigest()

    def _cohort_fingerprint(self) -> str:
        """Who gets what: the ids alone when OneSignal renders (traits do not change the push),
        the cohort's own fingerprint (ids + traits) when texts are rendered here."""
        if self._mode()[0] == "client":
            return self.cohort.fingerprint
        ids = sorted(self._valid_ids()[0])
        return hashlib.sha256("\x1f".join(ids).encode()).hexdigest()

    def _finish(self, payload: dict) -> dict:
        send_after = None if is_local(self.schedule) else send_after_text(self.schedule)
        return finish_payload(payload, name=self.name, send_after=send_after)

    def _groups(self, ids: list[str]) -> list[tuple]:
        """(payload, ids, hold) groups before cutting into batches: one per text (rendered
        here) and, under quiet hours or a local schedule, per time it goes out."""
        timing = self._holds().timing
        if timing is None or not (timing.send_after or timing.extra):
            return self._text_groups(ids)
        out = []
        for payload, group in self._text_groups(ids):
            parts: dict[tuple, list[str]] = {}
            for eid in group:
                parts.setdefault(timing.group_of(eid), []).append(eid)
            for (send_after, hold), part in sorted(parts.items(), key=lambda kv: str(kv[0])):
                timed = {**payload, **timing.extra}
                if send_after:
                    timed["send_after"] = send_after
                out.append((timed, part, hold))
        return out

    def _text_groups(self, ids: list[str]) -> list[tuple[dict, list[str]]]:
        """(payload, ids) groups of the texts."""
        if self._mode()[0] != "client":
            return [(self._finish(self.message.to_payload()), ids)]
        full = len(ids) == len(self.cohort)
        cohort = self.cohort if full else self.cohort.subset(ids)
        groups, seen = [], set()
        for p, g in self.message.client_batches(cohort, tag_map=self.tag_map):
            # a duck-typed cohort may repeat an id (with other traits, so in another text
            # group): it is sent once, in the first group that lists it
            once = [i for i in dict.fromkeys(g) if i not in seen]
            seen.update(once)
            if once:
                groups.append((self._finish(p), once))
        return groups

    def _planned(self, ids: list[str], seq0: int) -> list[Batch]:
        run = self.journal.run(self.name)
        cancels = int(((run or {}).get("settings") or {}).get("cancellations", 0))
        return plan_batches(
            self.name, self._groups(ids), batch_size=self.batch_size,
            platforms=self._platform_setting(), seq0=seq0,
            key_kind="send" if not cancels else f"send-after-cancel-{cancels}",
        )  # fmt: skip

    def _all_batches(self) -> list[Batch]:
        ids = self._sendable_ids()
        timing = self._holds().timing
        fp = (
            self.cohort.fingerprint, self._content_fingerprint(), self.batch_size,
            hashlib.sha256("\x1f".join(ids).encode()).hexdigest(),
            timing.signature() if timing is not None else None,
        )  # fmt: skip
        if self._cache.get("batches_fp") != fp:
            self._cache["batches"] = self._planned(ids, 0)
            self._cache["batches_fp"] = fp
        return self._cache["batches"]

    def _reach(self, *, cached_only: bool = False) -> Reachability:
        """Who OneSignal can reach among the cohort's usable ids, decided once per plan/send
        (:func:`~onesig_nb.campaign.reachability.check_reachability`). ``cached_only``: use
        what the journal knows, make no request."""
        at = self._at or self._tick()
        mode = "journal" if cached_only and self.reachability != "skip" else self.reachability
        key = (at, mode, self.cohort.fingerprint, self._platform_setting(), self.app_id)
        if self._cache.get("reach_key") != key:
            self._cache["reach"] = check_reachability(
                self._valid_ids()[0], mode=mode, client=self.client, journal=self.journal,
                app_id=self.app_id, platforms=self._platform_setting(), now=at,
            )  # fmt: skip
            self._cache["reach_key"] = key
        return self._cache["reach"]

    def _sendable_ids(self) -> list[str]:
        """The usable ids without the people known unreachable, suppressed or over the cap
        (they get no request)."""
        ids = self._reach().sendable(self._valid_ids()[0])
        out = self._holds().excluded
        return [i for i in ids if i not in out] if out else ids

    def _excluded(self) -> dict[str, str]:
        """``{external_id: why}`` of the people excluded before sending."""
        reach = self._reach()
        out = {eid: reach.reason_text(state) for eid, state in reach.excluded.items()}
        out.update(self._holds().excluded)
        return out

    def _valid_ids(self) -> tuple[list[str], list, int]:
        """(usable ids, each once, first occurrence kept; empty/non-string ids; duplicates)."""
        return valid_ids(self.cohort.external_ids)

    def _lint(self) -> list:
        key = (self.cohort.fingerprint, self.message.fingerprint)
        if self._cache.get("lint_key") != key:  # a cell may re-bind the cohort or message
            self._cache["lint"] = list(self.message.lint(self.cohort))
            self._cache["lint_key"] = key
        return self._cache["lint"]

    def text_warnings(self) -> tuple[TextWarning, ...]:
        """The lint warnings a send must acknowledge: each changes the text some people get
        (a variable they lack without a fallback, a text cut off, Liquid sent as written),
        with how many people it affects. ``send(acknowledge=[code, ...])`` accepts them."""
        warnings = text_warnings(
            self._lint(), recipients=len(self.cohort),
            unguarded=unguarded_variables(self.message),
        )  # fmt: skip
        if self._rules().skip_missing:  # those people are left out, not sent a gap
            warnings = tuple(w for w in warnings if w.code != "missing-variable")
        return warnings

    def _errors(self) -> list:
        return [f for f in self._lint() if f.severity == "error"]

    # -- what to do now -----------------------------------------------------------------------
    def _decide(
        self, *, extend: bool, resend_expired: bool = False, reopen: bool = False
    ) -> Decision:
        """Compare the journal with this campaign; say what a send would do (no writes)."""
        self._pinned = None
        self._tick()
        run, rebind = check_run(self.journal, name=self.name, app_id=self.app_id)
        if run is not None and run["status"] == "cancelled":
            if not reopen:
                raise cancelled_conflict(run, name=self.name)
            extend = True  # the cancelled people get new batches (new keys)
        existing = self.journal.batches(self.name, kind="send") if run else []
        if existing and self.personalization == "auto":
            self._keep_started_mode(run)
        return decide(
            name=self.name, journal=self.journal, run=run, existing=existing,
            rebind_app=rebind, cohort_fingerprint=self._cohort_fingerprint(),
            message_fingerprint=self._content_fingerprint(), usable_ids=self._sendable_ids(),
            plan_all=self._all_batches, plan_for=self._planned,
            extend=extend, resend_expired=resend_expired,
        )  # fmt: skip

    def _keep_started_mode(self, run: dict) -> None:
        """Pin the mode an auto campaign started with while its batches are unchanged."""
        pinned = started_mode(run, fresh=self._choice(), name=self.name)
        if pinned is None:
            return
        self._pinned = pinned
        if not self._matches(run):
            self._pinned = None  # something did change: decide afresh

    def plan(
        self, *, extend: bool = False, resend_expired: bool = False, reopen: bool = False
    ) -> CampaignPlan:
        """What ``send()`` would do now: no push is sent and no campaign record is written.

        It says who can be reached (``plan().excluded``, ``plan().reachability``): checking
        may read OneSignal's subscription export or look users up, and caches the answer
        in the journal per app (see ``reachability=``).

        It says which personalization is used and why (pre-rendered, or filled by OneSignal
        from tags a TagSync of this journal is known to have written), and warns when
        ``personalization="server"`` relies on tags the journal cannot vouch for. A message
        that cannot be rendered (a Liquid syntax error) gives a ``blocked`` plan that lists the
        error among its checks instead of raising.
        """
        try:
            try:
                d = self._decide(extend=extend, resend_expired=resend_expired, reopen=reopen)
            except CampaignConflict as exc:
                d = Decision.refused(exc)
            # the sample request is built by the client's dialect, which refuses a payload
            # the checks already flag (a non-https url): that too is a blocked plan
            return self._with_rules(build_plan(
                d, name=self.name, recipients=len(self.cohort), duplicates=self._valid_ids()[2],
                findings=self._lint(), choice=self._choice(), plan_all=self._all_batches,
                platforms=self.platforms, exclude_platforms=self.exclude_platforms,
                app_id=self.app_id, api=self.api, key_hint=self.client.key_hint,
                max_workers=self.client.max_workers, reach=self._reach(),
            ), d)  # fmt: skip
        except ValidationError:
            if not self._errors():
                raise  # not a message error the checks can show: let it say what happened
            return blocked_plan(
                name=self.name, recipients=len(self.cohort), duplicates=self._valid_ids()[2],
                findings=self._lint(), personalization=self.personalization,
                platforms=self.platforms, exclude_platforms=self.exclude_platforms, api=self.api,
            )  # fmt: skip

    def _with_rules(self, plan: CampaignPlan, d: Decision) -> CampaignPlan:
        """``plan`` with the rules, who they hold back and why, and when people get it."""
        rules = self._rules()
        plan.rules = [] if rules.empty else rules.lines()
        if d.state in ("new", "extend"):
            holds = self._holds()
            plan.held = holds.held
            if not d.todo and holds.excluded:
                plan.note = f"Nobody to send to now. {plan.reasons_text()}"
            if holds.timing is not None:
                plan.timing = holds.timing.table()
                plan.timing_notes = list(holds.timing.notes)
        return plan

    @property
    def status(self) -> str:
        """new | tested | sending | interrupted | partial | sent | cancelled (from the journal).

        ``interrupted``: a send stopped (AuthError, Ctrl-C, ...) with batches unanswered;
        ``partial``: some batches failed; both resume with ``send()``. A process killed
        outright cannot say so: its campaign stays ``sending`` (``send()`` resumes it too).
        """
        return campaign_status(self.journal, self.name)

    # -- sending ------------------------------------------------------------------------------
    def _check_sendable(self) -> None:
        if len(self.cohort) == 0:
            raise ValidationError(
                f"The cohort of campaign {self.name!r} is empty: nobody to send to. Nothing was "
                "sent. Check the audience key, id_type and as_of of load_cohort()."
            )
        errors = self._errors()
        if errors:
            listed = "; ".join(f"{f.code}: {f.message}" for f in errors)
            raise ValidationError(
                f"The message has {len(errors)} lint error(s), so nothing was sent: {listed}. "
                "Fix the message (see campaign.plan() or message.lint(cohort)) and try again."
            )

    def _clean(self, text: str) -> str:
        """``text`` (an error to journal or show) with the client's API key masked."""
        return self.client.redact(text)

    def send(
        self,
        *,
        confirm: bool | int | None = None,
        acknowledge: bool | Iterable[str] | str = (),
        extend: bool = False,
        progress: Any = True,
        resend_expired: bool = False,
        stop: threading.Event | None = None,
        reopen: bool = False,
    ) -> CampaignResult:
        """Send to the cohort exactly once (resuming anything unfinished).

        :param confirm: needed above ``confirm_above`` recipients: ``True`` or the number of
            people this call sends to (as the plan shows it). A number is always checked: if
            the send would now reach a different number of people, nothing is sent.
        :param acknowledge: the lint warnings that change the text for some people
            (:meth:`text_warnings`) you accept: a list of their codes, or ``True`` for all.
            Without it such a message is refused with
            :class:`~onesig_nb.errors.ConfirmationRequired`, which names each warning and
            how many people it affects. Lint errors always refuse.
        :param extend: after changing the cohort or message, send only to people this campaign
            has not reached yet instead of refusing
        :param progress: show a tqdm bar (``False`` for none, or a ``callback(done, total)``)
        :param resend_expired: resume batches attempted more than 29 days ago, although
            OneSignal no longer deduplicates their keys (see the error that asks for it)
        :param stop: a :class:`threading.Event`; once set (from any thread), no further
            request starts, and the send ends like :meth:`stop`
        :raises SendStopped: the send was stopped (:meth:`stop`, ``stop``, Ctrl-C) before
            everything went out: the requests in flight finished and were journaled, and
            ``send()`` again resumes the rest. Its ``sent``/``left`` give the split and
            ``result`` the result so far.
        """
        started = time.monotonic()
        self._check_sendable()
        stop = stop if stop is not None else threading.Event()
        with self._stops_lock:  # from now on, stop() and cancel() reach this send
            self._stops.add(stop)
        try:
            return self._send(
                started, stop, confirm=confirm, acknowledge=acknowledge, extend=extend,
                progress=progress, resend_expired=resend_expired, reopen=reopen,
            )  # fmt: skip
        finally:
            with self._stops_lock:
                self._stops.discard(stop)

    def _send(
        self,
        started: float,
        stop: threading.Event,
        *,
        confirm: Any,
        acknowledge: Any,
        extend: bool,
        progress: Any,
        resend_expired: bool,
        reopen: bool,
    ) -> CampaignResult:
        """:meth:`send` once its stop event is registered."""
        for attempt in range(CAP_RACE_RETRIES + 1):
            d = self._decide(extend=extend, resend_expired=resend_expired, reopen=reopen)
            if self._replan_capped(d):
                extend = True  # their batches were retired: plan the others afresh
                d = self._decide(extend=True, resend_expired=resend_expired, reopen=reopen)
            early = self._nothing_to_send(d, started)
            if early is not None:
                return early
            todo = d.todo
            self._check_send(d, confirm=confirm, acknowledge=acknowledge)
            invalid, duplicates = self._valid_ids()[1:]
            d = dataclasses.replace(d, new=stamp(d.new, self._at or self._tick()))
            try:
                journal_intents(
                    d, name=self.name, journal=self.journal, app_id=self.app_id,
                    run_fields=self._run_fields(), invalid=invalid, duplicates=duplicates,
                    excluded=self._excluded(), guard=self._guard(d, reopen=reopen),
                )  # fmt: skip
            except CapRace as race:
                if attempt == CAP_RACE_RETRIES:
                    raise JournalError(
                        f"Campaign {self.name!r}: other sends kept taking the frequency cap of "
                        f"its people while it planned ({race}). Nothing was sent. Run it again "
                        "once the other sends are done."
                    ) from None
                log.info("campaign %s: %s; deciding again", self.name, race)
                self._cache.pop("holds_key", None)
                continue
            todo = d.todo
            break
        # From here on every batch has its intent in the journal: a kill now loses nothing.
        if stop.is_set():  # stopped (or cancelled) while planning: nothing was requested
            raise self._stopped(started)
        try:
            with sigint_stops(stop):
                requests = run_batches(
                    self.name, todo, client=self.client, journal=self.journal,
                    progress=progress, clean=self._clean, stop=stop,
                    confirmed=self._reach().reachable, now=self._now,
                )  # fmt: skip
        except JournalError:
            raise  # the journal is busy or broken: do not wait on it again for the status
        except SendStopped:
            raise
        except KeyboardInterrupt:
            # A second Ctrl-C (or a kill simulated in a test): the requests in flight were
            # abandoned; their batches keep their intents, so the resume is exactly-once.
            self._interrupted()
            raise self._stopped(started, abandoned=True) from None
        except BaseException:
            self._interrupted()
            raise
        if stop.is_set() and split(self.journal, self.name)[1]:
            self._interrupted()
            raise self._stopped(started, requests=requests)
        update_status(self.journal, self.name)
        result = build_result(self.journal, self.name, requests=requests, started=started)
        log.info("campaign %s: %s", self.name, result.summary)
        return result

    def _replan_capped(self, d: Decision) -> bool:
        """Before resuming: retire the never-requested batches holding people the cap now
        leaves out (a push allowed meanwhile goes out when the resume would), recording them
        'excluded' with why. Returns whether any was retired (then decide again)."""
        if self._rules().cap is None or not d.unfinished:
            return False
        capped = self._holds().capped
        if not capped:
            return False
        hit = [
            b for b in d.unfinished
            if b.state == "intent" and not b.attempts and any(i in capped for i in b.external_ids)
        ]  # fmt: skip
        if not hit:
            return False
        people = {i: capped[i] for b in hit for i in b.external_ids if i in capped}
        retired = self.journal.drop_unsent(self.name, [b.seq for b in hit], people)
        if retired:
            log.info(
                "campaign %s: %d unsent batch(es) re-planned; %d people are capped now",
                self.name, len(retired), len(people),
            )  # fmt: skip
        self._cache.pop("holds_key", None)
        return bool(retired)

    def _guard(self, d: Decision, *, reopen: bool) -> Callable[[], None]:
        """What the intents' transaction checks first, under the journal's write lock: that
        the campaign was not cancelled meanwhile, and the frequency cap."""
        cap = cap_guard(
            d.new, rules=self._rules(), journal=self.journal, app_id=self.app_id, run=self.name
        )

        def guard() -> None:
            run = self.journal.run(self.name)
            if run is not None and run["status"] == "cancelled" and not reopen:
                raise cancelled_conflict(run, name=self.name)
            if cap is not None:
                cap()

        return guard

    def _nothing_to_send(self, d: Decision, started: float) -> CampaignResult | None:
        """The result of a send with nothing to send (nobody reachable, or already sent)."""
        if d.todo:
            return None
        excluded = self._excluded() if d.state in ("new", "extend") else {}
        if d.state == "new" and excluded:
            held = self._holds().excluded
            if held:
                note = (
                    f"Nothing was sent: nobody in campaign {self.name!r} can be sent to now; "
                    f"{len(held):,} left out by the sending rules ({self._rules()}). "
                    f"{self._reach().sentence()}"
                ).strip()
            else:
                note = (
                    f"Nothing was sent: nobody in campaign {self.name!r} can be reached. "
                    f"{self._reach().sentence()}"
                )
            log.warning(note)
            if held:  # journaled, so result() lists them with why (a later send may reach them)
                if d.run is None:
                    self.journal.create_run(
                        self.name, kind="campaign", app_id=self.app_id, **self._run_fields()
                    )
                    self.journal.update_run(self.name, status="new")
                record_invalid(self.journal, self.name, self._valid_ids()[1], excluded)
            import pandas as pd

            rows = [(eid, "excluded", None, why) for eid, why in excluded.items()]
            frame = pd.DataFrame(
                rows, columns=["external_id", "status", "notification_id", "error"]
            )
            return CampaignResult(
                name=self.name, frame=frame, note=note, seconds=time.monotonic() - started
            )
        note = nothing_note(d, name=self.name)
        log.warning(note)
        return build_result(
            self.journal, self.name, requests=0, started=started, already_sent=True, note=note
        )

    def _check_send(self, d: Decision, *, confirm: Any, acknowledge: Any) -> None:
        """Refuse a send that is not confirmed, acknowledged or tested as it must be."""
        to_send = sum(b.size for b in d.todo)
        confirmed = type(confirm) is int
        checks = dict(name=self.name, recipients=len(self.cohort), confirm_above=self.confirm_above)
        if confirmed:  # a count that no longer matches is refused before anything else
            check_confirmation(confirm, to_send, **checks)
        check_acknowledged(
            self.text_warnings(), acknowledge, name=self.name,
            confirm_hint=f"confirm={to_send}" if confirmed or to_send > self.confirm_above else "",
        )  # fmt: skip
        check_confirmation(confirm, to_send, **checks)
        if self.require_test:
            check_tested(self.tested(), name=self.name)
        if self._choice().warning:
            log.warning("campaign %s: %s", self.name, self._choice().warning)

    def stop(self) -> bool:
        """Stop the sends of this campaign that are running (safe from any thread).

        No further request starts; the ones in flight finish and are journaled, and the
        running :meth:`send` raises :class:`~onesig_nb.errors.SendStopped`; ``send()`` again
        resumes. Returns whether a send was running.
        """
        with self._stops_lock:
            running = list(self._stops)
        for event in running:
            event.set()
        return bool(running)

    def cancel(self, *, wait: float = 30.0) -> Cancellation:
        """The kill switch: cancel every push of this campaign not delivered yet.

        Running sends of this campaign are stopped first (up to ``wait`` seconds for their
        requests in flight); each notification it created that is still scheduled or going
        out is cancelled; batches never requested are stopped. All is recorded, and a later
        :meth:`send` refuses until ``send(reopen=True)``. The answer lists, per person, what
        was cancelled and what had already gone out (``to_frame()``).
        """
        self.stop()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with self._stops_lock:
                if not self._stops:
                    break
            time.sleep(0.05)
        result = cancel_campaign(
            self.journal, self.name, self.client, now=self._tick(), clean=self._clean
        )
        log.warning("campaign %s: %s", self.name, result.headline()[1])
        return result

    def _interrupted(self) -> None:
        """Record that a send stopped with batches unanswered (the status is cosmetic)."""
        try:
            update_status(self.journal, self.name, interrupted=True)
        except JournalError as exc:  # keep the original error
            log.warning("campaign %s: could not record the interruption: %s", self.name, exc)

    def _stopped(self, started: float, *, requests: int = 0, abandoned: bool = False):
        """The :class:`SendStopped` of a stopped send, with the split and the result so far."""
        try:
            sent, left = split(self.journal, self.name)
            result = build_result(self.journal, self.name, requests=requests, started=started)
        except JournalError:
            sent, left, result = 0, 0, None
        text = stopped_text(self.name, sent, left, abandoned=abandoned)
        if result is not None:
            result.note = text
        log.warning(text)
        return SendStopped(text, sent=sent, left=left, result=result)

    def _run_fields(self) -> dict:
        """What the journal's run records about this campaign as it is now."""
        return {
            "cohort_fingerprint": self._cohort_fingerprint(),
            "message_fingerprint": self._content_fingerprint(),
            "settings": self._settings(),
            "recipients": len(self.cohort),
        }

    def _settings(self) -> dict:
        out = {
            "exclude_platforms": list(self.exclude_platforms),
            "personalization": self._mode()[0],
            "schedule": send_after_text(self.schedule),
            "batch_size": self.batch_size,
            "api": self.api,
        }
        if not self._rules().empty:
            out["rules"] = self._rules().settings()
        run = self.journal.run(self.name)
        kept = {k: v for k, v in ((run or {}).get("settings") or {}).items() if k in _KEPT}
        return {**out, **kept}

    def result(self) -> CampaignResult:
        """The per-recipient outcome so far, from the journal (sends nothing).

        Before anything was sent, the card says so (and how to send) instead of showing zeros.
        """
        result = build_result(self.journal, self.name, requests=0, started=time.monotonic())
        if self.status in ("new", "tested") and not len(result.frame):
            self._tick()
            result.not_started = len(self._reach(cached_only=True).sendable(self._valid_ids()[0]))
        return result

    def send_test(self, ids: Iterable[str] | str | None = None) -> CampaignResult:
        """Send the message to a QA list now; recorded in the journal as a test.

        :param ids: at most :data:`MAX_TEST_RECIPIENTS` external ids (and no more than
            ``confirm_above``); a single string is one id. Default: ``test_users``.
        """
        ids = list(dict.fromkeys(one_or_many(ids if ids is not None else self.test_users)))
        if not ids:
            raise ValidationError(
                "No test recipients: pass send_test(['qa-id', ...]) or Campaign(test_users=...)."
            )
        cap = min(MAX_TEST_RECIPIENTS, self.confirm_above)
        if len(ids) > cap:
            why = (
                f"at most {cap:,} QA ids here, because confirm_above={self.confirm_above:,}"
                if cap < MAX_TEST_RECIPIENTS
                else f"at most {cap} QA ids"
            )
            raise ValidationError(
                f"send_test got {len(ids):,} ids, but a test send is for a small QA list "
                f"({why}) and is never asked to confirm. Nothing was sent. Pass a few "
                "QA ids, or use send() (which asks for confirmation) to reach the cohort."
            )
        self._check_sendable()
        self._pinned = None  # a test is a new batch: it uses the mode decided now
        at = self._tick()
        qa = check_reachability(
            ids, mode=self.reachability, client=self.client, journal=self.journal,
            app_id=self.app_id, platforms=self._platform_setting(), now=at,
        )  # fmt: skip
        return send_test_batch(
            ids, name=self.name, payload=self._qa_payload(ids),
            platforms=self._platform_setting(), client=self.client, journal=self.journal,
            run_fields={"app_id": self.app_id, **self._run_fields()}, clean=self._clean,
            confirmed=qa.reachable,
        )  # fmt: skip

    def tested(self) -> bool:
        """Whether the journal holds a test send (:meth:`send_test`) of the message as it is
        now: a test OneSignal created a notification for, whose payload is the one a test to
        the same QA ids would send now (same content hash). ``require_test=True`` needs it."""
        self._tick()
        for b in self.journal.batches(self.name, kind="test"):
            if not b.notification_id or b.platforms != self._platform_setting():
                continue
            now = test_payload(self._qa_payload(list(b.external_ids)), name=self.name)
            if _content_hash(now) == _content_hash(b.payload):
                return True
        return False

    def _qa_payload(self, ids: list[str]) -> dict:
        """The real payload as the first QA id sees it (or, when no QA id is in the cohort and
        texts are rendered here, as the first member does)."""
        payload = self._finish(self.message.to_payload())
        if self._mode()[0] == "client":
            members = set(self.cohort.external_ids)
            sample = [i for i in ids if i in members][:1] or self.cohort.external_ids[:1]
            rendered = self.message.client_batches(self.cohort.subset(sample), tag_map=self.tag_map)
            payload = self._finish(rendered[0][0])
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
        return fetch_report(
            self.journal, self.name, self.client, poll_interval=poll_interval,
            timeout=timeout, sleep=sleep, clock=clock,
        )  # fmt: skip


def _content_hash(payload: dict) -> str:
    """The sha256 of a payload's canonical JSON (what "the same message" means for a test)."""
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()
