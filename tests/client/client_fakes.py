"""Test doubles for the client tests: a scriptable fake OneSignal on 127.0.0.1 and a fake clock."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

APP_ID = "6f0c6b2e-4c4f-4f6e-9a43-0c2b1d9c7e11"
API_KEY = "os_v2_app_TESTKEY_not_real_0123456789abcdef"


@dataclass
class Seen:
    """One request the fake API received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeTime:
    """A clock that only moves when something sleeps on it (thread-safe enough for tests)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeAPI:
    """An aiohttp server whose answers a test scripts with ``api.handler = fn(seen) -> answer``.

    An answer is ``(status, body)`` or ``(status, body, headers)``; body may be a dict/list
    (sent as JSON), bytes/str (sent as is) or None. The special answers ``"reset"`` (drop the
    connection) and ``("stall", seconds, answer)`` (answer late) simulate transport failures.
    """

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.handler = lambda seen: (200, {"id": "n-1", "recipients": 1})
        self.active = 0
        self.max_active = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> FakeAPI:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def paths(self) -> list[str]:
        return [f"{s.method} {s.path}" for s in self.seen]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = raw
        seen = Seen(request.method, request.path_qs, dict(request.headers), body)
        self.seen.append(seen)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            answer = self.handler(seen)
            if asyncio.iscoroutine(answer):
                answer = await answer
            if isinstance(answer, tuple) and answer and answer[0] == "stall":
                await asyncio.sleep(answer[1])
                answer = answer[2]
        finally:
            self.active -= 1
        if answer == "reset":
            request.transport.abort()
            return web.Response(status=500)
        status, payload, *rest = answer
        headers = dict(rest[0]) if rest else {}
        if isinstance(payload, dict | list):
            data = orjson.dumps(payload)
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = payload or b""
        return web.Response(status=status, body=data, headers=headers)
