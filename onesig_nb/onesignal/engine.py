"""The asyncio engine that runs bulk requests, in a background thread of its own.

Why a thread: a notebook kernel already runs an event loop in the main thread, so the client
must never call ``asyncio.run`` there. The engine owns a second loop (uvloop when available) in a
daemon thread, one ``aiohttp.ClientSession`` (one connection pool of ``max_workers``
connections), and the client's rate limiter and retry policy. The caller stays synchronous:
:meth:`Engine.map` pulls work from the caller's iterable in the caller's thread, hands it to the
loop in chunks, and yields results back in the caller's thread, in completion order.

Slow start: the first item runs alone; the rest fan out only after it answered with something
other than an auth failure, so a bad key costs exactly one request. An :class:`AuthError` from
any item stops everything and is raised to the caller.

Closing: :meth:`Engine.close` cancels what is in flight and ends every open :meth:`Engine.map`
with a :class:`TransportError` ("the client was closed"), so a generator the caller still holds
never hangs on a dead loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any

import aiohttp

from onesig_nb.errors import AuthError, TransportError
from onesig_nb.onesignal.dialects import decode_body
from onesig_nb.onesignal.failures import Attempts, Failures
from onesig_nb.onesignal.ratelimit import RateLimiter
from onesig_nb.onesignal.retry import CONNECTION, TIMEOUT, RetryPolicy
from onesig_nb.onesignal.secrets import Headers

__all__ = ["Engine"]

log = logging.getLogger("onesig_nb.onesignal")

_END = object()

#: How often a caller blocked on results checks that the engine is still alive (seconds).
_POLL_SECONDS = 1.0


class _Abort:
    """Marks an item whose failure must stop the whole run (auth failure, or a bug)."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc


