"""Sending a campaign's journaled batches and classifying each answer OneSignal gives.

Every batch handed to :func:`run_batches` already has its intent in the journal; this module
marks the attempt, sends the batches concurrently through the client and journals each outcome
as it arrives, so a kill at any moment loses nothing and a re-run sends only what is unfinished.
A test send (:func:`send_test_batch`) is one more journaled batch, of kind ``test``.

Stopping: :func:`run_batches` takes a ``stop`` event. Once it is set, no further request is
started; the ones in flight finish and are journaled, and the rest keep their intents, so the
next send resumes them with the same keys. :func:`sigint_stops` turns the first Ctrl-C (or a
notebook's Interrupt) during a send into that event; a second one interrupts at once.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import signal
import threading
import time
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from typing import Any

from onesig_nb.campaign.batches import as_request
from onesig_nb.campaign.planning import Decision
from onesig_nb.campaign.protocols import PushClient
from onesig_nb.campaign.views import CampaignResult
from onesig_nb.errors import ValidationError
from onesig_nb.journal import Batch, Journal
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.push import campaign_batch_key

__all__ = [
    "ACCEPTED_UNCONFIRMED",
    "SOME_DEVICES_UNSUBSCRIBED",
    "UNSUBSCRIBED",
    "journal_intents",
    "outcome",
    "record_invalid",
    "run_batches",
    "send_test_batch",
    "sigint_stops",
    "split",
    "stopped_text",
    "test_payload",
]

#: The campaign's own logger: one place to watch.
log = logging.getLogger("onesig_nb.campaign.campaign")

#: The error text of a recipient OneSignal listed as not subscribed in a batch that created no
#: notification: nobody in that batch was pushed to, so neither were they.
UNSUBSCRIBED = "not subscribed: OneSignal created no notification for their batch"

#: The error text of a recipient OneSignal listed as unsubscribed in a batch whose notification
#: it DID create. OneSignal lists an id once per unsubscribed *subscription* (device): the v11.6
#: create-message 200 example lists ``user_id_1`` twice; legacy v1.2.2 says the list "will mark
#: devices that exist in the provided app_id but are no longer subscribed". So a listed person
#: may have got the push on another, subscribed device: "some devices", never "not reached".
SOME_DEVICES_UNSUBSCRIBED = (
    "OneSignal listed a device of theirs as not subscribed; their other subscribed devices, "
    "if any, got the push"
)


#: The error text of an accepted recipient whose reachability was not checked.
ACCEPTED_UNCONFIRMED = (
    "accepted (unconfirmed): OneSignal accepted the push, but whether they have a subscribed "
    "device was not checked (it silently ignores ids it does not know)"
)


#: The statuses a deferred batch's people get "deferred" in place of (accepted by OneSignal).
DEFERRABLE = ("sent", "accepted_unconfirmed", "some_devices_unsubscribed")


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def outcome(
    resp: Any,
    ids: Sequence[str],
    clean: Callable[[str], str],
    confirmed: Container[str] = frozenset(),
) -> tuple:
    """(batch state, notification id, batch error, recipient rows) of one answer.

    Decided from the response's structure, never from OneSignal's error wording, and from
    ``confirmed``: the ids known reachable before sending (a subscribed device on the
    campaign's platforms, :mod:`~onesig_nb.campaign.reachability`):

    - ``.error`` set: the request failed (retried by the next send): every id ``failed``;
    - an ``id``: a notification was created. A confirmed id is ``sent``, listed or not
      (OneSignal lists unsubscribed *devices*: ``invalid_aliases`` now,
      ``invalid_external_user_ids`` on the legacy API, so a listed person with a subscribed
      device was reached on it; sources: :data:`SOME_DEVICES_UNSUBSCRIBED`). An unconfirmed
      id is ``some_devices_unsubscribed`` when listed, else ``accepted_unconfirmed``:
      OneSignal silently ignores ids it does not know, so its acceptance alone is not "sent";
    - no ``id`` and no ``.error``: the batch is finished and OneSignal pushed to nobody in it
      (e.g. "All included players are not subscribed"): listed ids are ``unsubscribed``, the
      rest ``not_reached`` (unknown to OneSignal, or without a subscription). Only here is a
      listed id known not to have been reached.
    """
    if resp.error is not None:
        err = clean(f"{type(resp.error).__name__}: {resp.error}")
        return "failed", None, err, [(i, "failed", None, err) for i in ids]
    nid = resp.id or None
    listed = set(resp.invalid_external_ids)
    if nid is not None:
        rows = []
        for i in ids:
            if i in confirmed:
                rows.append((i, "sent", nid, None))
            elif i in listed:
                rows.append((i, "some_devices_unsubscribed", nid, SOME_DEVICES_UNSUBSCRIBED))
            else:
                rows.append((i, "accepted_unconfirmed", nid, ACCEPTED_UNCONFIRMED))
        return "done", nid, None, rows
    said = "; ".join(resp.errors) if resp.errors else "it gave no reason"
    why = clean(f"OneSignal created no notification for this batch ({said})")
    rows = [
        (i, "unsubscribed", None, UNSUBSCRIBED) if i in listed else (i, "not_reached", None, why)
        for i in ids
    ]
    return "done", None, None, rows


def record_invalid(
    journal: Journal, name: str, invalid: Sequence[Any], excluded: Mapping[str, str] | None = None
) -> None:
    """Journal the cohort's unusable (empty) external ids as 'invalid' recipients, and the
    people excluded before sending (``{external_id: why}``) as 'excluded'."""
    rows = [(str(e), "invalid", None, "empty external id") for e in invalid]
    rows += [(eid, "excluded", None, why) for eid, why in (excluded or {}).items()]
    if rows:
        journal.record_outcome(
            name, -1, state="done", notification_id=None, http_status=None, error=None,
            recipients=rows,
        )  # fmt: skip


def run_batches(
    name: str,
    batches: Sequence[Batch],
    *,
    client: PushClient,
    journal: Journal,
    progress: Any,
    clean: Callable[[str], str],
    stop: threading.Event | None = None,
    confirmed: Container[str] = frozenset(),
    now: Callable[[], _dt.datetime] | None = None,
) -> int:
    """Send journaled batches; record each outcome as it arrives. Returns requests made.

    :param stop: once set, no further request starts; those in flight finish and are
        journaled (the rest stay intents for the next send)
    :param confirmed: the ids known reachable before sending (:func:`outcome`)
    :param now: the campaign's clock: when each answer came (the delivery ledger's time of
        a push sent at once)
    """
    if not batches:
        return 0
    max_ids = int(client.max_ids_per_request or 0)
    too_big = [b for b in batches if max_ids and b.size > max_ids]
    if too_big:
        raise ValidationError(
            f"Campaign {name!r} was started with batches of {too_big[0].size:,} ids, "
            f"more than this client's limit of {max_ids:,} ({client.api} API). Nothing was "
            "sent. Resume it with the client (api=...) it was started with."
        )
    by_seq = {b.seq: b for b in batches}
    total = sum(b.size for b in batches)
    requested = 0

    def requests() -> Iterator[Any]:
        # Pulled lazily by the client (a window ahead of the answers), in this thread: a set
        # ``stop`` starts nothing more, and each batch is marked attempted just before its
        # request, so an unsent batch never counts as attempted.
        nonlocal requested
        for b in batches:
            if stop is not None and stop.is_set():
                return
            if not journal.mark_attempt(name, [b.seq]):
                log.warning("campaign %s was cancelled: no further request starts", name)
                if stop is not None:
                    stop.set()
                return
            requested += 1
            yield as_request(b)

    bar, callback = None, None
    if callable(progress):
        callback = progress
    elif progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=name, unit="people")
    done = 0
    try:
        for resp in client.iter_notifications(requests()):
            b = by_seq[resp.ref]
            state, nid, err, rows = outcome(resp, b.external_ids, clean, confirmed)
            if b.hold and nid:  # accepted to go out when their quiet hours end
                rows = [
                    (i, "deferred", n, b.hold) if st in DEFERRABLE else (i, st, n, e)
                    for i, st, n, e in rows
                ]
            at = (now or _utc_now)().astimezone(_dt.UTC).isoformat(timespec="seconds")
            journal.record_outcome(
                name, b.seq, state=state, notification_id=nid,
                http_status=resp.status, error=err, recipients=rows, at=at,
            )  # fmt: skip
            done += b.size
            if bar is not None:
                bar.update(b.size)
            if callback is not None:
                callback(done, total)
    finally:
        if bar is not None:
            bar.close()
    return requested


def test_payload(payload: dict, *, name: str) -> dict:
    """The payload of a test send: ``payload`` (the real one, as the first QA id or cohort
    member sees it) labelled ``[TEST]`` in OneSignal's dashboard."""
    payload = dict(payload)
    payload["name"] = f"[TEST] {payload.get('name', name)}"[: limits.MAX_NAME_CHARS]
    return payload


