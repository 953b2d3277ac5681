"""What a campaign shows: its plan, its result and its delivery report (plain data + HTML).

Kept apart from :mod:`onesig_nb.campaign.campaign` so the sending logic stays short; every class
here is built by :class:`~onesig_nb.campaign.campaign.Campaign` and only formats what it is
given.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from onesig_nb._html import banner, card, count_cells, ink, table_caption
from onesig_nb._words import agree, count, duration_text, people, platform_text
from onesig_nb.campaign.report import SendSchedule

__all__ = [
    "ACCEPTED_STATUSES",
    "exclusion_kind",
    "FIX_CHECKS",
    "RESULT_STATUSES",
    "SENT_MEANS",
    "STATUS_WORDS",
    "STATE_NAMES",
    "CampaignPlan",
    "CampaignResult",
]

#: A plan's state in words (``conflict`` and ``blocked`` add why: "blocked: different message").
STATE_NAMES = {
    "new": "not sent yet",
    "resume": "partly sent",
    "sent": "already sent",
    "extend": "already sent; people not reached yet can be added",
    "conflict": "blocked",
    "blocked": "blocked",
}

#: What the send panel says while the plan has errors.
FIX_CHECKS = "Fix the errors in the checks above before sending."

#: Personalization modes in words.
MODE_WORDS = {
    "client": "pre-rendered here",
    "server": "filled in by OneSignal",
    "none": "none (same text for everyone)",
}

SEVERITY_WORDS = {"error": "error", "warning": "warning", "info": "note"}

#: Result statuses in words, for the count cells (definitions: :data:`RESULT_STATUSES`).
_STATUS_LABELS = (
    ("sent", "sent (reachable, accepted)"),
    ("accepted_unconfirmed", "accepted (unconfirmed)"),
    ("some_devices_unsubscribed", "accepted, with a device not subscribed"),
    ("deferred", "deferred by quiet hours (scheduled)"),
    ("excluded", "excluded before sending"),
    ("cancelled", "cancelled before delivery"),
    ("unsubscribed", "not subscribed (not reached)"),
    ("not_reached", "not in this OneSignal app"),
    ("invalid", "invalid ids"),
    ("failed", "failed"),
    ("pending", "pending (interrupted)"),
)

#: Rows shown in a result's table.
_SHOWN = 20

#: What the ``sent`` status promises (and what it does not).
SENT_MEANS = (
    "'sent' means OneSignal accepted the push for this person AND they were known, before "
    "sending, to have a subscribed device on this campaign's platforms; 'accepted "
    "(unconfirmed)' means OneSignal accepted it but nobody could check that (it silently "
    "ignores ids it does not know). campaign.report() shows delivery per device and platform."
)

#: Per-recipient statuses of a campaign result, with what each one means: the ONE definition
#: the result banner, the report, the CLI's exit code, the notebooks and the README use.
#:
#: ============================  ==========================================================
#: status                        meaning
#: ============================  ==========================================================
#: ``sent``                      accepted by OneSignal, and known reachable before sending
#: ``accepted_unconfirmed``      accepted by OneSignal; reachability unknown (not checked)
#: ``some_devices_unsubscribed`` accepted; OneSignal listed a device of theirs as not
#:                               subscribed, and nobody knows whether they have another
#: ``deferred``                  accepted by OneSignal to go out when their quiet hours end
#: ``excluded``                  left out before sending (unreachable, suppressed, capped):
#:                               no request was made; the error column says why
#: ``cancelled``                 their push was cancelled (``campaign.cancel()``) before it
#:                               reached them
#: ``unsubscribed``              OneSignal created no notification and listed them
#: ``not_reached``               OneSignal created no notification for their batch
#: ``invalid``                   empty external id: nothing was sent
#: ``failed`` / ``pending``      not answered yet: ``send()`` again finishes it
#: ============================  ==========================================================
RESULT_STATUSES = {
    "sent": "OneSignal accepted the push, and they were known (from the subscription export, "
    "a lookup or the journal) to have a subscribed device on this campaign's platforms",
    "accepted_unconfirmed": "accepted (unconfirmed): OneSignal accepted the push for their "
    "batch, but whether they have a subscribed device was not checked (OneSignal silently "
    "ignores ids it does not know)",
    "some_devices_unsubscribed": "OneSignal accepted the push for their batch but listed a "
    "device of theirs as not subscribed (it lists devices, not people), and whether they have "
    "another subscribed device was not checked",
    "deferred": "OneSignal accepted the push for their batch, scheduled for the end of their "
    "quiet hours (the error column says when)",
    "excluded": "excluded before sending: not in this OneSignal app, no subscribed device "
    "on this campaign's platforms, suppressed, or over the frequency cap (the error column "
    "says which, and until when); no request was made for them",
    "cancelled": "their push was cancelled (campaign.cancel()) before it reached them",
    "unsubscribed": "OneSignal created no notification for their batch and listed them as not "
    "subscribed: nothing reached them",
    "not_reached": "OneSignal created no notification for their batch: unknown to OneSignal "
    "or no subscription it could push to",
    "invalid": "empty external id: nothing was sent",
    "failed": "the request failed; send() again retries it with the same key",
    "pending": "not answered yet (the send was interrupted); send() again resumes it",
}

#: The statuses of people in a notification OneSignal created (``summary["accepted"]``).
ACCEPTED_STATUSES = ("sent", "accepted_unconfirmed", "some_devices_unsubscribed", "deferred")

#: Each status in a few plain words (banner, CLI, widgets): ``accepted (unconfirmed)``.
STATUS_WORDS = {
    "sent": "sent",
    "accepted_unconfirmed": "accepted (unconfirmed)",
    "some_devices_unsubscribed": "accepted, a device not subscribed",
    "deferred": "deferred (quiet hours)",
    "excluded": "excluded before sending",
    "cancelled": "cancelled",
    "unsubscribed": "not subscribed",
    "not_reached": "not reached",
    "invalid": "invalid id",
    "failed": "failed",
    "pending": "pending",
}


def exclusion_kind(reason: str) -> str:
    """The kind of a reason someone was left out, in a few words (counts group by it)."""
    text = str(reason or "")
    for prefix in (
        "capped",
        "suppressed",
        "deferred by quiet hours",
        "held out",
        "missing required variable",
    ):
        if text.startswith(prefix):
            return prefix
    if "not in this OneSignal app" in text or text == "not_in_onesignal":
        return "not in OneSignal"
    if "only on platforms" in text or text == "other_platforms_only":
        return "subscribed only on excluded platforms"
    return "without a subscribed device"


@dataclass
class CampaignPlan:
    """What ``send()`` would do now, computed without sending or writing anything."""

    name: str
    state: str  # new | resume | sent | conflict | extend | blocked
    recipients: int
    to_send: int
    batches: int
    requests: int
    platforms: tuple[str, ...]
    personalization: str
    reason: str
    api: str
    estimated_seconds: float
    findings: list = field(default_factory=list)
    sample_payload: dict = field(default_factory=dict)
    note: str = ""
    duplicates: int = 0
    caveats: list = field(default_factory=list)
    blocked: str = ""  # why a conflict/blocked plan cannot send, in a few words
    #: who can be reached (a :class:`~onesig_nb.campaign.reachability.Reachability`), or None
    reach: Any = None
    #: the sending rules in words (:class:`~onesig_nb.campaign.rules.Rules`), [] for none
    rules: list = field(default_factory=list)
    #: ``{external_id: reason}`` of the people the rules leave out (suppressed, capped) or
    #: defer (quiet hours)
    held: dict = field(default_factory=dict)
    #: how many people go at what UTC and local time (a DataFrame), when rules or a local
    #: schedule decide it; notes on time zones that fell back to the default
    timing: Any = None
    timing_notes: list = field(default_factory=list)

    @property
    def excluded(self):
        """Why each person left out is not sent now: a DataFrame ``external_id, reason``.

        Reachability (``not_in_onesignal``, ``unsubscribed``, ``other_platforms_only``;
        :data:`~onesig_nb.campaign.reachability.REASON_WORDS`), then the sending rules:
        ``suppressed: ...``, ``capped until <time>``, and ``deferred by quiet hours to
        <time>`` (those still get it, later). :meth:`reasons` counts them.
        """
        import pandas as pd

        frame = (
            self.reach.excluded_frame()
            if self.reach is not None
            else pd.DataFrame(columns=["external_id", "reason"])
        )
        if not self.held:
            return frame
        held = pd.DataFrame(list(self.held.items()), columns=["external_id", "reason"])
        return pd.concat([frame, held], ignore_index=True) if len(frame) else held

    def reasons(self) -> dict[str, int]:
        """People per reason they are not sent now (``capped``, ``suppressed``, ``deferred by
        quiet hours``, ``not in OneSignal``, ...), most first."""
        frame = self.excluded
        if not len(frame):
            return {}
        counts = frame["reason"].map(exclusion_kind).value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def reasons_text(self) -> str:
        """``Not now: 12 capped, 3 suppressed; 40 deferred by quiet hours (sent later).``"""
        reasons = self.reasons()
        if not reasons:
            return ""
        later = reasons.pop("deferred by quiet hours", 0)
        parts = []
        if reasons:
            parts.append("Left out: " + ", ".join(f"{n:,} {k}" for k, n in reasons.items()) + ".")
        if later:
            parts.append(f"{people(later)} deferred by quiet hours (sent when they end).")
        return " ".join(parts)

    @property
    def reachability(self) -> dict:
        """People per reachability state (reachable, unsubscribed, not_in_onesignal, ...)."""
        return self.reach.counts() if self.reach is not None else {}

    def reach_text(self) -> str:
        """``308 reachable, 36 not in OneSignal (reachability from the export 12 min ago).``"""
        return self.reach.sentence() if self.reach is not None else ""

    @property
    def errors(self) -> list:
        return [f for f in self.findings if getattr(f, "severity", "") == "error"]

    @property
    def schedule(self) -> SendSchedule | None:
        """When the push goes out, read from the request it would send (None: at once)."""
        return SendSchedule.from_payload(self.sample_payload.get("body"))

    @property
    def state_text(self) -> str:
        """The state in words: not sent yet / already sent / partly sent / blocked: ..."""
        if self.state in ("conflict", "blocked"):
            return f"blocked: {self.blocked or 'see the note'}"
        if self.errors:
            return "blocked: errors in the checks"
        return STATE_NAMES.get(self.state, self.state)

    def headline(self, bold: Callable[[str], str] = lambda s: f"**{s}**") -> str:
        """``Will send to **378 people** (iOS, Android, Web) in 1 request, about 1 s.``"""
        n = bold(people(self.to_send))
        how = (
            f"({platform_text(self.platforms)}) in {count(self.requests, 'request')}, "
            f"{duration_text(self.estimated_seconds)}."
        )
        if self.state in ("conflict", "blocked") or self.errors:
            why = (
                "Fix the errors in the checks below first."
                if self.errors
                else (f"It is {self.state_text} (see below).")
            )
            return f"Nothing can be sent yet. {why}"
        if self.state == "sent":
            return "Already sent: sending again sends nothing, so nobody gets it twice."
        if self.to_send == 0:
            if self.state == "extend":
                return "Everyone in this cohort was already reached: nothing to send."
            if self.held and self.reasons_text():
                return f"Nobody to send to now. {self.reasons_text()}"
            if self.reach is not None and self.reach.excluded:
                return f"Nobody to send to: nobody can be reached. {self.reach_text()}"
            return "Nobody to send to: the cohort is empty."
        reach = f" {self.reach_text()}" if self.reach_text() else ""
        if self.state == "resume":
            return f"Will finish the unfinished send: {n} left {how}"
        held = f" {self.reasons_text()}" if self.held and self.reasons_text() else ""
        if self.state == "extend":
            return f"Will send to {n} not reached yet {how}{reach}{held}"
        return f"Will send to {n} {how}{reach}{held}"

    def to_dict(self) -> dict:
        d = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in ("findings", "reach", "held", "timing")
        }
        d["reachability"] = self.reachability
        d["reasons"] = self.reasons()
        d["findings"] = [
            {"severity": f.severity, "code": f.code, "message": f.message} for f in self.findings
        ]
        return d

    def __str__(self) -> str:
        lines = [
            f"Campaign {self.name!r}: {self.state_text}",
            f"  {self.headline(lambda s: s)}",
            f"  recipients      {self.recipients:,} ({self.to_send:,} to send now)",
            *([f"  reachability    {self.reach_text()}"] if self.reach_text() else []),
            f"  requests        {self.requests:,} in {self.batches:,} batches ({self.api} API)",
            f"  platforms       {platform_text(self.platforms)}",
            f"  personalization {self._mode_text()}",
            f"  est. duration   {duration_text(self.estimated_seconds)} under the rate limits",
        ]
        if self.schedule is not None and self.timing is None:
            lines.append(f"  goes out        {self.schedule.when()}")
        for rule in self.rules:
            lines.append(f"  rule            {rule}")
        if self.reasons_text():
            lines.append(f"  not now         {self.reasons_text()}")
        for note in self.timing_notes:
            lines.append(f"  time zones      {note}")
        if self.timing is not None and len(self.timing):
            lines.append("  when            " + self._timing_lines()[0])
            lines += ["                  " + ln for ln in self._timing_lines()[1:]]
        for f in self.findings:
            lines.append(f"  check {SEVERITY_WORDS.get(f.severity, f.severity)}: {f.message}")
        if self.note:
            lines.append(f"  note: {self.note}")
        lines += [f"  about: {c}" for c in self.caveats]
        lines.append("  sample request body:")
        body = json.dumps(self.sample_payload, indent=2, ensure_ascii=False)
        lines += ["    " + ln for ln in body.splitlines()]
        return "\n".join(lines)

    def _timing_lines(self, limit: int = 8) -> list[str]:
        """The timing table in lines: ``2026-12-01 07:00 UTC  08:00 local (Europe/Berlin)  12``."""
        out = []
        for row in self.timing.head(limit).itertuples(index=False):
            utc = row.utc.strftime("%Y-%m-%d %H:%M UTC")
            out.append(f"{utc}  {row.local_time} ({row.time_zone}, {row.why})  {row.people:,}")
        if len(self.timing) > limit:
            out.append(f"... {len(self.timing) - limit:,} more times (plan.timing)")
        return out

    def _mode_text(self) -> str:
        word = MODE_WORDS.get(self.personalization, self.personalization)
        if self.reason.lower().startswith(word.split()[0]):
            return self.reason
        return f"{word}: {self.reason}"

    def _repr_html_(self) -> str:
        e = html.escape
        rows = [
            ("Status", self.state_text),
            ("People in the cohort", f"{self.recipients:,}"),
            ("To send now", people(self.to_send)),
            *([("Reachability", self.reach_text())] if self.reach_text() else []),
            (
                "Requests",
                f"{count(self.requests, 'request')} ({count(self.batches, 'batch', 'batches')}, "
                f"{self.api} API)",
            ),
            ("Platforms", platform_text(self.platforms)),
            ("Personalization", self._mode_text()),
            (
                "Estimated duration",
                f"{duration_text(self.estimated_seconds)} under OneSignal's rate limits"
                if self.requests
                else "nothing to send",
            ),
        ]
        if self.schedule is not None and self.timing is None:
            rows.append(("Goes out (scheduled)", self.schedule.when()))
        if self.rules:
            rows.append(("Sending rules", "; ".join(self.rules)))
        if self.reasons_text():
            rows.append(("Not sent now", self.reasons_text()))
        rows += [("Time zones", note) for note in self.timing_notes]
        if self.timing is not None and len(self.timing):
            rows.append(("When", " | ".join(self._timing_lines(5))))
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:14px'>{e(k)}</th><td>{e(v)}</td></tr>"
            for k, v in rows
        )
        checks = (
            "".join(
                f"<li title='{e(f.code)}' style='color:{ink(f.severity)}'>"
                f"<b>{e(SEVERITY_WORDS.get(f.severity, f.severity).capitalize())}:</b> "
                f"{e(f.message)}</li>"
                for f in self.findings
            )
            or "<li>No problems found.</li>"
        )
        kind = "error" if self.errors or self.state in ("conflict", "blocked") else "info"
        if self.state == "sent":
            kind = "ok"
        head = banner(e(self.headline(lambda s: f"\x00{s}\x01")).replace("\x00", "<b>")
                      .replace("\x01", "</b>"), kind)  # fmt: skip
        note = f"<p><b>{e(self.note)}</b></p>" if self.note else ""
        about = "".join(f"<p style='color:#555'><i>{e(c)}</i></p>" for c in self.caveats)
        sample = e(json.dumps(self.sample_payload, indent=2, ensure_ascii=False))
        inner = (
            f"{head}{note}<table>{body}</table><p style='margin:10px 0 2px'><b>Checks</b></p>"
            f"<ul style='margin-top:2px'>{checks}</ul>{about}"
            f"<details><summary>Sample request (key redacted)</summary><pre>{sample}</pre>"
            "</details>"
        )
        return card(f"Plan for campaign {self.name}", inner, css_class="onesig-plan")


@dataclass
class CampaignResult:
    """What a ``send()`` achieved: one row per recipient, from the journal, plus a summary.

    ``not_started``: set (to the number of people a send would reach) when the campaign has
    sent nothing yet, so the card says so instead of showing zeros. ``schedule``: when the
    push goes out, if its requests were scheduled (None: at once); OneSignal accepting a
    scheduled push delivers nothing yet, so the card says "scheduled", not "sent".
    """

    name: str
    frame: Any = field(repr=False)
    requests: int = 0
    already_sent: bool = False
    note: str = ""
    seconds: float = 0.0
    notification_ids: tuple[str, ...] = ()
    not_started: int | None = None
    schedule: SendSchedule | None = None
    #: how many different times the scheduled requests go out at (several: per-person local
    #: times; ``schedule`` is then the first)
    schedule_times: int = 0

    def to_frame(self):
        """external_id, status (see :data:`RESULT_STATUSES`), notification_id, error."""
        return self.frame.copy()

    @property
    def summary(self) -> dict:
        """Counts per status (``sent`` = accepted by OneSignal: see ``sent_means``).

        ``accepted`` counts everyone in a notification OneSignal created: ``sent`` plus
        ``some_devices_unsubscribed`` (listed for a dead device, maybe reached on another).
        """
        counts = self.frame["status"].value_counts().to_dict() if len(self.frame) else {}
        by_status = {s: int(counts.get(s, 0)) for s in RESULT_STATUSES}
        return {
            "campaign": self.name,
            "recipients": int(len(self.frame)),
            **by_status,
            "accepted": sum(by_status[s] for s in ACCEPTED_STATUSES),
            "requests": self.requests,
            "notifications": len(self.notification_ids),
            "already_sent": self.already_sent,
            "seconds": round(self.seconds, 3),
            "note": self.note,
            "sent_means": SENT_MEANS,
        }

    @property
    def complete(self) -> bool:
        return len(self.frame) > 0 and not self.frame["status"].isin(("failed", "pending")).any()

    def headline(self) -> tuple[str, str]:
        """(kind ``ok``/``warn``/``error``/``info``, plain sentence) for the banner.

        ``✓ Sent to 344 people. 2 more people were accepted, but OneSignal listed a device of
        theirs as not subscribed: they got it only on another subscribed device, if they have
        one. Nobody was sent this twice.``
        """
        s = self.summary
        if self.not_started is not None:
            return "info", (
                f"Not sent yet: click Send to {people(self.not_started)} above (or call "
                "campaign.send()), then run this cell again."
            )
        if not s["recipients"]:
            return "info", self.note or "Nothing recorded for this campaign yet."
        sent, trouble = s["sent"], s["failed"] + s["pending"]
        if s["accepted"] == 0:
            if self.note:
                return "error", f"✗ {self.note}"
            return "error", (
                f"✗ Nothing was delivered: none of the {people(s['recipients'])} has a "
                "subscribed device in this OneSignal app."
            )
        parts = [f"Sent to {people(sent)}."] if sent else []
        if self.schedule is not None and sent and self.schedule_times > 1:
            parts = [
                f"Scheduled for {people(sent)} at {self.schedule_times} different times (each "
                f"person's local time), the first {self.schedule.when()}. campaign.report() "
                "shows what has gone out so far."
            ]
        elif self.schedule is not None and sent:
            parts = [
                f"Scheduled for {people(sent)}: OneSignal accepted it to go out "
                f"{self.schedule.when()}. campaign.report() shows what has gone out so far."
            ]
        if self.already_sent and not self.requests:
            earlier = f" to {people(sent)}" if sent else ""
            parts = [f"Already sent earlier{earlier}: nothing was sent again."]
        n = s["accepted_unconfirmed"]
        if n:
            who = f"{n:,} more {agree(n, 'person', 'people')}" if sent else people(n)
            parts.append(
                f"{who} {agree(n, 'was', 'were')} accepted (unconfirmed): OneSignal took the push, "
                "but whether they have a subscribed device was not checked."
            )
        n = s["some_devices_unsubscribed"]
        if n:
            more = sent or s["accepted_unconfirmed"]
            who = f"{n:,} more {agree(n, 'person', 'people')}" if more else people(n)
            parts.append(
                f"{who} {agree(n, 'was', 'were')} accepted, but OneSignal listed a device of "
                "theirs as not subscribed: they got it only on another subscribed device, if "
                "they have one."
            )
        n = s["unsubscribed"]
        if n:
            parts.append(f"{n:,} {agree(n, 'is', 'are')} not subscribed and got nothing.")
        n = s["not_reached"]
        if n:
            parts.append(
                f"{n:,} {agree(n, 'is', 'are')} not in this OneSignal app (or "
                f"{agree(n, 'has', 'have')} no subscribed device) and got nothing."
            )
        n = s["deferred"]
        if n:
            parts.append(
                f"{people(n)} {agree(n, 'was', 'were')} in quiet hours: OneSignal accepted it "
                "to go out when their quiet hours end (the why column says when)."
            )
        n = s["excluded"]
        if n:
            errors = self.frame.loc[self.frame["status"] == "excluded", "error"].fillna("")
            kinds = errors.map(exclusion_kind).value_counts()
            if len(kinds) > 1:
                why = ", ".join(f"{int(k):,} {w}" for w, k in kinds.items())
            else:
                why = {"without a subscribed device": "no subscribed device"}.get(
                    kinds.index[0], kinds.index[0]
                )
            parts.append(f"{n:,} excluded before sending ({why}): no request for them.")
        n = s["cancelled"]
        if n:
            parts.append(f"{people(n)} {agree(n, 'was', 'were')} cancelled before delivery.")
        if s["invalid"]:
            parts.append(f"{count(s['invalid'], 'empty id')} skipped.")
        if trouble:
            return "warn", "⚠ " + " ".join(parts + [self.note])
        parts.append("Nobody was sent this twice.")
        return "ok", "✓ " + " ".join(parts)

    def __repr__(self) -> str:
        s = self.summary
        extra = "".join(
            f" {k}={s[k]:,}"
            for k in STATUS_WORDS
            if k not in ("sent", "unsubscribed", "invalid", "failed")
            if s[k]
        )  # only when present, to keep the common case short
        return (
            f"CampaignResult({self.name!r}: sent={s['sent']:,} unsubscribed={s['unsubscribed']:,} "
            f"invalid={s['invalid']:,} failed={s['failed']:,}{extra}, requests={self.requests})"
        )

    def _repr_html_(self) -> str:
        e = html.escape
        kind, text = self.headline()
        head = banner(e(text), kind)
        if self.not_started is not None:
            return card(f"Campaign {self.name}", head, css_class="onesig-result")
        s = self.summary
        cells = [(s["recipients"], "people in the cohort")]
        cells += [(s[k], label) for k, label in _STATUS_LABELS if s[k] or k in ("sent", "failed")]
        cells.append((self.requests, "requests made now"))
        note = ""
        if self.note and kind == "ok":
            note = f"<p><b>{e(self.note)}</b></p>"
        cols = ["external_id", "status", "error", "notification_id"]
        shown = self.frame[cols].head(_SHOWN).rename(columns={"error": "why"}).fillna("")
        table = shown.to_html(index=False, na_rep="", justify="left")
        body = (
            f"{head}{note}{count_cells(cells)}<p style='color:#555'><i>{e(SENT_MEANS)}</i></p>"
            f"{table_caption(min(_SHOWN, len(self.frame)), len(self.frame), 'result.to_frame()')}"
            f"{table}"
        )
        return card(f"Campaign {self.name}", body, css_class="onesig-result")
