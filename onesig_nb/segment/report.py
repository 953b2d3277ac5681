"""LoadReport: what a cohort load read, what it dropped, and why."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COUNT_LABELS",
    "ID_PHRASES",
    "LoadReport",
    "Skipped",
    "count_label",
    "id_phrase",
    "id_type_note",
]

#: Plain-word labels for the counts a reader may fill in, in display order. The keys are the
#: machine-readable names (``report.to_dict()["counts"]``, ``report["..."]``) and stay stable;
#: ``{id}`` / ``{other}`` are filled in per id type by :func:`count_label`.
COUNT_LABELS: dict[str, str] = {
    "files_read": "files read",
    "files_from_cache": "\u2026of which taken from the cache (unchanged since the last load)",
    "files_parsed": "files parsed now (new, changed or not cached)",
    "files_changed": "\u2026of which changed since the last load",
    "files_gone": "files gone from the source since the last load (dropped)",
    "messages_read": "events read",
    "rows_read": "rows read",
    "audience_messages": "events about this audience",
    "profiles_with_value": "profiles with a value for this audience (Profiles Sync)",
    "duplicates_dropped": "duplicate events dropped (same messageId)",
    "unknown_values": "events whose value is not true/false (ignored)",
    "after_as_of": "events after the as_of time (ignored)",
    "no_id_messages": "events with no {id}",
    "no_id_people": "people with only {other} (not reachable by {id})",
    "no_id_members": "\u2026of whom are in the audience",
    "latest_false": "left the audience (latest event = false)",
    "rows_without_id": "rows with no {id} (dropped)",
    "duplicate_ids": "repeated ids merged",
    "multiple_ids": "rows with several {id}s (each one counts as a member)",
    "not_members": "rows marked as not in the audience",
    "malformed_lines": "malformed lines skipped",
    "skipped_files": "files skipped",
    "members": "members",
}

#: Per id type: (the chosen id, the other id with its article) as a marketer reads them.
_ID_WORDS: dict[str, tuple[str, str]] = {
    "user_id": ("userId", "an anonymousId"),
    "anonymous_id": ("anonymousId", "a userId"),
    "auto": ("userId or anonymousId", "another id"),
}
#: Labels that read differently when the person is "userId, else anonymousId".
_AUTO_LABELS = {
    "no_id_messages": "events with neither userId nor anonymousId",
    "no_id_people": "people with no id",
}
#: Kinds whose id is a column of a table the user built (not a Segment id).
_FRAME_KINDS = ("frame", "parquet")
#: "identified by ..." per id type, for the cohort header and the report.
ID_PHRASES: dict[str, str] = {
    "user_id": "Segment userId",
    "anonymous_id": "Segment anonymousId",
    "auto": "Segment userId, else anonymousId",
}


def id_phrase(id_type: str, kind: str = "") -> str:
    """How the people of a cohort are identified, in plain words (``identified by ...``)."""
    if kind in _FRAME_KINDS:
        return "identified by external id"
    return f"identified by {ID_PHRASES.get(id_type, id_type)}"


def count_label(name: str, id_type: str = "user_id", kind: str = "") -> str:
    """The plain-word label of the count ``name`` for a load by ``id_type``."""
    if id_type == "auto" and name in _AUTO_LABELS:
        return _AUTO_LABELS[name]
    template = COUNT_LABELS.get(name)
    if template is None:
        return name.replace("_", " ")
    chosen, other = _ID_WORDS.get(id_type, (id_type, "another id"))
    if kind in _FRAME_KINDS:
        chosen = "external id"
    return template.format(id=chosen, other=other)


def id_type_note(counts: dict[str, int], id_type: str) -> str | None:
    """Why the member count depends on the id type, when the counts make that worth saying."""
    if "no_id_people" not in counts:  # only sources with Segment events know both ids
        return None
    several = "one logged-in person can have several anonymous ids (devices, cleared cookies)"
    only_other = int(counts.get("no_id_people", 0))
    in_audience = int(counts.get("no_id_members", 0))
    if id_type == "user_id":
        if not only_other:
            return None
        return (
            f"{only_other:,} people here have only an anonymousId (no login seen), so "
            f"they are not counted by userId; {in_audience:,} of them are in the audience. "
            f'Loading with id_type="anonymous_id" usually gives a larger count, because {several}.'
        )
    if id_type == "anonymous_id":
        text = (
            f"Counted by anonymousId: {several}, so this is usually more people than by userId. "
            "OneSignal reaches people by the external id your app sets (usually the userId)."
        )
        if only_other:
            text += f" {only_other:,} people here have only a userId and are not counted."
        return text
    return None  # "auto": the header already says "userId, else anonymousId"


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

    @property
    def id_note(self) -> str | None:
        """Why the counts differ by id type (see :func:`id_type_note`), or None."""
        return id_type_note(self.counts, self.id_type)

    def label(self, name: str) -> str:
        """The plain-word label of the count ``name`` in this report."""
        return count_label(name, self.id_type, self.kind)

    def _hidden(self, name: str) -> bool:
        """Counts that are zero by construction here, so showing them only adds noise."""
        if name == "after_as_of":
            return not self.as_of and not self.counts[name]
        if name in ("no_id_people", "no_id_members"):  # "auto" has no other id to fall back on
            return self.id_type == "auto" and not self.counts[name]
        return False

    def _ordered_counts(self) -> list[tuple[str, str, int]]:
        """(name, label, value) in display order; to_dict() keeps every count."""
        known = [k for k in COUNT_LABELS if k in self.counts]
        extra = [k for k in self.counts if k not in COUNT_LABELS]
        return [(k, self.label(k), self.counts[k]) for k in known + extra if not self._hidden(k)]

    def _meta_words(self) -> list[str]:
        words = [f"audience {self.audience!r}", id_phrase(self.id_type, self.kind)]
        if self.as_of:
            words.append(f"as of {self.as_of}")
        return words

    def __str__(self) -> str:
        head = f"Load report: {self.kind or 'source'} {self.source!r} · " + " · ".join(
            self._meta_words()
        )
        lines = [head] + [f"  {label}: {value:,}" for _, label, value in self._ordered_counts()]
        lines += [
            f"  skipped {s.kind}: {s.file}:{s.line or ''} {s.reason}" for s in self.skipped[:10]
        ]
        lines += [f"  note: {n}" for n in self.notes]
        if self.id_note:
            lines.append(f"  why the counts differ by id type: {self.id_note}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for name, label, value in self._ordered_counts():
            left = "text-align:left"
            if label.startswith("\u2026"):  # a sub-count of the row above
                left += ";padding-left:1.5em"
            weight = ";font-weight:bold" if name == "members" else ""
            rows.append(
                f"<tr><td style='{left}{weight}'>{esc(label)}</td>"
                f"<td style='text-align:right{weight}'>{value:,}</td></tr>"
            )
        meta = (
            f"<b>{esc(self.kind or 'source')}</b> <code>{esc(self.source)}</code>"
            f" &middot; audience <code>{esc(str(self.audience))}</code>"
            f" &middot; {esc(id_phrase(self.id_type, self.kind))}"
        )
        if self.as_of:
            meta += f" &middot; as of <code>{esc(self.as_of)}</code>"
        if self.elapsed_s is not None:
            meta += f" &middot; {self.elapsed_s:.2f} s"
        parts = [
            f"<div class='onesig-load-report'><div>{meta}</div>",
            f"<table>{''.join(rows)}</table>",
        ]
        if self.id_note:
            parts.append(
                "<p class='onesig-id-note' style='max-width:46em'>"
                f"<b>Why the counts differ by id type:</b> {esc(self.id_note)}</p>"
            )
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
