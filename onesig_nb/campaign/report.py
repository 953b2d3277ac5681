"""A campaign's delivery report: OneSignal's statistics in plain words, a funnel and a caption.

People and devices are labelled apart: ``targeted`` counts people OneSignal accepted, every
delivery statistic counts devices (a person can have several; excluded platforms get none).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from onesig_nb._html import banner, card, count_cells
from onesig_nb._words import agree, count, people

__all__ = ["REPORT_WORDS", "CampaignReport"]


#: Delivery statistics in plain words (OneSignal's field -> what the report shows).
REPORT_WORDS = {
    "successful": "delivered (devices)",
    "failed": "unsubscribed devices",
    "errored": "errors",
    "converted": "clicked",
    "remaining": "still sending",
}


@dataclass
class CampaignReport:
    """Delivery statistics per notification, totals, per-platform breakdown and a funnel chart.

    ``targeted`` counts people (accepted by OneSignal); every delivery statistic counts devices.
    """

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
            lost += f" · still sending {t['remaining']:,}"
        ax.set_title(f"{self.name}: delivery ({lost})", fontsize=9)
        for spine in ax.spines.values():
            spine.set_visible(False)
        fig.tight_layout()
        return fig

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
        if t["remaining"]:
            text += f" {count(t['remaining'], 'device')} are still sending."
        return text

    def _repr_html_(self) -> str:
        import base64
        import io

        e = html.escape
        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=80)
        img = base64.b64encode(buf.getvalue()).decode()
        t = self.totals
        kind = "ok" if self.complete else "info"
        state = (
            "Delivery complete."
            if self.complete
            else "Still sending: run campaign.report() again in a minute for the final numbers."
        )
        cells = count_cells(
            [
                (self.targeted, "people targeted (accepted)"),
                (t["successful"], "devices delivered"),
                (t["converted"], "clicked"),
                (t["failed"], "unsubscribed devices"),
                (t["errored"], "errors"),
                (t["remaining"], "still sending"),
            ]
        )
        per_platform = self.platforms.rename(columns=REPORT_WORDS).to_html(na_rep="")
        batches = self.frame.rename(columns=REPORT_WORDS).to_html(index=False, na_rep="")
        body = (
            f"{banner(e(state + ' ' + self.caption()), kind)}{cells}"
            f"<img src='data:image/png;base64,{img}'/>"
            f"<p><b>Per platform (devices)</b></p>{per_platform}"
            f"<details><summary>Per notification ({count(len(self.frame), 'batch', 'batches')}"
            f", OneSignal ids)</summary>{batches}</details>"
        )
        return card(f"Delivery report: {self.name}", body, css_class="onesig-report")
