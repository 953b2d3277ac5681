"""Sending a campaign's journaled batches and classifying each answer OneSignal gives.

Every batch handed to :func:`run_batches` already has its intent in the journal; this module
marks the attempt, sends the batches concurrently through the client and journals each outcome
as it arrives, so a kill at any moment loses nothing and a re-run sends only what is unfinished.
A test send (:func:`send_test_batch`) is one more journaled batch, of kind ``test``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from onesig_nb import onesignal as _onesignal  # noqa: F401  (import order: see campaign_batches)
from onesig_nb.campaign.batches import batch_key
from onesig_nb.campaign.views import CampaignResult
from onesig_nb.errors import CampaignConflict, ValidationError
from onesig_nb.journal import Batch, Journal
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.models import NotificationRequest

__all__ = [
    "RESUME_KEY_MAX_AGE_SECONDS",
    "UNSUBSCRIBED",
    "journal_intents",
    "outcome",
    "record_invalid",
    "refuse_expired",
    "run_batches",
    "send_test_batch",
    "test_payload",
]

log = logging.getLogger(
    "onesig_nb.campaign.campaign"
)  # the campaign's own logger: one place to watch

#: A resumed batch that was already attempted is refused when its intent is older than this:
#: OneSignal forgets idempotency keys after limits.IDEMPOTENCY_WINDOW_SECONDS (30 days), so a
#: batch that went out before a crash would be pushed again. One day of margin for clock skew.
RESUME_KEY_MAX_AGE_SECONDS = limits.IDEMPOTENCY_WINDOW_SECONDS - 24 * 3600

#: The error text of a recipient OneSignal listed as not subscribed.
UNSUBSCRIBED = "not subscribed"


def outcome(resp: Any, ids: Sequence[str], clean: Callable[[str], str]) -> tuple:
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
            (i, "unsubscribed", nid, UNSUBSCRIBED) if i in invalid else (i, "sent", nid, None)
            for i in ids
        ]
        return "done", nid, None, rows
    said = "; ".join(resp.errors) if resp.errors else "it gave no reason"
    why = clean(f"OneSignal created no notification for this batch ({said})")
    rows = [
        (i, "unsubscribed", None, UNSUBSCRIBED) if i in invalid else (i, "not_reached", None, why)
        for i in ids
    ]
    return "done", None, None, rows


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
    people = sum(b.size for b in stale)
    exc = CampaignConflict(
        f"Campaign {name!r} has {len(stale)} unfinished batch(es) ({people:,} people) "
        f"that were attempted more than {days - 1} days ago (first on "
        f"{min(b.created_at for b in stale)}). Nothing was sent. OneSignal remembers "
        f"idempotency keys for {days} days only, so if any of them did go out before the "
        "interruption, resending now would push to those people a second time. Options: "
        "check in the OneSignal dashboard (or client.view_notification) whether a "
        f"notification named {name!r} reached them; if it did not, call "
        "send(resend_expired=True) (onesig-nb send: --resend-expired) to send those "
        "batches now; if it did, leave the campaign as it is (result() lists those "
        "people as 'pending')."
    )
    exc.short = "unfinished batches too old to resume safely"
    raise exc


def record_invalid(journal: Journal, name: str, invalid: Sequence[Any]) -> None:
    """Journal the cohort's unusable (empty) external ids as 'invalid' recipients."""
    if invalid:
        journal.record_outcome(
            name, -1, state="done", notification_id=None, http_status=None, error=None,
            recipients=[(str(e), "invalid", None, "empty external id") for e in invalid],
        )  # fmt: skip


def run_batches(
    name: str,
    batches: list[Batch],
    *,
    client: Any,
    journal: Journal,
    progress: Any,
    clean: Callable[[str], str],
    api: str,
) -> int:
    """Send journaled batches; record each outcome as it arrives. Returns requests made."""
    if not batches:
        return 0
    max_ids = int(getattr(client, "max_ids_per_request", 0) or 0)
    too_big = [b for b in batches if max_ids and b.size > max_ids]
    if too_big:
        raise ValidationError(
            f"Campaign {name!r} was started with batches of {too_big[0].size:,} ids, "
            f"more than this client's limit of {max_ids:,} ({api} API). Nothing was "
            "sent. Resume it with the client (api=...) it was started with."
        )
    by_seq = {b.seq: b for b in batches}
    journal.mark_attempt(name, by_seq)
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

        bar = tqdm(total=total, desc=name, unit="people")
    done = 0
    try:
        for resp in client.iter_notifications(reqs):
            b = by_seq[resp.ref]
            state, nid, err, rows = outcome(resp, b.external_ids, clean)
            journal.record_outcome(
                name, b.seq, state=state, notification_id=nid,
                http_status=resp.status, error=err, recipients=rows,
            )  # fmt: skip
            done += b.size
            if bar is not None:
                bar.update(b.size)
            if callback is not None:
                callback(done, total)
    finally:
        if bar is not None:
            bar.close()
    return len(reqs)


