"""Create, view and cancel notifications (both API generations) with per-recipient delivery.

Targeting: unknown external ids are ignored; a known id with no reachable subscription (all its
push subscriptions on the allowed platforms are unsubscribed) is reported as invalid; when no
one is reachable the answer is HTTP 200 with ``id: ""`` and
``["All included players are not subscribed"]``, and no notification is stored.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson

from onesig_nb.message.liquid import environment, render_text
from onesig_nb.onesignal import limits
from onesig_nb.sandbox.responses import ENGLISH_REQUIRED, NO_SUBSCRIBERS, Response, basic_error
from onesig_nb.sandbox.store import Store

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
#: share of successful deliveries that are "converted" (clicked), decided by a seeded hash
CONVERSION_RATE = 0.1


class Rejected(Exception):
    """A create request the real API would refuse with HTTP 400."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[0])
        self.messages = list(messages)


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


def _check_template(text: str, field: str) -> None:
    """Refuse a template that cannot parse or names an unknown filter (as the preview does).

    It is not rendered here: an error that depends on a user's tags (``divided_by: score``
    with a score of 0) is that user's delivery row, ``status="errored"``, not a 400 for all.
    """
    if "{" not in text:
        return
    try:
        template = environment().from_string(text)
    except Exception as exc:  # LiquidSyntaxError, or anything python-liquid raises on odd input
        raise Rejected(f"{field} has invalid Liquid syntax: {exc}") from None
    known = environment().filters
    unknown = [name for name in template.filter_names() if name not in known]
    if unknown:
        raise Rejected(f"{field} uses an unknown Liquid filter: {unknown[0]}")


def _string_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Rejected(f"{field} must be an array of strings")
    return value


