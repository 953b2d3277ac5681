"""The subscription CSV export: ``POST .../players/csv_export?app_id=`` and its file URL.

The request answers a ``csv_file_url`` at once; the file is a snapshot of every subscription
taken when it was asked for, and its URL answers 404 until it is "generated" (limits
``EXPORT_READY_SECONDS`` on the sandbox clock, or ``EXPORT_READY_POLLS`` looks), as OneSignal's
asynchronous export does. The file URL needs no key, like the storage link OneSignal gives.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import secrets
from typing import Any

from onesig_nb.sandbox import limits
from onesig_nb.sandbox.responses import Response, basic_error
from onesig_nb.sandbox.store import Store

#: Where export files are served (``/csv_exports/{app_id}/{token}.csv.gz``).
PREFIX = "/csv_exports/"
_FILE = re.compile(r"/csv_exports/([^/]+)/([0-9a-f]{32})\.csv\.gz")


def request(store: Store, body: Any, *, app_id: str, host: str) -> Response:
    """Answer an export request: snapshot the subscriptions, give the file's URL."""
    body = body if body is not None else {}
    if not isinstance(body, dict):
        return basic_error(400, "The request body must be a JSON object")
    extra = body.get("extra_fields", [])
    if not isinstance(extra, list) or not all(isinstance(f, str) for f in extra):
        return basic_error(400, "extra_fields must be an array of field names")
    unknown = [f for f in extra if f not in limits.EXPORT_EXTRA_FIELDS]
    if unknown:
        return basic_error(400, f"Unknown extra_fields: {', '.join(unknown)}")
    if body.get("segment_name"):
        return basic_error(400, "The sandbox has no segments: omit segment_name")
    token = secrets.token_hex(16)
    data = gzip.compress(_csv(store, extra, app_id))
    store.write(
        "INSERT INTO exports (token, created_at, polls, body) VALUES (?,?,0,?)",
        (token, store.now(), data),
    )
    url = f"http://{host}{PREFIX}{app_id}/{token}.csv.gz"
    return Response(200, {"csv_file_url": url}, wrote=True)


def download(store: Store, path: str, *, app_id: str) -> tuple[int, bytes]:
    """``(status, body)`` of a GET on an export file: 404 until it is ready, then the file."""
    found = _FILE.fullmatch(path)
    if found is None or found.group(1) != app_id:
        return 404, b"<Error><Code>NoSuchKey</Code></Error>"
    row = store.one(
        "SELECT created_at, polls, body FROM exports WHERE token = ?", (found.group(2),)
    )
    if row is None:
        return 404, b"<Error><Code>NoSuchKey</Code></Error>"
    created, polls, data = row
    ready = store.now() >= created + limits.EXPORT_READY_SECONDS
    if not ready and polls < limits.EXPORT_READY_POLLS:
        store.write("UPDATE exports SET polls = polls + 1 WHERE token = ?", (found.group(2),))
        return 404, b"<Error><Code>NoSuchKey</Code></Error>"
    return 200, bytes(data)


def _csv(store: Store, extra: list[str], app_id: str) -> bytes:
    """Every subscription of the app as the export's CSV (default columns, then ``extra``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*limits.EXPORT_COLUMNS, *extra])
    rows = store.rows(
        "SELECT s.id, s.external_id, s.platform, s.enabled, s.token, s.language, s.timezone,"
        " s.created_at, u.onesignal_id, u.tags FROM subscriptions s"
        " JOIN users u ON u.external_id = s.external_id ORDER BY s.rowid"
    )
    for r in rows:
        base = {
            "id": r["id"],
            "identifier": r["token"] or f"sandbox-token-{r['id'][:8]}",
            "session_count": 1,
            "language": r["language"],
            "timezone": 0,
            "game_version": "",
            "device_os": "",
            "device_type": limits.EXPORT_DEVICE_TYPES.get(r["platform"], ""),
            "device_model": "",
            "ad_id": "",
            "tags": json.dumps(json.loads(r["tags"])),
            "last_active": "",
            "playtime": 0,
            "amount_spent": 0,
            "created_at": int(r["created_at"] or 0),
            "invalid_identifier": "f" if r["enabled"] else "t",
            "badge_count": 0,
        }
        fields = {
            "external_user_id": r["external_id"],
            "onesignal_id": r["onesignal_id"],
            "notification_types": 1 if r["enabled"] else -2,
            "timezone_id": r["timezone"],
            "unsubscribed_at": "" if r["enabled"] else int(r["created_at"] or 0),
        }
        writer.writerow(
            [base[c] for c in limits.EXPORT_COLUMNS] + [fields.get(f, "") for f in extra]
        )
    return out.getvalue().encode()
