"""What a campaign achieved, read back from the journal: results, statuses, delivery reports.

Nothing here sends a push: results and statuses come from the journal alone, and the delivery
report only reads OneSignal's statistics of notifications already created.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import time
from collections.abc import Callable
from typing import Any

from onesig_nb.campaign.protocols import PushClient
from onesig_nb.campaign.report import CampaignReport, SendSchedule
from onesig_nb.campaign.views import ACCEPTED_STATUSES, CampaignResult
from onesig_nb.config import ENV_APP_ID
from onesig_nb.errors import JournalError
from onesig_nb.journal import Journal, open_journal
from onesig_nb.onesignal.dialects import is_app_not_found

#: OneSignal's answer to an unknown app id ("app_id not found"), in its known spellings.

#: OneSignal appends this to "app_id not found", although the header was sent.
_CONTENT_TYPE_HINT = re.compile(r"\s*You may be missing a Content-Type[^.]*\.?", re.I)

__all__ = ["PENDING", "build_result", "campaign_status", "campaigns", "fetch_report"]

#: The error text of a recipient whose batch has no recorded answer yet.
PENDING = "not sent yet, or its answer was not recorded: send() again resumes it"


def campaign_status(journal: Journal, name: str) -> str:
    """new | tested | sending | interrupted | partial | sent | cancelled, from the journal."""
    run = journal.run(name)
    if run is None:
        return "new"
    if run["status"] == "cancelled":
        return "cancelled"
    batches = journal.batches(name, kind="send")
    if not batches:  # only tests so far, or everyone was held back by the sending rules
        return "tested" if journal.batches(name, kind="test") else "new"
    if all(b.state in ("done", "cancelled") for b in batches):
        return "sent"
    if run["status"] == "interrupted" and any(b.state == "intent" for b in batches):
        return "interrupted"
    return "partial" if any(b.state == "failed" for b in batches) else "sending"


def update_status(journal: Journal, name: str, *, interrupted: bool = False) -> None:
    """Write the run's status after a send (sent / interrupted / partial); a campaign
    cancelled meanwhile (by another process) stays cancelled."""
    batches = journal.batches(name, kind="send")
    keep = "cancelled"  # in the same statement: a cancel landing meanwhile is never undone
    if batches and all(b.state in ("done", "cancelled") for b in batches):
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        journal.update_run(name, status="sent", finished_at=now, unless_status=keep)
    elif interrupted and any(b.state == "intent" for b in batches):
        journal.update_run(name, status="interrupted", unless_status=keep)
    elif any(b.state == "failed" for b in batches):
        journal.update_run(name, status="partial", unless_status=keep)


def build_result(
    journal: Journal,
    name: str,
    *,
    requests: int,
    started: float,
    already_sent: bool = False,
    note: str = "",
) -> CampaignResult:
    """One row per recipient so far (unanswered batches listed as 'pending'), plus a note."""
    import pandas as pd

    rows = journal.recipients(name)
    known = {r["external_id"] for r in rows}
    for b in journal.batches(name, kind="send", states=("intent",)):
        for eid in b.external_ids:
            if eid not in known:  # unanswered (interrupted) batches: listed, not hidden
                known.add(eid)
                rows.append(
                    {"external_id": eid, "status": "pending", "notification_id": None,
                     "error": PENDING, "batch": b.seq}
                )  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["external_id", "status", "notification_id", "error", "batch"]
    ).drop(columns="batch")
    if not note:
        note = failure_note(journal, name, frame)
    nids = tuple(sorted({n for n in frame["notification_id"].dropna() if n}))
    batches = [
        b for b in journal.batches(name, kind="send") if b.state != "cancelled" and not b.hold
    ]
    schedules = [SendSchedule.from_payload(b.payload) for b in batches]
    # One schedule only when every batch (but those deferred by quiet hours, which the
    # result counts apart) goes out at the same time; a push sent at once to some people
    # is "sent" for them, and per-person local times are "several times".
    timed = [s for s in schedules if s is not None]
    distinct = {(s.start, s.start_text, s.delayed_option, s.delivery_time_of_day) for s in timed}
    schedule = None
    if timed and len(timed) == len(schedules):
        schedule = min(timed, key=lambda s: (s.start is None, s.start or 0, s.start_text or ""))
    return CampaignResult(
        name=name, frame=frame, requests=requests, already_sent=already_sent,
        note=note, seconds=time.monotonic() - started, notification_ids=nids,
        schedule=schedule, schedule_times=len(distinct) if schedule is not None else 0,
    )  # fmt: skip


def _permanent(status: int | None) -> bool:
    """A 4xx answer that the same request will get again (not a timeout or a rate limit)."""
    return status is not None and 400 <= status < 500 and status not in (408, 409, 425, 429)


def _reason(error: str | None) -> str:
    """The batch's error text without the exception class and OneSignal's misleading hint."""
    text = (error or "no reason given").split(": ", 1)[-1] if error else "no reason given"
    text = _CONTENT_TYPE_HINT.sub("", text).replace("..", ".").strip()
    return text if len(text) <= 300 else text[:297] + "…"


def failure_note(journal: Journal, name: str, frame: Any) -> str:
    """What a result's failed and pending recipients mean, and whether re-running helps.

    When every batch was refused with the same permanent 4xx (a wrong app id, a bad request),
    it says plainly that nothing was sent and that running ``send()`` again will not help until
    the cause is fixed; temporary failures (timeouts, 5xx, 429) are retried by ``send()``.
    """
    counts = frame["status"].value_counts() if len(frame) else {}
    failed, pending = int(counts.get("failed", 0)), int(counts.get("pending", 0))
    if not failed and not pending:
        return ""
    batches = journal.batches(name, kind="send")
    bad = [b for b in batches if b.state == "failed"]
    permanent = [b for b in bad if _permanent(b.http_status)]
    if permanent and len(permanent) == len(batches):
        causes = {(b.http_status, _reason(b.error)) for b in permanent}
        if len(causes) == 1:
            status, reason = causes.pop()
            if is_app_not_found(status, reason):
                app_id = (journal.run(name) or {}).get("app_id") or "?"
                return (
                    f"Nothing was sent: OneSignal does not know app id '{app_id}'. Check "
                    f"{ENV_APP_ID} (Settings > Keys & IDs). Re-running will not help until that "
                    "is fixed."
                )
            return (
                f"Nothing was sent: OneSignal refused every request (HTTP {status}: {reason}). "
                "Re-running will not help until that is fixed; then send() again resends the "
                "same batches with the same keys."
            )
    parts = []
    hard = sum(b.size for b in permanent)
    soft = failed - hard
    if hard:
        reasons = "; ".join(
            sorted({f"HTTP {b.http_status}: {_reason(b.error)}" for b in permanent})
        )
        parts.append(
            f"{hard:,} recipients were refused by OneSignal ({reasons}). Re-running will not "
            "help until that is fixed."
        )
    retry = []
    if soft > 0:
        retry.append(f"{soft:,} recipients failed (see the error column)")
    if pending:
        retry.append(f"{pending:,} are pending (the send was interrupted)")
    if retry:
        parts.append(
            f"{' and '.join(retry)}. Call send() again to finish their batches with the "
            "same keys: nobody gets the push twice."
        )
    return " ".join(parts)


def fetch_report(
    journal: Journal,
    name: str,
    client: PushClient,
    *,
    poll_interval: float = 2.0,
    timeout: float = 120.0,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> CampaignReport:
    """Fetch OneSignal's delivery stats per notification, polling until complete.

    A scheduled notification (its journaled request has ``send_after`` or ``delayed_option``)
    that is not complete is viewed once, not polled: it waits for its time, which may be a day
    away, and the report says when that is and how many devices are pending.
    """
    import pandas as pd

    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    batches = [b for b in journal.batches(name, kind="send") if b.notification_id]
    nids = sorted({b.notification_id for b in batches})
    planned = {b.notification_id: SendSchedule.from_payload(b.payload) for b in batches}
    stats: dict[str, Any] = {}

    def settled(nid: str) -> bool:  # nothing to wait for now: complete, or waiting for its time
        return nid in stats and (stats[nid].complete or planned.get(nid) is not None)

    deadline = clock() + timeout
    while True:
        for nid in nids:
            if not settled(nid):
                stats[nid] = client.view_notification(nid)
        if all(settled(n) for n in nids) or clock() >= deadline:
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
    # people in a created notification, including those listed for one unsubscribed device
    targeted = sum(1 for r in journal.recipients(name) if r["status"] in ACCEPTED_STATUSES)
    schedule = next(
        (planned[n].with_start(stats[n].send_after) for n in nids if planned.get(n)), None
    )
    return CampaignReport(
        name=name, frame=frame, platforms=platforms, targeted=targeted,
        complete=all(s.complete for s in stats.values()), schedule=schedule,
        canceled=sum(1 for s in stats.values() if s.canceled),
        batches=len(journal.batches(name, kind="send")),
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
