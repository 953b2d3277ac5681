"""What a campaign's send would do now, decided from the journal, and the plan that says so.

:func:`decide` compares the journal with what a campaign would send now: a new campaign gets
freshly planned batches; a started one resumes its journaled batches (never re-planned, so the
keys stay the same) or is already sent; a changed one is refused unless ``extend=True``, which
plans batches only for people not reached yet. The answer is a frozen :class:`Decision`.
:func:`build_plan` turns it into the :class:`~onesig_nb.campaign.views.CampaignPlan` a marketer
reads before sending. The lint gate lives here too: errors block a send, and a warning that
changes the text some people get (:data:`TEXT_CHANGING_CODES`) must be acknowledged
(:func:`text_warnings`, :func:`check_acknowledged`). Every function takes what it needs as
arguments (the :class:`~onesig_nb.campaign.Campaign` facade supplies them); nothing here writes
or sends.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from onesig_nb._words import count, people
from onesig_nb.campaign.batches import estimate_seconds, sample_request
from onesig_nb.campaign.mode import ModeChoice
from onesig_nb.campaign.views import SENT_MEANS, CampaignPlan
from onesig_nb.errors import CampaignConflict, ConfirmationRequired, ValidationError
from onesig_nb.journal import Batch, Journal
from onesig_nb.message import Finding
from onesig_nb.message.rendering import analyse, slots
from onesig_nb.message.rules import has_fallback
from onesig_nb.onesignal import limits

__all__ = [
    "RESUME_KEY_MAX_AGE_SECONDS",
    "STATES",
    "TEXT_CHANGING_CODES",
    "Decision",
    "TextWarning",
    "blocked_plan",
    "build_plan",
    "caveats",
    "acknowledged_codes",
    "check_acknowledged",
    "check_confirmation",
    "check_tested",
    "check_run",
    "cancelled_conflict",
    "conflict_text",
    "decide",
    "nothing_note",
    "refuse_expired",
    "started_mode",
    "text_warnings",
    "unguarded_variables",
]

#: A resumed batch that was already attempted is refused when its intent is older than this:
#: OneSignal forgets idempotency keys after limits.IDEMPOTENCY_WINDOW_SECONDS (30 days), so a
#: batch that went out before a crash would be pushed again. One day of margin for clock skew.
RESUME_KEY_MAX_AGE_SECONDS = limits.IDEMPOTENCY_WINDOW_SECONDS - 24 * 3600

#: What a :class:`Decision` can say a send would do now.
STATES = ("new", "resume", "sent", "extend", "conflict")


@dataclass(frozen=True)
class Decision:
    """What a send would do now, decided from the journal (nothing written yet).

    ``state``: ``new`` (nothing journaled), ``resume`` (unfinished batches), ``sent`` (nothing
    left), ``extend`` (new batches for people not reached yet) or ``conflict`` (refused: only a
    plan shows this state; :func:`decide` raises :class:`CampaignConflict` instead).
    """

    state: str
    #: the journal's run of this campaign (None for a new campaign)
    run: dict | None = None
    #: the run's journaled send batches, finished or not
    existing: tuple[Batch, ...] = ()
    #: the journaled batches not confirmed sent (resumed first, with their keys)
    unfinished: tuple[Batch, ...] = ()
    #: batches planned now (their intents are journaled before the first request)
    new: tuple[Batch, ...] = ()
    #: nothing was created under the run's (mistyped) app id: its batches move to this app
    rebind_app: bool = False
    #: why a changed campaign is refused, in full and in a few words (state ``conflict``)
    conflict: str = ""
    conflict_short: str = ""

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"Decision state must be one of {STATES}, not {self.state!r}.")

    @classmethod
    def refused(cls, exc: CampaignConflict) -> Decision:
        """The decision a plan shows for a refused (conflicting) campaign."""
        return cls("conflict", conflict=str(exc), conflict_short=getattr(exc, "short", ""))

    @property
    def todo(self) -> tuple[Batch, ...]:
        """What a send sends now: the unfinished batches, then the new ones."""
        return self.unfinished + self.new


def refuse_expired(name: str, unfinished: Sequence[Batch]) -> None:
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
    affected = sum(b.size for b in stale)
    raise _conflict(
        f"Campaign {name!r} has {len(stale)} unfinished batch(es) ({affected:,} people) "
        f"that were attempted more than {days - 1} days ago (first on "
        f"{min(b.created_at for b in stale)}). Nothing was sent. OneSignal remembers "
        f"idempotency keys for {days} days only, so if any of them did go out before the "
        "interruption, resending now would push to those people a second time. Options: "
        "check in the OneSignal dashboard (or client.view_notification) whether a "
        f"notification named {name!r} reached them; if it did not, call "
        "send(resend_expired=True) (onesig-nb send: --resend-expired) to send those "
        "batches now; if it did, leave the campaign as it is (result() lists those "
        "people as 'pending').",
        "unfinished batches too old to resume safely",
    )


def started_mode(run: dict, *, fresh: ModeChoice, name: str) -> ModeChoice | None:
    """The mode an auto campaign started with, when it differs from the ``fresh`` decision.

    A started campaign keeps it while its batches are unchanged: their payloads and keys are
    fixed in the journal, and re-deciding the mode (say, after a TagSync) must not turn
    "already sent" or "resume" into a conflict. The caller keeps it only if the run still
    matches under that mode. None: nothing to keep (same mode, or none recorded).
    """
    recorded = (run.get("settings") or {}).get("personalization")
    if recorded not in ("none", "server", "client") or recorded == fresh.mode:
        return None
    warning = ""
    if recorded == "server":
        warning = (
            f"Campaign {name!r} started in server mode: its batches keep their templated "
            "payloads and keys (exactly-once), although the journal no longer proves the tags "
            f"({fresh.reason})."
        )
    return ModeChoice(
        recorded,
        f"kept from when this campaign started (its batches and keys are fixed); "
        f"started now it would be {fresh.mode}: {fresh.reason}",
        warning,
    )


def check_run(journal: Journal, *, name: str, app_id: str) -> tuple[dict | None, bool]:
    """(the journal's run of campaign ``name`` or None, whether its batches move to ``app_id``).

    Refuses a name that belongs to a tag sync, and a run of another app that already created
    notifications there.
    """
    run = journal.run(name)
    if run is not None and run["kind"] != "campaign":
        raise _conflict(
            f"{name!r} is a tag sync in journal {str(journal.path)!r}; "
            "give the campaign a different name.",
            "the name belongs to a tag sync",
        )
    if run is None or not run["app_id"] or not app_id or run["app_id"] == app_id:
        return run, False
    if any(b.notification_id for b in journal.batches(name, kind=None)):
        raise _conflict(
            f"Campaign {name!r} in journal {str(journal.path)!r} belongs to app "
            f"{run['app_id']}, but this client is app {app_id}. Nothing was sent. Use "
            "a new campaign name, or a separate journal file for each app.",
            "it belongs to another OneSignal app",
        )
    # OneSignal created nothing under the old app id (e.g. it was mistyped): nobody got
    # anything, so the unfinished batches may go to the corrected app with their keys.
    return run, True


def decide(
    *,
    name: str,
    journal: Journal,
    run: dict | None,
    existing: Sequence[Batch],
    rebind_app: bool,
    cohort_fingerprint: str,
    message_fingerprint: str,
    usable_ids: Sequence[str],
    plan_all: Callable[[], Sequence[Batch]],
    plan_for: Callable[[list[str], int], Sequence[Batch]],
    extend: bool,
    resend_expired: bool = False,
) -> Decision:
    """Compare the journal with what the campaign would send now; say what a send would do.

    :param run: the journal's run (:func:`check_run`); ``existing`` its send batches
    :param cohort_fingerprint: who gets what now (compared with the run's)
    :param message_fingerprint: the message and settings now (compared with the run's)
    :param usable_ids: the cohort's usable external ids, each once
    :param plan_all: the batches of the whole cohort (a new campaign)
    :param plan_for: ``(ids, first seq)`` -> the batches for those ids (``extend``)
    :raises CampaignConflict: the campaign changed since it started and ``extend`` is False,
        or unfinished batches are too old to resume (without ``resend_expired``)
    """
    same = (
        run is not None
        and run["cohort_fingerprint"] == cohort_fingerprint
        and run["message_fingerprint"] == message_fingerprint
    )
    unfinished = tuple(b for b in existing if b.state not in ("done", "cancelled"))
    if not resend_expired:
        refuse_expired(name, unfinished)
    base = dict(run=run, existing=tuple(existing), unfinished=unfinished, rebind_app=rebind_app)
    if not existing:
        new = list(plan_all())
        first = journal.next_seq(name) if run else 0
        if first:  # test sends came first and hold the lowest numbers
            new = [dataclasses.replace(b, seq=b.seq + first) for b in new]
        return Decision("new", new=tuple(new), **base)
    if same and not extend:
        return Decision("resume" if unfinished else "sent", **base)
    if not same and not extend:
        message_changed = run["message_fingerprint"] != message_fingerprint
        cohort_changed = run["cohort_fingerprint"] != cohort_fingerprint
        if message_changed and cohort_changed:
            # a new message can switch personalization, which fingerprints the cohort
            # differently: call the cohort changed only when its people did
            cohort_changed = set(usable_ids) != journal.targeted_ids(name)
        what = [
            w
            for w, changed in (("cohort", cohort_changed), ("message or settings", message_changed))
            if changed
        ] or ["message or settings"]
        raise _conflict(
            conflict_text(
                what,
                name=name,
                journal=journal,
                usable_ids=usable_ids,
                existing=existing,
                unfinished=unfinished,
            ),  # fmt: skip
            "different message" if len(what) > 1 or what[0] != "cohort" else "different cohort",
        )
    reached = journal.targeted_ids(name)
    ids = [i for i in usable_ids if i not in reached]
    new = tuple(plan_for(ids, journal.next_seq(name))) if ids else ()
    return Decision("extend", new=new, **base)


def _conflict(text: str, short: str) -> CampaignConflict:
    """A CampaignConflict that also says, in a few words, why (for the plan's state)."""
    exc = CampaignConflict(text)
    exc.short = short
    return exc


def conflict_text(
    what: list[str],
    *,
    name: str,
    journal: Journal,
    usable_ids: Sequence[str],
    existing: Sequence[Batch],
    unfinished: Sequence[Batch],
) -> str:
    """Why a changed campaign is refused (``what`` changed), and what to do instead."""
    where = f"(journal {str(journal.path)!r})"
    changed = " and ".join(what)
    reached = journal.targeted_ids(name)
    new = sum(1 for i in usable_ids if i not in reached)
    if unfinished:
        waiting = sum(b.size for b in unfinished)
        done = sum(b.size for b in existing if b.state == "done")
        return (
            f"Campaign {name!r} {where} is unfinished: {len(unfinished)} of "
            f"{len(existing)} batches ({waiting:,} people) are not confirmed sent, and its "
            f"{changed} changed since it started. Nothing was sent. Call "
            f"send(extend=True): it first finishes those batches with their original keys "
            f"and content (nobody gets the push twice), then sends to the {new:,} people of "
            f"this cohort it has not addressed yet. Do not use a new campaign name for this: "
            f"it would push again to the {done:,} people already reached."
        )
    if new == 0:
        return (
            f"Campaign {name!r} {where} already reached everyone in this cohort with a "
            f"different {changed}. Nothing was sent. To send the new version, give it a new "
            "campaign name (people already reached get a second push). send(extend=True) "
            "would add nobody: there is no one left this campaign has not reached."
        )
    return (
        f"Campaign {name!r} was already sent {where} with a different {changed}. "
        f"Nothing was sent. Call send(extend=True) to send it only to the {people(new)} "
        "this campaign has not reached yet, or use a new campaign name to send it to "
        "everyone again as a new campaign (people already reached get it a second time)."
    )


def cancelled_conflict(run: dict, *, name: str) -> CampaignConflict:
    """The refusal of a send after :meth:`~onesig_nb.campaign.Campaign.cancel`."""
    when = (run.get("settings") or {}).get("cancelled_at") or run.get("updated_at") or "earlier"
    return _conflict(
        f"Campaign {name!r} was cancelled ({when}), so send() sends nothing more (what went "
        "out before the cancel is in result() and the cancel's list). To send it after all, "
        "call send(reopen=True) (onesig-nb send: --reopen): it sends, with new requests, to "
        "the people the cancel stopped and those not reached yet, never again to anyone it "
        "already reached.",
        "it was cancelled (send(reopen=True) sends it after all)",
    )


def nothing_note(d: Decision, *, name: str) -> str:
    """The note of a send that had nothing left to send."""
    run = d.run or {}
    when = run.get("finished_at") or run.get("updated_at") or "earlier"
    if d.state == "extend":
        return f"Campaign {name!r}: everyone in this cohort was already reached; nothing was sent."
    return (
        f"Campaign {name!r} was already sent ({when}); nothing was sent again. "
        "To send the same message again on purpose, use a new campaign name."
    )


def build_plan(
    d: Decision,
    *,
    name: str,
    recipients: int,
    duplicates: int,
    findings: list,
    choice: ModeChoice,
    plan_all: Callable[[], Sequence[Batch]],
    platforms: tuple[str, ...],
    exclude_platforms: tuple[str, ...],
    app_id: str,
    api: str,
    key_hint: str,
    max_workers: int,
    reach: Any = None,
) -> CampaignPlan:
    """The plan of decision ``d``: what ``send()`` would do now (nothing sent or written).

    :param recipients: people in the cohort; ``duplicates`` the repeated ids dropped
    :param findings: the message's lint findings for this cohort
    :param choice: the personalization mode the decision was made in
    :param plan_all: the whole cohort's batches (shown when nothing is left to send)
    :param app_id: the client's app (the sample request shows it)
    :param api: the client's API generation (which dialect encodes the sample request)
    :param key_hint: the client's API key masked (the sample request's header shows it)
    :param max_workers: the client's concurrency (for the duration estimate)
    :param reach: who can be reached (:class:`~onesig_nb.campaign.reachability.Reachability`;
        its excluded people are already left out of ``d``'s batches)
    """
    note = d.conflict
    todo = d.todo
    if d.state == "resume":
        note = (
            f"Unfinished: send() resumes {count(len(todo), 'batch', 'batches')} with their "
            "original keys, so nobody gets it twice."
        )
    if recipients == 0:
        note = "The cohort is empty: nobody to send to."
    elif d.state == "new" and not todo and reach is not None and reach.excluded:
        note = f"Nobody to send to: nobody in the cohort can be reached. {reach.sentence()}"
    if duplicates:
        dup = (
            f"{duplicates:,} duplicate external id(s) in the cohort were dropped: each "
            "person is sent to once."
        )
        note = f"{note} {dup}".strip()
    shown = todo or (d.existing if d.state == "sent" else tuple(plan_all()))
    if choice.warning:
        findings = [Finding("warning", choice.warning_code, choice.warning), *findings]
    requests = len(todo) if d.state != "conflict" else 0
    return CampaignPlan(
        name=name,
        state=d.state,
        recipients=recipients,
        to_send=sum(b.size for b in todo),
        batches=len(shown),
        requests=requests,
        platforms=platforms,
        personalization=choice.mode,
        reason=choice.reason,
        api=api,
        estimated_seconds=estimate_seconds(requests, max_workers=max_workers),
        findings=list(findings),
        sample_payload=sample_request(shown[0], app_id=app_id, api=api, key_hint=key_hint)
        if shown
        else {},
        note=note,
        duplicates=duplicates,
        caveats=caveats(exclude_platforms),
        blocked=d.conflict_short,
        reach=reach,
    )


def blocked_plan(
    *,
    name: str,
    recipients: int,
    duplicates: int,
    findings: list,
    personalization: str,
    platforms: tuple[str, ...],
    exclude_platforms: tuple[str, ...],
    api: str,
) -> CampaignPlan:
    """The plan of a message with errors that stop it from being rendered at all."""
    return CampaignPlan(
        name=name,
        state="blocked",
        recipients=recipients,
        to_send=0,
        batches=0,
        requests=0,
        platforms=platforms,
        personalization=personalization,
        reason="decided once the message has no errors",
        api=api,
        estimated_seconds=0.0,
        findings=list(findings),
        note="",
        duplicates=duplicates,
        caveats=caveats(exclude_platforms),
        blocked="errors in the checks",
    )


def caveats(exclude_platforms: Sequence[str]) -> list[str]:
    """What the plan's numbers do not say (what 'sent' means, excluded platforms)."""
    out = [SENT_MEANS]
    if exclude_platforms:
        out.append(
            f"exclude_platforms={tuple(exclude_platforms)}: people whose only subscribed "
            f"devices are {' / '.join(exclude_platforms)} get nothing from this push: when "
            "reachability was checked they are excluded before sending; otherwise OneSignal "
            "accepts them and they are 'accepted (unconfirmed)'. report() shows delivery per "
            "platform."
        )
    return out


def check_confirmation(
    confirm: bool | int | None, to_send: int, *, name: str, recipients: int, confirm_above: int
) -> None:
    """Refuse a send to ``to_send`` people above ``confirm_above`` without ``confirm``, or
    confirmed for a different number of people than it would now reach (``to_send``, or the
    cohort's ``recipients``)."""
    if type(confirm) is int and confirm not in (to_send, recipients):
        raise ConfirmationRequired(
            f"Campaign {name!r} was confirmed for {confirm:,} people, but it would now "
            f"send to {to_send:,} (the cohort or the journal changed since). Nothing was sent. "
            f"Check campaign.plan(), then call send(confirm={to_send})."
        )
    if to_send > confirm_above and not (confirm is True or type(confirm) is int):
        raise ConfirmationRequired(
            f"Campaign {name!r} would send to {to_send:,} people, more than "
            f"confirm_above={confirm_above:,}. Nothing was sent. Check campaign.plan(), "
            f"then call send(confirm={to_send}) (or send(confirm=True))."
        )


#: Lint warning codes (:mod:`onesig_nb.message.lint`, :mod:`onesig_nb.message.rules`) whose
#: finding means some people get a different text from the one written, so a send needs them
#: acknowledged: a variable they lack without a fallback (``missing-variable``; with a
#: fallback it is only "info"), a text a device cuts off (``truncated-*``; Android's
#: collapsed body is "info"), a title that renders empty, Liquid sent as written
#: (``single-braces``) and ``message.custom_data`` that renders blank without a template.
#: Errors (a Liquid syntax error, a render that fails for some people) block a send outright.
TEXT_CHANGING_CODES = frozenset(
    {
        "missing-variable",
        "truncated-ios",
        "truncated-android",
        "truncated-chrome",
        "empty-render",
        "single-braces",
        "custom-data-without-template",
    }
)


@dataclass(frozen=True)
class TextWarning:
    """A lint warning a send must acknowledge: it changes the text ``people`` people get."""

    code: str
    people: int
    message: str

    def __str__(self) -> str:
        return f"{self.code} ({people(self.people)}): {self.message}"


def unguarded_variables(message: Any) -> set[str] | None:
    """The variables some template of ``message`` reads without a fallback (``| default:``
    or an ``{% if %}`` around it), decided as lint decides it; None for a message that does
    not say which variables it reads (then every missing-variable warning counts)."""
    if not hasattr(message, "variables"):
        return None
    out = set()
    for var in message.variables:
        using = [s for s in slots(message) if var in analyse(s.source).tags]
        if using and not all(has_fallback(s.source, var) for s in using):
            out.add(var)
    return out


#: A quoted name in a finding's sentence: lint quotes the variable it is about first.
_QUOTED_NAME = re.compile(r"'([A-Za-z_][\w.]*)'")


def _subject(finding: Any) -> str | None:
    """The variable a missing-variable finding is about: the first name its sentence quotes
    ("No one in this cohort has 'frist_name'. Did you mean 'first_name'?")."""
    m = _QUOTED_NAME.search(finding.message)
    return m.group(1) if m else None


def text_warnings(
    findings: Iterable[Any], *, recipients: int, unguarded: set[str] | None = None
) -> tuple[TextWarning, ...]:
    """The findings a send must acknowledge, each with the number of people it affects.

    A finding about the message alone (no count: single braces, ``custom_data``) affects
    everyone in the cohort (``recipients``). A missing variable the template gives a fallback
    is not one (lint still warns when nobody has it: likely a typo, but everyone reads the
    fallback the author wrote): ``unguarded`` (:func:`unguarded_variables`) says which
    variables have none; None counts every missing-variable warning.
    """
    out = []
    for f in findings:
        if getattr(f, "severity", "") != "warning" or f.code not in TEXT_CHANGING_CODES:
            continue
        if f.code == "missing-variable" and unguarded is not None:
            if _subject(f) not in unguarded:
                continue
        out.append(TextWarning(f.code, int(f.count or recipients), f.message))
    return tuple(out)


def acknowledged_codes(acknowledge: Any, warnings: Sequence[TextWarning]) -> set[str]:
    """The warning codes ``acknowledge`` accepts: ``True`` all of ``warnings``, a code, or a
    list of codes; ``False``/``None``/empty none."""
    if acknowledge is True:
        return {w.code for w in warnings}
    if acknowledge is None or acknowledge is False:
        return set()
    if isinstance(acknowledge, str):
        return {acknowledge}
    try:
        codes = set(acknowledge)
    except TypeError:
        codes = None
    if codes is None or not all(isinstance(c, str) for c in codes):
        raise ValidationError(
            f"acknowledge must be True or a list of warning codes (e.g. "
            f"acknowledge=['missing-variable']), not {acknowledge!r}."
        )
    return codes


def check_acknowledged(
    warnings: Sequence[TextWarning], acknowledge: Any, *, name: str, confirm_hint: str
) -> None:
    """Refuse a send while a warning that changes the text for some people is not acknowledged.

    :param confirm_hint: the ``confirm=...`` part of the call to suggest (``""`` when the send
        needs no confirmation)
    :raises ConfirmationRequired: naming each unacknowledged warning with the people affected;
        its ``warnings`` attribute holds them (:class:`TextWarning`)
    """
    ok = acknowledged_codes(acknowledge, warnings)
    todo = [w for w in warnings if w.code not in ok]
    if not todo:
        return
    codes = list(dict.fromkeys(w.code for w in todo))
    listed = "; ".join(str(w) for w in todo)
    call = ", ".join(p for p in (confirm_hint, f"acknowledge={codes!r}") if p)
    exc = ConfirmationRequired(
        f"Campaign {name!r} would change the text for some people, so nothing was sent: "
        f"{listed}. Fix the message (campaign.plan() lists the checks), or send it as it is "
        f"with send({call}) (acknowledge=True accepts every warning)."
    )
    exc.warnings = tuple(todo)
    raise exc


def check_tested(tested: bool, *, name: str) -> None:
    """Refuse the real send of a ``require_test=True`` campaign before a test of this message.

    :param tested: the journal holds a test send of the message as it is now
    """
    if not tested:
        raise ConfirmationRequired(
            f"Campaign {name!r} needs a test send of this message first (require_test=True), "
            "and the journal has none of the message as it is now. Nothing was sent. Call "
            "campaign.send_test(['your-qa-id']) (or click Send test), check the push on the "
            "device, then send again."
        )
