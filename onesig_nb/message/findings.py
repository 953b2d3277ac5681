"""What a :class:`onesig_nb.message.model.Message` reports: lint findings and its personalization.

:class:`Finding` is one problem (or note); :class:`Findings` is the list
:meth:`~onesig_nb.message.model.Message.lint` returns, readable as text, HTML or a DataFrame;
:class:`Personalization` (decided by :func:`personalization_verdict`) says who fills a
message's templates: nobody, OneSignal (server) or us (client).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from onesig_nb._html import ink
from onesig_nb._words import count

__all__ = ["Finding", "Findings", "Personalization"]


@dataclass(frozen=True)
class Finding:
    """One problem (or note) about a message, for a whole cohort or one person."""

    severity: str  # "error" | "warning" | "info"
    code: str
    message: str
    field: str | None = None
    count: int = 0
    examples: tuple = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: every field, in order, the examples as a list."""
        return {**dataclasses.asdict(self), "examples": list(self.examples)}

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


class Findings(list):
    """The list :meth:`Message.lint` returns: still a plain list, but readable when shown.

    ``print(findings)`` gives one ``severity: message`` line per finding; in a notebook it is an
    HTML list; :meth:`to_frame` gives a DataFrame.
    """

    def __str__(self) -> str:
        if not self:
            return "No problems found."
        return "\n".join(str(f) for f in self)

    def __repr__(self) -> str:
        return str(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: severity, code, message, field, count, examples."""
        cols = ["severity", "code", "message", "field", "count", "examples"]
        return pd.DataFrame([f.to_dict() for f in self], columns=cols)

    def to_html(self, title: str | None = None, *, counts: bool = True) -> str:
        """An escaped HTML list (codes shown small); ``counts`` adds "(N users)" where the
        sentence does not already say how many."""
        import html

        head = (
            f"<div style='font-weight:600;margin:6px 0 2px'>{html.escape(title)}</div>"
            if title
            else ""
        )
        if not self:
            return head + (
                f"<div class='osn-findings osn-ok' style='color:{ink('ok')}'>No problems found.</div>"
            )
        items = []
        for f in self:
            how_many = ""
            if counts and f.count and f"{f.count:,}" not in f.message:
                how_many = f" <span style='color:#666'>({count(f.count, 'user')})</span>"
            items.append(
                f"<li class='osn-finding' data-severity='{f.severity}' "
                f"data-code='{html.escape(f.code)}' title='{html.escape(f.code)}'>"
                f"<b style='color:{ink(f.severity)}'>{f.severity}</b> "
                f"<span dir='auto'>{html.escape(f.message)}</span>{how_many} "
                f"<code style='color:#888;font-size:11px'>{html.escape(f.code)}</code></li>"
            )
        return (
            head
            + "<ul class='osn-findings' style='margin:0;padding-left:18px'>"
            + "".join(items)
            + "</ul>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


@dataclass(frozen=True)
class Personalization:
    """How a message would be personalized: not at all, by OneSignal (server) or by us (client)."""

    mode: str  # "none" | "server" | "client"
    distinct_texts: int | None
    reason: str
    variables: tuple[str, ...] = field(default=())


def personalization_verdict(
    variables: tuple[str, ...],
    reads_all_tags: bool,
    distinct: int | None,
    n_languages: int,
    synced_tags: Iterable[str] | None,
) -> Personalization:
    """The verdict behind :meth:`~onesig_nb.message.model.Message.personalization`.

    ``variables``: the tags the templates read (sorted); ``distinct``: how many distinct
    notifications client mode would send (None without a cohort); ``synced_tags``: tags known to
    be stored in OneSignal, or None when unknown.
    """
    if not variables and not reads_all_tags:
        return Personalization(
            "none",
            distinct if distinct is not None else n_languages,
            "No template reads a tag: everyone gets the same text in their language.",
            variables,
        )
    shown = ", ".join(variables) or "all tags"
    if synced_tags is not None:
        missing = sorted(set(variables) - set(synced_tags))
        if missing or reads_all_tags:
            return Personalization(
                "client",
                distinct,
                f"Tags {', '.join(missing) or '(all)'} are not stored in OneSignal, so the "
                "texts are rendered here and grouped: "
                + (
                    count(distinct, "distinct notification")
                    if distinct is not None
                    else "one notification per distinct text"
                )
                + ". Sync those tags (TagSync) to send one templated notification instead.",
                variables,
            )
    return Personalization(
        "server",
        distinct,
        f"One templated notification; OneSignal fills {shown} from the tags it stores for each "
        "user. This needs those tags in OneSignal (sync them with TagSync first); otherwise "
        "use client mode, which would send "
        + (
            count(distinct, "distinct text")
            if distinct is not None
            else "one notification per distinct text"
        )
        + ".",
        variables,
    )
