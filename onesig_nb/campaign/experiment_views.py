"""What an experiment shows: its plan (arm sizes, split check, power), what a send did, and its
results (conversion per arm with 95% intervals, lift against the holdout, a verdict).

Kept apart from :mod:`onesig_nb.campaign.experiment`, which decides and sends; every class here
only formats what it is given, as plain text, a DataFrame, a matplotlib figure and HTML.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from typing import Any

from onesig_nb._html import banner, card, count_cells
from onesig_nb._words import people
from onesig_nb.campaign.assignment import HOLDOUT, REST
from onesig_nb.campaign.lift import ALPHA, POWER, ArmComparison, RatioCheck
from onesig_nb.campaign.views import exclusion_kind

#: Why a holdout member gets nothing (the plan's excluded table).
HELD_OUT = "held out: the experiment's holdout is never sent (it measures the lift)"

__all__ = [
    "ArmPlan",
    "ExperimentPlan",
    "ExperimentResults",
    "ExperimentSend",
    "no_winner_text",
    "pct",
    "points",
]


def pct(rate: float, digits: int = 1) -> str:
    """``3.1%`` (``n/a`` for NaN)."""
    return "n/a" if rate is None or math.isnan(rate) else f"{rate:.{digits}%}"


def points(diff: float) -> str:
    """An absolute difference of rates in percentage points: ``+1.2 pts``."""
    return "n/a" if diff is None or math.isnan(diff) else f"{diff * 100:+.1f} pts"


def _about(n: float) -> str:
    """``about 4,000`` (two significant digits)."""
    if n >= 100:
        digits = len(str(int(n))) - 2
        n = round(n, -digits)
    return f"about {int(math.ceil(n)):,}"


@dataclass(frozen=True)
class ArmPlan:
    """One arm in a plan: who, how many, what a send would do now."""

    arm: str
    people: int
    share: float  # planned share of the cohort
    to_send: int
    state: str  # the arm campaign's plan state in words ("not sent yet", "held out", ...)


@dataclass
class ExperimentPlan:
    """What the experiment would do now (assignments recorded, nothing sent)."""

    name: str
    arms: list[ArmPlan]
    ratio: RatioCheck
    phase: str  # "one" (variants to send), "two" (winner to send), "done"
    base_rate: float | None = None
    mde_rate: float | None = None  # the rate an arm must reach to be detected (given base_rate)
    notes: list[str] = field(default_factory=list)
    campaign_plans: dict[str, Any] = field(default_factory=dict, repr=False)
    #: the holdout's external ids (never sent)
    held_out: tuple[str, ...] = field(default=(), repr=False)

    @property
    def excluded(self):
        """Why each person is not sent now: a DataFrame ``external_id, reason, arm``: the
        holdout ("held out"), then each arm campaign's plan (unreachable, and the sending
        rules: suppressed, capped, deferred by quiet hours)."""
        import pandas as pd

        frames = [
            pd.DataFrame(
                {
                    "external_id": list(self.held_out),
                    "reason": HELD_OUT,
                    "arm": HOLDOUT,
                }
            )
        ]
        frames += [p.excluded.assign(arm=arm) for arm, p in self.campaign_plans.items()]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame(columns=["external_id", "reason", "arm"])
        return pd.concat(frames, ignore_index=True)

    def reasons(self) -> dict[str, int]:
        """People per reason they are not sent now (``held out``, ``capped``, ...)."""
        frame = self.excluded
        if not len(frame):
            return {}
        counts = frame["reason"].map(exclusion_kind).value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    @property
    def to_send(self) -> int:
        """People the next ``send()`` (phase one) or ``send_winner()`` (phase two) reaches."""
        if self.phase == "two":
            return sum(a.to_send for a in self.arms if a.arm == REST)
        return sum(a.to_send for a in self.arms if a.arm not in (HOLDOUT, REST))

    def power_text(self) -> str:
        """What the test can detect, in one sentence (empty without ``base_rate``)."""
        if self.base_rate is None:
            return ""
        variants = [a for a in self.arms if a.arm not in (HOLDOUT, REST)]
        hold = next((a.people for a in self.arms if a.arm == HOLDOUT), 0)
        if not hold:
            return (
                "No holdout: the lift of a variant over not sending cannot be measured "
                "(only variants against each other)."
            )
        if self.mde_rate is None or math.isnan(self.mde_rate):
            return "An arm is empty: nothing can be detected."
        n = min(a.people for a in variants) if variants else 0
        return (
            f"With {people(n)} per arm and {people(hold)} held out, at a base conversion rate "
            f"of {pct(self.base_rate)} an arm must convert at {pct(self.mde_rate)} or more "
            f"({points(self.mde_rate - self.base_rate)}, "
            f"{self.mde_rate / self.base_rate - 1:+.0%}) to be detected {POWER:.0%} of the time. "
            "Smaller lifts may be real but this test will probably not see them."
        )

    def headline(self) -> str:
        sends = [a for a in self.arms if a.to_send]
        hold = next((a for a in self.arms if a.arm == HOLDOUT), None)
        if not sends:
            what = {"done": "Everything is sent: sending again sends nothing."}.get(
                self.phase, "Nothing to send now."
            )
            return what
        parts = ", ".join(f"{a.arm} to {people(a.to_send)}" for a in sends)
        held = f"; {people(hold.people)} held out (never sent)" if hold and hold.people else ""
        return f"Will send {parts}{held}."

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([a.__dict__ for a in self.arms])

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        lines = [f"Experiment {self.name!r}: {self.headline()}"]
        for a in self.arms:
            lines.append(f"  {a.arm:<10} {a.people:>8,} people ({a.share:.0%} planned)  {a.state}")
        lines.append(f"  split: {self.ratio.text}")
        power = self.power_text()
        if power:
            lines.append(f"  power: {power}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        kind = "warn" if self.ratio.flagged else "info"
        rows = "".join(
            f"<tr><td><b>{e(a.arm)}</b></td><td style='text-align:right'>{a.people:,}</td>"
            f"<td style='text-align:right'>{a.share:.0%}</td><td>{e(a.state)}</td></tr>"
            for a in self.arms
        )
        table = (
            "<table><tr><th style='text-align:left'>arm</th><th>people</th><th>planned</th>"
            f"<th style='text-align:left'>now</th></tr>{rows}</table>"
        )
        split = f"<p style='color:{'#8a5a00' if self.ratio.flagged else '#333'}'>{e(self.ratio.text)}</p>"
        power = f"<p>{e(self.power_text())}</p>" if self.power_text() else ""
        notes = "".join(f"<p style='color:#555'><i>{e(n)}</i></p>" for n in self.notes)
        body = banner(e(self.headline()), kind) + table + split + power + notes
        return card(f"Plan for experiment {self.name}", body, css_class="onesig-experiment-plan")


@dataclass
class ExperimentSend:
    """What one ``send()`` or ``send_winner()`` did: the result of each arm's campaign."""

    name: str
    results: dict[str, Any]  # arm -> CampaignResult
    held_out: int = 0
    winner: str | None = None
    note: str = ""

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.results.values())

    @property
    def sent(self) -> int:
        """People accepted by OneSignal in every arm (now and before)."""
        return sum(r.summary["sent"] for r in self.results.values())

    def to_frame(self):
        """One row per person sent: arm, external_id, status, notification_id, error."""
        import pandas as pd

        frames = [r.to_frame().assign(arm=arm) for arm, r in self.results.items()]
        if not frames:
            return pd.DataFrame(
                columns=["arm", "external_id", "status", "notification_id", "error"]
            )
        out = pd.concat(frames, ignore_index=True)
        return out[["arm", *[c for c in out.columns if c != "arm"]]]

    def headline(self) -> str:
        if not self.results:
            return self.note or "Nothing to send."
        if self.requests == 0:
            return f"Already sent earlier: nothing was sent again. {self.note}".strip()
        per = ", ".join(f"{arm} {r.summary['sent']:,}" for arm, r in self.results.items())
        held = f" {people(self.held_out)} held out." if self.held_out else ""
        return f"Sent ({per} people accepted by OneSignal).{held} Nobody was sent this twice."

    def __repr__(self) -> str:
        return f"ExperimentSend({self.name!r}: {self.headline()})"

    def _repr_html_(self) -> str:
        kind = "ok" if self.results else "info"
        cells = [(r.summary["sent"], f"{arm}: accepted") for arm, r in self.results.items()]
        if self.held_out:
            cells.append((self.held_out, "held out"))
        body = banner(html.escape(self.headline()), kind) + count_cells(cells)
        return card(f"Experiment {self.name}", body, css_class="onesig-experiment-send")