def _targets(body: dict) -> tuple[list[str] | None, str]:
    """(external ids or None for 'everyone', channel) — validating targeting and limits."""
    methods = [
        k
        for k in ("include_external_user_ids", "include_aliases", "included_segments")
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
    channel = body.get("target_channel") or body.get("channel_for_external_user_ids") or "push"
    if channel not in ("push", "email", "sms"):
        raise Rejected("target_channel must be one of push, email, sms")
    if method == "include_external_user_ids":
        ids = _string_list(body[method], method)
        if len(ids) > limits.LEGACY_MAX_EXTERNAL_IDS:
            raise Rejected(
                f"include_external_user_ids: you may only target "
                f"{limits.LEGACY_MAX_EXTERNAL_IDS:,} external user ids per call"
            )
        return ids, channel
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
        return ids, channel
    segments = _string_list(body[method], method)
    if not set(segments) <= SEGMENTS_EVERYONE:
        raise Rejected(
            "The sandbox only knows the segments " + ", ".join(sorted(SEGMENTS_EVERYONE))
        )
    return None, channel


def validate(body: Any, app_id: str) -> tuple[list[str] | None, str]:
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
            _check_template(text, name)
    url = body.get("url")
    if url is not None:
        if not isinstance(url, str):
            raise Rejected("url must be a string")
        _check_template(url, "url")
    for name, most in (("buttons", limits.MAX_BUTTONS), ("web_buttons", limits.MAX_WEB_BUTTONS)):
        buttons = body.get(name)
        if buttons is None:
            continue
        if not isinstance(buttons, list) or not all(
            isinstance(b, dict) and isinstance(b.get("id"), str) and isinstance(b.get("text"), str)
            for b in buttons
        ):
            raise Rejected(f"{name} must be an array of objects with id and text")
        if len(buttons) > most:
            raise Rejected(f"{name}: a notification may have at most {most} buttons")
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
    return _targets(body)


def allowed_platforms(body: dict) -> set[str]:
    """Platforms the flags select: any true flag = only those; false flags exclude."""
    on = [f for f in PLATFORM_FLAGS if body.get(f) is True]
    if on:
        return {p for f in on for p in PLATFORM_FLAGS[f]}
    off = {p for f in PLATFORM_FLAGS if body.get(f) is False for p in PLATFORM_FLAGS[f]}
    return set(ALL_PLATFORMS) - off


def _converted(seed: int, notification_id: str, subscription_id: str) -> int:
    digest = hashlib.blake2b(
        f"{seed}:{notification_id}:{subscription_id}".encode(), digest_size=8
    ).digest()
    return int(int.from_bytes(digest, "big") / 2**64 < CONVERSION_RATE)


def _pick(texts: dict[str, str] | None, language: str) -> str | None:
    if not texts:
        return None
    return texts.get(language) or texts.get("en")


class _Renderer:
    """Render text for one notification, memoized on the values of the variables it uses.

    ``global_variables()`` of a template names the tags it reads; two users with the same
    values for those get the same text, so it is rendered once (perf-anchors B). A template
    that reads ``user`` (``user.tags.x``) is keyed on all of the user's tags.
    """

    def __init__(self, custom_data: dict | None) -> None:
        self.custom = custom_data
        self.keys: dict[str, tuple[str, ...] | None] = {}
        self.memo: dict[tuple, str | None] = {}

    def _roots(self, source: str) -> tuple[str, ...] | None:
        if source not in self.keys:
            roots = environment().from_string(source).global_variables()
            names = tuple(sorted(r for r in roots if r != "message"))
            self.keys[source] = None if "user" in names else names
        return self.keys[source]

    def __call__(self, source: str | None, tags: dict[str, str]) -> str | None:
        if source is None or "{" not in source:
            return source
        roots = self._roots(source)
        values = tuple(sorted(tags.items())) if roots is None else tuple(map(tags.get, roots))
        key = (source, values)
        if key not in self.memo:
            self.memo[key] = render_text(source, tags, self.custom)
        return self.memo[key]


def _render_rows(store: Store, nid: str, body: dict, reachable: list, seed: int) -> list[tuple]:
    tags_by_user = store.tags_of(sorted({ext for ext, _, _ in reachable}))
    render = _Renderer(body.get("custom_data") or None)
    headings, subtitles, contents = body.get("headings"), body.get("subtitle"), body.get("contents")
    url_source = body.get("url")
    rows = []
    for ext, sid, platform in reachable:
        tags = tags_by_user.get(ext, {})
        lang = tags.get("language", "en")
        status, error = "sent", None
        try:
            heading = render(_pick(headings, lang), tags)
            subtitle = render(_pick(subtitles, lang), tags)
            text = render(_pick(contents, lang), tags)
            url = render(url_source, tags)
        except Exception as exc:  # a template that parses but fails at render time
            heading = subtitle = text = url = None
            status, error = "errored", str(exc)
        converted = _converted(seed, nid, sid) if status == "sent" else 0
        rows.append(
            (nid, ext, platform, heading, subtitle, text, url, status, converted, sid, error)
        )
    return rows


def create(store: Store, body: Any, *, api: str, app_id: str, seed: int) -> Response:
    """Handle a create-notification request of either dialect (validation already done)."""
    ids, channel = validate(body, app_id)
    key_field = "external_id" if api == "legacy" else "idempotency_key"
    key = body.get(key_field) or body.get("idempotency_key") or body.get("external_id")
    if key is not None and not isinstance(key, str):
        raise Rejected(f"{key_field} must be a string (a UUID)")
    if key:
        replay = store.reply_for(key)
        if replay is not None:
            status, reply = replay
            return Response(status, reply, [(b"idempotent-replayed", b"true")])
    if ids is None:
        ids = [u["external_id"] for u in store.rows("SELECT external_id FROM users ORDER BY rowid")]
    ids = list(dict.fromkeys(ids))
    platforms = allowed_platforms(body) if channel == "push" else set()
    subs = store.subscriptions_of(ids)
    reachable: list[tuple[str, str, str]] = []
    invalid: list[str] = []
    failed = 0
    for ext in ids:
        mine = [s for s in subs.get(ext, ()) if s[1] in platforms]
        ok = [(ext, sid, platform) for sid, platform, enabled in mine if enabled]
        reachable.extend(ok)
        failed += len(mine) - len(ok)
        if ext in subs and not ok:
            invalid.append(ext)
    if not reachable:
        reply: dict[str, Any] = {"id": "", "errors": [NO_SUBSCRIBERS]}
        if api == "legacy":
            reply = {"id": "", "recipients": 0, "external_id": key, "errors": [NO_SUBSCRIBERS]}
        if key:
            store.remember_reply(key, 200, reply)
        return Response(200, reply, wrote=bool(key))
    nid = str(uuid.uuid4())
    reply = {"id": nid, "external_id": key}
    if api == "legacy":
        reply["recipients"] = len(reachable)
    if invalid:
        reply["errors"] = (
            {"invalid_external_user_ids": invalid}
            if api == "legacy"
            else {"invalid_aliases": {"external_id": invalid}}
        )
    rows = _render_rows(store, nid, body, reachable, seed)
    store.add_notification(
        {
            "id": nid,
            "api": api,
            "idempotency_key": key,
            "app_id": app_id,
            "request": body,
            "response": reply | {"failed": failed},
            "recipients": len(reachable),
        },
        rows,
    )
    if key:
        store.remember_reply(key, 200, reply)
    return Response(200, reply, wrote=True)


VIEW_ECHO = ("contents", "headings", "subtitle", "url", "name", "send_after", "include_aliases")


def view(store: Store, notification_id: str, *, app_id: str) -> Response:
    """``GET /notifications/{id}``: stats consistent with the delivery rows."""
    row = store.notification(notification_id)
    if row is None or row["app_id"] != app_id:
        return basic_error(400, "Couldn't find a notification with the given id")
    counts = store.delivery_counts(notification_id)
    body = {k: row["request"][k] for k in VIEW_ECHO if row["request"].get(k) is not None}
    if row["request"].get("include_external_user_ids") is not None:
        body["include_external_user_ids"] = row["request"]["include_external_user_ids"]
    created = int(row["created_at"])
    body.update(
        {
            "id": notification_id,
            "app_id": app_id,
            "successful": counts["sent"],
            "failed": row["response"].get("failed", 0),
            "errored": counts["errored"],
            "converted": counts["converted"],
            "remaining": 0,
            "received": 0,
            "queued_at": created,
            "completed_at": created,
            "canceled": bool(row["canceled"]),
            "platform_delivery_stats": _platform_stats(counts["platforms"]),
        }
    )
    return Response(200, body)


def _platform_stats(per_platform: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    names = {"ios": "ios", "android": "android", "web": "chrome_web_push"}
    return {names[p]: stats for p, stats in per_platform.items()}


def cancel(store: Store, notification_id: str, *, app_id: str) -> Response:
    """``DELETE /notifications/{id}``: mark canceled (delivery already happened in the sandbox)."""
    row = store.notification(notification_id)
    if row is None or row["app_id"] != app_id:
        return basic_error(404, "Notification not found")
    store.cancel(notification_id)
    return Response(200, {"success": True}, wrote=True)
