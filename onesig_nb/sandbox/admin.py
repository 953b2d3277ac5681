"""Admin routes under ``/_sandbox/``: seed users, inspect state, steer faults and limits.

They need the sandbox's key (``Authorization: Key <key>``; Basic/Bearer accepted too) and are
never logged, delayed, rate limited or faulted, so "zero new requests" checks stay exact.

    GET    /_sandbox/info                   app id, latency, faults, rate limits
    POST   /_sandbox/users                  [records] -> {"added": n}
    GET    /_sandbox/users                  every user with tags and subscriptions
    GET    /_sandbox/users/{id}/tags        one user's tags (404 if unknown)
    GET    /_sandbox/notifications          accepted create-notification requests
    GET    /_sandbox/deliveries[?notification_id=]
    GET    /_sandbox/requests[?since=seq]   the request log;  GET /_sandbox/requests/count
    PUT    /_sandbox/faults   {rate, kinds, seed, stall_seconds};  DELETE /_sandbox/faults
    PUT    /_sandbox/latency  {"ms": 50}
    PUT    /_sandbox/rate_limits {"limits": true | {...} | null}
    GET    /_sandbox/clock                  {"now": unix s, "iso", "offset_s"}
    POST   /_sandbox/clock  {"seconds": n}  move the clock forward, deliver what is due
    POST   /_sandbox/reset                  forget users, notifications, deliveries, log
    POST   /_sandbox/shutdown               stop the server process
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson

from onesig_nb.sandbox import notify, users
from onesig_nb.sandbox.faults import FaultPlan
from onesig_nb.sandbox.responses import Response, basic_error

if TYPE_CHECKING:
    from onesig_nb.sandbox.server import Request, SandboxApp

PREFIX = "/_sandbox/"


def _authorized(app: SandboxApp, req: Request) -> bool:
    _, _, key = req.headers.get("authorization", "").strip().partition(" ")
    key = key.strip()
    if key.startswith('token="') and key.endswith('"'):
        key = key[7:-1]
    return same_secret(key, app.api_key) or same_secret(
        req.headers.get("x-sandbox-key"), app.api_key
    )


def same_secret(given: str | None, expected: str) -> bool:
    """Compare a presented key with the sandbox's in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def handle(app: SandboxApp, req: Request) -> Response:
    """Answer one admin request (errors as ``{"errors": [...]}``)."""
    if not _authorized(app, req):
        return basic_error(401, "The sandbox admin routes need Authorization: Key <sandbox key>")
    try:
        body = orjson.loads(req.body) if req.body else None
    except orjson.JSONDecodeError:
        return basic_error(400, "The request body is not valid JSON")
    route = (req.raw_path or req.path)[len(PREFIX) :].rstrip("/")
    try:
        resp = _route(app, req.method, route, req.query, body)
    except (ValueError, TypeError, KeyError) as exc:
        return basic_error(400, f"{type(exc).__name__}: {exc}")
    if resp.wrote:
        await app.durable()
    return resp


def _route(app: SandboxApp, method: str, route: str, query: dict, body: Any) -> Response:
    store = app.store
    if route == "info" and method == "GET":
        return Response(200, _info(app))
    if route == "clock" and method == "GET":
        return Response(200, store.clock.to_dict())
    if route == "clock" and method == "POST":
        seconds = float((body or {}).get("seconds", 0))
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            raise ValueError("seconds must be a finite number")
        store.advance(seconds)
        delivered = notify.deliver_due(store, seed=app.seed)
        return Response(200, store.clock.to_dict() | {"delivered": delivered}, wrote=True)
    if route == "users" and method == "POST":
        if not isinstance(body, list):
            raise ValueError("POST /_sandbox/users takes a JSON array of user records")
        return Response(200, {"added": users.add_users(store, body)}, wrote=True)
    if route == "users" and method == "GET":
        return Response(200, store.all_users())
    if route.startswith("users/") and route.endswith("/tags") and method == "GET":
        user = store.user(unquote(route[len("users/") : -len("/tags")]))
        if user is None:
            return basic_error(404, "No such user")
        return Response(200, user["tags"])
    if route == "notifications" and method == "GET":
        return Response(200, store.notifications())
    if route == "deliveries" and method == "GET":
        return Response(200, store.deliveries(query.get("notification_id")))
    if route == "requests" and method == "GET":
        return Response(200, store.requests(int(query.get("since", 0))))
    if route == "requests/count" and method == "GET":
        return Response(200, {"count": store.request_count()})
    if route == "faults" and method == "PUT":
        app.faults = FaultPlan.from_dict(body or {})
        return Response(200, app.faults.to_dict())
    if route == "faults" and method == "DELETE":
        app.faults = FaultPlan()
        return Response(200, app.faults.to_dict())
    if route == "latency" and method == "PUT":
        ms = float((body or {}).get("ms", 0))
        if ms < 0:
            raise ValueError("latency must be >= 0 ms")
        app.latency_ms = ms
        return Response(200, {"latency_ms": ms})
    if route == "rate_limits" and method == "PUT":
        app.limiter.configure((body or {}).get("limits"))
        return Response(200, {"rate_limits": app.limiter.to_dict()})
    if route == "reset" and method == "POST":
        store.reset()
        app.faults = FaultPlan()
        app.limiter.configure(None)
        app.latency_ms = 0
        return Response(200, {"reset": True})
    if route == "shutdown" and method == "POST":
        app.should_exit = True
        return Response(200, {"stopping": True})
    return basic_error(404, f"No admin route {method} {PREFIX}{route}")


def _info(app: SandboxApp) -> dict[str, Any]:
    return {
        "app_id": app.app_id,
        "latency_ms": app.latency_ms,
        "faults": app.faults.to_dict(),
        "rate_limits": app.limiter.to_dict(),
        "db": app.store.path,
        "max_tags": app.store.max_tags,
        "tag_delay_s": app.store.tag_delay_s,
        "clock": app.store.clock.to_dict(),
    }
