"""The last check of a push payload before it goes on the wire, whatever built it.

:class:`~onesig_nb.message.Message` checks its fields when it is made; a payload can also be a
plain dict (``client.send_push(ids, {...})``). Both pass through :func:`check_payload`, called
by the dialects' one encoder, so nothing the create-message schema forbids is sent. The rules
are the ones the v11.6 create-message schema (``/notifications?c=push``) documents and the
sandbox enforces (issue 13, item 12):

- ``url`` and ``web_url`` are https (v11.6 ``url``: "The https URL"; ``web_url``: "Accepts URLs
  with protocol https://"). The legacy v1.2.2 spec only warns that iOS needs https; the client
  refuses plain http on both generations, the safer reading (an http link is blocked by iOS and
  browsers anyway), and points deep links to ``app_url``. A URL holding Liquid is checked after
  rendering (lint does that per person), not here.
- ``subtitle`` has the same languages as ``contents`` (v11.6 ``subtitle``).
- ``buttons``: at most 3, ``id`` and ``text`` required, no keys but ``id``/``text``/``icon``;
  ``web_buttons``: at most 2, ``id``/``text``/``url`` required, no other keys but ``icon``.
- ``priority`` 5 or 10; ``ios_badgeType`` None/SetTo/Increase.
- ``throttle_rate_per_minute`` other than 0 does not go with ``delayed_option`` (v11.6
  ``delayed_option``: "not compatible with throttling").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from onesig_nb.errors import ValidationError
from onesig_nb.onesignal import limits

__all__ = ["HTTPS_FIELDS", "check_buttons", "check_payload", "https_problem"]

#: Fields whose URL must be https (v11.6 ``url``, ``web_url``); ``app_url`` may use an app's
#: own scheme (v11.6 ``app_url``: "Accepts values other than https").
HTTPS_FIELDS = ("url", "web_url")

_LIQUID = re.compile(r"\{\{|\{%")


def https_problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be sent as the https field ``name``, or None when it can."""
    if not isinstance(value, str):
        return f"{name} must be text (an https:// URL), not {type(value).__name__}."
    if _LIQUID.search(value) or value.strip().lower().startswith("https://"):
        return None
    if "://" in value and not value.lower().startswith("http://"):
        return (
            f"{name} {value!r} is a deep link; OneSignal takes only https:// in {name}. Put "
            "app links in app_url= (and the web page in web_url=)."
        )
    return (
        f"{name} {value!r} is not an https:// URL; OneSignal opens only https links from "
        f"{name}. Use https://..."
    )


def check_buttons(name: str, buttons: Any) -> list[dict[str, str]]:
    """``buttons`` or ``web_buttons`` as a list of dicts, or a ValidationError with the fix."""
    if name == "web_buttons":
        most, allowed, required = (
            limits.MAX_WEB_BUTTONS,
            limits.WEB_BUTTON_KEYS,
            ("id", "text", "url"),
        )
        example = "{'id': 'read', 'text': 'Read more', 'url': 'https://shop.example/new'}"
    else:
        most, allowed, required = limits.MAX_BUTTONS, limits.BUTTON_KEYS, ("id", "text")
        example = "{'id': 'buy', 'text': 'Buy now'}"
    if isinstance(buttons, str | bytes | Mapping) or not isinstance(buttons, list | tuple):
        raise ValidationError(f"{name} must be a list of button dicts like {example}.")
    out = [dict(b) if isinstance(b, Mapping) else b for b in buttons]
    if len(out) > most:
        raise ValidationError(
            f"{len(out)} {name} given; OneSignal allows at most {most}. Remove some."
        )
    for i, b in enumerate(out):
        if not isinstance(b, dict):
            raise ValidationError(f"{name}[{i}] must be a dict like {example}.")
        for key in required:
            if not isinstance(b.get(key), str) or not b[key].strip():
                raise ValidationError(
                    f"{name}[{i}] needs a non-empty text {key!r}, e.g. {example}."
                )
        extra = set(b) - allowed
        if extra:
            raise ValidationError(
                f"{name}[{i}] has unknown keys {sorted(extra)}; allowed: "
                f"{', '.join(sorted(allowed))}."
                + (" Web buttons (with a url) go in web_buttons=." if "url" in extra else "")
            )
        if name == "web_buttons":
            # v11.6 only says "The URL to open when the button is clicked"; chosen: the same
            # https rule as web_url, where a web button's link opens (undocumented, stricter).
            problem = https_problem(f"{name}[{i}].url", b["url"])
            if problem:
                raise ValidationError(problem)
    return out


def check_payload(payload: Mapping[str, Any]) -> None:
    """Raise :class:`ValidationError` when ``payload`` breaks a documented push rule."""
    for name in HTTPS_FIELDS:
        if payload.get(name) is not None:
            problem = https_problem(name, payload[name])
            if problem:
                raise ValidationError(problem)
    subtitle, contents = payload.get("subtitle"), payload.get("contents")
    if isinstance(subtitle, Mapping) and isinstance(contents, Mapping):
        if set(subtitle) != set(contents):
            raise ValidationError(
                f"subtitle has languages {sorted(subtitle)} but contents has "
                f"{sorted(contents)}; OneSignal needs the same languages in both (v11.6 "
                "subtitle). Add or remove subtitle translations to match."
            )
    for name in ("buttons", "web_buttons"):
        if payload.get(name) is not None:
            check_buttons(name, payload[name])
    priority = payload.get("priority")
    if priority is not None and (isinstance(priority, bool) or priority not in limits.PRIORITIES):
        raise ValidationError(f"priority {priority!r} is not allowed; use 10 (high) or 5 (normal).")
    badge = payload.get("ios_badgeType")
    if badge is not None and badge not in limits.IOS_BADGE_TYPES:
        raise ValidationError(
            f"ios_badgeType {badge!r} is not allowed; use 'SetTo' or 'Increase' (with "
            "ios_badgeCount), or 'None'."
        )
    throttle = payload.get("throttle_rate_per_minute")
    if payload.get("delayed_option") is not None and throttle not in (None, 0, "0"):
        raise ValidationError(
            "throttle_rate_per_minute does not work with delayed_option (v11.6 "
            "delayed_option); set throttle_rate_per_minute=0 or drop the delay."
        )
