"""The checks and sentences :mod:`onesig_nb.message.lint` builds its findings from.

Checks of the message alone (Liquid errors, tags OneSignal reserves, static URLs and images,
Liquid in ``data``, single braces, a title without English, ``custom_data`` without a template),
URL problems, truncation per device (:data:`onesig_nb.message.devices.DEVICE_LIMITS`), and the
sentences that name people (:class:`Who`), variables they lack and languages that fall back to
English.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from onesig_nb._words import agree, count, language_name
from onesig_nb.message.devices import DEVICE_LIMITS
from onesig_nb.message.findings import Finding
from onesig_nb.message.rendering import LIQUID_RE, Slot, analyse, describe_person, slots
from onesig_nb.onesignal import limits

if TYPE_CHECKING:
    from onesig_nb.message.model import Message

#: ``{first_name}``: a word in single braces, which Liquid leaves as it is (after ``{{ }}`` and
#: ``{% %}`` are blanked out, so their own braces never match).
_SINGLE_BRACE_RE = re.compile(r"\{\s*([A-Za-z_][\w.]*)\s*\}")
_LIQUID_BLOCK_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


class Who:
    """How findings name the people they are about: by name in a one-person cohort (the
    preview), as "k of n users" otherwise."""

    def __init__(self, df: pd.DataFrame):
        self.n = len(df)
        self.name = describe_person(df.iloc[0].to_dict())["short"] if self.n == 1 else None

    def of(self, k: int) -> str:
        """'Dmitri' or '3 of 5 users'."""
        return self.name or f"{k:,} of {count(self.n, 'user')}"

    def have(self, k: int) -> str:
        """'Dmitri has' or '3 of 5 users have' / '1 of 5 users has'."""
        return f"{self.of(k)} {agree(k, 'has', 'have')}"


def _single_brace_findings(msg: Message) -> list[Finding]:
    seen: dict[str, str] = {}
    for slot in slots(msg):
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


#: Image fields that also take the name of a resource in the app (v11.6 ``big_picture``,
#: ``large_icon``: "The local name or URL of the image").
RESOURCE_FIELDS = ("big_picture", "large_icon")


def url_problem(value: str) -> tuple[str, str] | None:
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


def has_fallback(source: str, var: str) -> bool:
    """Whether ``source`` gives ``var`` a fallback (``| default``, or an if/unless/case on it)."""
    name = rf"(?:user\.tags\.)?{re.escape(var)}\b"
    return bool(
        re.search(rf"{name}\s*\|\s*default\b", source)
        or re.search(rf"\{{%-?\s*(?:if|unless|elsif|case)\b[^%]*{name}", source)
    )


def applies(msg: Message, slot: Slot, lang: str) -> bool:
    """Whether a person reading ``lang`` sees this slot (English covers missing translations)."""
    if slot.lang is None or slot.lang == lang:
        return True
    present = [lg for lg, v in (getattr(msg, slot.field) or {}).items() if v]
    return slot.lang == "en" and lang not in present


def static_findings(msg: Message) -> list[Finding]:
    """Findings about the message alone, no cohort needed."""
    out: list[Finding] = []
    reserved = limits.RESERVED_TAG_KEYS - {"user", "message"}
    for slot in slots(msg):
        an = analyse(slot.source)
        if an.error is not None:
            out.append(Finding("error", an.error_code, f"{slot.where}: {an.error}", slot.field))
        for name in sorted(an.bare & reserved):
            out.append(
                Finding(
                    "warning",
                    "reserved-tag",
                    f"{slot.where} reads {{{{ {name} }}}}, but OneSignal reserves '{name}' for "
                    "its own data, so no tag of that name is used. Rename the tag (tag_map=).",
                    slot.field,
                )
            )
        if slot.lang is None and not LIQUID_RE.search(slot.source):
            problem = url_problem(slot.source)
            if slot.field in RESOURCE_FIELDS and "/" not in slot.source:
                problem = None  # a resource bundled in the app, not a URL
            if slot.field == "app_url" and problem and problem[0] == "info":
                problem = None  # an app scheme is what app_url is for (v11.6 app_url)
            if problem:
                out.append(
                    Finding(
                        problem[0], "url", f"{slot.field} {slot.source!r} {problem[1]}.", slot.field
                    )
                )
    for i, b in enumerate(msg.buttons or []):
        if b.get("icon") and "://" in b["icon"] and (p := url_problem(b["icon"])):
            out.append(Finding(p[0], "url", f"buttons[{i}].icon {p[1]}.", "buttons"))
    for fld in ("data",):
        blob = json.dumps(getattr(msg, fld) or {}, ensure_ascii=False)
        if LIQUID_RE.search(blob):
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
    out += _template_findings(msg)
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


def _template_findings(msg: Message) -> list[Finding]:
    """``message.custom_data`` without a template (renders blank), and what a template changes.

    OneSignal fills ``message.custom_data`` only in messages sent with a ``template_id`` (OpenAPI
    v11.6 create-notification, ``custom_data``: "Use with `template_id`"; see
    ``onesignal-behaviour-sources.md``). With a template, OneSignal builds the push from it, and
    neither the docs nor the spec say which of its texts this message's own texts replace.
    """
    out: list[Finding] = []
    if msg.template_id is None:
        for slot in slots(msg):
            if analyse(slot.source).reads_custom_data:
                out.append(
                    Finding(
                        "warning",
                        "custom-data-without-template",
                        f"{slot.where} reads message.custom_data, but this message has no "
                        "template_id; OneSignal fills custom_data only in messages sent with a "
                        "dashboard template, so it renders blank. Pass template_id= and "
                        "custom_data=, or use a tag instead.",
                        slot.field,
                    )
                )
    else:
        out.append(
            Finding(
                "info",
                "template",
                f"The message uses the dashboard template {msg.template_id}; OneSignal builds "
                "the push from it, and this preview shows only the message's own texts. Send a "
                "test (campaign.send_test()) to see what the template shows.",
                "template_id",
            )
        )
    return out


def missing_text(
    var: str,
    who: Who,
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


def fallback_text(who: Who, langs: list[str]) -> str:
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
    verb = agree(len(langs), "reads", "read")
    return (
        f"{who.of(len(langs))} {verb} {listed}; the message has no text in {which}, so they "
        "get English."
    )


def length_findings(
    fld: str, texts: np.ndarray, ids: np.ndarray | None, with_image: bool
) -> list[Finding]:
    """Truncation findings for the rendered ``texts`` of ``fld`` (one per device that cuts)."""
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
            whom = f" for all {n:,} users" if k == n else f" for {k:,} of {count(n, 'user')}"
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