def test_payload(camp: Any, ids: list[str]) -> dict:
    """The payload a test send shows: the real one, as the first QA id (or first member) sees it."""
    payload = camp._finish(camp.message.to_payload())
    if camp._mode()[0] == "client":
        members = [i for i in ids if i in set(camp.cohort.external_ids)]
        sample = members[:1] or camp.cohort.external_ids[:1]
        payload = camp._finish(
            camp.message.client_batches(camp.cohort.subset(sample), tag_map=camp.tag_map)[0][0]
        )
    payload["name"] = f"[TEST] {payload.get('name', camp.name)}"[: limits.MAX_NAME_CHARS]
    return payload


def send_test_batch(camp: Any, ids: list[str]) -> CampaignResult:
    """Send ``camp``'s message to the (checked) QA ids as one journaled test batch."""
    started = time.monotonic()
    journal, name, platforms = camp.journal, camp.name, camp._platform_setting()
    if journal.run(name) is None:
        journal.create_run(
            name, kind="campaign", app_id=camp.app_id,
            cohort_fingerprint=camp._cohort_fingerprint(),
            message_fingerprint=camp._content_fingerprint(), settings=camp._settings(),
            recipients=len(camp.cohort),
        )  # fmt: skip
    payload = test_payload(camp, ids)
    seq = journal.next_seq(name)
    n = len(journal.batches(name, kind="test"))
    key = batch_key(name, f"test-{n}", payload, ids, platforms)
    journal.add_batches(name, [Batch(name, seq, "test", key, payload, tuple(ids), platforms)])
    req = NotificationRequest(payload, tuple(ids), key, platforms, ref=seq)
    resp = next(iter(camp.client.iter_notifications([req])))
    state, nid, err, rows = outcome(resp, ids, camp._clean)
    journal.record_outcome(
        name, seq, state=state, notification_id=nid, http_status=resp.status, error=err,
    )  # fmt: skip
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["external_id", "status", "notification_id", "error"])
    return CampaignResult(
        name=f"{name} (test)", frame=frame, requests=1, seconds=time.monotonic() - started,
        notification_ids=(resp.id,) if resp.id else (),
    )  # fmt: skip


def journal_intents(camp: Any, d: dict) -> None:
    """Write the run and every new batch's intent in ONE transaction before any request, and
    the cohort's unusable ids as 'invalid'."""
    run_fields = {
        "cohort_fingerprint": camp._cohort_fingerprint(),
        "message_fingerprint": camp._content_fingerprint(),
        "settings": camp._settings(),
        "recipients": len(camp.cohort),
        "status": "sending",
    }
    if d["run"] is None:
        run_fields.pop("status")
        camp.journal.create_run(
            camp.name, kind="campaign", app_id=camp.app_id, batches=d["new"], **run_fields
        )
    elif d["new"]:
        if d["state"] == "extend":
            run_fields["rounds"] = d["run"]["rounds"] + 1
        camp.journal.add_batches(camp.name, d["new"], **run_fields)
    elif d["run"]["status"] != "sending":
        camp.journal.update_run(camp.name, status="sending")
    if d.get("rebind_app"):  # nothing was created under the old (mistyped) app id
        log.warning(
            "campaign %s: moving its unsent batches from app %s to app %s",
            camp.name, d["run"]["app_id"], camp.app_id,
        )  # fmt: skip
        camp.journal.update_run(camp.name, app_id=camp.app_id)
    record_invalid(camp.journal, camp.name, camp._valid_ids()[1])
    duplicates = camp._valid_ids()[2]
    if duplicates:
        log.warning(
            "campaign %s: %d duplicate external id(s) in the cohort were dropped",
            camp.name,
            duplicates,
        )
