"""User endpoints: legacy edit-tags, current update / view / create user, and bulk seeding."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from onesig_nb.onesignal import limits
from onesig_nb.sandbox.responses import TAG_LIMIT_PER_REQUEST, Response, structured_error
from onesig_nb.sandbox.store import PLATFORM_OF_TYPE, SUBSCRIPTION_TYPES, Store

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
    except BadTags as exc:
        return Response(400, {"errors": [str(exc)], "success": False})
    if not store.patch_tags(external_id, tags):
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
    if store.user(external_id) is None:
        return _not_found(external_id)
    if tags:
        store.patch_tags(external_id, tags)
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
    now = int(time.time())
    return {
        "properties": {
            "tags": user["tags"],
            "language": user["tags"].get("language", "en"),
            "first_active": now,
            "last_active": now,
        },
        "identity": {"external_id": external_id, "onesignal_id": user["onesignal_id"]},
        "subscriptions": [_subscription_view(s, app_id) for s in store.subscriptions(external_id)],
    }


def get_user(store: Store, label: str, external_id: str, app_id: str) -> Response:
    """``GET /apps/{app_id}/users/by/external_id/{id}``."""
    bad = _alias_ok(label)
    if bad:
        return bad
    view = user_view(store, external_id, app_id)
    return _not_found(external_id) if view is None else Response(200, view)


def create_user(store: Store, body: Any, app_id: str) -> Response:
    """``POST /apps/{app_id}/users``: create (200) or extend (202) a user with subscriptions."""
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
                "external_id": external_id,
                "platform": platform,
                "subscribed": sub.get("enabled", True) is not False,
                "token": sub.get("token"),
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
        store.patch_tags(external_id, tags)
    for rec in records:
        store.add_subscription(external_id, rec["platform"], rec["subscribed"], rec["token"])
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


def add_users(store: Store, records: Iterable[Mapping[str, Any]]) -> int:
    """Seed users: each record adds one subscription and merges its tags. Returns records added."""
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
        store.ensure_user(ext)
        clean = {k: str(v) for k, v in tags.items() if v is not None}
        if clean:
            store.patch_tags(ext, clean)
        store.add_subscription(ext, platform, _truthy(rec.get("subscribed", True)))
        n += 1
    return n


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "t")
    return bool(value) if value is not None else True