def send_test_batch(
    ids: list[str],
    *,
    name: str,
    payload: dict,
    platforms: tuple[str, ...] | None,
    client: PushClient,
    journal: Journal,
    run_fields: dict,
    clean: Callable[[str], str],
    confirmed: Container[str] = frozenset(),
) -> CampaignResult:
    """Send ``payload`` to the (checked) QA ids as one journaled test batch.

    :param run_fields: what the journal's run records (app id, fingerprints, settings,
        recipients) when this test is the campaign's first entry
    :param confirmed: the QA ids known reachable (:func:`outcome`)
    """
    started = time.monotonic()
    if journal.run(name) is None:
        journal.create_run(name, kind="campaign", **run_fields)
    payload = test_payload(payload, name=name)
    seq = journal.next_seq(name)
    n = len(journal.batches(name, kind="test"))
    key = campaign_batch_key(name, f"test-{n}", payload, ids, platforms)
    batch = Batch(name, seq, "test", key, payload, tuple(ids), platforms)
    journal.add_batches(name, [batch])
    resp = next(iter(client.iter_notifications([as_request(batch)])))
    state, nid, err, rows = outcome(resp, ids, clean, confirmed)
    journal.record_outcome(
        name, seq, state=state, notification_id=nid, http_status=resp.status, error=err,
    )  # fmt: skip
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["external_id", "status", "notification_id", "error"])
    return CampaignResult(
        name=f"{name} (test)", frame=frame, requests=1, seconds=time.monotonic() - started,
        notification_ids=(resp.id,) if resp.id else (),
    )  # fmt: skip


