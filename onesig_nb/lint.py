"""Lint for push messages: what :meth:`onesig_nb.message.Message.lint` checks; never raises.

Without a cohort, lint checks the message itself: Liquid syntax and unknown filters, tags
OneSignal reserves, static URLs and images (spaces, no host, http://, deep links), Liquid in
``data`` (OneSignal does not render it), a title without English, and the length of texts that
have no variables. With a cohort it also renders every person and reports templates that fail,
variables some people lack (and what they see instead), traits that would become reserved tags,
empty texts, truncation per device, payloads too large to deliver, bad rendered URLs and people
whose language has no translation.

Where the figures come from: truncation uses :data:`onesig_nb.message.DEVICE_LIMITS`
(approximate per-device character counts, sourced in its comments: Braze's push message format
guide and Alibaba Cloud mPaaS); the payload-size warning uses :data:`PAYLOAD_WARN_BYTES` below
(APNs and FCM reject pushes over 4 KB).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._message_checks import _json_bytes, language_name, plural
from .errors import ValidationError
from .message import (
    _LIQUID_RE,
    _OUTPUT,
    DEVICE_LIMITS,
    LANGUAGE_TRAIT,
    Finding,
    Findings,
    Message,
    _analyse,
    _frame,
    _Slot,
    _Tags,
    _where,
    describe_person,
)
from .onesignal import limits

#: APNs rejects payloads over 4,096 bytes (Apple, "Sending notification requests to APNs");
#: FCM's limit is also 4 KB (the Braze table cited at message.DEVICE_LIMITS). Text + data must
#: fit with room for OneSignal's own keys, so we warn above this many bytes of rendered text and
#: data.
PAYLOAD_WARN_BYTES = 3_500

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

#: ``{first_name}``: a word in single braces, which Liquid leaves as it is (after ``{{ }}`` and
#: ``{% %}`` are blanked out, so their own braces never match).
_SINGLE_BRACE_RE = re.compile(r"\{\s*([A-Za-z_][\w.]*)\s*\}")
_LIQUID_BLOCK_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def lint_message(
    msg: Message, cohort: Any = None, *, tag_map: Mapping[str, str] | None = None
) -> Findings:
    """Findings for ``msg`` (and, given a cohort, every person), errors first, then warnings."""
    findings = _lint(msg, cohort, tag_map)
    return Findings(
        sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], f.code, f.field or ""))
    )


class _Who:
    """How findings name the people they are about: by name in a one-person cohort (the
    preview), as "k of n users" otherwise."""

    def __init__(self, df: pd.DataFrame):
        self.n = len(df)
        self.name = describe_person(df.iloc[0].to_dict())["short"] if self.n == 1 else None

    def of(self, k: int) -> str:
        """'Dmitri' or '3 of 5 users'."""
        return self.name or f"{k:,} of {plural(self.n, 'user')}"

    def have(self, k: int) -> str:
        """'Dmitri has' or '3 of 5 users have' / '1 of 5 users has'."""
        return f"{self.of(k)} {'has' if k == 1 else 'have'}"


def _single_brace_findings(msg: Message) -> list[Finding]:
    seen: dict[str, str] = {}
    for slot in msg._slots():
        plain = _LIQUID_BLOCK_RE.sub(lambda m: " " * len(m.group()), slot.source)
        for m in _SINGLE_BRACE_RE.finditer(plain):
            seen.setdefault(m.group(), (m.group(1), slot.field))
    return [
        Finding(
            "warning",
            "single-braces",
            f"`{text}` uses single braces, so it is sent as written. Did you mean "
            f"`{{{{ {name} }}}}`?",
            fld,
        )
        for text, (name, fld) in seen.items()
    ]


def _url_problem(value: str) -> tuple[str, str] | None:
    """(severity, text) for a URL that OneSignal or the device would refuse, else None."""
    from urllib.parse import urlsplit

    if any(c.isspace() for c in value.strip()) or value != value.strip():
        return "error", "contains spaces; URL-encode them (%20) or use url_encode"
    try:
        parts = urlsplit(value)
    except ValueError:
        return "error", "is not a valid URL"
    if parts.scheme in ("http", "https") and not parts.netloc:
        return "error", "has no host"
    if parts.scheme == "http":
        return "warning", "uses http://; browsers and iOS block insecure content, use https://"
    if parts.scheme == "https":
        return None
    if not parts.scheme:
        return "error", "is not an absolute URL (start it with https://)"
    return "info", f"uses the {parts.scheme}: scheme (a deep link); check the app handles it"


def _guarded(source: str, var: str) -> bool:
    name = rf"(?:user\.tags\.)?{re.escape(var)}\b"
    return bool(
        re.search(rf"{name}\s*\|\s*default\b", source)
        or re.search(rf"\{{%-?\s*(?:if|unless|elsif|case)\b[^%]*{name}", source)
    )


def _applies(msg: Message, slot: _Slot, lang: str) -> bool:
    """Whether a person reading ``lang`` sees this slot (English covers missing translations)."""
    if slot.lang is None or slot.lang == lang:
        return True
    present = [lg for lg, v in (getattr(msg, slot.field) or {}).items() if v]
    return slot.lang == "en" and lang not in present


def _static_findings(msg: Message) -> list[Finding]:
    out: list[Finding] = []
    reserved = limits.RESERVED_TAG_KEYS - {"user", "message"}
    for slot in msg._slots():
        an = _analyse(slot.source)
        if an.error is not None:
            out.append(Finding("error", an.error_code, f"{_where(slot)}: {an.error}", slot.field))
        for name in sorted(an.bare & reserved):
            out.append(
                Finding(
                    "warning",
                    "reserved-tag",
                    f"{_where(slot)} reads {{{{ {name} }}}}, but OneSignal reserves '{name}' for "
                    "its own data, so no tag of that name is used. Rename the tag (tag_map=).",
                    slot.field,
                )
            )
        if slot.lang is None and not _LIQUID_RE.search(slot.source):
            problem = _url_problem(slot.source)
            if problem and not (slot.field == "big_picture" and "/" not in slot.source):
                out.append(
                    Finding(
                        problem[0], "url", f"{slot.field} {slot.source!r} {problem[1]}.", slot.field
                    )
                )
    for i, b in enumerate(msg.buttons or []):
        if b.get("icon") and "://" in b["icon"] and (p := _url_problem(b["icon"])):
            out.append(Finding(p[0], "url", f"buttons[{i}].icon {p[1]}.", "buttons"))
    for fld in ("data",):
        blob = json.dumps(getattr(msg, fld) or {}, ensure_ascii=False)
        if _LIQUID_RE.search(blob):
            out.append(
                Finding(
                    "warning",
                    "liquid-in-data",
                    "data contains Liquid ({{ ... }} or {% ... %}); OneSignal sends data as is and "
                    "does not render it. Put personal values in the texts, or render them into data "
                    "yourself.",
                    fld,
                )
            )
    out += _single_brace_findings(msg)
    if msg.headings and "en" not in msg.headings:
        out.append(
            Finding(
                "warning",
                "heading-no-en",
                "headings has no 'en' entry; English readers get the app name as title.",
                "headings",
            )
        )
    return out


def _lint(msg: Message, cohort: Any, tag_map: Mapping[str, str] | None) -> list[Finding]:
    out = _static_findings(msg)
    if cohort is None:
        for slot in msg._slots():  # texts without variables can be measured without a cohort
            if slot.field in ("headings", "contents") and not _LIQUID_RE.search(slot.source):
                out += _length_findings(
                    slot.field,
                    np.array([slot.source], dtype=object),
                    None,
                    bool(msg.big_picture or msg.ios_attachments),
                )
        return out
    try:
        df = _frame(cohort)
    except ValidationError as exc:
        return [*out, Finding("error", "cohort", str(exc))]
    tags = _Tags(df, tag_map)
    res = msg._render_all(df, tag_map=tag_map, on_error="collect")
    n = len(res.ids)
    if n == 0:
        return [*out, Finding("info", "empty-cohort", "The cohort has no users; nothing to check.")]
    who = _Who(df)
    static_errors = {f.field for f in out if f.code.startswith("liquid")}
    for slot, reason, ids in res.failures:
        if slot.field in static_errors and len(ids) == n:
            continue  # already reported as a syntax / unknown-filter finding
        out.append(
            Finding(
                "error",
                "render-failed",
                f"{_where(slot)} fails to render for {who.of(len(ids))}: {reason}",
                slot.field,
                len(ids),
                tuple(ids[:5]),
            )
        )
    # variables that some users lack, and what they will see instead
    for var in sorted(msg.variables):
        using = [s for s in msg._slots() if var in _analyse(s.source).tags]
        if not using:
            continue
        present = set(res.raw_langs.tolist())
        reads = [lg for lg in present if any(_applies(msg, s, lg) for s in using)]
        missing = np.flatnonzero(pd.isna(tags.column(var)) & np.isin(res.raw_langs, reads))
        if not len(missing):
            continue
        guarded = all(_guarded(s.source, var) for s in using)
        slot = next((s for s in using if s.field == "contents"), using[0])
        shown = res.columns.get(_OUTPUT.get(slot.field, slot.field))
        example = shown[missing[0]] if shown is not None else None
        # nobody has it: almost surely a typo (in a one-person preview: no trait of that name)
        nobody = var not in tags.sources or (n > 1 and bool(pd.isna(tags.column(var)).all()))
        text, severity = _missing_text(
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
        out += _length_findings("headings", heading, res.ids, with_image)
    if contents is not None:
        out += _length_findings("contents", contents, res.ids, with_image)
        extra = _json_bytes("data", msg.data or {}) if msg.data else 0
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
                else f"{plural(len(big), 'user')}' notifications are"
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
    for slot in msg._slots():
        if slot.lang is not None or not _LIQUID_RE.search(slot.source):
            continue
        col = res.columns.get(slot.field)
        if col is None:
            continue
        bad: dict[tuple[str, str], list[int]] = {}
        for i, v in enumerate(col):
            p = _url_problem(v) if v else ("error", "renders empty")
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
                    _fallback_text(who, [str(wanted[i]) for i in fell]),
                    "contents",
                    len(fell),
                    tuple(str(x) for x in res.ids[fell[:5]]),
                )
            )
    return out


def _missing_text(
    var: str,
    who: _Who,
    k: int,
    example: str | None,
    guarded: bool,
    nobody: bool,
    names: list[str],
) -> tuple[str, str]:
    """(message, severity) for a variable ``k`` people lack; ``nobody``: no one has it."""
    sees = f" {example!r}" if example is not None else " an empty value"
    fix = f" Add a fallback, e.g. {{{{ {var} | default: 'there' }}}}, or leave them out."
    if nobody:
        close = difflib.get_close_matches(var, names, n=1)
        hint = (
            f" Did you mean '{close[0]}'?"
            if close
            else f" Its traits are: {', '.join(sorted(names)[:12]) or 'none'}."
            if who.name is None
            else ""
        )
        if who.name:
            return f"{who.name} has no '{var}'.{hint} {who.name} would see{sees}.", "warning"
        return f"No one in this cohort has '{var}'.{hint} Everyone would see{sees}.", "warning"
    if who.name:
        tail = " (the template's fallback)." if guarded else "." + fix
        return f"{who.name} has no '{var}', so {who.name} sees{sees}{tail}", (
            "info" if guarded else "warning"
        )
    tail = " (the template gives them a fallback)." if guarded else "." + fix
    return f"{who.have(k)} no tag '{var}'; they will see{sees}{tail}", (
        "info" if guarded else "warning"
    )


def _fallback_text(who: _Who, langs: list[str]) -> str:
    """The language-fallback sentence: who reads a language the message has no text for."""
    if who.name:
        lang = language_name(langs[0])
        return (
            f"{who.name}'s language is {lang}; the message has no {lang} text, so "
            f"{who.name} sees English."
        )
    counts = pd.Series(langs).value_counts()
    if len(counts) == 1:
        listed, which = language_name(counts.index[0]), "that language"
    else:
        named = [f"{language_name(lg)} ({c:,})" for lg, c in counts.items()][:6]
        listed, which = ", ".join(named[:-1]) + " or " + named[-1], "those languages"
    verb = "reads" if len(langs) == 1 else "read"
    return (
        f"{who.of(len(langs))} {verb} {listed}; the message has no text in {which}, so they "
        "get English."
    )


def _length_findings(
    fld: str, texts: np.ndarray, ids: np.ndarray | None, with_image: bool
) -> list[Finding]:
    lens = np.array([len(t) if t else 0 for t in texts])
    if not len(lens):
        return []
    out = []
    part = "title" if fld == "headings" else "body"
    checks = [
        ("ios", "iOS lock screen"),
        ("android", "Android (collapsed)"),
        ("chrome", "Chrome on desktop"),
    ]
    for device, label in checks:
        lim = DEVICE_LIMITS[device][part]
        if device == "ios" and part == "body" and with_image:
            lim = DEVICE_LIMITS["ios"]["body_with_image"]
        over = np.flatnonzero(lens > lim)
        if not len(over):
            continue
        sev = "info" if device == "android" and part == "body" else "warning"
        if (
            device == "android"
            and part == "body"
            and (lens > DEVICE_LIMITS["android"]["body_expanded"]).any()
        ):
            sev = "warning"
        k, n = len(over), len(lens)
        whom = ""
        if ids is not None and n > 1:
            whom = f" for all {n:,} users" if k == n else f" for {k:,} of {plural(n, 'user')}"
        out.append(
            Finding(
                sev,
                f"truncated-{device}",
                f"The {part} is longer than the ~{lim} characters {label} shows{whom} "
                f"(longest {int(lens.max())}); the rest is cut off with '…'.",
                fld,
                len(over),
                tuple(str(x) for x in ids[over[:5]]) if ids is not None else (),
            )
        )
    return out
