"""``Sandbox``: start, steer and inspect the local OneSignal sandbox from Python.

The server runs in its own process (``python -m onesig_nb.sandbox``) so it never competes with
the notebook kernel; this handle talks to it only over HTTP (``/_sandbox/...`` admin routes), so
:meth:`Sandbox.attach` gives the same accessors for a sandbox someone else started.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from onesig_nb.errors import SandboxError
from onesig_nb.sandbox.limits import DEFAULT_MAX_TAGS_PER_USER
from onesig_nb.sandbox.runner import KEY_ENV

log = logging.getLogger("onesig_nb.sandbox")

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
ADMIN_TIMEOUT_SECONDS = 60.0
SEED_CHUNK = 5_000

DELIVERY_COLUMNS = ["notification_id", "external_id", "platform", "heading", "subtitle",
                    "contents", "url", "status", "converted", "subscription_id", "error",
                    "delivered_at"]  # fmt: skip
NOTIFICATION_COLUMNS = ["id", "idempotency_key", "api", "created_at", "recipients", "canceled",
                        "contents", "headings", "request", "state", "send_after", "remaining",
                        "completed_at"]  # fmt: skip
REQUEST_COLUMNS = ["seq", "method", "path", "status", "api", "idempotency_key", "fault",
                   "applied", "at"]  # fmt: skip
USER_COLUMNS = ["external_id", "onesignal_id", "tags", "subscriptions"]


def _frame(rows: list[dict[str, Any]], columns: list[str]):
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def _json_value(value: Any) -> Any:
    """A tag value as plain JSON (numpy scalars unwrapped; NaN/NA dropped as "no tag").

    The server turns JSON values into OneSignal's tag strings (``True`` -> "true", ``42.0``
    -> "42"), so the value is sent as it is, not as Python's ``str()``.
    """
    if hasattr(value, "item") and not isinstance(value, (str, bytes, list, dict, tuple)):
        try:
            value = value.item()
        except (ValueError, TypeError, AttributeError):
            pass
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if value != value else value
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "isoformat"):  # dates and times as JSON writes them: ISO 8601
        return value.isoformat()
    return str(value)


def _text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    return str(value)


def _record(rec: Mapping[str, Any]) -> dict[str, Any]:
    tags = rec.get("tags")
    if isinstance(tags, str):
        tags = json.loads(tags) if tags.strip() else {}
    if tags is None or (isinstance(tags, float) and tags != tags):
        tags = {}
    subscribed = rec.get("subscribed", True)
    if isinstance(subscribed, str):
        subscribed = subscribed.strip().lower() in ("true", "1", "yes", "t", "y")
    elif subscribed is None or (isinstance(subscribed, float) and subscribed != subscribed):
        subscribed = True
    out = {
        "external_id": str(rec["external_id"]),
        "platform": str(rec.get("platform") or "ios"),
        "subscribed": bool(subscribed),
        "tags": {str(k): j for k, v in dict(tags).items() if (j := _json_value(v)) is not None},
    }
    for name in ("language", "timezone"):
        text = _text_or_none(rec.get(name))
        if text is not None:
            out[name] = text
    return out


class Sandbox:
    """A local OneSignal-compatible server serving both API generations at its root.

    ``Sandbox(db=None)`` starts one on 127.0.0.1 (``port=0`` picks a free port), persisted in
    ``db`` (a SQLite file; None = a temporary one removed at :meth:`stop`). Reusing a ``db``
    file keeps users, notifications, the request log, the app id and the key.

    Use it as a context manager, which stops it at the end of the block::

        with osn.Sandbox() as sb:
            client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)

    or call :meth:`stop` (alias :meth:`close`) yourself. An attached handle
    (:meth:`attach`) never stops a sandbox it did not start.
    """

    def __init__(
        self,
        db: str | os.PathLike | None = None,
        *,
        port: int = 0,
        app_id: str | None = None,
        api_key: str | None = None,
        latency_ms: float = 0,
        rate_limits: Any = None,
        seed: int = 0,
        faults: Mapping[str, Any] | None = None,
        max_tags: int | None = DEFAULT_MAX_TAGS_PER_USER,
        tag_delay_s: float = 0.0,
    ) -> None:
        self._proc: subprocess.Popen | None = None
        self._tempdir: str | None = None
        if db is None:
            self._tempdir = tempfile.mkdtemp(prefix="onesig-sandbox-")
            db = os.path.join(self._tempdir, "sandbox.sqlite")
        self.db = os.fspath(db)
        if rate_limits and isinstance(rate_limits, Mapping):
            _check_rate_groups(rate_limits)
        extra = ["--max-tags", str(int(max_tags or 0)), "--tag-delay-s", str(float(tag_delay_s))]
        self._start(port, app_id, api_key, latency_ms, rate_limits, seed, faults, extra)

    # -- lifecycle --------------------------------------------------------------------------
    def _start(self, port, app_id, api_key, latency_ms, rate_limits, seed, faults, extra) -> None:
        argv = [sys.executable, "-m", "onesig_nb.sandbox", "--quiet", "--port", str(port)]
        argv += ["--db", self.db, "--seed", str(seed), "--parent-pid", str(os.getpid())]
        argv += extra
        if app_id:
            argv += ["--app-id", app_id]
        if latency_ms:
            argv += ["--latency-ms", str(latency_ms)]
        if rate_limits:
            argv += ["--rate-limits", "default" if rate_limits is True else json.dumps(rate_limits)]
        env = dict(os.environ)
        env.pop(KEY_ENV, None)
        if api_key:
            env[KEY_ENV] = api_key
        read_fd, write_fd = os.pipe()
        argv += ["--ready-fd", str(write_fd)]
        errlog = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errlog,
                pass_fds=(write_fd,),
                env=env,
                close_fds=True,
                # Its own session: Jupyter's "Interrupt Kernel" signals the kernel's whole
                # process group, which must stop a send, not kill the sandbox mid-request.
                # --parent-pid still ends the sandbox with the process that started it.
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        self._finalizer = weakref.finalize(self, _cleanup, self._proc, self._tempdir)
        try:
            info = _read_ready(read_fd, self._proc, STARTUP_TIMEOUT_SECONDS)
        except SandboxError as exc:
            errlog.seek(0)
            tail = errlog.read()[-2000:].decode("utf-8", "replace").strip()
            self.stop()
            raise SandboxError(f"{exc} Server output: {tail or '(none)'}") from None
        finally:
            os.close(read_fd)
            errlog.close()
        self._set_identity(info["url"], info["app_id"], info["api_key"])
        self.pid = info["pid"]
        if faults:
            self.set_faults(**dict(faults))
        log.info("sandbox started at %s (db %s)", self.url, self.db)

    def _set_identity(self, url: str, app_id: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self.app_id = app_id
        self.api_key = api_key
        parts = urlsplit(self.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    @classmethod
    def attach(cls, url: str, app_id: str, api_key: str) -> Sandbox:
        """A handle to a sandbox that is already running (this handle does not own it)."""
        self = cls.__new__(cls)
        self._proc = None
        self._tempdir = None
        self.db = None
        self.pid = None
        self._set_identity(url, app_id, api_key)
        info = self.info()
        if info.get("app_id") != app_id:
            raise SandboxError(
                f"The sandbox at {self.url} serves app {info.get('app_id')}, not {app_id}. "
                "Pass the app id it printed at start-up."
            )
        self.db = info.get("db")
        return self

    @property
    def running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        try:
            self.info()
        except SandboxError:
            return False
        return True

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) if this handle started it."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)
        if getattr(self, "_finalizer", None) is not None:
            self._finalizer()

    def close(self) -> None:
        """Same as :meth:`stop` (so ``contextlib.closing`` and habit both work)."""
        self.stop()

    def kill(self) -> None:
        """Kill the server process at once (SIGKILL), as a crash would; keeps a db file."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        owner = "owned" if self._proc is not None else "attached"
        return f"Sandbox(url={self.url!r}, app_id={self.app_id!r}, {owner})"

    # -- admin HTTP -------------------------------------------------------------------------
    def _admin(self, method: str, route: str, body: Any = None) -> Any:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=ADMIN_TIMEOUT_SECONDS)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Key {self.api_key}", "Content-Type": "application/json"}
        try:
            conn.request(method, "/_sandbox/" + route, body=payload, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except OSError as exc:
            raise SandboxError(
                f"The sandbox at {self.url} did not answer ({type(exc).__name__}: {exc}). "
                "Is it still running? Start a new one with onesig_nb.Sandbox()."
            ) from None
        finally:
            conn.close()
        data = json.loads(raw) if raw else None
        if resp.status >= 400:
            errors = (data or {}).get("errors") if isinstance(data, dict) else data
            raise SandboxError(f"Sandbox admin {method} /_sandbox/{route} failed: {errors}")
        return data

    def info(self) -> dict[str, Any]:
        return self._admin("GET", "info")

    def add_users(self, records: Any) -> int:
        """Add users (DataFrame or dicts: external_id, platform, subscribed=True, tags={},
        language, timezone).

        Each record adds one push subscription; records sharing an external id give that
        user several subscriptions. ``language`` is the subscription's (device) language,
        which picks the push text (default: a ``language`` tag if the record has one, else
        "en"); ``timezone`` an IANA name for ``delayed_option="timezone"`` (default UTC).
        Tag values are stored as OneSignal stores JSON values: ``True`` -> "true",
        ``42.0`` -> "42". Returns the number of records added.
        """
        if hasattr(records, "to_dict"):
            records = records.to_dict("records")
        elif isinstance(records, Mapping):
            records = [records]
        rows = [_record(r) for r in records]
        added = 0
        for start in range(0, len(rows), SEED_CHUNK):
            added += self._admin("POST", "users", rows[start : start + SEED_CHUNK])["added"]
        return added

    def users(self):
        """DataFrame: external_id, onesignal_id, tags, subscriptions.

        ``subscriptions`` is a list of ``{"platform", "subscribed"}`` per user, with
        ``language`` / ``timezone`` when they are not the defaults ("en", "UTC").
        """
        return _frame(self._admin("GET", "users"), USER_COLUMNS)

    def user_tags(self, external_id: str) -> dict[str, str]:
        """The tags stored for one user (SandboxError if there is no such user)."""
        return self._admin("GET", f"users/{quote(external_id, safe='')}/tags")

    def deliveries(self, notification_id: str | None = None):
        """DataFrame, one row per (notification_id, external_id, platform), as rendered.

        Only what was delivered: a scheduled notification has rows once its time comes on the
        sandbox clock (:meth:`advance`); a canceled one never gets the rest. ``delivered_at`` is
        the Unix time on the sandbox clock (:meth:`now`) of the delivery: when the push was
        created, or for a scheduled one its due time (not when :meth:`advance` passed it).
        """
        route = "deliveries"
        if notification_id:
            route += "?notification_id=" + quote(notification_id, safe="")
        return _frame(self._admin("GET", route), DELIVERY_COLUMNS)

    def notifications(self):
        """DataFrame of accepted create-notification requests (id, idempotency_key, api, ...).

        ``state`` is "scheduled", "sending" (some delivered, some still due), "delivered" or
        "canceled"; ``send_after`` / ``completed_at`` are Unix times on the sandbox clock and
        ``remaining`` the deliveries still due.
        """
        return _frame(self._admin("GET", "notifications"), NOTIFICATION_COLUMNS)

    def requests(self, since: int = 0):
        """DataFrame: the API request log (admin routes are not logged)."""
        return _frame(self._admin("GET", f"requests?since={int(since)}"), REQUEST_COLUMNS)

    def request_count(self) -> int:
        return int(self._admin("GET", "requests/count")["count"])

    def set_faults(
        self,
        rate: float = 0.2,
        kinds: Iterable[str] = ("429", "503", "reset", "stall"),
        seed: int = 1,
        stall_seconds: float | None = None,
        retry_after: int = 1,
    ) -> dict[str, Any]:
        """Fail a seeded fraction of API requests (see :mod:`onesig_nb.sandbox.faults`)."""
        spec = {"rate": rate, "kinds": list(kinds), "seed": seed, "retry_after": retry_after}
        if stall_seconds is not None:
            spec["stall_seconds"] = stall_seconds
        return self._admin("PUT", "faults", spec)

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def set_latency(self, ms: float) -> None:
        """Delay every API response by ``ms`` (without blocking other requests)."""
        self._admin("PUT", "latency", {"ms": ms})

    def set_rate_limits(self, enabled: bool | Mapping[str, Any] | None = True, **groups: Any):
        """Turn on per-group budgets (create, users, per_user; requests/s) or off (False).

        ``set_rate_limits()`` = the documented defaults; ``set_rate_limits(create=5)``
        = defaults with another create budget; ``set_rate_limits(False)`` = off.
        """
        if enabled is False or enabled is None:
            spec: Any = None
        elif isinstance(enabled, Mapping):
            spec = {**enabled, **groups}
        else:
            spec = groups or True
        return self._admin("PUT", "rate_limits", {"limits": spec})["rate_limits"]

    def reset(self) -> None:
        """Forget users, notifications, deliveries and the request log; clear faults/limits;
        set the clock back to the wall clock."""
        self._admin("POST", "reset")

    # -- clock ------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The sandbox's time (an aware UTC datetime): the wall clock plus every advance."""
        return datetime.fromtimestamp(self._admin("GET", "clock")["now"], UTC)

    def advance(
        self, *, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> datetime:
        """Move the sandbox clock forward and deliver every notification that falls due.

        Scheduled (``send_after``) and time-zone-delayed notifications, idempotency windows
        (30 days) and the tag-propagation delay all run on this clock. Returns the new time.
        """
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        if total < 0:
            raise SandboxError("The sandbox clock only moves forward: advance by >= 0.")
        now = self._admin("POST", "clock", {"seconds": total})["now"]
        return datetime.fromtimestamp(now, UTC)


def _check_rate_groups(spec: Mapping[str, Any]) -> None:
    from onesig_nb.sandbox.faults import DEFAULT_RATE_LIMITS

    unknown = sorted(set(spec) - set(DEFAULT_RATE_LIMITS))
    if unknown:
        raise SandboxError(
            f"Unknown rate-limit group {unknown[0]!r}; use {sorted(DEFAULT_RATE_LIMITS)}."
        )


def _read_ready(fd: int, proc: subprocess.Popen, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SandboxError(f"The sandbox did not start within {timeout:.0f} s.")
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                proc.wait(timeout=5)
                raise SandboxError(
                    f"The sandbox process exited during start-up (code {proc.returncode})."
                )
            buf += chunk
    return json.loads(buf.split(b"\n", 1)[0])


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cleanup(proc: subprocess.Popen | None, tempdir: str | None) -> None:
    if proc is not None:
        _terminate(proc)
    if tempdir:
        shutil.rmtree(tempdir, ignore_errors=True)
