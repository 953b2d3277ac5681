"""A campaign's delivery report: OneSignal's statistics in plain words, a funnel and a caption.

People and devices are labelled apart: ``targeted`` counts people OneSignal accepted, every
delivery statistic counts devices (a person can have several; excluded platforms get none).

A scheduled push (``send_after`` in the future, or ``delayed_option``) is accepted long before
it is delivered: :class:`SendSchedule` says when it goes out, and the report calls its devices
"pending" rather than "still sending" until their time comes.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onesig_nb._html import banner, card, count_cells
from onesig_nb._words import agree, count, people

__all__ = ["DELAY_WORDS", "REPORT_WORDS", "CampaignReport", "SendSchedule", "utc_text"]


#: Delivery statistics in plain words (OneSignal's field -> what the report shows).
REPORT_WORDS = {
    "successful": "delivered (devices)",
    "failed": "unsubscribed devices",
    "errored": "errors",
    "converted": "clicked",
    "remaining": "still sending",
}

#: What ``delayed_option`` means for the people receiving it (v11.6 create-message
#: ``delayed_option``: "timezone" delivers at ``delivery_time_of_day`` in each subscription's
#: time zone, "last-active" at the time of day each one was last active).
DELAY_WORDS = {
    "timezone": "in each person's own time zone",
    "last-active": "at the time of day each person was last active",
}

#: ``delivery_time_of_day`` as OneSignal takes it: "9:00AM", "21:45", "09:45:30" (v11.6).
_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?\s*$")


def utc_text(moment: _dt.datetime) -> str:
    """``2026-12-01 09:00 UTC``: a moment as people read it (no ``T``, no seconds)."""
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _clock_text(text: str) -> str:
    """``"9:00AM"`` -> ``"09:00"``, ``"21:45"`` as is; text OneSignal would refuse unchanged."""
    found = _TIME_OF_DAY.match(text)
    if not found:
        return text
    hour, minute, second = int(found[1]), found[2], found[3]
    meridiem = (found[4] or "").lower()
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return f"{hour:02d}:{minute}" + (f":{second}" if second and second != "00" else "")


def _moment(value: Any) -> _dt.datetime | None:
    """A ``send_after`` as an aware UTC datetime: Unix seconds (a view) or ISO text (a request).

    Text in another of OneSignal's formats gives None: the schedule then shows it as written.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _dt.datetime.fromtimestamp(value, _dt.UTC)
    if isinstance(value, str):
        try:
            when = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        # OneSignal reads a send_after without a zone as UTC (as batches.send_after_text does)
        return (when if when.tzinfo else when.replace(tzinfo=_dt.UTC)).astimezone(_dt.UTC)
    return None


@dataclass(frozen=True)
class SendSchedule:
    """When a scheduled push goes out, as its request asked (``send_after``, ``delayed_option``,
    ``delivery_time_of_day``; v11.6 create-message).

    ``start`` is ``send_after`` as an aware UTC time (None: from the moment it was created);
    ``start_text`` the ``send_after`` as written, for formats :attr:`start` cannot read.
    """

    start: _dt.datetime | None = None
    start_text: str | None = None
    delayed_option: str | None = None
    delivery_time_of_day: str | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any] | None) -> SendSchedule | None:
        """The schedule of a create-notification body, or None when it goes out at once."""
        payload = payload or {}
        after = payload.get("send_after")
        delayed = payload.get("delayed_option")
        if not after and not delayed:
            return None
        return cls(
            start=_moment(after),
            start_text=after if isinstance(after, str) else None,
            delayed_option=delayed if isinstance(delayed, str) else None,
            delivery_time_of_day=payload.get("delivery_time_of_day"),
        )

    def with_start(self, send_after: int | None) -> SendSchedule:
        """The same schedule with OneSignal's own reading of ``send_after`` (Unix seconds of a
        view), which settles formats this side cannot read."""
        if send_after is None:
            return self
        return SendSchedule(
            start=_moment(send_after), start_text=self.start_text,
            delayed_option=self.delayed_option, delivery_time_of_day=self.delivery_time_of_day,
        )  # fmt: skip

    @property
    def by_time_zone(self) -> bool:
        """True when each person gets it at a local time of day (``delayed_option="timezone"``)."""
        return self.delayed_option == "timezone"

    def when(self) -> str:
        """``at 09:00 in each person's own time zone (the first 09:00 after 2026-11-30 15:00
        UTC)`` / ``at 2026-12-01 09:00 UTC``."""
        start = utc_text(self.start) if self.start else self.start_text
        if self.by_time_zone and self.delivery_time_of_day:
            clock = _clock_text(str(self.delivery_time_of_day))
            after = f"after {start}" if start else "after it was sent"
            return f"at {clock} {DELAY_WORDS['timezone']} (the first {clock} {after})"
        if self.delayed_option in DELAY_WORDS:
            words = DELAY_WORDS[self.delayed_option]
            return f"{words}, within 24 hours of {start}" if start else words
        return f"at {start}" if start else "at its scheduled time"


