"""LoadReport: what a cohort load read, what it dropped, and why."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COUNT_LABELS", "LoadReport", "Skipped"]

#: Human labels for the counts a reader may fill in, in display order.
COUNT_LABELS: dict[str, str] = {
    "files_read": "files read",
    "messages_read": "messages read",
    "rows_read": "rows read",
    "audience_messages": "audience messages for this audience",
    "duplicates_dropped": "duplicate messageIds dropped",
    "unknown_values": "messages whose value is not true/false (ignored)",
    "after_as_of": "messages after as_of (ignored)",
    "no_id_messages": "messages without the chosen id",
    "no_id_people": "people without the chosen id (dropped)",
    "no_id_members": "  ... of whom members under their other id",
    "latest_false": "people whose latest value is false (not members)",
    "rows_without_id": "rows without the chosen id (dropped)",
    "duplicate_ids": "repeated ids merged",
    "multiple_ids": "rows with several values for the chosen id (one member each)",
    "not_members": "rows marked as not in the audience",
    "malformed_lines": "malformed lines skipped",
    "skipped_files": "files skipped",
    "members": "members",
}

#: How many skipped items a report keeps with file and line; the count stays exact beyond it.
MAX_SKIPPED_ITEMS = 1_000


@dataclass(frozen=True)
class Skipped:
    """One input item that was not used: a malformed line or an unreadable file."""

    kind: str  # "malformed_line" | "file"
    file: str
    line: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.file, "line": self.line, "reason": self.reason}


@dataclass
class LoadReport:
    """Counts and skipped items of one cohort load, shown as a small table in notebooks.

    ``counts`` maps names from :data:`COUNT_LABELS` (and any others a reader adds) to integers;
    ``skipped`` lists malformed lines and unreadable files with file name and line number.
    """

    source: str = ""
    kind: str = ""
    audience: str | None = None
    id_type: str = "user_id"
    as_of: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float | None = None

    def add(self, name: str, value: int) -> None:
        """Add ``value`` to the count ``name`` (creating it at zero)."""
        self.counts[name] = int(self.counts.get(name, 0)) + int(value)

    def skip(self, item: Skipped) -> None:
        """Record a skipped item (the list is capped; counts stay exact)."""
        if len(self.skipped) < MAX_SKIPPED_ITEMS:
            self.skipped.append(item)

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)

    @property
    def malformed(self) -> list[tuple[str, int | None]]:
        """``(file, line)`` of every located malformed line."""
        return [(s.file, s.line) for s in self.skipped if s.kind == "malformed_line"]

    @property
    def skipped_files(self) -> list[tuple[str, str]]:
        """``(file, reason)`` of every file that could not be read."""
        return [(s.file, s.reason) for s in self.skipped if s.kind == "file"]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, for logs and journals."""
        return {
            "source": self.source,
            "kind": self.kind,
            "audience": self.audience,
            "id_type": self.id_type,
            "as_of": self.as_of,
            "counts": dict(self.counts),
            "skipped": [s.to_dict() for s in self.skipped],
            "notes": list(self.notes),
            "elapsed_s": self.elapsed_s,
        }

    def _ordered_counts(self) -> list[tuple[str, str, int]]:
        known = [(k, COUNT_LABELS[k], self.counts[k]) for k in COUNT_LABELS if k in self.counts]
        extra = [
            (k, k.replace("_", " "), v) for k, v in self.counts.items() if k not in COUNT_LABELS
        ]
        return known + extra

    def __str__(self) -> str:
        head = f"LoadReport({self.kind} {self.source!r}, audience={self.audience!r}, id={self.id_type})"
        lines = [head] + [f"  {label}: {value:,}" for _, label, value in self._ordered_counts()]
        lines += [
            f"  skipped {s.kind}: {s.file}:{s.line or ''} {s.reason}" for s in self.skipped[:10]
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td style='text-align:left'>{esc(label)}</td>"
            f"<td style='text-align:right'>{value:,}</td></tr>"
            for _, label, value in self._ordered_counts()
        )
        meta = (
            f"<b>{esc(self.kind or 'source')}</b> <code>{esc(self.source)}</code>"
            f" &middot; audience <code>{esc(str(self.audience))}</code>"
            f" &middot; id <code>{esc(self.id_type)}</code>"
        )
        if self.as_of:
            meta += f" &middot; as of <code>{esc(self.as_of)}</code>"
        if self.elapsed_s is not None:
            meta += f" &middot; {self.elapsed_s:.2f} s"
        parts = [f"<div class='onesig-load-report'><div>{meta}</div>", f"<table>{rows}</table>"]
        if self.skipped:
            items = "".join(
                f"<li><code>{esc(s.file)}{':' + str(s.line) if s.line else ''}</code> "
                f"{esc(s.reason)}</li>"
                for s in self.skipped[:20]
            )
            more = len(self.skipped) - 20
            if more > 0:
                items += f"<li>... and {more:,} more (see report.skipped)</li>"
            parts.append(f"<details><summary>skipped items</summary><ul>{items}</ul></details>")
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in self.notes) + "</ul>")
        parts.append("</div>")
        return "".join(parts)