@dataclass
class ExperimentResults:
    """Conversions per arm against the holdout, from Segment track events after each send.

    ``frame``: one row per arm (the holdout first): people, converters, rate with its 95%
    interval, absolute and relative lift against the holdout with 95% intervals, p-value and
    Holm-adjusted p-value, OneSignal's clicks. ``provisional`` is True until the window has
    closed for everyone measured.
    """

    name: str
    event: str
    window: Any  # pandas Timedelta
    as_of: Any  # pandas Timestamp (UTC)
    closes_at: Any  # when the window closes for the last person measured
    frame: Any = field(repr=False)
    comparisons: list[ArmComparison] = field(default_factory=list, repr=False)
    ratio: RatioCheck | None = None
    winner: str | None = None
    refusal: str = ""  # why no arm wins yet, with how many more people it would take
    notes: list[str] = field(default_factory=list)

    @property
    def provisional(self) -> bool:
        return bool(self.as_of < self.closes_at)

    def to_frame(self):
        return self.frame.copy()

    @property
    def verdict(self) -> str:
        """One line: the winner and by how much, or why there is none yet."""
        lead = "Provisional (the window is still open): " if self.provisional else ""
        if self.winner is not None:
            c = next(c for c in self.comparisons if c.arm == self.winner)
            text = (
                f"{lead}{self.winner} wins: {pct(c.rate)} converted vs {pct(self.holdout_rate)} "
                f"in the holdout, a lift of {points(c.lift)} (95% CI {points(c.lift_low)} to "
                f"{points(c.lift_high)}; {c.relative:+.0%} relative), significant after the "
                f"correction for {len(self.comparisons)} arm(s) (adjusted p = {c.p_adjusted:.2g})."
            )
        else:
            text = f"{lead}{self.refusal[:1].upper()}{self.refusal[1:]}"
        if self.ratio is not None and self.ratio.flagged:
            text += " Warning: " + self.ratio.text
        return text

    @property
    def holdout_rate(self) -> float:
        row = self.frame[self.frame["arm"] == HOLDOUT]
        return float(row["rate"].iloc[0]) if len(row) else math.nan

    def __repr__(self) -> str:
        return f"ExperimentResults({self.name!r}: {self.verdict})"

    def __str__(self) -> str:
        cols = ["arm", "people", "converters", "rate", "lift", "lift_low", "lift_high",
                "p_adjusted", "clicks"]  # fmt: skip
        table = self.frame[[c for c in cols if c in self.frame.columns]].to_string(index=False)
        return f"{self.verdict}\n{table}"

    def figure(self):
        """Conversion rate per arm with 95% confidence bars (Wilson intervals), the holdout's
        rate as a dashed line."""
        from matplotlib.figure import Figure

        f = self.frame
        fig = Figure(figsize=(6.4, 2.8))
        ax = fig.subplots()
        x = list(range(len(f)))
        rates = f["rate"].fillna(0).to_numpy() * 100
        # clipped at 0: a rate of 0 or 1 sits on its interval's end, and rounding can put the
        # difference a hair below zero, which matplotlib refuses
        low = (f["rate"] - f["rate_low"]).fillna(0).clip(lower=0).to_numpy() * 100
        high = (f["rate_high"] - f["rate"]).fillna(0).clip(lower=0).to_numpy() * 100
        colors = ["#9aa5b1" if a == HOLDOUT else "#e54b4d" for a in f["arm"]]
        if self.winner is not None:
            colors = [
                "#1b7f3b" if a == self.winner else c for a, c in zip(f["arm"], colors, strict=True)
            ]
        ax.bar(x, rates, color=colors, yerr=[low, high], capsize=6)
        if not math.isnan(self.holdout_rate):
            ax.axhline(self.holdout_rate * 100, color="#57606a", linestyle="--", linewidth=1)
        ax.set_xticks(x, [f"{a}\n{n:,} people" for a, n in zip(f["arm"], f["people"], strict=True)])
        ax.set_ylabel(f"{self.event} (%)")
        state = "provisional" if self.provisional else "final"
        ax.set_title(
            f"{self.name}: conversion within {_window_text(self.window)} ({state}; "
            f"bars: {1 - ALPHA:.0%} CI)",
            fontsize=9,
        )
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        fig.tight_layout()
        return fig

    def figure_png(self) -> str:
        """The figure as a base64 PNG (for HTML that must work in a saved notebook)."""
        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=90)
        return base64.b64encode(buf.getvalue()).decode()

    def _repr_html_(self) -> str:
        e = html.escape
        kind = "ok" if self.winner and not self.provisional else "info"
        if self.ratio is not None and self.ratio.flagged:
            kind = "warn"
        shown = self.frame.copy()
        for col in ("rate", "rate_low", "rate_high"):
            shown[col] = shown[col].map(pct)
        for col in ("lift", "lift_low", "lift_high"):
            shown[col] = shown[col].map(points)
        for col in ("relative", "relative_low", "relative_high"):
            shown[col] = shown[col].map(lambda v: "n/a" if math.isnan(v) else f"{v:+.0%}")
        for col in ("p_value", "p_adjusted"):
            shown[col] = shown[col].map(lambda v: "" if math.isnan(v) else f"{v:.2g}")
        shown = shown.fillna("")
        table = shown.to_html(index=False, na_rep="", justify="left")
        img = f"<img src='data:image/png;base64,{self.figure_png()}' alt='conversion per arm'/>"
        notes = "".join(f"<p style='color:#555'><i>{e(n)}</i></p>" for n in self.notes)
        body = banner(e(self.verdict), kind) + img + table + notes
        return card(
            f"Results of experiment {self.name}: {self.event} within {_window_text(self.window)}",
            body,
            css_class="onesig-experiment-results",
        )


