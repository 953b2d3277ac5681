"""Check a create-notification body as OneSignal documents it; refuse with :class:`Rejected`.

Every rule cites the sandbox's limits table (:mod:`onesig_nb.sandbox.limits`), which cites the
specs. The result, :class:`Plan`, says whom to target and when to deliver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Any

import orjson

from onesig_nb.sandbox import audience, limits, liquid, schedule
from onesig_nb.sandbox.responses import ENGLISH_REQUIRED, Rejected

__all__ = ["Plan", "Rejected", "allowed_platforms", "idempotency_key", "validate"]

#: platform flag -> sandbox platforms it selects
PLATFORM_FLAGS = {
    "isIos": ("ios",),
    "isAndroid": ("android",),
    "isAnyWeb": ("web",),
    "isChromeWeb": ("web",),
    "isChrome": ("web",),
    "isFirefox": ("web",),
    "isSafari": ("web",),
    "isHuawei": (),
    "isWP_WNS": (),
    "isAdm": (),
}
ALL_PLATFORMS = ("ios", "android", "web")
TEMPLATE_FIELDS = ("headings", "subtitle", "contents")
SEGMENTS_EVERYONE = {"All", "Subscribed Users", "Total Subscriptions", "Active Users"}
#: RFC 9562 string form: 8-4-4-4-12 hex digits (v11.6 ``idempotency_key``: "Any RFC 9562 UUID")
UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
HTTPS = "https://"


@dataclass(frozen=True)
class Plan:
    """Whom a valid request targets and when: ``ids`` None means a segment or ``filters``
    (everyone they select); ``filters`` None means no filter."""

    ids: list[str] | None
    channel: str
    filters: list | None
    key: str | None
    send_after: float | None
    delayed_option: str | None
    time_of_day: time | None


def _lang_map(body: dict, name: str, *, required: bool = False) -> dict[str, str] | None:
    value = body.get(name)
    if value is None:
        if required:
            raise Rejected(f"{name} is required unless content_available or template_id is set")
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise Rejected(f"{name} must be an object of language code to text")
    return value


def _template(text: str, field: str) -> None:
    try:
        liquid.check(text)
    except liquid.TemplateProblem as exc:
        raise Rejected(f"{field} has {exc}") from None


def _string_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Rejected(f"{field} must be an array of strings")
    return value


def _targets(body: dict) -> tuple[list[str] | None, str, list | None]:
    """(external ids or None, channel, filters or None) — validating targeting and limits.

    One targeting method per message (v11.6 ``include_aliases``: "Not compatible with any other
    targeting parameters"); ``excluded_segments`` only beside ``included_segments``.
    """
    methods = [
        k
        for k in (
            "include_external_user_ids",
            "include_aliases",
            "included_segments",
            "filters",
            "include_subscription_ids",
            "include_player_ids",
        )
        if body.get(k) is not None
    ]
    if not methods:
        raise Rejected(
            "You must include which players, segments, or tags you wish to send this "
            "notification to."
        )
    if len(methods) > 1:
        raise Rejected("Only one targeting method may be used per message: " + ", ".join(methods))
    method = methods[0]
    if body.get("excluded_segments") is not None and method != "included_segments":
        raise Rejected("excluded_segments can only be combined with included_segments")
    channel = body.get("target_channel") or body.get("channel_for_external_user_ids") or "push"
    if channel not in ("push", "email", "sms"):
        raise Rejected("target_channel must be one of push, email, sms")
    if method in ("include_subscription_ids", "include_player_ids"):
        raise Rejected(f"The sandbox targets people by external id; {method} is not supported")
    if method == "filters":
        return None, channel, audience.check(body["filters"])
    if method == "include_external_user_ids":
        ids = _string_list(body[method], method)
        if len(ids) > limits.LEGACY_MAX_EXTERNAL_IDS:
            raise Rejected(
                f"include_external_user_ids: you may only target "
                f"{limits.LEGACY_MAX_EXTERNAL_IDS:,} external user ids per call"
            )
        return ids, channel, None
    if method == "include_aliases":
        aliases = body[method]
        if not isinstance(aliases, dict) or not aliases:
            raise Rejected('include_aliases must be an object such as {"external_id": [...]}')
        ids: list[str] = []
        for label, values in aliases.items():
            values = _string_list(values, f"include_aliases.{label}")
            if label == "external_id":
                ids.extend(values)
        total = sum(len(v) for v in aliases.values())
        if total > limits.CURRENT_MAX_ALIASES:
            raise Rejected(
                f"include_aliases: you may only target {limits.CURRENT_MAX_ALIASES:,} aliases "
                "per call"
            )
        return ids, channel, None
    segments = _string_list(body[method], method)
    excluded = _string_list(body.get("excluded_segments") or [], "excluded_segments")
    unknown = (set(segments) | set(excluded)) - SEGMENTS_EVERYONE
    if unknown:
        raise Rejected(
            "The sandbox only knows the segments " + ", ".join(sorted(SEGMENTS_EVERYONE))
        )
    return ([] if excluded else None), channel, None


def _buttons(body: dict) -> None:
    """v11.6 ``buttons`` / ``web_buttons``: counts, required keys, no other keys."""
    rules = (
        ("buttons", limits.MAX_BUTTONS, limits.BUTTON_KEYS, ("id", "text")),
        ("web_buttons", limits.MAX_WEB_BUTTONS, limits.WEB_BUTTON_KEYS, limits.WEB_BUTTON_REQUIRED),
    )
    for name, most, allowed, required in rules:
        buttons = body.get(name)
        if buttons is None:
            continue
        if not isinstance(buttons, list) or not all(isinstance(b, dict) for b in buttons):
            raise Rejected(f"{name} must be an array of objects with {', '.join(required)}")
        if len(buttons) > most:
            raise Rejected(f"{name}: a notification may have at most {most} buttons")
        for b in buttons:
            missing = [k for k in required if not isinstance(b.get(k), str)]
            if missing:
                raise Rejected(f"{name}: every button needs {', '.join(required)} (strings)")
            extra = sorted(set(b) - allowed)
            if extra:
                raise Rejected(
                    f"{name}: unknown button key {extra[0]!r}; allowed: {', '.join(sorted(allowed))}"
                )


def _urls(body: dict) -> None:
    """``url`` and ``web_url`` are https (v11.6); ``app_url`` may use an app scheme."""
    for name in ("url", "web_url", "app_url"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise Rejected(f"{name} must be a string")
        _template(value, name)
        if name != "app_url" and not value.strip().lower().startswith(HTTPS):
            raise Rejected(f"{name} must be an https:// URL (OneSignal opens only https links)")


def _schedule(body: dict) -> tuple[float | None, str | None, time | None]:
    try:
        send_after = (
            schedule.parse_send_after(body["send_after"])
            if body.get("send_after") is not None
            else None
        )
        option = body.get("delayed_option")
        if option is not None and option not in schedule.DELAYED_OPTIONS:
            raise Rejected("delayed_option must be 'timezone' or 'last-active'")
        tod_text = body.get("delivery_time_of_day")
        tod = schedule.parse_time_of_day(tod_text) if tod_text is not None else None
    except schedule.BadSchedule as exc:
        raise Rejected(str(exc)) from None
    if option == "timezone" and tod is None:
        raise Rejected("delayed_option 'timezone' needs delivery_time_of_day, e.g. '9:00AM'")
    throttle = body.get("throttle_rate_per_minute")
    if option is not None and throttle not in (None, 0, "0"):
        raise Rejected(
            "delayed_option is not compatible with push throttling: set "
            "throttle_rate_per_minute to 0"
        )
    return send_after, option, tod


def _badge_and_collapse(body: dict) -> None:
    """v11.6 ``ios_badgeType`` enum and integer ``ios_badgeCount``; v1.2.2 ``collapse_id``
    at most 64 characters."""
    badge = body.get("ios_badgeType")
    if badge is not None and badge not in limits.IOS_BADGE_TYPES:
        raise Rejected("ios_badgeType must be one of " + ", ".join(sorted(limits.IOS_BADGE_TYPES)))
    count = body.get("ios_badgeCount")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise Rejected("ios_badgeCount must be an integer")
    collapse = body.get("collapse_id")
    if collapse is not None and (
        not isinstance(collapse, str) or len(collapse) > limits.MAX_COLLAPSE_ID_CHARS
    ):
        raise Rejected(
            f"collapse_id must be a string of at most {limits.MAX_COLLAPSE_ID_CHARS} characters"
        )


def idempotency_key(body: dict, api: str) -> str | None:
    """The request's key (``idempotency_key``, or legacy ``external_id``), checked as a UUID."""
    field = "external_id" if api == "legacy" else "idempotency_key"
    key = body.get(field) or body.get("idempotency_key") or body.get("external_id")
    if key is None:
        return None
    if not isinstance(key, str) or not UUID_TEXT.match(key):
        raise Rejected(
            f"{field} must be a UUID (RFC 9562), such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427"
        )
    return key


def validate(body: Any, app_id: str, api: str) -> Plan:
    """Check a create-notification body; raise :class:`Rejected` like the real API would."""
    if not isinstance(body, dict):
        raise Rejected("The request body must be a JSON object")
    if not body.get("app_id"):
        raise Rejected("app_id is required: include your OneSignal app id in the body")
    if body["app_id"] != app_id:
        raise Rejected(
            "app_id not found. You may be missing a Content-Type: application/json header."
        )
    needs_contents = not body.get("content_available") and not body.get("template_id")
    contents = _lang_map(body, "contents", required=needs_contents)
    if contents is not None and "en" not in contents:
        raise Rejected(ENGLISH_REQUIRED)
    for name in TEMPLATE_FIELDS:
        for text in (_lang_map(body, name) or {}).values():
            _template(text, name)
    subtitle = body.get("subtitle")
    if subtitle is not None and set(subtitle) != set(contents or {}):
        raise Rejected("subtitle must have the same languages as contents")
    _urls(body)
    _buttons(body)
    priority = body.get("priority")
    if priority is not None and (isinstance(priority, bool) or priority not in limits.PRIORITIES):
        raise Rejected("priority must be 10 (high) or 5 (normal)")
    ttl = body.get("ttl")
    if ttl is not None and (
        isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= limits.MAX_TTL_SECONDS
    ):
        raise Rejected(f"ttl must be an integer from 0 to {limits.MAX_TTL_SECONDS:,} seconds")
    for name in ("data", "custom_data"):
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise Rejected(f"{name} must be a JSON object")
        if len(orjson.dumps(value)) > limits.MAX_DATA_BYTES:
            raise Rejected(f"{name} must be at most {limits.MAX_DATA_BYTES:,} bytes")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > limits.MAX_NAME_CHARS):
        raise Rejected(f"name must be a string of at most {limits.MAX_NAME_CHARS} characters")
    for flag in PLATFORM_FLAGS:
        if flag in body and body[flag] is not None and not isinstance(body[flag], bool):
            raise Rejected(f"{flag} must be a boolean")
    _badge_and_collapse(body)
    key = idempotency_key(body, api)
    send_after, option, tod = _schedule(body)
    ids, channel, filters = _targets(body)
    return Plan(ids, channel, filters, key, send_after, option, tod)


def allowed_platforms(body: dict) -> set[str]:
    """Platforms the flags select: any true flag = only those; false flags exclude."""
    on = [f for f in PLATFORM_FLAGS if body.get(f) is True]
    if on:
        return {p for f in on for p in PLATFORM_FLAGS[f]}
    off = {p for f in PLATFORM_FLAGS if body.get(f) is False for p in PLATFORM_FLAGS[f]}
    return set(ALL_PLATFORMS) - off