class _Run:
    """Book-keeping of one :meth:`Engine.map` call, touched only from the loop thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.results: queue.SimpleQueue[list[Any]] = queue.SimpleQueue()
        self.tasks: set[asyncio.Task] = set()
        self.buffer: list[Any] = []
        self.flush_scheduled = False
        self.cancelled = False

    def deliver(self, outcome: Any) -> None:
        # Results go back in batches, one queue hand-off per loop iteration, not per request.
        self.buffer.append(outcome)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        batch, self.buffer = self.buffer, []
        if batch:
            self.results.put(batch)

    def cancel_all(self) -> None:
        self.cancelled = True
        for task in list(self.tasks):
            task.cancel()


class Engine:
    """Bulk HTTP on an event loop in a background thread (see the module docstring).

    :param base_url: root URL requests go to (paths are appended)
    :param headers: headers sent with every request (auth included; never logged)
    :param timeout: seconds for one attempt, connect to last byte
    :param max_workers: requests in flight at most (the connection pool size)
    :param limiter: the client's rate limiter (shared with its synchronous calls)
    :param policy: the client's retry policy
    :param failures: turns failures into typed, redacted errors (shared with single calls)
    :param sleep: a synchronous sleep to use instead of ``asyncio.sleep`` (tests inject a fake)
    """

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float,
        max_workers: int,
        limiter: RateLimiter | None,
        policy: RetryPolicy,
        failures: Failures,
        sleep: Callable[[float], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._headers = Headers(headers)
        self.failures = failures
        self.timeout = timeout
        self.max_workers = max_workers
        self.limiter = limiter
        self.policy = policy
        self._sync_sleep = sleep
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None
        self._lock = threading.Lock()
        self._runs: set[_Run] = set()
        self._closed = False

    def __repr__(self) -> str:
        state = "running" if self._loop is not None else "idle"
        return f"Engine(base_url={self.base_url!r}, max_workers={self.max_workers}, {state})"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> asyncio.AbstractEventLoop:
        """Start the loop thread and the HTTP session (idempotent)."""
        with self._lock:
            if self._closed:
                raise _closed_error()
            if self._loop is not None:
                return self._loop
            loop = _new_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            thread = threading.Thread(target=run, name="onesig_nb-engine", daemon=True)
            thread.start()
            ready.wait()
            self._session = asyncio.run_coroutine_threadsafe(self._open(), loop).result()
            self._loop, self._thread = loop, thread
            return loop

    async def _open(self) -> aiohttp.ClientSession:
        self._workers = asyncio.Semaphore(self.max_workers)
        connector = aiohttp.TCPConnector(limit=self.max_workers, limit_per_host=self.max_workers)
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers=self._headers,
            skip_auto_headers=("User-Agent",),
        )

    def close(self) -> None:
        """Cancel what is in flight, end open :meth:`map` calls, close the session, stop the loop.

        A :meth:`map` generator the caller still holds raises :class:`TransportError` on its
        next ``next()`` (results that had already arrived are yielded first).
        """
        with self._lock:
            loop, thread, session = self._loop, self._thread, self._session
            self._loop = self._thread = self._session = None
            self._closed = True
            runs, self._runs = list(self._runs), set()
        for run in runs:
            run.results.put([_Abort(_closed_error())])
        if loop is None:
            return
        if thread is threading.current_thread():
            # Called on the loop itself (a finalizer run by the garbage collector there): it
            # cannot wait for itself, so it schedules the shutdown and lets the loop end.
            task = loop.create_task(self._shutdown(runs, session))
            task.add_done_callback(lambda _t: loop.stop())
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(runs, session), loop).result(5)
        except Exception:  # pragma: no cover - closing on a dying loop
            log.debug("engine session did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)
        if not loop.is_running():
            loop.close()

    @staticmethod
    async def _shutdown(runs: list[_Run], session: aiohttp.ClientSession | None) -> None:
        tasks = [task for run in runs for task in run.tasks]
        for run in runs:
            run.cancel_all()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        if session is not None:
            await session.close()

    # -- one request, with rate limit and retries ----------------------------------------------

    async def perform(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        group: str,
        user: str | None = None,
        idempotent: bool = True,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Send one request (retrying per the policy); return ``(status, decoded body, headers)``.

        Raises the typed error (AuthError, RateLimited, APIError, TransportError) when it fails
        for good. Runs on the engine's loop.
        """
        session = self._session
        if session is None:
            raise _closed_error()
        url = self.base_url + path
        attempts = Attempts(
            self.failures, self.policy, method, self.base_url, path, idempotent=idempotent
        )
        while True:
            attempt = attempts.start()
            status: int | None = None
            kind: str | None = None
            error: BaseException | None = None
            raw = headers = None
            limiter = self.limiter
            if limiter is not None and user is not None:
                # The per-user slot (1/s) is waited for without holding a worker, so a user who
                # must wait never holds up other users' requests.
                wait = limiter.user_wait(user)
                while wait > 0:
                    await self._sleep(wait)
                    wait = limiter.user_wait(user)
            # Take a worker first, then a rate slot: a slot reserved by a task that then waits
            # for a connection would go unused, and the measured rate would fall short.
            async with self._workers:
                if self.limiter is not None:
                    wait = self.limiter.reserve(group, user)
                    if wait > 0:
                        await self._sleep(wait)
                try:
                    async with session.request(method, url, data=body) as resp:
                        raw = await resp.read()
                        status, headers = resp.status, resp.headers
                except TimeoutError as exc:
                    kind, error = TIMEOUT, exc
                except aiohttp.ClientError as exc:
                    kind, error = CONNECTION, exc
                except ValueError as exc:  # aiohttp refuses a header or URL: retrying won't help
                    raise attempts.unsendable(exc) from None
            if status is not None and status < 400:
                return status, decode_body(raw), headers
            delay = attempts.failed(status=status, raw=raw, headers=headers, kind=kind, error=error)
            log.debug(
                "%s %s: %s on attempt %d, retrying in %.2f s",
                method,
                path,
                status or kind,
                attempt,
                delay,
            )
            await self._sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        if self._sync_sleep is not None:
            self._sync_sleep(seconds)
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(seconds)

    # -- many items ------------------------------------------------------------------------------

    def map(
        self,
        fn: Callable[[Any], Awaitable[Any]],
        items: Iterable[Any],
        *,
        window: int | None = None,
    ) -> Iterator[Any]:
        """Run ``await fn(item)`` for every item on the loop; yield results in completion order.

        ``fn`` turns its own failures into results; an :class:`AuthError` (or any unexpected
        exception) it raises stops the run and is raised here. At most ``window`` items
        (default ``2 * max_workers``) are taken from ``items`` ahead of the results.
        """
        loop = self.start()
        window = window or max(2 * self.max_workers, 8)
        run = _Run(loop)
        source = iter(items)
        inflight = 0
        first = next(source, _END)
        if first is _END:
            return
        with self._lock:
            if self._closed:
                raise _closed_error()
            self._runs.add(run)
        try:
            self._submit(run, fn, [first])
            inflight = 1
            while inflight:
                batch = self._next_batch(run)
                inflight -= len(batch)
                abort = next((o for o in batch if isinstance(o, _Abort)), None)
                if abort is not None:
                    _call_soon(loop, run.cancel_all)
                    # Results that did finish are still reported (the caller journals them).
                    yield from (o for o in batch if not isinstance(o, _Abort))
                    raise abort.exc
                # The first answer was not an auth failure: from here on, keep the window full.
                if source is not None:
                    chunk = list(itertools.islice(source, window - inflight))
                    if chunk:
                        self._submit(run, fn, chunk)
                        inflight += len(chunk)
                    else:
                        source = None
                yield from batch
        finally:
            with self._lock:
                self._runs.discard(run)
            if inflight:
                _call_soon(loop, run.cancel_all)

    def _next_batch(self, run: _Run) -> list[Any]:
        # close() puts an abort into every open run's queue; the timeout is only a backstop in
        # case the loop thread died without close() (it never hangs the caller for good).
        while True:
            try:
                return run.results.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if self._closed or self._thread is None or not self._thread.is_alive():
                    return [_Abort(_closed_error())]

    def _submit(self, run: _Run, fn: Callable[[Any], Awaitable[Any]], items: list[Any]) -> None:
        def spawn() -> None:
            if run.cancelled:
                return
            for item in items:
                task = run.loop.create_task(self._job(run, fn, item))
                run.tasks.add(task)
                task.add_done_callback(run.tasks.discard)

        _call_soon(run.loop, spawn)

    @staticmethod
    async def _job(run: _Run, fn: Callable[[Any], Awaitable[Any]], item: Any) -> None:
        try:
            outcome = await fn(item)
        except asyncio.CancelledError:
            raise
        except AuthError as exc:
            run.cancel_all()
            outcome = _Abort(exc)
        except BaseException as exc:  # a bug in fn: surface it in the caller's thread
            outcome = _Abort(exc)
        run.deliver(outcome)


def _closed_error() -> TransportError:
    return TransportError(
        "The OneSignal client was closed while a bulk run was still going; the requests in "
        "flight were cancelled and their outcome is unknown. Keep the client open until the "
        "loop over the results ends (use it as a context manager around the loop); resending "
        "with a new client is safe: requests carry idempotency keys."
    )


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> None:
    """``loop.call_soon_threadsafe(fn)``, a no-op once the loop is closed (the client closed)."""
    try:
        loop.call_soon_threadsafe(fn)
    except RuntimeError:  # "Event loop is closed": nothing left to cancel or schedule
        pass


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