def _window_text(window: Any) -> str:
    hours = window.total_seconds() / 3600
    if hours >= 48 and hours % 24 == 0:
        return f"{int(hours // 24)} days"
    return f"{hours:g} h"


def no_winner_text(
    comparisons: list[ArmComparison],
    holdout_rate: float,
    holdout_people: int,
    needed: dict[str, float],
) -> str:
    """Why no arm wins yet: the best arm's rate against the holdout, and about how many more
    people per arm a test would need to detect that difference (``needed``: arm -> people)."""
    if not holdout_people:
        return "no holdout to compare with: name the arm to send (send_winner(arm='B'))"
    measured = [c for c in comparisons if c.people and not math.isnan(c.rate)]
    if not measured:
        return "nobody measured in the variant arms yet"
    best = max(measured, key=lambda c: c.rate)
    vs = f"{best.arm} {pct(best.rate)} vs {pct(holdout_rate)} in the holdout"
    if best.rate <= holdout_rate:
        return f"no variant beats the holdout: {vs}, no sign of a lift"
    more = needed.get(best.arm, math.inf) - best.people
    if math.isinf(more):
        return f"no variant beats the holdout yet: {vs}"
    if more <= 0:
        return (
            f"no variant beats the holdout yet: {vs}, not significant after the correction "
            f"for {len(comparisons)} arm(s) (adjusted p = {best.p_adjusted:.2g})"
        )
    return f"no variant beats the holdout yet: {vs}, need {_about(more)} more people per arm"