@dataclass
class CampaignReport:
    """Delivery statistics per notification, totals, per-platform breakdown and a funnel chart.

    ``targeted`` counts people (accepted by OneSignal); every delivery statistic counts devices.
    ``schedule``: when the campaign's push goes out, if it was scheduled (None: at once);
    ``canceled``: how many of its notifications were canceled.
    """

    name: str
    frame: Any
    platforms: Any
    targeted: int
    complete: bool
    schedule: SendSchedule | None = None
    canceled: int = 0
    #: the campaign's journaled send batches (a batch OneSignal answered without creating a
    #: notification has no row in ``frame``), so the report's count matches the plan's
    batches: int | None = None

    def platform_table(self):
        """The per-platform table (devices) with a ``total`` row equal to :attr:`totals`.

        OneSignal reports per notification and per platform separately; when the platforms do
        not add up to the notification totals (a platform it leaves out of
        ``platform_delivery_stats``), the difference is a row ``not by platform``, so the table
        and the sentence above it always agree.
        """
        import pandas as pd

        cols = ["successful", "failed", "errored", "converted"]
        table = self.platforms.reindex(columns=cols).fillna(0).astype(int)
        t = self.totals
        rest = {c: t[c] - int(table[c].sum()) for c in cols}
        if any(rest.values()):
            table.loc["not by platform"] = [rest[c] for c in cols]
        table.loc["total"] = [t[c] for c in cols]
        table.index.name = "platform"
        return pd.DataFrame(table)

    def batches_text(self) -> str:
        """``85 batches, 85 notifications`` / ``85 batches, 65 notifications (20 created
        none)``: the plan's batch count next to the notifications OneSignal created."""
        made = count(len(self.frame), "notification")
        if self.batches is None or self.batches == len(self.frame):
            n = len(self.frame) if self.batches is None else self.batches
            return f"{count(n, 'batch', 'batches')}, {made}"
        return (
            f"{count(self.batches, 'batch', 'batches')}, {made} "
            f"({self.batches - len(self.frame):,} created none)"
        )

    @property
    def totals(self) -> dict:
        cols = ("successful", "failed", "errored", "converted", "remaining")
        return {c: int(self.frame[c].fillna(0).sum()) if len(self.frame) else 0 for c in cols}

    @property
    def state(self) -> str:
        """``delivered`` | ``sending`` | ``scheduled`` (nothing out yet) | ``going out`` (some
        devices delivered, the others waiting for their time) | ``canceled``."""
        t = self.totals
        if self.canceled and self.canceled == len(self.frame):
            return "canceled"
        if self.complete:
            return "delivered"
        if self.schedule is None:
            return "sending"
        return "going out" if t["successful"] else "scheduled"

    @property
    def pending(self) -> int:
        """Devices still waiting for a scheduled push (0 unless it is scheduled)."""
        return self.totals["remaining"] if self.state in ("scheduled", "going out") else 0

    def _remaining_word(self) -> str:
        return "pending (scheduled)" if self.schedule is not None else REPORT_WORDS["remaining"]

    def figure(self):
        """A matplotlib funnel: people targeted -> devices delivered -> clicked."""
        from matplotlib.figure import Figure

        t = self.totals
        stages = [
            ("People targeted (accepted)", self.targeted),
            ("Devices delivered", t["successful"]),
            ("Clicked", t["converted"]),
        ]
        fig = Figure(figsize=(6.4, 2.6))
        ax = fig.subplots()
        labels = [s for s, _ in stages][::-1]
        values = [v for _, v in stages][::-1]
        top = max(values + [1])
        ax.barh(labels, values, left=[(top - v) / 2 for v in values], color="#e54b4d")
        for i, v in enumerate(values):
            ax.text(top / 2, i, f"{v:,}", ha="center", va="center", color="black")
        ax.set_xticks([])
        lost = f"unsubscribed devices {t['failed']:,} · errors {t['errored']:,}"
        if t["remaining"]:
            lost += f" · {self._remaining_word()} {t['remaining']:,}"
        ax.set_title(f"{self.name}: delivery ({lost})", fontsize=9)
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.tight_layout()
        return fig

    def state_text(self) -> str:
        """The report's first sentence: delivered, still sending, scheduled (when, how many
        pending), going out by time zone, or canceled."""
        t, state = self.totals, self.state
        if state == "canceled":
            return "Canceled before its time: nothing more of it goes out."
        if state == "delivered":
            return "Delivery complete."
        if state == "sending":
            return "Still sending: run campaign.report() again in a minute for the final numbers."
        when = self.schedule.when() if self.schedule else ""
        waiting = count(t["remaining"], "device")
        if state == "scheduled":
            return (
                f"Scheduled, not delivered yet: it goes out {when}. {waiting} pending. "
                "Run campaign.report() again after that time."
            )
        return (
            f"Going out {when}: {count(t['successful'], 'device')} delivered so far, {waiting} "
            "still pending (their time has not come yet)."
        )

    def caption(self) -> str:
        """``146 people were accepted by OneSignal; 130 devices received it, 12 clicked.``"""
        t = self.totals
        text = (
            f"{people(self.targeted)} {agree(self.targeted, 'was', 'were')} accepted by "
            f"OneSignal; {count(t['successful'], 'device')} received it; "
            f"{count(t['converted'], 'click')}. People count once; "
            "devices count each phone or browser (a person can have several, and platforms the "
            "campaign excluded get nothing)."
        )
        if t["errored"] or t["failed"]:
            text += (
                f" {count(t['failed'], 'device')} had unsubscribed and "
                f"{count(t['errored'], 'device')} hit an error."
            )
        if t["remaining"] and self.state in ("scheduled", "going out"):
            text += f" {count(t['remaining'], 'device')} are waiting for their scheduled time."
        elif t["remaining"] and self.state != "canceled":
            text += f" {count(t['remaining'], 'device')} are still sending."
        return text

    def __str__(self) -> str:
        return f"Delivery report: {self.name}. {self.state_text()} {self.caption()}"

    def _repr_html_(self) -> str:
        import base64
        import io

        e = html.escape
        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=80)
        img = base64.b64encode(buf.getvalue()).decode()
        t = self.totals
        kind = "ok" if self.state == "delivered" else "info"
        cells = count_cells(
            [
                (self.targeted, "people targeted (accepted)"),
                (t["successful"], "devices delivered"),
                (t["converted"], "clicked"),
                (t["failed"], "unsubscribed devices"),
                (t["errored"], "errors"),
                (t["remaining"], self._remaining_word()),
            ]
        )
        words = {**REPORT_WORDS, "remaining": self._remaining_word()}
        per_platform = self.platform_table().rename(columns=words).to_html(na_rep="")
        batches = self.frame.rename(columns=words).to_html(index=False, na_rep="")
        body = (
            f"{banner(e(self.state_text() + ' ' + self.caption()), kind)}{cells}"
            f"<img src='data:image/png;base64,{img}'/>"
            f"<p><b>Per platform (devices)</b></p>{per_platform}"
            f"<details><summary>Per notification ({self.batches_text()}"
            f", OneSignal ids)</summary>{batches}</details>"
        )
        return card(f"Delivery report: {self.name}", body, css_class="onesig-report")
