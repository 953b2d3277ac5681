"""Run the sandbox server in this process: bind loopback, open the store, serve with uvicorn.

Used by ``python -m onesig_nb.sandbox`` and by :class:`onesig_nb.Sandbox` (which starts that
module in a child process and reads the chosen port from a pipe).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from dataclasses import dataclass, field
from typing import Any

import orjson

HOST = "127.0.0.1"
#: environment variable that hands the API key to the server process (kept out of argv)
KEY_ENV = "ONESIG_NB_SANDBOX_KEY"
PARENT_POLL_SECONDS = 1.0


@dataclass
class ServerOptions:
    db: str
    port: int = 0
    app_id: str | None = None
    api_key: str | None = None
    latency_ms: float = 0
    rate_limits: Any = None
    seed: int = 0
    faults: dict[str, Any] | None = None
    parent_pid: int | None = None
    max_tags: int | None = None
    tag_delay_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def bind(port: int) -> socket.socket:
    """A listening loopback socket (port 0 = any free port); reusable right after a restart."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _protocol_class():
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class TransportAwareProtocol(HttpToolsProtocol):
        """httptools protocol that lets the app reach its transport (for reset faults)."""

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.scope["extensions"] = {"onesig_nb.transport": self.transport}

    return TransportAwareProtocol


def serve(opts: ServerOptions, *, on_ready=None) -> int:
    """Serve until SIGTERM/SIGINT or ``/_sandbox/shutdown``. ``on_ready(info)`` once bound."""
    import uvicorn

    from onesig_nb.sandbox.server import SandboxApp
    from onesig_nb.sandbox.store import Store

    store = Store(opts.db)
    app_id, api_key = store.identity(opts.app_id, opts.api_key)
    sock = bind(opts.port)
    port = sock.getsockname()[1]
    app = SandboxApp(
        store,
        app_id=app_id,
        api_key=api_key,
        latency_ms=opts.latency_ms,
        rate_limits=opts.rate_limits,
        seed=opts.seed,
        faults=opts.faults,
        max_tags=opts.max_tags,
        tag_delay_s=opts.tag_delay_s,
    )
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http=_protocol_class(),
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        server_header=False,
    )
    server = uvicorn.Server(config)
    info = {
        "url": f"http://{HOST}:{port}",
        "port": port,
        "app_id": app_id,
        "api_key": api_key,
        "db": opts.db,
        "pid": os.getpid(),
    }

    async def watch() -> None:
        while not server.started:
            await asyncio.sleep(0.005)
        if on_ready is not None:
            on_ready(info)
        while not server.should_exit:
            if app.should_exit:
                server.should_exit = True
            if opts.parent_pid and not _alive(opts.parent_pid):
                server.should_exit = True
            await asyncio.sleep(0.05 if not opts.parent_pid else 0.1)

    async def main() -> None:
        task = asyncio.ensure_future(watch())
        try:
            await server.serve(sockets=[sock])
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    import uvloop

    # uvicorn re-raises the signal it caught after a graceful shutdown; with these no-op
    # handlers in place that re-raise is harmless and the store below closes cleanly.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _ignore)
    try:
        uvloop.run(main())
    finally:
        store.close()
        sock.close()
    return 0


def _ignore(signum, frame) -> None:
    return None


def _alive(pid: int) -> bool:
    if os.getppid() != pid:
        return False
    return True


def write_ready(fd: int, info: dict[str, Any]) -> None:
    """Send the ready record (one JSON line) through an inherited pipe and close it."""
    with contextlib.suppress(OSError):
        os.write(fd, orjson.dumps(info) + b"\n")
    with contextlib.suppress(OSError):
        os.close(fd)
