"""The checks and sentences :mod:`onesig_nb.message.lint` builds its findings from.

Checks of the message alone (Liquid errors, tags OneSignal reserves, static URLs and images,
Liquid in ``data``, single braces, a title without English), URL problems, truncation per device
(:data:`onesig_nb.message.model.DEVICE_LIMITS`), and the sentences that name people (:class:`_Who`),
variables they lack and languages that fall back to English.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from onesig_nb.message.fields import language_name, plural
from onesig_nb.message.findings import Finding
from onesig_nb.message.model import DEVICE_LIMITS
from onesig_nb.message.rendering import _LIQUID_RE, _analyse, _Slot, _where, describe_person
from onesig_nb.onesignal import limits

if TYPE_CHECKING:
    from onesig_nb.message.model import Message

#: ``{first_name}``: a word in single braces, which Liquid leaves as it is (after ``{{ }}`` and
#: ``{% %}`` are blanked out, so their own braces never match).
_SINGLE_BRACE_RE = re.compile(r"\{\s*([A-Za-z_][\w.]*)\s*\}")
_LIQUID_BLOCK_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


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
