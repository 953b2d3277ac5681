"""What a campaign's send would do now, decided from the journal, and the plan that says so.

:func:`decide` compares the journal with a :class:`~onesig_nb.campaign.campaign.Campaign`: a new
campaign gets freshly planned batches; a started one resumes its journaled batches (never
re-planned, so the keys stay the same) or is already sent; a changed one is refused unless
``extend=True``, which plans batches only for people not reached yet. :func:`build_plan` turns
that into the :class:`~onesig_nb.campaign.views.CampaignPlan` a marketer reads before sending.
The functions take the campaign as their first argument; nothing here writes or sends.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from onesig_nb._html import count, people
from onesig_nb.campaign.batches import estimate_seconds
from onesig_nb.campaign.mode import ModeChoice
from onesig_nb.campaign.sending import refuse_expired
from onesig_nb.campaign.views import SENT_MEANS, CampaignPlan
from onesig_nb.errors import CampaignConflict, ConfirmationRequired, ValidationError
from onesig_nb.journal import Batch

__all__ = [
    "build_plan",
    "caveats",
    "check_confirmation",
    "conflict_text",
    "decide",
    "nothing_note",
    "pin_started_mode",
]


def pin_started_mode(camp: Any, run: dict) -> None:
    """Keep the mode an auto campaign started with while its batches are unchanged.

    Its batches and keys are fixed in the journal; re-deciding the mode (say, after a
    TagSync) must not turn "already sent" or "resume" into a conflict.
    """
    recorded = (run.get("settings") or {}).get("personalization")
    fresh = camp._choice()
    if recorded not in ("none", "server", "client") or recorded == fresh.mode:
        return
    warning = ""
    if recorded == "server":
        warning = (
            f"Campaign {camp.name!r} started in server mode: its batches keep their templated "
            "payloads and keys (exactly-once), although the journal no longer proves the tags "
            f"({fresh.reason})."
        )
    camp._pinned = ModeChoice(
        recorded,
        f"kept from when this campaign started (its batches and keys are fixed); "
        f"started now it would be {fresh.mode}: {fresh.reason}",
        warning,
    )
    if not camp._matches(run):
        camp._pinned = None  # something did change: decide afresh


def decide(camp: Any, *, extend: bool, resend_expired: bool = False) -> dict:
    """Compare the journal with ``camp``; say what a send would do (no writes).

    ``state``: new | resume | sent | extend (a conflict raises :class:`CampaignConflict`).
    """
    camp._pinned = None
    run = camp.journal.run(camp.name)
    if run is not None and run["kind"] != "campaign":
        raise _conflict(
            f"{camp.name!r} is a tag sync in journal {str(camp.journal.path)!r}; "
            "give the campaign a different name.",
            "the name belongs to a tag sync",
        )
    rebind = False
    if run is not None and run["app_id"] and camp.app_id and run["app_id"] != camp.app_id:
        if any(b.notification_id for b in camp.journal.batches(camp.name, kind=None)):
            raise _conflict(
                f"Campaign {camp.name!r} in journal {str(camp.journal.path)!r} belongs to app "
                f"{run['app_id']}, but this client is app {camp.app_id}. Nothing was sent. Use "
                "a new campaign name, or a separate journal file for each app.",
                "it belongs to another OneSignal app",
            )
        # OneSignal created nothing under the old app id (e.g. it was mistyped): nobody got
        # anything, so the unfinished batches may go to the corrected app with their keys.
        rebind = True
    existing = camp.journal.batches(camp.name, kind="send") if run else []
    if existing and camp.personalization == "auto":
        pin_started_mode(camp, run)
    same = run is not None and camp._matches(run)
    unfinished = [b for b in existing if b.state != "done"]
    if not resend_expired:
        refuse_expired(camp.name, unfinished)
    if not existing:
        new = camp._all_batches()
        first = camp.journal.next_seq(camp.name) if run else 0
        if first:  # test sends came first and hold the lowest numbers
            new = [dataclasses.replace(b, seq=b.seq + first) for b in new]
        state = "new"
    elif same:
        new = []
        state = "resume" if unfinished else "sent"
    elif not extend:
        message_changed = run["message_fingerprint"] != camp._content_fingerprint()
        cohort_changed = run["cohort_fingerprint"] != camp._cohort_fingerprint()
        if message_changed and cohort_changed:
            # a new message can switch personalization, which fingerprints the cohort
            # differently: call the cohort changed only when its people did
            cohort_changed = set(camp._valid_ids()[0]) != camp.journal.targeted_ids(camp.name)
        what = [
            w
            for w, changed in (("cohort", cohort_changed), ("message or settings", message_changed))
            if changed
        ] or ["message or settings"]
        raise _conflict(
            conflict_text(camp, what, existing, unfinished),
            "different message" if len(what) > 1 or what[0] != "cohort" else "different cohort",
        )
    else:
        reached = camp.journal.targeted_ids(camp.name)
        ids = [i for i in camp._valid_ids()[0] if i not in reached]
        new = camp._planned(ids, camp.journal.next_seq(camp.name)) if ids else []
        state = "extend"
    return {
        "run": run,
        "existing": existing,
        "unfinished": unfinished,
        "new": new,
        "state": state,
        "rebind_app": rebind,
    }


def _conflict(text: str, short: str) -> CampaignConflict:
    """A CampaignConflict that also says, in a few words, why (for the plan's state)."""
    exc = CampaignConflict(text)
    exc.short = short
    return exc


def conflict_text(camp: Any, what: list[str], existing: list[Batch], unfinished: list) -> str:
    """Why a changed campaign is refused, and what to do instead."""
    where = f"(journal {str(camp.journal.path)!r})"
    changed = " and ".join(what)
    reached = camp.journal.targeted_ids(camp.name)
    new = sum(1 for i in camp._valid_ids()[0] if i not in reached)
    if unfinished:
        waiting = sum(b.size for b in unfinished)
        done = sum(b.size for b in existing if b.state == "done")
        return (
            f"Campaign {camp.name!r} {where} is unfinished: {len(unfinished)} of "
            f"{len(existing)} batches ({waiting:,} people) are not confirmed sent, and its "
            f"{changed} changed since it started. Nothing was sent. Call "
            f"send(extend=True): it first finishes those batches with their original keys "
            f"and content (nobody gets the push twice), then sends to the {new:,} people of "
            f"this cohort it has not addressed yet. Do not use a new campaign name for this: "
            f"it would push again to the {done:,} people already reached."
        )
    if new == 0:
        return (
            f"Campaign {camp.name!r} {where} already reached everyone in this cohort with a "
            f"different {changed}. Nothing was sent. To send the new version, give it a new "
            "campaign name (people already reached get a second push). send(extend=True) "
            "would add nobody: there is no one left this campaign has not reached."
        )
    return (
        f"Campaign {camp.name!r} was already sent {where} with a different {changed}. "
        f"Nothing was sent. Call send(extend=True) to send it only to the {people(new)} "
        "this campaign has not reached yet, or use a new campaign name to send it to "
        "everyone again as a new campaign (people already reached get it a second time)."
    )


def nothing_note(camp: Any, d: dict) -> str:
    """The note of a send that had nothing left to send."""
    run = d["run"] or {}
    when = run.get("finished_at") or run.get("updated_at") or "earlier"
    if d["state"] == "extend":
        return (
            f"Campaign {camp.name!r}: everyone in this cohort was already reached; "
            "nothing was sent."
        )
    return (
        f"Campaign {camp.name!r} was already sent ({when}); nothing was sent again. "
        "To send the same message again on purpose, use a new campaign name."
    )


def build_plan(camp: Any, *, extend: bool = False, resend_expired: bool = False) -> CampaignPlan:
    """What ``send()`` would do now: nothing is sent and nothing is written.

    A message that cannot be rendered (a Liquid syntax error) gives a ``blocked`` plan that
    lists the error among its checks instead of raising.
    """
    note, blocked = "", ""
    try:
        d = camp._decide(extend=extend, resend_expired=resend_expired)
    except CampaignConflict as exc:
        d = {"state": "conflict", "unfinished": [], "new": [], "existing": []}
        note, blocked = str(exc), getattr(exc, "short", "")
    except ValidationError:
        if not [f for f in camp._lint() if f.severity == "error"]:
            raise  # not a message error the checks can show: let it say what happened
        return _blocked_plan(camp)
    todo = d["unfinished"] + d["new"]
    if d["state"] == "resume":
        note = (
            f"Unfinished: send() resumes {count(len(todo), 'batch', 'batches')} with their "
            "original keys, so nobody gets it twice."
        )
    if len(camp.cohort) == 0:
        note = "The cohort is empty: nobody to send to."
    duplicates = camp._valid_ids()[2]
    if duplicates:
        dup = (
            f"{duplicates:,} duplicate external id(s) in the cohort were dropped: each "
            "person is sent to once."
        )
        note = f"{note} {dup}".strip()
    all_batches = todo or (d["existing"] if d["state"] == "sent" else camp._all_batches())
    choice = camp._choice()
    findings = camp._lint()
    if choice.warning:
        from onesig_nb.message import Finding

        findings = [Finding("warning", "personalization-tags-unproven", choice.warning)]
        findings += camp._lint()
    requests = len(todo) if d["state"] != "conflict" else 0
    return CampaignPlan(
        name=camp.name,
        state=d["state"],
        recipients=len(camp.cohort),
        to_send=sum(b.size for b in todo),
        batches=len(all_batches),
        requests=requests,
        platforms=camp.platforms,
        personalization=choice.mode,
        reason=choice.reason,
        api=camp.api,
        estimated_seconds=estimate_seconds(requests, camp.client),
        findings=findings,
        sample_payload=camp._sample(all_batches[0]) if all_batches else {},
        note=note,
        duplicates=duplicates,
        caveats=caveats(camp),
        blocked=blocked,
    )


def _blocked_plan(camp: Any) -> CampaignPlan:
    """The plan of a message with errors that stop it from being rendered at all."""
    return CampaignPlan(
        name=camp.name,
        state="blocked",
        recipients=len(camp.cohort),
        to_send=0,
        batches=0,
        requests=0,
        platforms=camp.platforms,
        personalization=camp.personalization,
        reason="decided once the message has no errors",
        api=camp.api,
        estimated_seconds=0.0,
        findings=camp._lint(),
        note="",
        duplicates=camp._valid_ids()[2],
        caveats=caveats(camp),
        blocked="errors in the checks",
    )


def caveats(camp: Any) -> list[str]:
    """What the plan's numbers do not say (what 'sent' means, excluded platforms)."""
    out = [SENT_MEANS]
    if camp.exclude_platforms:
        out.append(
            f"exclude_platforms={camp.exclude_platforms}: people whose only devices are "
            f"{' / '.join(camp.exclude_platforms)} get nothing from this push, yet are counted "
            "'sent' (OneSignal accepted the request and does not say per person which "
            "devices it pushed to). report() shows delivery per platform."
        )
    return out


def check_confirmation(camp: Any, confirm: bool | int | None, count: int) -> None:
    """Refuse a send above ``confirm_above`` without ``confirm``, or confirmed for a different
    number of people than it would now reach."""
    if type(confirm) is int and confirm not in (count, len(camp.cohort)):
        raise ConfirmationRequired(
            f"Campaign {camp.name!r} was confirmed for {confirm:,} people, but it would now "
            f"send to {count:,} (the cohort or the journal changed since). Nothing was sent. "
            f"Check campaign.plan(), then call send(confirm={count})."
        )
    if count > camp.confirm_above and not (confirm is True or type(confirm) is int):
        raise ConfirmationRequired(
            f"Campaign {camp.name!r} would send to {count:,} people, more than "
            f"confirm_above={camp.confirm_above:,}. Nothing was sent. Check campaign.plan(), "
            f"then call send(confirm={count}) (or send(confirm=True))."
        )
