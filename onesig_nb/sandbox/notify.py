"""Create, view and cancel notifications (both API generations), delivered per subscription.

Targeting: unknown external ids are ignored; every unsubscribed push subscription (on the
allowed platforms) of a known id lists that id once in ``invalid_aliases`` /
``invalid_external_user_ids``, even when another subscription of the same person is reached
(v11.6 200 example; limits table ``invalid_aliases``). When no one is reachable the answer is
HTTP 200 with ``id: ""`` and ``["All included players are not subscribed"]``, and nothing is
stored.

Delivery: a notification with no schedule is delivered (rendered per subscription) at once. One
with ``send_after`` or ``delayed_option`` is stored with a due time per subscription and
delivered by :func:`deliver_due` when the sandbox clock reaches it (every request and every
``Sandbox.advance`` calls it), rendered with the tags of that moment. Each delivery row records
its ``delivered_at``: the sandbox clock when the create request was handled, or the row's due
time (not the later moment the clock was advanced past it).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from typing import Any

from onesig_nb.sandbox import audience, liquid, schedule, templates
from onesig_nb.sandbox.limits import DEFAULT_LANGUAGE
from onesig_nb.sandbox.responses import NO_SUBSCRIBERS, Rejected, Response, basic_error
from onesig_nb.sandbox.store import Store
from onesig_nb.sandbox.validation import Plan, allowed_platforms, validate

__all__ = ["Rejected", "cancel", "create", "deliver_due", "list_page", "view"]

#: share of successful deliveries that are "converted" (clicked), decided by a seeded hash
CONVERSION_RATE = 0.1
#: sandbox platform -> ``platform_delivery_stats`` key (v1.2.2 ``PlatformDeliveryData``; web
#: subscriptions are ``ChromePush``, so their stats are Chrome's)
STATS_KEYS = {"ios": "ios", "android": "android", "web": "chrome_web_push"}
#: request fields a view echoes back (all validated strings or objects)
VIEW_ECHO = (
    *templates.TEXT_FIELDS,
    "name",
    "include_aliases",
    "include_external_user_ids",
    "delayed_option",
    "delivery_time_of_day",
    "template_id",
    "included_segments",
    "excluded_segments",
)
NOT_CANCELABLE = (
    "The message could not be canceled: it was already sent to all recipients. Only a "
    "scheduled or still-sending message can be canceled."
)


def _converted(seed: int, notification_id: str, subscription_id: str) -> int:
    digest = hashlib.blake2b(
        f"{seed}:{notification_id}:{subscription_id}".encode(), digest_size=8
    ).digest()
    return int(int.from_bytes(digest, "big") / 2**64 < CONVERSION_RATE)


def _pick(texts: dict[str, str] | None, language: str) -> str | None:
    if not texts:
        return None
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE)


class _Renderer:
    """Render text for one notification, memoized on the values of the variables it uses.

    The variables a template reads name the tags it depends on; two subscriptions with the
    same values for those (and the same language) get the same text, so it is rendered once
    (perf-anchors B). A template that reads ``user`` is keyed on all of the user's tags.
    """

    def __init__(self, custom_data: dict | None) -> None:
        self.custom = custom_data
        self.keys: dict[str, tuple[str, ...] | None] = {}
        self.memo: dict[tuple, str | None] = {}

    def _roots(self, source: str) -> tuple[str, ...] | None:
        if source not in self.keys:
            names = tuple(sorted(r for r in liquid.roots(source) if r != "message"))
            self.keys[source] = None if "user" in names else names
        return self.keys[source]

    def __call__(self, source: str | None, tags: dict[str, str], language: str) -> str | None:
        if source is None or "{" not in source:
            return source
        roots = self._roots(source)
        values = tuple(sorted(tags.items())) if roots is None else tuple(map(tags.get, roots))
        key = (source, language, values)
        if key not in self.memo:
            self.memo[key] = liquid.render(source, tags, language=language, custom_data=self.custom)
        return self.memo[key]


def _render_rows(
    nid: str, body: dict, targets: list, tags_by_user: dict, seed: int, at: float
) -> list:
    """Delivery rows for (external_id, subscription_id, platform, language) targets, all
    delivered at ``at`` (Unix seconds on the sandbox clock)."""
    # custom_data reaches Liquid only with a template (limits table, "custom_data")
    render = _Renderer((body.get("custom_data") or None) if body.get("template_id") else None)
    headings, subtitles, contents = body.get("headings"), body.get("subtitle"), body.get("contents")
    url_source = body.get("url")
    rows = []
    for ext, sid, platform, lang in targets:
        tags = tags_by_user.get(ext, {})
        status, error = "sent", None
        try:
            heading = render(_pick(headings, lang), tags, lang)
            subtitle = render(_pick(subtitles, lang), tags, lang)
            text = render(_pick(contents, lang), tags, lang)
            url = render(url_source, tags, lang)
        except Exception as exc:  # a template that parses but fails at render time
            heading = subtitle = text = url = None
            status, error = "errored", str(exc)
        converted = _converted(seed, nid, sid) if status == "sent" else 0
        rows.append(
            (nid, ext, platform, heading, subtitle, text, url, status, converted, sid, error, at)
        )
    return rows


def _tags(store: Store, ids: list[str], at: float) -> dict[str, dict[str, str]]:
    """Tags as personalization sees them at ``at`` (older by the propagation delay)."""
    as_of = at - store.tag_delay_s if store.tag_delay_s > 0 else None
    return store.tags_of(sorted(set(ids)), as_of=as_of)


def _reachable(store: Store, ids: list[str], platforms: set[str], plan: Plan):
    """(reachable subscriptions, ids listed once per unsubscribed subscription, failed/platform).

    Only alias / external-id targeting lists ids; a segment or filter audience holds
    subscribed subscriptions only (its unsubscribed ones are not "targeted").
    """
    subs = store.subscriptions_of(ids)
    listed = plan.ids is not None
    tags = _tags(store, ids, store.now()) if plan.filters else {}
    now = store.now()
    reachable: list[tuple] = []
    invalid: list[str] = []
    failed: dict[str, int] = defaultdict(int)
    for ext in ids:
        for sid, platform, enabled, lang, tz, created in subs.get(ext, ()):
            if platform not in platforms:
                continue
            if plan.filters and not audience.matches(plan.filters, tags.get(ext, {}), lang, now):
                continue
            if enabled:
                reachable.append((ext, sid, platform, lang, tz, created))
            elif listed:
                invalid.append(ext)
                failed[platform] += 1
    return reachable, invalid, dict(failed)


def create(store: Store, body: Any, *, api: str, app_id: str, seed: int) -> Response:
    """Handle a create-notification request of either dialect."""
    body = templates.apply(store, body)
    plan: Plan = validate(body, app_id, api)
    key = plan.key
    if key:
        replay = store.reply_for(key)
        if replay is not None:  # even for another payload: never send twice (limits table)
            status, reply = replay
            return Response(status, reply, [(b"idempotent-replayed", b"true")])
    ids = plan.ids
    if ids is None:
        ids = [u["external_id"] for u in store.rows("SELECT external_id FROM users ORDER BY rowid")]
    ids = list(dict.fromkeys(ids))
    platforms = allowed_platforms(body) if plan.channel == "push" else set()
    reachable, invalid, failed = _reachable(store, ids, platforms, plan)
    if not reachable:
        reply: dict[str, Any] = {"id": "", "errors": [NO_SUBSCRIBERS]}
        if api == "legacy":
            reply = {"id": "", "recipients": 0, "external_id": key, "errors": [NO_SUBSCRIBERS]}
        if key:
            store.remember_reply(key, 200, reply)
        return Response(200, reply, wrote=bool(key))
    now = store.now()
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
    start = max(now, plan.send_after) if plan.send_after is not None else now
    store.add_notification(
        {
            "id": nid,
            "api": api,
            "idempotency_key": key,
            "app_id": app_id,
            "request": body,
            "response": reply | {"failed": sum(failed.values()), "failed_by_platform": failed},
            "recipients": len(reachable),
            "created_at": now,
            "send_after": start,
        }
    )
    if start <= now and plan.delayed_option is None:
        targets = [(ext, sid, platform, lang) for ext, sid, platform, lang, _, _ in reachable]
        tags = _tags(store, [t[0] for t in targets], now)
        store.add_deliveries(_render_rows(nid, body, targets, tags, seed, now))
        store.finish_if_done(nid, now)
    else:
        store.schedule(
            [
                (
                    nid,
                    ext,
                    sid,
                    platform,
                    lang,
                    schedule.due_time(
                        start=start,
                        delayed_option=plan.delayed_option,
                        time_of_day=plan.time_of_day,
                        tz_name=tz,
                        last_active=created,
                    ),
                )
                for ext, sid, platform, lang, tz, created in reachable
            ]
        )
        deliver_due(store, seed=seed)
    if key:
        store.remember_reply(key, 200, reply)
    return Response(200, reply, wrote=True)


def deliver_due(store: Store, *, seed: int) -> int:
    """Deliver every scheduled row whose time has come; returns the rows delivered."""
    due = store.due(store.now())
    if not due:
        return 0
    groups: dict[tuple[str, float], list[dict]] = defaultdict(list)
    for row in due:
        groups[(row["notification_id"], row["due_at"])].append(row)
    bodies: dict[str, dict] = {}
    for (nid, at), rows in groups.items():
        if nid not in bodies:
            bodies[nid] = (store.notification(nid) or {}).get("request") or {}
        targets = [
            (r["external_id"], r["subscription_id"], r["platform"], r["language"]) for r in rows
        ]
        tags = _tags(store, [t[0] for t in targets], at)
        rendered = _render_rows(nid, bodies[nid], targets, tags, seed, at)
        store.add_deliveries(rendered, [r["rid"] for r in rows])
        store.finish_if_done(nid, at)
    return len(due)


def view(store: Store, notification_id: str, *, app_id: str, api: str) -> Response:
    """``GET /notifications/{id}``: stats consistent with the delivery rows (v11.6, v1.2.2)."""
    row = store.notification(notification_id)
    if row is None or row["app_id"] != app_id:
        return basic_error(400, "Couldn't find a notification with the given id")
    return Response(200, _view_body(store, row, api))


def list_page(store: Store, query: dict[str, str], *, api: str) -> Response:
    """``GET /notifications?app_id&limit&offset``: newest first by ``queued_at`` (v11.6
    view-messages; v1.2.2 ``NotificationSlice``), at most 50 per page."""
    bounds = templates.page_bounds(query)
    if bounds is None:
        return basic_error(400, templates.INVALID_LIMIT)
    limit, offset = bounds
    total = store.one("SELECT COUNT(*) FROM notifications")[0]
    ids = store.rows(
        "SELECT id FROM notifications ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    items = [_view_body(store, store.notification(r["id"]) or {}, api) for r in ids]
    return Response(
        200, {"total_count": total, "offset": offset, "limit": limit, "notifications": items}
    )


def _view_body(store: Store, row: dict[str, Any], api: str) -> dict[str, Any]:
    notification_id, app_id = row["id"], row["app_id"]
    counts = store.delivery_counts(notification_id)
    request = row["request"]
    body = {k: request[k] for k in VIEW_ECHO if request.get(k) is not None}
    failed_by = row["response"].get("failed_by_platform") or {}
    body.update(
        {
            "id": notification_id,
            "app_id": app_id,
            "successful": counts["sent"],
            "failed": row["response"].get("failed", 0),
            "errored": counts["errored"],
            "converted": counts["converted"],
            "remaining": store.remaining(notification_id),
            "received": 0,
            "queued_at": int(row["created_at"]),
            "send_after": int(row["send_after"] or row["created_at"]),
            "canceled": bool(row["canceled"]),
            "platform_delivery_stats": _platform_stats(counts["platforms"], failed_by),
        }
    )
    if row["completed_at"] is not None:
        body["completed_at"] = int(row["completed_at"])
    elif api == "legacy":
        body["completed_at"] = None  # v1.2.2: nullable; v11.6 types it integer, so it is left out
    return body


def _platform_stats(delivered: dict[str, dict[str, int]], failed: dict[str, int]) -> dict:
    """v1.2.2 ``PlatformDeliveryData``: per platform successful/failed/errored/converted/received."""
    out = {}
    for platform in sorted(set(delivered) | set(failed)):
        got = delivered.get(platform, {})
        out[STATS_KEYS[platform]] = {
            "successful": got.get("successful", 0),
            "failed": failed.get(platform, 0),
            "errored": got.get("errored", 0),
            "converted": got.get("converted", 0),
            "received": 0,
        }
    return out


def cancel(store: Store, notification_id: str, *, app_id: str) -> Response:
    """``DELETE /notifications/{id}``: only while something is still scheduled (v11.6)."""
    row = store.notification(notification_id)
    if row is None or row["app_id"] != app_id:
        return basic_error(404, "Notification not found")
    if row["canceled"]:
        return Response(200, {"success": True})
    if store.remaining(notification_id) == 0:
        return basic_error(400, NOT_CANCELABLE)
    store.cancel(notification_id)
    return Response(200, {"success": True}, wrote=True)
