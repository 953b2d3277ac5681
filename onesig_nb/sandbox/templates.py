"""Message templates: create, view, update, delete and list (v11.6 ``/templates``), and the
content a create-notification request with ``template_id`` takes from one.

Sources: v11.6 create-template (``app_id`` and ``name`` required; ``contents`` needs ``en``),
view-template (``{id, name, channel, created_at, updated_at, content}``, dates ISO 8601),
view-templates (``limit`` 1 to 50: "Invalid limit, must be within 1 to 50"), delete-template
(``{"success": true}``). A request's own fields win over the template's (undocumented; the
reading that never sends text the caller did not give for a field they set).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from onesig_nb.sandbox import limits, liquid
from onesig_nb.sandbox.responses import Rejected, Response, basic_error
from onesig_nb.sandbox.store import Store

#: push fields a template stores (the rest of a create-template body is refused or ignored)
#: the texts and links of a push (a template keeps them; a view echoes them back)
TEXT_FIELDS = ("contents", "headings", "subtitle", "url", "web_url", "app_url")
CONTENT_FIELDS = (
    *TEXT_FIELDS,
    "big_picture",
    "chrome_web_image",
    "ios_attachments",
    "isIos",
    "isAndroid",
    "isChromeWeb",
    "isFirefox",
    "isSafari",
    "isAnyWeb",
)
NOT_FOUND = "Template not found"
INVALID_LIMIT = "Invalid limit, must be within 1 to 50"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _content(body: dict) -> dict[str, Any]:
    content = {k: body[k] for k in CONTENT_FIELDS if body.get(k) is not None}
    contents = content.get("contents")
    if contents is not None and (not isinstance(contents, dict) or "en" not in contents):
        raise Rejected("contents must be an object with English ('en') text")
    for name in ("contents", "headings", "subtitle"):
        for text in (content.get(name) or {}).values():
            if not isinstance(text, str):
                raise Rejected(f"{name} must be an object of language code to text")
            try:
                liquid.check(text)
            except liquid.TemplateProblem as exc:
                raise Rejected(f"{name} has {exc}") from None
    return content


def _name(body: dict) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Rejected("name is required: the template's label")
    if len(name) > limits.MAX_NAME_CHARS:
        raise Rejected(f"name must be at most {limits.MAX_NAME_CHARS} characters")
    return name


def _row(store: Store, template_id: str) -> dict[str, Any] | None:
    rows = store.rows("SELECT * FROM templates WHERE id = ?", (template_id,))
    return rows[0] if rows else None


def resource(row: dict[str, Any], *, with_content: bool = True) -> dict[str, Any]:
    out = {
        "id": row["id"],
        "name": row["name"],
        "channel": "push",
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
    if with_content:
        out["content"] = json.loads(row["content"])
    return out


def create(store: Store, body: Any, *, app_id: str) -> Response:
    if not isinstance(body, dict) or body.get("app_id") != app_id:
        return basic_error(400, "app_id not found: include your OneSignal app id in the body")
    try:
        name, content = _name(body), _content(body)
    except Rejected as exc:
        return basic_error(400, *exc.messages)
    now = store.now()
    tid = str(uuid.uuid4())
    store.write(
        "INSERT INTO templates (id, name, content, created_at, updated_at) VALUES (?,?,?,?,?)",
        (tid, name, json.dumps(content), now, now),
    )
    return Response(200, resource(_row(store, tid) or {}), wrote=True)


def view(store: Store, template_id: str) -> Response:
    row = _row(store, template_id)
    return basic_error(404, NOT_FOUND) if row is None else Response(200, resource(row))


def update(store: Store, template_id: str, body: Any) -> Response:
    row = _row(store, template_id)
    if row is None:
        return basic_error(404, NOT_FOUND)
    if not isinstance(body, dict):
        return basic_error(400, "The request body must be a JSON object")
    try:
        name, content = _name(body), _content(body)
    except Rejected as exc:
        return basic_error(400, *exc.messages)
    merged = json.loads(row["content"]) | content
    store.write(
        "UPDATE templates SET name = ?, content = ?, updated_at = ? WHERE id = ?",
        (name, json.dumps(merged), store.now(), template_id),
    )
    return Response(200, resource(_row(store, template_id) or {}), wrote=True)


def delete(store: Store, template_id: str) -> Response:
    if _row(store, template_id) is None:
        return basic_error(404, NOT_FOUND)
    store.write("DELETE FROM templates WHERE id = ?", (template_id,))
    return Response(200, {"success": True}, wrote=True)


def page_bounds(query: dict[str, str]) -> tuple[int, int] | None:
    """(limit, offset) from a list query, or None when the limit is outside 1..50."""
    try:
        limit = int(query.get("limit", limits.MAX_PAGE_LIMIT))
        offset = max(0, int(query.get("offset", 0)))
    except ValueError:
        return None
    if not 1 <= limit <= limits.MAX_PAGE_LIMIT:
        return None
    return limit, offset


def list_page(store: Store, query: dict[str, str]) -> Response:
    bounds = page_bounds(query)
    if bounds is None:
        return basic_error(400, INVALID_LIMIT)
    limit, offset = bounds
    total = store.one("SELECT COUNT(*) FROM templates")[0]
    rows = store.rows(
        "SELECT * FROM templates ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    items = [resource(r, with_content=False) for r in rows]
    return Response(
        200, {"templates": items, "total_count": total, "offset": offset, "limit": limit}
    )


def apply(store: Store, body: Any) -> Any:
    """The create-notification body with the template's content for the fields it lacks."""
    if not isinstance(body, dict) or body.get("template_id") is None:
        return body
    template_id = body["template_id"]
    row = _row(store, template_id) if isinstance(template_id, str) else None
    if row is None:
        raise Rejected(f"template_id {template_id!r} not found: create it with POST /templates")
    content = json.loads(row["content"])
    return {**content, **{k: v for k, v in body.items() if v is not None}}
