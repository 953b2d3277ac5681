"""User endpoints: legacy edit-tags, current update / view / create user, and bulk seeding."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from onesig_nb.sandbox import limits
from onesig_nb.sandbox.responses import TAG_LIMIT_PER_REQUEST, Response, structured_error
from onesig_nb.sandbox.schedule import zone
from onesig_nb.sandbox.store import PLATFORM_OF_TYPE, SUBSCRIPTION_TYPES, Store, TagCapExceeded

NOT_FOUND_LEGACY = "No players found for given external_user_id"


class BadTags(Exception):
    """Tags that OneSignal refuses (not an object, non-string values, too many)."""


def check_tags(tags: Any) -> dict[str, str]:
    """Return the tags if OneSignal would accept them, else raise :class:`BadTags`."""
    if not isinstance(tags, dict):
        raise BadTags("tags must be an object of string keys to string values")
    if len(tags) > limits.MAX_TAGS_PER_REQUEST:
        raise BadTags(TAG_LIMIT_PER_REQUEST)
    for key, value in tags.items():
        if not isinstance(value, str):
            raise BadTags(
                f"tag {key!r} must be a string (arrays, objects, numbers, booleans and null "
                'are not supported; "" deletes a tag)'
            )
    return tags


def legacy_edit_tags(store: Store, external_id: str, body: Any) -> Response:
    """``PUT /api/v1/apps/{app_id}/users/{external_user_id}`` -> 200 ``{"success": true}``."""
    if not isinstance(body, dict) or "tags" not in body:
        return Response(400, {"errors": ['The body must be {"tags": {...}}'], "success": False})
    try:
        tags = check_tags(body["tags"])
        found = store.patch_tags(external_id, tags)
    except (BadTags, TagCapExceeded) as exc:
        return Response(400, {"errors": [str(exc)], "success": False})
    if not found:
        return Response(404, {"errors": [NOT_FOUND_LEGACY], "success": False})
    return Response(200, {"success": True}, wrote=True)


def _alias_ok(label: str) -> Response | None:
    if label != "external_id":
        return structured_error(
            400,
            "alias-unsupported",
            f"The sandbox supports the alias label external_id, not {label}",
        )
    return None


def _not_found(external_id: str) -> Response:
    return structured_error(404, "user-not-found", "User not found", {"external_id": external_id})


def update_user(store: Store, label: str, external_id: str, body: Any) -> Response:
    """``PATCH /apps/{app_id}/users/by/external_id/{id}`` -> 202 with the properties echoed."""
    bad = _alias_ok(label)
    if bad:
        return bad
    if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
        return structured_error(400, "invalid-body", 'The body must be {"properties": {...}}')
    props = body.get("properties") or {}
    tags = props.get("tags")
    if tags is not None:
        try:
            check_tags(tags)
        except BadTags as exc:
            return structured_error(400, "invalid-tags", str(exc))
    if tags:  # one statement: patch_tags also says whether the user exists
        try:
            if not store.patch_tags(external_id, tags):
                return _not_found(external_id)
        except TagCapExceeded as exc:
            return structured_error(400, "tag-limit", str(exc))
    elif store.user(external_id) is None:
        return _not_found(external_id)
    return Response(202, {"properties": props}, wrote=bool(tags))


def _subscription_view(sub: dict[str, Any], app_id: str) -> dict[str, Any]:
    return {
        "id": sub["id"],
        "app_id": app_id,
        "type": sub["type"],
        "token": sub["token"] or f"sandbox-token-{sub['id'][:8]}",
        "enabled": bool(sub["enabled"]),
        "notification_types": 1 if sub["enabled"] else -2,
        "session_time": 0,
        "session_count": 1,
        "sdk": "",
        "device_model": "",
        "device_os": "",
        "rooted": False,
        "test_type": 0,
        "app_version": "",
        "net_type": 0,
        "carrier": "",
        "web_auth": "",
        "web_p256": "",
    }


def user_view(store: Store, external_id: str, app_id: str) -> dict[str, Any] | None:
    user = store.user(external_id)
    if user is None:
        return None
    now = int(store.now())
    subs = store.subscriptions(external_id)
    return {
        "properties": {
            "tags": user["tags"],
            "language": subs[0]["language"] if subs else limits.DEFAULT_LANGUAGE,
            "timezone_id": subs[0]["timezone"] if subs else limits.DEFAULT_TIMEZONE,
            "first_active": now,
            "last_active": now,
        },
        "identity": {"external_id": external_id, "onesignal_id": user["onesignal_id"]},
        "subscriptions": [_subscription_view(s, app_id) for s in subs],
    }


def get_user(store: Store, label: str, external_id: str, app_id: str) -> Response:
    """``GET /apps/{app_id}/users/by/external_id/{id}``."""
    bad = _alias_ok(label)
    if bad:
        return bad
    view = user_view(store, external_id, app_id)
    return _not_found(external_id) if view is None else Response(200, view)


def _text(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def create_user(store: Store, body: Any, app_id: str) -> Response:
    """``POST /apps/{app_id}/users``: create (200) or extend (202) a user with subscriptions.

    New subscriptions take ``properties.language`` and ``properties.timezone_id`` (v1.2.2
    ``PropertiesObject``), else English and UTC.
    """
    if not isinstance(body, dict):
        return structured_error(400, "invalid-body", "The body must be a JSON object")
    identity = body.get("identity") or {}
    external_id = identity.get("external_id") if isinstance(identity, dict) else None
    if not isinstance(external_id, str) or not external_id:
        return structured_error(400, "identity-required", "identity.external_id is required")
    props = body.get("properties") or {}
    subs = body.get("subscriptions") or []
    if not isinstance(props, dict) or not isinstance(subs, list):
        return structured_error(
            400, "invalid-body", "properties must be an object, subscriptions a list"
        )
    language = _text(props.get("language"), limits.DEFAULT_LANGUAGE)
    timezone = _text(props.get("timezone_id"), limits.DEFAULT_TIMEZONE)
    try:
        zone(timezone)
    except ValueError as exc:
        return structured_error(400, "invalid-timezone", str(exc))
    records: list[dict[str, Any]] = []
    for sub in subs:
        platform = PLATFORM_OF_TYPE.get(sub.get("type")) if isinstance(sub, dict) else None
        if platform is None:
            return structured_error(
                400,
                "subscription-type",
                "subscriptions[].type must be one of " + ", ".join(SUBSCRIPTION_TYPES.values()),
            )
        records.append(
            {
                "platform": platform,
                "subscribed": sub.get("enabled", True) is not False,
                "token": sub.get("token") if isinstance(sub.get("token"), str) else None,
            }
        )
    tags = props.get("tags") or {}
    try:
        check_tags(tags)
    except BadTags as exc:
        return structured_error(400, "invalid-tags", str(exc))
    existed = store.user(external_id) is not None
    store.ensure_user(external_id)
    if tags:
        try:
            store.patch_tags(external_id, tags)
        except TagCapExceeded as exc:
            return structured_error(400, "tag-limit", str(exc))
    for rec in records:
        store.add_subscription(
            external_id,
            rec["platform"],
            rec["subscribed"],
            rec["token"],
            language=language,
            timezone=timezone,
        )
    view = user_view(store, external_id, app_id) or {}
    reply = {
        "identity": view["identity"],
        "properties": {"tags": view["properties"]["tags"]},
        "subscriptions": [
            {k: s[k] for k in ("id", "app_id", "type", "token", "enabled")}
            for s in view["subscriptions"]
        ],
    }
    return Response(202 if existed else 200, reply, wrote=True)


def tag_text(value: Any) -> str | None:
    """The tag string OneSignal holds for a JSON value, as JavaScript's ``String()`` writes it.

    Tags are strings; numbers and booleans are stringified (docs: add-user-data-tags: "42",
    "true"/"false"). JSON has one number type, so ``42.0`` is the number 42 and becomes "42"
    (limits table, ``seeded_tag_values``). None, NaN and ``""`` mean "no tag".
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, str):
        return value
    raise ValueError(
        f"tag value {value!r}: tags are strings, numbers or booleans (no arrays or objects)"
    )


