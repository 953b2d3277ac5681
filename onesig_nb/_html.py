"""HTML pieces shared by every card a notebook shows: one severity palette, one card frame.

Lint findings, campaign plans and results, TagSync runs, cohorts and the send panel colour a
severity the same way (:data:`PALETTE`, :func:`ink`) and draw their frame with :func:`card`.
Every piece uses inline styles, so a saved notebook, nbviewer or GitHub shows the same thing as
a live kernel. The words inside come from :mod:`onesig_nb._words`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from onesig_nb._words import people

__all__ = [
    "PALETTE",
    "TEXT",
    "Tone",
    "banner",
    "card",
    "count_cells",
    "ink",
    "table_caption",
]


@dataclass(frozen=True)
class Tone:
    """The colours of one severity: ``ink`` for a word or line of text in it; ``fg``, ``bg`` and
    ``border`` for a banner."""

    ink: str
    fg: str
    bg: str
    border: str


#: One palette for every severity a card, finding or status line can have.
PALETTE: dict[str, Tone] = {
    "error": Tone(ink="#b00020", fg="#842029", bg="#f8d7da", border="#b00020"),
    "warning": Tone(ink="#8a5a00", fg="#664d03", bg="#fff3cd", border="#c58a00"),
    "info": Tone(ink="#1a73e8", fg="#1f2937", bg="#eef2f7", border="#9aa5b1"),
    "ok": Tone(ink="#1b7f3b", fg="#0f5132", bg="#d1f2dd", border="#1b7f3b"),
}
#: Other spellings of a severity (banners and the send panel say "warn").
_ALIASES = {"warn": "warning"}
#: Plain text: a status line with no severity.
TEXT = "#333"


def _tone(kind: str | None) -> Tone | None:
    return PALETTE.get(_ALIASES.get(kind or "", kind or ""))


def ink(kind: str | None) -> str:
    """The text colour of a severity (``error``, ``warning``/``warn``, ``info``, ``ok``);
    :data:`TEXT` for anything else."""
    tone = _tone(kind)
    return tone.ink if tone else TEXT


def banner(text_html: str, kind: str = "info") -> str:
    """A big coloured box (``ok`` green, ``warn`` amber, ``error`` red, ``info`` grey)."""
    tone = _tone(kind) or PALETTE["info"]
    return (
        f"<div class='onesig-banner onesig-{kind}' style='font-size:16px;line-height:1.45;"
        f"padding:10px 14px;margin:6px 0 10px;border-radius:6px;color:{tone.fg};"
        f"background:{tone.bg};border:1px solid {tone.border};"
        f"border-left:6px solid {tone.border}'>{text_html}</div>"
    )


def count_cells(cells: Sequence[tuple[int, str]]) -> str:
    """A row of big numbers with their labels underneath."""
    tds = "".join(
        "<td style='padding:4px 14px 4px 0;vertical-align:top;border:none'>"
        f"<div style='font-size:20px;font-weight:600'>{n:,}</div>"
        f"<div style='font-size:12px;color:#555'>{html.escape(label)}</div></td>"
        for n, label in cells
    )
    return f"<table style='border:none;margin:4px 0 8px'><tr>{tds}</tr></table>"


def table_caption(shown: int, total: int, how: str) -> str:
    """``showing 20 of 378 — result.to_frame() has everyone``."""
    if total <= shown:
        return f"<p style='color:#555;font-size:12px'>all {people(total)}</p>"
    return (
        f"<p style='color:#555;font-size:12px'>showing {shown:,} of {total:,} — "
        f"<code>{html.escape(how)}</code> has everyone</p>"
    )


def card(title: str, body: str, *, css_class: str) -> str:
    """The frame every cohort, plan and result is drawn in: a small grey ``title`` (escaped;
    left out when empty) over ``body`` (HTML)."""
    head = f"<div style='font-size:13px;color:#57606a'>{html.escape(title)}</div>" if title else ""
    return (
        f"<div class='{css_class}' style='font-family:system-ui,-apple-system,Segoe UI,"
        "Roboto,sans-serif;font-size:14px;max-width:980px;overflow-x:auto;"
        "border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;margin:4px 0'>"
        f"{head}{body}</div>"
    )
