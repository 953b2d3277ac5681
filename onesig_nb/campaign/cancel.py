"""The kill switch: cancel every push of a campaign that has not reached people yet.

:func:`cancel_campaign` works from the journal alone (``onesig-nb cancel --name`` needs no
cohort or message): each notification the campaign created that is still scheduled or going
out is cancelled (``DELETE``; OneSignal refuses one already delivered, v11.6 cancel-message);
batches never requested are stopped; both are recorded as ``cancelled``, and so is the run, so
a later ``send()`` refuses until ``send(reopen=True)``. What had already gone out is listed.

A batch whose request was made but whose answer was never recorded (a crash mid-request) is
left as it is and listed as ``unknown``: OneSignal may have accepted it, and marking it
cancelled could hide a push that went out. A sender in another process checks the journal
before each request (:meth:`~onesig_nb.journal.journal.Journal.mark_attempt`), so it starts no
batch cancelled here.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from onesig_nb._html import banner, card, count_cells
from onesig_nb._words import people
from onesig_nb.campaign.protocols import PushClient
from onesig_nb.campaign.report import SendSchedule
from onesig_nb.errors import APIError, AuthError, NotCancellable, ValidationError
from onesig_nb.journal import Journal

__all__ = ["CANCEL_STATUSES", "RECENT_SECONDS", "Cancellation", "cancel_campaign"]

#: A push sent at once (no schedule) is still worth a cancel request this long after its
#: answer: OneSignal cancels messages "still sending" too; older ones have gone out.
RECENT_SECONDS = 3_600

#: What cancel found for each person of the campaign.
CANCEL_STATUSES = {
    "cancelled": "their scheduled push was cancelled before it reached them",
    "stopped": "their batch was never requested: nothing was sent to them",
    "gone_out": "their push had already gone out (OneSignal could no longer cancel it)",
    "unknown": "a request was made and its answer never recorded: OneSignal may have "
    "accepted it (check the dashboard); send(reopen=True) resumes it with the same key",
}

#: The reason journaled for the people of cancelled and stopped batches.
CANCELLED = "cancelled before delivery (campaign.cancel())"


@dataclass
class Cancellation:
    """What :func:`cancel_campaign` did: one row per person of the campaign's sends."""

    name: str
    frame: Any = field(repr=False)  # external_id, status (CANCEL_STATUSES), notification_id
    requests: int = 0
    cancelled_at: str = ""

    def to_frame(self):
        """external_id, status (:data:`CANCEL_STATUSES`), notification_id."""
        return self.frame.copy()

    @property
    def counts(self) -> dict[str, int]:
        got = self.frame["status"].value_counts().to_dict() if len(self.frame) else {}
        return {s: int(got.get(s, 0)) for s in CANCEL_STATUSES}

    def headline(self) -> tuple[str, str]:
        c = self.counts
        parts = []
        if c["cancelled"]:
            parts.append(f"Cancelled for {people(c['cancelled'])} (scheduled, not delivered).")
        if c["stopped"]:
            parts.append(f"Stopped before sending for {people(c['stopped'])}.")
        if c["gone_out"]:
            parts.append(
                f"{people(c['gone_out'])} had already got it (listed in to_frame(), status "
                "'gone_out')."
            )
        if c["unknown"]:
            parts.append(f"{people(c['unknown'])} unknown: {CANCEL_STATUSES['unknown']}.")
        if not parts:
            return "info", f"Campaign {self.name!r} had nothing to cancel."
        if c["cancelled"] or c["stopped"]:
            parts.append("send() now refuses; send(reopen=True) sends it after all.")
        else:
            parts.insert(0, "Nothing was left to cancel.")
            parts.append("The campaign is closed: send() refuses (send(reopen=True) reopens it).")
        kind = "warn" if c["gone_out"] or c["unknown"] else "ok"
        return kind, " ".join(parts)

    def __str__(self) -> str:
        return f"Campaign {self.name!r}: {self.headline()[1]}"

    def __repr__(self) -> str:
        c = self.counts
        shown = " ".join(f"{k}={v:,}" for k, v in c.items())
        return f"Cancellation({self.name!r}: {shown}, requests={self.requests})"

    def _repr_html_(self) -> str:
        kind, text = self.headline()
        cells = [(n, s.replace("_", " ")) for s, n in self.counts.items()]
        body = banner(html.escape(text), kind) + count_cells(cells)
        return card(f"Cancel campaign {self.name}", body, css_class="onesig-cancel")