def add_users(store: Store, records: Iterable[Mapping[str, Any]]) -> int:
    """Seed users: each record adds one subscription and merges its tags. Returns records added.

    A record: ``external_id``, ``platform`` ("ios", "android", "web"), ``subscribed`` (True),
    ``tags`` ({}), ``language`` and ``timezone`` of the subscription (IANA name). Without
    ``language`` a ``language`` tag, if any, gives it (the sample roster keeps the device
    language there), else English; without ``timezone``, UTC.
    """
    n = 0
    for rec in records:
        ext = rec.get("external_id")
        platform = rec.get("platform", "ios")
        if not isinstance(ext, str) or not ext or platform not in SUBSCRIPTION_TYPES:
            raise ValueError(
                f"record {n}: needs a string external_id and platform in "
                f"{sorted(SUBSCRIPTION_TYPES)}, got {ext!r} / {platform!r}"
            )
        tags = rec.get("tags") or {}
        if not isinstance(tags, dict):
            raise ValueError(f"record {n}: tags must be an object")
        clean = {str(k): t for k, v in tags.items() if (t := tag_text(v)) is not None}
        language = _text(rec.get("language"), _text(clean.get("language"), ""))
        timezone = _text(rec.get("timezone"), limits.DEFAULT_TIMEZONE)
        zone(timezone)
        store.ensure_user(ext)
        if clean:
            try:
                store.patch_tags(ext, clean)
            except TagCapExceeded as exc:
                raise ValueError(
                    f"record {n} ({ext}): {exc}. Pass Sandbox(max_tags=...) for your plan."
                ) from None
        store.add_subscription(
            ext,
            platform,
            _truthy(rec.get("subscribed", True)),
            language=language or limits.DEFAULT_LANGUAGE,
            timezone=timezone,
        )
        n += 1
    return n


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "t")
    return bool(value) if value is not None else True
