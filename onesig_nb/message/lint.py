"""Lint for push messages: what :meth:`onesig_nb.message.model.Message.lint` checks; never raises.

Without a cohort, lint checks the message itself: Liquid syntax and unknown filters, tags
OneSignal reserves, static URLs and images (spaces, no host, http://, deep links), Liquid in
``data`` (OneSignal does not render it), a title without English, ``message.custom_data`` read
without a template, and the length of texts that have no variables. With a cohort it also renders every person and reports templates that fail,
variables some people lack (and what they see instead), traits that would become reserved tags,
empty texts, truncation per device, payloads too large to deliver, bad rendered URLs and people
whose language has no translation.

Where the figures come from: truncation uses :data:`onesig_nb.message.devices.DEVICE_LIMITS`
(approximate per-device character counts, sourced in its comments: Braze's push message format
guide and Alibaba Cloud mPaaS); the payload-size warning uses :data:`PAYLOAD_WARN_BYTES` below
(APNs and FCM reject pushes over 4 KB).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from onesig_nb._words import count
from onesig_nb.errors import ValidationError
from onesig_nb.message.fields import json_bytes
from onesig_nb.message.findings import Finding, Findings
from onesig_nb.message.rendering import (
    LANGUAGE_TRAIT,
    LIQUID_RE,
    OUTPUT_COLUMNS,
    TagColumns,
    analyse,
    cohort_frame,
    render_all,
    slots,
)
from onesig_nb.message.rules import (
    Who,
    applies,
    fallback_text,
    has_fallback,
    length_findings,
    missing_text,
    static_findings,
    url_problem,
)
from onesig_nb.onesignal import limits

if TYPE_CHECKING:
    from onesig_nb.message.model import Message

#: APNs rejects payloads over 4,096 bytes (Apple, "Sending notification requests to APNs");
#: FCM's limit is also 4 KB (the Braze table cited at devices.DEVICE_LIMITS). Text + data must
#: fit with room for OneSignal's own keys, so we warn above this many bytes of rendered text and
#: data.
PAYLOAD_WARN_BYTES = 3_500

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def lint_message(
    msg: Message, cohort: Any = None, *, tag_map: Mapping[str, str] | None = None
) -> Findings:
    """Findings for ``msg`` (and, given a cohort, every person), errors first, then warnings."""
    findings = _lint(msg, cohort, tag_map)
    return Findings(
        sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.code, f.field or ""))
    )


def _lint(msg: Message, cohort: Any, tag_map: Mapping[str, str] | None) -> list[Finding]:
    out = static_findings(msg)
    if cohort is None:
        for slot in slots(msg):  # texts without variables can be measured without a cohort
            if slot.field in ("headings", "contents") and not LIQUID_RE.search(slot.source):
                out += length_findings(
                    slot.field,
                    np.array([slot.source], dtype=object),
                    None,
                    bool(msg.big_picture or msg.ios_attachments),
                )
        return out
    try:
        df = cohort_frame(cohort)
    except ValidationError as exc:
        return [*out, Finding("error", "cohort", str(exc))]
    tags = TagColumns(df, tag_map)
    res = render_all(msg, df, tag_map=tag_map, on_error="collect")
    n = len(res.ids)
    if n == 0:
        return [*out, Finding("info", "empty-cohort", "The cohort has no users; nothing to check.")]
    who = Who(df)
    static_errors = {f.field for f in out if f.code.startswith("liquid")}
    for slot, reason, ids in res.failures:
        if slot.field in static_errors and len(ids) == n:
            continue  # already reported as a syntax / unknown-filter finding
        out.append(
            Finding(
                "error",
                "render-failed",
                f"{slot.where} fails to render for {who.of(len(ids))}: {reason}",
                slot.field,
                len(ids),
                tuple(ids[:5]),
            )
        )
    # variables that some users lack, and what they will see instead
    for var in sorted(msg.variables):
        using = [s for s in slots(msg) if var in analyse(s.source).tags]
        if not using:
            continue
        present = set(res.raw_langs.tolist())
        reads = [lg for lg in present if any(applies(msg, s, lg) for s in using)]
        missing = np.flatnonzero(pd.isna(tags.column(var)) & np.isin(res.raw_langs, reads))
        if not len(missing):
            continue
        guarded = all(has_fallback(s.source, var) for s in using)
        slot = next((s for s in using if s.field == "contents"), using[0])
        shown = res.columns.get(OUTPUT_COLUMNS.get(slot.field, slot.field))
        example = shown[missing[0]] if shown is not None else None
        # nobody has it: almost surely a typo (in a one-person preview: no trait of that name)
        nobody = var not in tags.sources or (n > 1 and bool(pd.isna(tags.column(var)).all()))
        text, severity = missing_text(
            var, who, len(missing), example, guarded, nobody, [t for t in tags.names if t != var]
        )
        out.append(
            Finding(
                severity,
                "missing-variable",
                text,
                slot.field,
                len(missing),
                tuple(str(x) for x in res.ids[missing[:5]]),
            )
        )
    for name in sorted(set(tags.names) & limits.RESERVED_TAG_KEYS):
        out.append(
            Finding(
                "warning",
                "reserved-tag",
                f"Trait '{name}' would become tag '{name}', which OneSignal reserves; map it to "
                f"another name with tag_map={{'{name}': '{name}_tag'}}.",
                None,
            )
        )
    # empty renders
    contents = res.columns.get("contents")
    if contents is not None:
        empty = np.flatnonzero([not (t or "").strip() for t in contents])
        if len(empty):
            out.append(
                Finding(
                    "error",
                    "empty-render",
                    f"The text renders empty for {who.of(len(empty))}; OneSignal would "
                    "send them a blank notification or reject it. Add a default.",
                    "contents",
                    len(empty),
                    tuple(str(x) for x in res.ids[empty[:5]]),
                )
            )
    heading = res.columns.get("heading")
    if heading is not None and msg.headings:
        empty = np.flatnonzero([t is not None and not t.strip() for t in heading])
        if len(empty):
            out.append(
                Finding(
                    "warning",
                    "empty-render",
                    f"The title renders empty for {who.of(len(empty))}, so the device shows "
                    "the app name instead.",
                    "headings",
                    len(empty),
                    tuple(str(x) for x in res.ids[empty[:5]]),
                )
            )
    # truncation and size
    with_image = bool(msg.big_picture or msg.ios_attachments)
    if heading is not None:
        out += length_findings("headings", heading, res.ids, with_image)
    if contents is not None:
        out += length_findings("contents", contents, res.ids, with_image)
        extra = json_bytes("data", msg.data or {}) if msg.data else 0
        sizes = np.array(
            [
                len((c or "").encode()) + len((h or "").encode()) + extra
                for c, h in zip(
                    contents, heading if heading is not None else [None] * n, strict=True
                )
            ]
        )
        big = np.flatnonzero(sizes > PAYLOAD_WARN_BYTES)
        if len(big):
            whose = (
                f"{who.name}'s notification is"
                if who.name
                else f"{count(len(big), 'user')}' notifications are"
                if len(big) > 1
                else "1 user's notification is"
            )
            out.append(
                Finding(
                    "error",
                    "payload-too-large",
                    f"{whose} over {PAYLOAD_WARN_BYTES:,} bytes of text and data (largest "
                    f"{int(sizes.max()):,}); APNs and FCM reject pushes over 4 KB. Shorten the "
                    "text.",
                    "contents",
                    len(big),
                    tuple(str(x) for x in res.ids[big[:5]]),
                )
            )
    # rendered URLs and images (templated ones; static ones were checked above)
    for slot in slots(msg):
        if slot.lang is not None or not LIQUID_RE.search(slot.source):
            continue
        col = res.columns.get(slot.field)
        if col is None:
            continue
        bad: dict[tuple[str, str], list[int]] = {}
        for i, v in enumerate(col):
            p = url_problem(v) if v else ("error", "renders empty")
            if p:
                bad.setdefault(p, []).append(i)
        for (sev, text), idx in bad.items():
            out.append(
                Finding(
                    sev,
                    "url",
                    f"{slot.field} {text} for {who.of(len(idx))} (e.g. {col[idx[0]]!r}).",
                    slot.field,
                    len(idx),
                    tuple(str(x) for x in res.ids[idx[:5]]),
                )
            )
    # people whose language has no translation
    if LANGUAGE_TRAIT in df.columns and len(msg.contents) >= 1:
        wanted = res.raw_langs
        fell = np.flatnonzero(wanted != res.langs)
        if len(fell):
            out.append(
                Finding(
                    "info",
                    "language-fallback",
                    fallback_text(who, [str(wanted[i]) for i in fell]),
                    "contents",
                    len(fell),
                    tuple(str(x) for x in res.ids[fell[:5]]),
                )
            )
    return out