def _worth_asking(batch: Any, now: _dt.datetime) -> bool:
    """Whether a created notification may still be cancelled: scheduled, or answered lately."""
    if SendSchedule.from_payload(batch.payload) is not None:
        return True
    return _age(batch, now) < RECENT_SECONDS


def _age(batch: Any, now: _dt.datetime) -> float:
    """Seconds since the batch's intent was written (its answer follows within seconds); 0
    when unknown."""
    stamp = batch.created_at
    if not stamp:
        return 0.0
    when = _dt.datetime.fromisoformat(stamp)
    when = when if when.tzinfo else when.replace(tzinfo=_dt.UTC)
    return (now - when).total_seconds()


def cancel_campaign(
    journal: Journal,
    name: str,
    client: PushClient,
    *,
    now: _dt.datetime | None = None,
    clean: Callable[[str], str] = str,
) -> Cancellation:
    """Cancel what campaign ``name`` has not delivered yet, and record it (see the module).

    :param client: the app's client (cancel needs the app's key)
    :param now: the time (the campaign's clock; default: now)
    :raises ValidationError: no such campaign in ``journal``
    """
    import pandas as pd

    run = journal.run(name)
    if run is None or run["kind"] != "campaign":
        raise ValidationError(
            f"There is no campaign named {name!r} in journal {str(journal.path)!r}, so nothing "
            "was cancelled. Check the name (osn.campaigns(journal) lists them) and the journal."
        )
    if run["app_id"] and client.app_id and run["app_id"] != client.app_id:
        raise ValidationError(
            f"Campaign {name!r} belongs to app {run['app_id']}, but this client is app "
            f"{client.app_id}. Nothing was cancelled. Use that app's key."
        )
    now = now or _dt.datetime.now(_dt.UTC)
    rows: list[tuple[str, str, str | None]] = []
    to_cancel: list[int] = []
    requests = 0
    for b in journal.batches(name, kind="send"):
        if b.state == "cancelled":  # by an earlier cancel: created and cancelled, or stopped
            status = "cancelled" if b.notification_id else "stopped"
            rows += [(eid, status, b.notification_id) for eid in b.external_ids]
        elif b.state == "done" and b.notification_id:
            status = "gone_out"
            if _worth_asking(b, now):
                requests += 1
                try:
                    status = (
                        "cancelled" if client.cancel_notification(b.notification_id) else "unknown"
                    )
                except NotCancellable:
                    status = "gone_out"
                except AuthError:
                    raise
                except APIError as exc:
                    status = "gone_out" if exc.status == 404 else "unknown"
            if status == "cancelled":
                to_cancel.append(b.seq)
            rows += [(eid, status, b.notification_id) for eid in b.external_ids]
        elif b.state == "done":
            continue  # OneSignal created nothing for it: nobody to cancel
        elif b.attempts == 0:
            to_cancel.append(b.seq)
            rows += [(eid, "stopped", None) for eid in b.external_ids]
        else:
            rows += [(eid, "unknown", None) for eid in b.external_ids]
    stamp = now.astimezone(_dt.UTC).isoformat(timespec="seconds")
    settings = dict(run.get("settings") or {})
    settings["cancellations"] = int(settings.get("cancellations", 0)) + 1
    settings["cancelled_at"] = stamp
    journal.cancel_batches(name, to_cancel, reason=clean(CANCELLED), settings=settings)
    frame = pd.DataFrame(rows, columns=["external_id", "status", "notification_id"])
    return Cancellation(name=name, frame=frame, requests=requests, cancelled_at=stamp)
