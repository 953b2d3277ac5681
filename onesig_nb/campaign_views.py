"""What a campaign shows: its plan, its result and its delivery report (plain data + HTML).

Kept apart from :mod:`onesig_nb.campaign` so the sending logic stays short; every class here is
built by :class:`~onesig_nb.campaign.Campaign` and only formats what it is given.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RESULT_STATUSES", "SENT_MEANS", "CampaignPlan", "CampaignReport", "CampaignResult"]

#: What the ``sent`` status promises (and what it does not).
SENT_MEANS = (
    "'sent' means OneSignal accepted the push for this person; it does not say which of their "
    "devices got it (excluded platforms, expired tokens). campaign.report() shows delivery per "
    "device and platform."
)

#: Per-recipient statuses of a campaign result, with what each one means.
RESULT_STATUSES = {
    "sent": "OneSignal accepted the push for this person (see campaign.report() for delivery)",
    "unsubscribed": "OneSignal listed the person as not subscribed",
    "not_reached": "OneSignal created no notification for their batch: unknown to OneSignal "
    "or no subscription it could push to",
    "invalid": "empty external id: nothing was sent",
    "failed": "the request failed; send() again retries it with the same key",
    "pending": "not answered yet (the send was interrupted); send() again resumes it",
}


@dataclass
class CampaignPlan:
    """What ``send()`` would do now, computed without sending or writing anything."""

    name: str
    state: str  # new | resume | sent | conflict | extend
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

    @property
    def errors(self) -> list:
        return [f for f in self.findings if getattr(f, "severity", "") == "error"]

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "findings"}
        d["findings"] = [
            {"severity": f.severity, "code": f.code, "message": f.message} for f in self.findings
        ]
        return d

    def __str__(self) -> str:
        lines = [
            f"Campaign {self.name!r}: {self.state}",
            f"  recipients      {self.recipients:,} ({self.to_send:,} to send now)",
            f"  requests        {self.requests:,} in {self.batches:,} batches ({self.api} API)",
            f"  platforms       {', '.join(self.platforms)}",
            f"  personalization {self.personalization} ({self.reason})",
            f"  est. duration   ~{self.estimated_seconds:.1f} s under the rate limits",
        ]
        for f in self.findings:
            lines.append(f"  lint {f.severity:<7} {f.code}: {f.message}")
        if self.note:
            lines.append(f"  note: {self.note}")
        lines += [f"  about: {c}" for c in self.caveats]
        lines.append("  sample request body:")
        lines += ["    " + ln for ln in json.dumps(self.sample_payload, indent=2).splitlines()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        rows = [
            ("State", self.state),
            ("Recipients", f"{self.recipients:,}"),
            ("To send now", f"{self.to_send:,}"),
            ("Requests / batches", f"{self.requests:,} / {self.batches:,} ({self.api} API)"),
            ("Platforms", ", ".join(self.platforms)),
            ("Personalization", f"{self.personalization} — {self.reason}"),
            ("Estimated duration", f"~{self.estimated_seconds:.1f} s under the rate limits"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows
        )
        colors = {"error": "#b00020", "warning": "#a15c00", "info": "#555"}
        lint = (
            "".join(
                f"<li style='color:{colors.get(f.severity, '#555')}'><b>{e(f.severity)}</b> "
                f"{e(f.code)}: {e(f.message)}</li>"
                for f in self.findings
            )
            or "<li>no findings</li>"
        )
        note = f"<p><b>{e(self.note)}</b></p>" if self.note else ""
        about = "".join(f"<p><i>{e(c)}</i></p>" for c in self.caveats)
        sample = e(json.dumps(self.sample_payload, indent=2, ensure_ascii=False))
        return (
            f"<div class='onesig-plan'><h4>Plan for campaign {e(self.name)}</h4>{note}"
            f"<table>{body}</table>{about}<p>Lint</p><ul>{lint}</ul>"
            f"<details><summary>Sample request (key redacted)</summary><pre>{sample}</pre>"
            "</details></div>"
        )


@dataclass
class CampaignResult:
    """What a ``send()`` achieved: one row per recipient, from the journal, plus a summary."""

    name: str
    frame: Any = field(repr=False)
    requests: int = 0
    already_sent: bool = False
    note: str = ""
    seconds: float = 0.0
    notification_ids: tuple[str, ...] = ()

    def to_frame(self):
        """external_id, status (see :data:`RESULT_STATUSES`), notification_id, error."""
        return self.frame.copy()

    @property
    def summary(self) -> dict:
        """Counts per status (``sent`` = accepted by OneSignal: see ``sent_means``)."""
        counts = self.frame["status"].value_counts().to_dict() if len(self.frame) else {}
        return {
            "campaign": self.name,
            "recipients": int(len(self.frame)),
            **{s: int(counts.get(s, 0)) for s in RESULT_STATUSES},
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

    def __repr__(self) -> str:
        s = self.summary
        extra = "".join(
            f" {k}={s[k]:,}" for k in ("not_reached", "pending") if s[k]
        )  # only when present, to keep the common case short
        return (
            f"CampaignResult({self.name!r}: sent={s['sent']:,} unsubscribed={s['unsubscribed']:,} "
            f"invalid={s['invalid']:,} failed={s['failed']:,}{extra}, requests={self.requests})"
        )

    def _repr_html_(self) -> str:
        e = html.escape
        s = self.summary
        keys = ["recipients", "sent", "unsubscribed", "not_reached", "invalid", "failed"]
        keys += ["pending"] if s["pending"] else []
        cells = "".join(f"<td><b>{s[k]:,}</b><br>{k}</td>" for k in keys + ["requests"])
        note = f"<p><b>{e(self.note)}</b></p>" if self.note else ""
        table = self.frame.head(20).to_html(index=False, na_rep="")
        return (
            f"<h4>Campaign {e(self.name)}</h4>{note}<table><tr>{cells}</tr></table>"
            f"<p><i>{e(SENT_MEANS)}</i></p>{table}"
        )


@dataclass
class CampaignReport:
    """Delivery statistics per notification, totals, per-platform breakdown and a funnel chart."""

    name: str
    frame: Any
    platforms: Any
    targeted: int
    complete: bool

    @property
    def totals(self) -> dict:
        cols = ("successful", "failed", "errored", "converted", "remaining")
        return {c: int(self.frame[c].fillna(0).sum()) if len(self.frame) else 0 for c in cols}

    def figure(self):
        """A matplotlib funnel: targeted -> delivered -> clicked, beside failed/errored."""
        from matplotlib.figure import Figure

        t = self.totals
        stages = [
            ("Targeted", self.targeted),
            ("Delivered", t["successful"]),
            ("Clicked", t["converted"]),
        ]
        fig = Figure(figsize=(6, 2.6))
        ax = fig.subplots()
        labels = [s for s, _ in stages][::-1]
        values = [v for _, v in stages][::-1]
        top = max(values + [1])
        ax.barh(labels, values, left=[(top - v) / 2 for v in values], color="#e54b4d")
        for i, v in enumerate(values):
            ax.text(top / 2, i, f"{v:,}", ha="center", va="center", color="black")
        ax.set_xticks([])
        lost = f"unsubscribed/failed {t['failed']:,} · errored {t['errored']:,}"
        ax.set_title(f"{self.name}: delivery funnel ({lost})", fontsize=9)
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        import base64
        import io

        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=80)
        img = base64.b64encode(buf.getvalue()).decode()
        state = "complete" if self.complete else "still processing (call report() again later)"
        return (
            f"<h4>Delivery report: {html.escape(self.name)} ({state})</h4>"
            f"<img src='data:image/png;base64,{img}'/>"
            f"{self.frame.to_html(index=False, na_rep='')}"
            f"<p>Per platform</p>{self.platforms.to_html(na_rep='')}"
        )
