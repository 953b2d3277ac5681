"""Words and HTML pieces shared by the campaign and tag-sync cards (plain data in, text out).

Counts are written for people ("1 person", "344 people", "1 request"), platforms with their
product names ("iOS, Android, Web"), and every card uses the same inline styles, so a saved
notebook, nbviewer or GitHub shows the same thing as a live kernel.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = [
    "PLATFORM_NAMES",
    "banner",
    "card",
    "count",
    "count_cells",
    "duration_text",
    "people",
    "platform_text",
    "table_caption",
    "tags_text",
]

#: How platforms are named for people.
PLATFORM_NAMES = {"ios": "iOS", "android": "Android", "web": "Web"}

#: Banner colours: (text, background, border) per kind.
_BANNER = {
    "ok": ("#0f5132", "#d1f2dd", "#1b7f3b"),
    "warn": ("#664d03", "#fff3cd", "#c58a00"),
    "error": ("#842029", "#f8d7da", "#b00020"),
    "info": ("#1f2937", "#eef2f7", "#9aa5b1"),
}


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 request``, ``2 requests``; ``plural`` for irregular words."""
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {word}"


def people(n: int) -> str:
    """``1 person`` / ``344 people``."""
    return count(n, "person", "people")


def platform_text(platforms: Iterable[str]) -> str:
    """``iOS, Android, Web``."""
    return ", ".join(PLATFORM_NAMES.get(p, p) for p in platforms)


def duration_text(seconds: float) -> str:
    """``about 1 s``, ``about 40 s``, ``about 3 min``."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} min"


def tags_text(tags: dict | None) -> str:
    """``plan=free, ltv=352.46`` (a deleted tag shows as ``ltv=(deleted)``)."""
    if not isinstance(tags, dict) or not tags:
        return ""
    return ", ".join(f"{k}={v if v != '' else '(deleted)'}" for k, v in tags.items())


def banner(text_html: str, kind: str = "info") -> str:
    """A big coloured box (``ok`` green, ``warn`` amber, ``error`` red, ``info`` grey)."""
    fg, bg, border = _BANNER.get(kind, _BANNER["info"])
    return (
        f"<div class='onesig-banner onesig-{kind}' style='font-size:16px;line-height:1.45;"
        f"padding:10px 14px;margin:6px 0 10px;border-radius:6px;color:{fg};background:{bg};"
        f"border:1px solid {border};border-left:6px solid {border}'>{text_html}</div>"
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
    """The frame every plan and result is drawn in."""
    return (
        f"<div class='{css_class}' style='font-family:system-ui,-apple-system,Segoe UI,"
        "Roboto,sans-serif;font-size:14px;max-width:980px;border:1px solid #d0d7de;"
        "border-radius:8px;padding:10px 16px;margin:4px 0'>"
        f"<div style='font-size:13px;color:#57606a'>{html.escape(title)}</div>{body}</div>"
    )
