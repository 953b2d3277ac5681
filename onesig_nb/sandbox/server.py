"""The sandbox's raw ASGI application: routing, auth, latency, faults, rate limits, request log.

Every API request goes: route -> latency -> fault draw -> rate limit -> auth -> body -> handler
-> group commit (before any 2xx that changed the store) -> log -> answer. Admin routes under
``/_sandbox/`` (see :mod:`.admin`) skip latency, faults, limits and the log. Before any request
is handled, scheduled notifications that fell due on the sandbox clock are delivered.
Routes match the raw (still percent-encoded) path, so each id segment is decoded exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from onesig_nb.sandbox import admin, exports, notify, templates, users
from onesig_nb.sandbox.admin import same_secret
from onesig_nb.sandbox.faults import FaultPlan, RateLimiter
from onesig_nb.sandbox.responses import (
    ACCESS_DENIED,
    ACCESS_DENIED_STATUS,
    LEGACY_AUTH_ERROR,
    LEGACY_AUTH_STATUS,
    UNAVAILABLE,
    USER_AUTH_MISSING,
    Response,
    basic_error,
    rate_limited,
    structured_error,
)
from onesig_nb.sandbox.store import Store

log = logging.getLogger("onesig_nb.sandbox")

#: request bodies above this are refused with 413 (20,000 aliases need well under 2 MB)
MAX_BODY_BYTES = 4 * 1024 * 1024

# (method, regex, api, group, handler name, structured errors?)
ROUTES = [
    ("POST", r"/api/v1/notifications", "legacy", "create", "create_notification", False),
    ("GET", r"/api/v1/notifications", "legacy", "view", "list_notifications", False),
    ("GET", r"/api/v1/notifications/([^/]+)", "legacy", "view", "view_notification", False),
    ("DELETE", r"/api/v1/notifications/([^/]+)", "legacy", "create", "cancel", False),
    ("PUT", r"/api/v1/apps/([^/]+)/users/([^/]+)", "legacy", "users", "legacy_tags", False),
    ("POST", r"/api/v1/players/csv_export", "legacy", "view", "export", False),
    ("POST", r"/players/csv_export", "current", "view", "export", False),
    ("POST", r"/notifications", "current", "create", "create_notification", False),
    ("GET", r"/notifications", "current", "view", "list_notifications", False),
    ("POST", r"/templates", "current", "create", "create_template", False),
    ("GET", r"/templates", "current", "view", "list_templates", False),
    ("GET", r"/templates/([^/]+)", "current", "view", "view_template", False),
    ("PATCH", r"/templates/([^/]+)", "current", "create", "update_template", False),
    ("DELETE", r"/templates/([^/]+)", "current", "create", "delete_template", False),
    ("GET", r"/notifications/([^/]+)", "current", "view", "view_notification", False),
    ("DELETE", r"/notifications/([^/]+)", "current", "create", "cancel", False),
    ("PATCH", r"/apps/([^/]+)/users/by/([^/]+)/([^/]+)", "current", "users", "update_user", True),
    ("GET", r"/apps/([^/]+)/users/by/([^/]+)/([^/]+)", "current", "view", "get_user", True),
    ("POST", r"/apps/([^/]+)/users", "current", "users", "create_user", True),
]
#: handlers whose app id comes in the query string (``?app_id=``)
APP_ID_IN_QUERY = frozenset(
    {"view_notification", "cancel", "list_notifications", "list_templates", "view_template",
     "update_template", "delete_template", "export"}
)  # fmt: skip
COMPILED = [(m, re.compile(p + r"/?"), a, g, h, s) for m, p, a, g, h, s in ROUTES]
JSON_HEADERS = [(b"content-type", b"application/json; charset=utf-8")]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    scope: dict[str, Any]
    raw_path: str = ""

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


class BodyTooLarge(Exception):
    pass


def raw_path(scope: dict[str, Any]) -> str:
    """The request path as sent, still percent-encoded (ASGI ``raw_path``; ``path`` is decoded).

    Routes are matched on this so an encoded "/" (``a%2Fb``) stays inside its segment, and each
    segment is decoded exactly once (limits table, ``url_path_ids``).
    """
    raw = scope.get("raw_path")
    if not raw:
        return scope["path"]
    return urlsplit(raw.decode("latin-1")).path


def match(method: str, path: str):
    """(route, params) for a percent-encoded API path, (None, 'method') for a known path with
    another method, or (None, None). Each parameter is decoded once."""
    known_path = False
    for m, rx, api, group, handler, structured in COMPILED:
        found = rx.fullmatch(path)
        if found:
            if m == method:
                return (api, group, handler, structured), [unquote(g) for g in found.groups()]
            known_path = True
    return None, ("method" if known_path else None)


class SandboxApp:
    """ASGI app serving both OneSignal API families over one :class:`Store`."""

    def __init__(
        self,
        store: Store,
        *,
        app_id: str,
        api_key: str,
        latency_ms: float = 0,
        rate_limits: Any = None,
        seed: int = 0,
        faults: dict[str, Any] | None = None,
        max_tags: int | None = None,
        tag_delay_s: float = 0.0,
    ) -> None:
        self.store = store
        store.max_tags = max_tags
        store.tag_delay_s = float(tag_delay_s)
        self.app_id = app_id
        self.api_key = api_key
        self.latency_ms = float(latency_ms)
        self.limiter = RateLimiter(rate_limits)
        self.seed = seed
        self.faults = FaultPlan.from_dict(faults) if faults else FaultPlan()
        self._commit_future: asyncio.Future | None = None
        self.should_exit = False

    # -- group commit ---------------------------------------------------------------------
    def durable(self) -> asyncio.Future:
        """A future resolved once everything written so far is committed."""
        if self._commit_future is None:
            loop = asyncio.get_running_loop()
            self._commit_future = loop.create_future()
            loop.call_soon(self._commit)
        return self._commit_future

    def _commit(self) -> None:
        fut, self._commit_future = self._commit_future, None
        try:
            self.store.commit()
        except Exception as exc:  # disk full, I/O error: every waiter gets a 503
            log.exception("sandbox commit failed")
            if fut is not None and not fut.done():
                fut.set_exception(exc)
            return
        if fut is not None and not fut.done():
            fut.set_result(None)

    def deliver_due(self) -> None:
        """Deliver scheduled notifications whose time has come (before answering anything)."""
        if notify.deliver_due(self.store, seed=self.seed):
            self.durable()

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            body = await self._read_body(receive)
            error = None
        except BodyTooLarge:
            body, error = b"", basic_error(413, f"Request body over {MAX_BODY_BYTES:,} bytes")
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        req = Request(scope["method"], scope["path"], query, headers, body, scope, raw_path(scope))
        self.deliver_due()
        if req.path.startswith(admin.PREFIX):
            resp = error or await admin.handle(self, req)
            await self._send(send, resp)
            return
        if req.path.startswith(exports.PREFIX) and req.method == "GET":
            await self._export_file(req, send)
            return
        await self._api(req, send, error)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._commit()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, receive) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    async def _send(self, send, resp: Response) -> None:
        payload = resp.encoded()
        await send(
            {
                "type": "http.response.start",
                "status": resp.status,
                "headers": JSON_HEADERS
                + resp.headers
                + [(b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _export_file(self, req: Request, send) -> None:
        """An export file's URL: a storage link, not an API route (no key, no limits, no log)."""
        status, payload = exports.download(self.store, req.raw_path, app_id=self.app_id)
        self.durable()
        kind = b"application/gzip" if status == 200 else b"application/xml"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    # -- API requests -----------------------------------------------------------------------
    async def _api(self, req: Request, send, error: Response | None) -> None:
        route, params = match(req.method, req.raw_path)
        api = route[0] if route else ("legacy" if req.path.startswith("/api/v1/") else "current")
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        fault = self.faults.draw() if route else None
        idem = None
        if route and route[2] == "create_notification" and error is None:
            idem = _idempotency_key(req.body)
        resp: Response | None = None
        if fault is not None and not fault.applied:
            resp = _fault_response(fault, route, self.faults.retry_after)
        if resp is None:
            resp = error or self._dispatch(req, route, params)
        if resp.wrote:
            try:
                await self.durable()
            except Exception:
                resp = Response(503, UNAVAILABLE)
        else:
            self.durable()  # the log row below rides on the next commit
        status = resp.status
        if fault is not None and fault.kind in ("reset", "stall"):
            status = None
        self.store.log_request(
            (
                req.method,
                req.path,
                status,
                api,
                idem,
                fault.kind if fault else None,
                None if fault is None else int(fault.applied),
                time.time(),
            )
        )
        self.durable()
        if fault is not None and fault.kind in ("reset", "stall"):
            if fault.kind == "stall":
                await asyncio.sleep(self.faults.stall_seconds)
            await _reset(req.scope)
            return
        await self._send(send, resp)

    def _dispatch(self, req: Request, route, params) -> Response:
        if route is None:
            if params == "method":
                return basic_error(405, f"Method {req.method} is not allowed on {req.path}")
            return basic_error(404, f"No route {req.method} {req.path}")
        api, group, handler, structured = route
        user = params[-1] if handler in ("legacy_tags", "update_user") else None
        wait = self.limiter.check(group, user)
        if wait is not None:
            return rate_limited(structured, wait)
        denied = self._auth(req, api, structured)
        if denied is not None:
            return denied
        try:
            body = req.json() if req.method in ("POST", "PUT", "PATCH") else None
        except orjson.JSONDecodeError:
            if structured:
                return structured_error(400, "invalid-json", "The request body is not valid JSON")
            return basic_error(400, "The request body is not valid JSON")
        try:
            with self.store.savepoint():
                return self._handle(handler, req, params, body, api)
        except notify.Rejected as exc:
            return basic_error(400, *exc.messages)
        except Exception as exc:  # a request we did not foresee: refuse it, never answer 500
            log.exception("sandbox could not handle %s %s", req.method, req.path)
            msg = f"The sandbox could not process this request ({type(exc).__name__})"
            if structured:
                return structured_error(400, "invalid-request", msg)
            return basic_error(400, msg)

    def _handle(self, handler: str, req: Request, params: list[str], body: Any, api: str):
        store = self.store
        if handler == "create_notification":
            return notify.create(store, body, api=api, app_id=self.app_id, seed=self.seed)
        if handler == "create_template":
            return templates.create(store, body, app_id=self.app_id)
        if handler in APP_ID_IN_QUERY:
            if req.query.get("app_id") != self.app_id:
                return basic_error(400, "app_id not found. Include ?app_id=<your app id>.")
            if handler == "export":
                host = req.headers.get("host") or "127.0.0.1"
                return exports.request(store, body, app_id=self.app_id, host=host)
            if handler == "list_notifications":
                return notify.list_page(store, req.query, api=api)
            if handler == "list_templates":
                return templates.list_page(store, req.query)
            if handler == "view_template":
                return templates.view(store, params[0])
            if handler == "update_template":
                return templates.update(store, params[0], body)
            if handler == "delete_template":
                return templates.delete(store, params[0])
            if handler == "view_notification":
                return notify.view(store, params[0], app_id=self.app_id, api=api)
            return notify.cancel(store, params[0], app_id=self.app_id)
        if params[0] != self.app_id:
            if handler == "legacy_tags":
                return Response(400, {"errors": ["app_id not found"], "success": False})
            return structured_error(404, "app-not-found", "App not found", {"app_id": params[0]})
        if handler == "legacy_tags":
            return users.legacy_edit_tags(store, params[1], body)
        if handler == "update_user":
            return users.update_user(store, params[1], params[2], body)
        if handler == "get_user":
            return users.get_user(store, params[1], params[2], self.app_id)
        return users.create_user(store, body, self.app_id)

    def _auth(self, req: Request, api: str, structured: bool) -> Response | None:
        header = req.headers.get("authorization", "").strip()
        scheme, _, key = header.partition(" ")
        key = key.strip()
        if api == "legacy":
            if scheme == "Basic" and same_secret(key, self.api_key):
                return None
            if scheme == "Bearer" and same_secret(
                key.removeprefix('token="').rstrip('"'), self.api_key
            ):
                return None
            return Response(LEGACY_AUTH_STATUS, LEGACY_AUTH_ERROR)
        if scheme.lower() == "key" and same_secret(key, self.api_key):
            return None
        if not header and structured:
            return Response(401, USER_AUTH_MISSING)
        return Response(ACCESS_DENIED_STATUS, ACCESS_DENIED)


def _idempotency_key(body: bytes) -> str | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    key = data.get("idempotency_key") or data.get("external_id")
    return key if isinstance(key, str) else None


def _fault_response(fault, route, retry_after: int) -> Response | None:
    if fault.kind == "429":
        return rate_limited(route[3], retry_after)
    if fault.kind == "503":
        return Response(503, UNAVAILABLE)
    return Response(0, None)  # reset/stall without applying: nothing is handled


async def _reset(scope: dict[str, Any]) -> None:
    """Abort the connection with a TCP RST before any response byte."""
    transport = scope.get("extensions", {}).get("onesig_nb.transport")
    if transport is None:
        raise ConnectionResetError("sandbox fault: reset")  # uvicorn closes the connection
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()
    for _ in range(3):
        await asyncio.sleep(0)