def journal_intents(
    d: Decision,
    *,
    name: str,
    journal: Journal,
    app_id: str,
    run_fields: dict,
    invalid: Sequence[Any],
    duplicates: int,
    excluded: Mapping[str, str] | None = None,
    guard: Callable[[], None] | None = None,
) -> None:
    """Write the run and every new batch's intent in ONE transaction before any request, and
    the cohort's unusable ids as 'invalid'.

    :param run_fields: the run's fingerprints, settings and recipients as they are now
    :param excluded: ``{external_id: why}`` of the people excluded before sending (known
        unreachable, suppressed, capped), journaled as 'excluded' when the campaign starts
        or extends
    :param guard: run first inside that transaction (the frequency cap's second check,
        :func:`~onesig_nb.campaign.holds.cap_guard`); it raises to write nothing
    """
    run_fields = {**run_fields, "status": "sending"}
    if d.run is None:
        run_fields.pop("status")
        journal.create_run(
            name, kind="campaign", app_id=app_id, batches=list(d.new), guard=guard, **run_fields
        )
    elif d.new:
        if d.state == "extend":
            run_fields["rounds"] = d.run["rounds"] + 1
        journal.add_batches(name, list(d.new), guard=guard, **run_fields)
    elif d.run["status"] != "sending":
        # a plain resume never undoes a cancel that landed after it decided (reopen extends)
        keep = "cancelled" if d.state == "resume" else None
        journal.update_run(name, status="sending", unless_status=keep)
    if d.rebind_app:  # nothing was created under the old (mistyped) app id
        log.warning(
            "campaign %s: moving its unsent batches from app %s to app %s",
            name, d.run["app_id"], app_id,
        )  # fmt: skip
        journal.update_run(name, app_id=app_id)
    if d.new and excluded:  # never over a person an earlier round already addressed
        reached = journal.targeted_ids(name)
        excluded = {i: why for i, why in excluded.items() if i not in reached}
    record_invalid(journal, name, invalid, excluded if d.new else None)
    if duplicates:
        log.warning(
            "campaign %s: %d duplicate external id(s) in the cohort were dropped", name, duplicates
        )


@contextlib.contextmanager
def sigint_stops(stop: threading.Event) -> Iterator[None]:
    """While sending, the first Ctrl-C (a notebook's Interrupt) sets ``stop`` instead of raising.

    The requests in flight then finish and are journaled, and the send ends with a plain
    "stopped" message rather than a traceback from deep in the client. A second Ctrl-C raises
    :class:`KeyboardInterrupt` at once (the previous handler is back). Only the main thread
    can handle signals: elsewhere (a widget's worker thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) and previous != signal.SIG_DFL:
        yield  # SIGINT is ignored, or handled outside Python: leave it alone
        return

    def on_sigint(_signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGINT, previous)
        stop.set()
        log.warning(
            "Stopping: finishing the requests in flight (press Ctrl-C again to abandon them; "
            "send() resumes either way)."
        )

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def split(journal: Journal, name: str) -> tuple[int, int]:
    """(people in send batches OneSignal answered, people in batches still to send)."""
    batches = [b for b in journal.batches(name, kind="send") if b.state != "cancelled"]
    left = sum(b.size for b in batches if b.state != "done")
    return sum(b.size for b in batches) - left, left


def stopped_text(name: str, sent: int, left: int, *, abandoned: bool = False) -> str:
    """The message of a stopped send: the split, and that ``send()`` resumes exactly once.

    :param abandoned: the requests in flight were abandoned (a second Ctrl-C, or a crash),
        not finished: OneSignal may have accepted some, which the resume replays, not repeats
    """
    head = f"Stopped: {sent:,} sent, {left:,} left; send() resumes"
    if abandoned:
        return (
            f"{head} (campaign {name!r}). The requests in flight were abandoned, so their "
            "people are counted as left; OneSignal may have accepted some of them, and the "
            "resume sends those batches with the same idempotency keys, so nobody gets the "
            "push twice."
        )
    return f"{head} with the same keys, so nobody gets the push twice (campaign {name!r})."
