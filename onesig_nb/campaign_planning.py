"""What a campaign's send would do now, decided from the journal, and the plan that says so.

:func:`decide` compares the journal with a :class:`~onesig_nb.campaign.Campaign`: a new
campaign gets freshly planned batches; a started one resumes its journaled batches (never
re-planned, so the keys stay the same) or is already sent; a changed one is refused unless
``extend=True``, which plans batches only for people not reached yet. :func:`build_plan` turns
that into the :class:`~onesig_nb.campaign_views.CampaignPlan` a marketer reads before sending.
The functions take the campaign as their first argument; nothing here writes or sends.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .campaign_batches import estimate_seconds
from .campaign_mode import ModeChoice
from .campaign_sending import refuse_expired
from .campaign_views import SENT_MEANS, CampaignPlan
from .errors import CampaignConflict, ConfirmationRequired
from .journal import Batch

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
        raise CampaignConflict(
            f"{camp.name!r} is a tag sync in journal {str(camp.journal.path)!r}; "
            "give the campaign a different name."
        )
    if run is not None and run["app_id"] and camp.app_id and run["app_id"] != camp.app_id:
        raise CampaignConflict(
            f"Campaign {camp.name!r} in journal {str(camp.journal.path)!r} belongs to app "
            f"{run['app_id']}, but this client is app {camp.app_id}. Nothing was sent. Use a "
            "new campaign name, or a separate journal file for each app."
        )
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
        what = [
            w
            for w, changed in (
                ("cohort", run["cohort_fingerprint"] != camp._cohort_fingerprint()),
                (
                    "message or settings",
                    run["message_fingerprint"] != camp._content_fingerprint(),
                ),
            )
            if changed
        ]
        raise CampaignConflict(conflict_text(camp, what, existing, unfinished))
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
    }


def conflict_text(camp: Any, what: list[str], existing: list[Batch], unfinished: list) -> str:
    """Why a changed campaign is refused, and what to do instead."""
    where = f"(journal {str(camp.journal.path)!r})"
    changed = " and ".join(what)
    reached = camp.journal.targeted_ids(camp.name)
    new = sum(1 for i in camp._valid_ids()[0] if i not in reached)
    if unfinished:
        people = sum(b.size for b in unfinished)
        done = sum(b.size for b in existing if b.state == "done")
        return (
            f"Campaign {camp.name!r} {where} is unfinished: {len(unfinished)} of "
            f"{len(existing)} batches ({people:,} people) are not confirmed sent, and its "
            f"{changed} changed since it started. Nothing was sent. Call "
            f"send(extend=True): it first finishes those batches with their original keys "
            f"and content (nobody gets the push twice), then sends to the {new:,} people of "
            f"this cohort it has not addressed yet. Do not use a new campaign name for this: "
            f"it would push again to the {done:,} people already reached."
        )
    return (
        f"Campaign {camp.name!r} was already sent {where} with a different {changed}. "
        f"Nothing was sent. Call send(extend=True) to send it only to the {new:,} people "
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
    """What ``send()`` would do now: nothing is sent and nothing is written."""
    """What ``send()`` would do now: nothing is sent and nothing is written."""
    note = ""
    try:
        d = camp._decide(extend=extend, resend_expired=resend_expired)
    except CampaignConflict as exc:
        d = {"state": "conflict", "unfinished": [], "new": [], "existing": []}
        note = str(exc)
    todo = d["unfinished"] + d["new"]
    if d["state"] == "sent":
        note = "Already sent: send() would send nothing again."
    elif d["state"] == "resume":
        note = f"Unfinished: send() resumes {len(todo)} batches with their original keys."
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
        from .message import Finding

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
