"""The OneSignal client: send pushes and edit tags by external id, for either API generation.

Single calls go over one pooled ``requests.Session``; bulk work (many tag edits, multi-batch
pushes) runs on the asyncio :class:`~.engine.Engine` in a background thread. Both share one
retry policy, one rate limiter and one error translation, and both speak through
:mod:`.dialects`, the only place that knows the wire formats.

>>> with OneSignal(app_id, api_key, base_url=sandbox.url) as client:   # doctest: +SKIP
...     result = client.send_push(cohort.external_ids, {"contents": {"en": "Hi"}})
...     client.edit_tags("user-1", {"plan": "pro"})
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter

from ..config import default_base_url, mask
from ..errors import AuthError, OneSigNbError, ValidationError
from ..tags import tag_value
from . import limits
from .dialects import decode_body, dialect_for, error_for
from .models import (
    NotificationRequest,
    NotificationResponse,
    NotificationStats,
    TagEdit,
    TagEditResult,
)
from .push import PushResult, split_push, unique_ids
from .ratelimit import CREATE, USERS, VIEW, RateLimiter
from .retry import CONNECTION, TIMEOUT, RetryPolicy, transport_error
from .secrets import Headers, Secret, clean_credentials, scrub

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["DEFAULT_MAX_WORKERS", "DEFAULT_TIMEOUT", "OneSignal"]

log = logging.getLogger("onesig_nb.onesignal")

#: Seconds for one attempt. OneSignal's own guidance is that an answer can take up to 100 s
#: (reference §5); 30 s plus retries with the same idempotency key is the better trade.
DEFAULT_TIMEOUT = 30.0

#: Requests in flight on the bulk engine. 1,000 user updates/s (the documented per-app limit) at
#: a 50-100 ms round trip need 50-100 in flight; measured against the sandbox at 50 ms emulated
#: latency, 64 held ~945/s and 128 ~990/s. The rate limiter, not this, is the governor.
DEFAULT_MAX_WORKERS = 128


_Headers = Headers  # the old private name


class OneSignal:
    """A client for one OneSignal app (or the local sandbox: just another ``base_url``).

    :param app_id: the app's id (surrounding whitespace is stripped)
    :param api_key: the app's REST API key (never shown in repr, logs or errors); surrounding
        whitespace (a newline from a file) is stripped, whitespace or control characters
        inside it raise :class:`ConfigError`
    :param base_url: root URL (legacy paths add ``/api/v1``); default: the real host of ``api``
    :param api: ``"current"`` (User Model API) or ``"legacy"`` (v1 player-model API)
    :param timeout: seconds for one attempt of one request
    :param max_workers: requests in flight at most during bulk work
    :param session: a ``requests.Session`` to use for single calls (e.g. with a test adapter)
    :param rate_limits: per-group overrides of :data:`.ratelimit.DEFAULT_RATES`
        (``{"users": 1000, "create": 150, "per_user": 1, "view": 1}``); a ``None`` value turns
        a group off, ``rate_limits=False`` turns client-side limiting off entirely
    :param retry: a :class:`.retry.RetryPolicy` (default: 10 attempts, 0.25 s .. 30 s backoff)
    :param sleep: ``time.sleep`` replacement (tests pass a fake that advances a fake clock)
    :param clock: ``time.monotonic`` replacement for the rate limiter
    """

    def __init__(
        self,
        app_id: str,
        api_key: str,
        *,
        base_url: str | None = None,
        api: str = "current",
        timeout: float = DEFAULT_TIMEOUT,
        max_workers: int = DEFAULT_MAX_WORKERS,
        session: requests.Session | None = None,
        rate_limits: Mapping[str, float | None] | bool | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ):
        app_id, api_key = clean_credentials(app_id, api_key)
        if max_workers < 1:
            raise ValidationError(f"max_workers must be at least 1, not {max_workers}.")
        self.app_id = app_id
        self.api = api
        self.dialect = dialect_for(api)
        self.base_url = (base_url or default_base_url(api)).rstrip("/")
        self.timeout = timeout
        self.max_workers = max_workers
        self.retry = retry or RetryPolicy()
        self._key_hint = mask(api_key)
        self._secret = Secret(api_key)  # kept only to redact error texts
        self._sleep_fn = sleep
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        if rate_limits is False:
            self.limiter: RateLimiter | None = None
        else:
            self.limiter = RateLimiter(
                rate_limits if isinstance(rate_limits, Mapping) else None, clock=self._clock
            )
        self._headers = Headers(
            {
                "Authorization": self.dialect.auth_header(api_key),
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "User-Agent": "onesig_nb",
            }
        )
        self._user_headers = Headers(self._headers, Authorization=f"Key {api_key}")
        self._own_session = session is None
        self._session = session if session is not None else self._new_session()
        self._engine: Engine | None = None
        self._engine_finalizer: weakref.finalize | None = None
        self._owned_sandbox = None
        #: the local sandbox this client talks to (set by :func:`connect`), or None
        self.sandbox: Any = None

    def __repr__(self) -> str:
        return (
            f"OneSignal(app_id={self.app_id!r}, api={self.api!r}, base_url={self.base_url!r}, "
            f"api_key={self._key_hint!r})"
        )

    @property
    def _api_key(self) -> str:
        """The API key (for redacting error texts; a property so ``vars()`` never shows it)."""
        return self._secret.value

    def _scrub(self, exc: BaseException) -> BaseException:
        return scrub(exc, self._secret.value)

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.max_workers)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # Proxy/netrc lookups cost ~0.5 ms per request (perf-anchors §C); skip them on loopback
        # only, so a corporate proxy still works for the real API.
        session.trust_env = not _is_loopback(self.base_url)
        return session

    @property
    def max_ids_per_request(self) -> int:
        """External ids one create-notification request takes (2,000 legacy, 20,000 current)."""
        return self.dialect.max_ids

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP session and the bulk engine (and a sandbox :func:`connect` started)."""
        if self._engine_finalizer is not None:
            self._engine_finalizer()  # closes the engine, once
            self._engine_finalizer = None
        self._engine = None
        if self._own_session:
            self._session.close()
        if self._owned_sandbox is not None:
            sandbox, self._owned_sandbox = self._owned_sandbox, None
            sandbox.stop()

    def __enter__(self) -> OneSignal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what this client is connected to -------------------------------------------------------

    @property
    def is_sandbox(self) -> bool:
        """True when this client talks to a local sandbox, so nothing reaches real phones."""
        return self.sandbox is not None or _is_loopback(self.base_url)

    def check(self) -> dict[str, Any]:
        """Prove that the API key and app id work, with one cheap request that sends nothing.

        Prints nothing; returns ``{"ok": True, "app_id", "api", "base_url", "sandbox", "key"}``
        (``key`` is masked, ``'…cdef'``). Raises :class:`AuthError` when the key or the app id
        is refused, :class:`TransportError` when nothing answers (see :mod:`.check`).
        """
        from .check import check_credentials

        return check_credentials(self)

    @property
    def engine(self) -> Engine:
        """The bulk engine (started on first use)."""
        if self._engine is None:
            from .engine import Engine

            self._engine = Engine(
                base_url=self.base_url,
                headers=self._headers,
                timeout=self.timeout,
                max_workers=self.max_workers,
                limiter=self.limiter,
                policy=self.retry,
                sleep=self._sleep_fn,
                secrets=(self._secret.value,),
                app_id=self.app_id,
            )
            # A script that never calls close() still closes the aiohttp session: when the
            # client is garbage-collected or, at the latest, at interpreter exit. Without this,
            # aiohttp prints "Unclosed client session / Unclosed connector" as Python exits.
            self._engine_finalizer = weakref.finalize(self, self._engine.close)
        return self._engine

    # -- one request ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        group: str,
        user: str | None = None,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Send one request with rate limiting and retries; raise the typed error on failure."""
        url = self.base_url + path
        send_headers = headers if headers is not None else self._headers
        if log.isEnabledFor(logging.DEBUG) and body is not None:
            log.debug("%s %s body=%s", method, path, body[:2000].decode("utf-8", "replace"))
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                wait = self.limiter.user_wait(user)
                if wait > 0:
                    self._sleep(wait)
                wait = self.limiter.reserve(group, user)
                if wait > 0:
                    self._sleep(wait)
            status = kind = error = None
            try:
                resp = self._session.request(
                    method, url, data=body, headers=send_headers, timeout=self.timeout
                )
                status, raw, resp_headers = resp.status_code, resp.content, resp.headers
            except requests.Timeout as exc:
                kind, error = TIMEOUT, exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                kind, error = CONNECTION, exc
            except (requests.RequestException, ValueError) as exc:  # bad URL/header: won't help
                raise transport_error(
                    method,
                    path,
                    self.base_url,
                    attempt,
                    exc,
                    secrets=(self._secret.value,),
                    unsendable=True,
                ) from None
            log.debug("%s %s -> %s (attempt %d)", method, path, status or kind, attempt)
            if status is not None and status < 400:
                return status, decode_body(raw), resp_headers
            retry_after = (
                self.retry.retry_after(resp_headers.get("Retry-After")) if status else None
            )
            delay = self.retry.delay(
                attempt, status=status, kind=kind, retry_after=retry_after, idempotent=idempotent
            )
            if delay is None:
                if status is None:
                    raise transport_error(
                        method, path, self.base_url, attempt, error, secrets=(self._secret.value,)
                    ) from None
                raise self._scrub(
                    error_for(
                        status,
                        decode_body(raw),
                        method=method,
                        path=path,
                        retry_after=retry_after,
                        attempts=attempt,
                        app_id=self.app_id,
                    )
                )
            self._sleep(delay)

    # -- notifications ----------------------------------------------------------------------------

    def create_notification(self, req: NotificationRequest) -> NotificationResponse:
        """Send one create-notification request (retried with the same idempotency key).

        Raises :class:`AuthError`, :class:`RateLimited`, :class:`APIError` or
        :class:`TransportError` when it fails for good. A 2xx answer whose outcome cannot be
        read comes back with ``.error`` set (resending it with the same key is safe).
        """
        body = orjson.dumps(self.dialect.notification_body(self.app_id, req))
        status, data, headers = self._call(
            "POST",
            self.dialect.notifications_path(),
            body,
            group=CREATE,
            idempotent=bool(req.idempotency_key),
        )
        return self.dialect.notification_response(req, status, data, headers)

    def iter_notifications(
        self, reqs: Iterable[NotificationRequest]
    ) -> Iterator[NotificationResponse]:
        """Send many create-notification requests concurrently; yield responses as they finish.

        A request that fails for good is yielded with ``.error`` set. An auth failure raises
        :class:`AuthError` and stops everything (the first request goes alone, so a bad key
        costs one request).
        """
        path = self.dialect.notifications_path()
        engine = self.engine

        async def send(req: NotificationRequest) -> NotificationResponse:
            try:
                body = orjson.dumps(self.dialect.notification_body(self.app_id, req))
                status, data, headers = await engine.perform(
                    "POST", path, body, group=CREATE, idempotent=bool(req.idempotency_key)
                )
            except AuthError:
                raise
            except OneSigNbError as exc:
                return NotificationResponse(
                    request=req, status=getattr(exc, "status", None), error=exc
                )
            return self.dialect.notification_response(req, status, data, headers)

        return engine.map(send, reqs)

    def send_push(
        self,
        external_ids: Iterable[str],
        payload: Mapping[str, Any] | Any,
        *,
        idempotency_key: str | None = None,
        platforms: Iterable[str] | None = None,
    ) -> PushResult:
        """Push ``payload`` to every external id, split at the per-request limit, sent concurrently.

        :param external_ids: any number of ids (duplicates are sent once; sorted into batches)
        :param payload: message fields in OneSignal's names (or a ``Message``)
        :param idempotency_key: the push's key; each batch's key is derived from it AND the
            batch's content (:func:`.push.batch_key`: sorted ids, payload, platforms). Pass the
            same key with the same ids, payload and platforms to resend safely (accepted batches
            are replayed, not delivered twice); changed ids or payload get new batch keys, so
            they are sent rather than replayed.
        :param platforms: restrict to any of ``"ios"``, ``"android"``, ``"web"``

        Unknown ids are not reported by OneSignal (see :class:`.push.PushResult`).
        """
        if hasattr(payload, "to_payload"):
            payload = payload.to_payload()
        if not isinstance(payload, Mapping):
            raise ValidationError("payload must be a dict of OneSignal fields or a Message.")
        ids = unique_ids(external_ids)
        key = str(idempotency_key) if idempotency_key else str(uuid.uuid4())
        plats = tuple(platforms) if platforms is not None else None
        reqs = split_push(
            ids, payload, limit=self.max_ids_per_request, idempotency_key=key, platforms=plats
        )
        if not reqs:
            return PushResult(responses=(), idempotency_key=key)
        self.dialect.notification_body(self.app_id, reqs[0])  # bad payload: raise before sending
        if len(reqs) == 1:
            try:
                responses = [self.create_notification(reqs[0])]
            except AuthError:
                raise
            except OneSigNbError as exc:
                status = getattr(exc, "status", None)
                responses = [NotificationResponse(request=reqs[0], status=status, error=exc)]
        else:
            responses = sorted(self.iter_notifications(reqs), key=lambda r: r.ref)
        return PushResult(responses=tuple(responses), idempotency_key=key)

    def view_notification(self, notification_id: str) -> NotificationStats:
        """Delivery statistics of one notification."""
        path = self.dialect.notification_path(notification_id, self.app_id)
        _, data, _ = self._call("GET", path, group=VIEW)
        return self.dialect.stats(data)

    def cancel_notification(self, notification_id: str) -> bool:
        """Cancel a scheduled notification; True when OneSignal confirmed it."""
        path = self.dialect.notification_path(notification_id, self.app_id)
        _, data, _ = self._call("DELETE", path, group=CREATE)
        return not (isinstance(data, Mapping) and data.get("success") is False)

    # -- users and tags ---------------------------------------------------------------------------

    def view_user(self, external_id: str) -> dict[str, Any]:
        """The user as OneSignal holds it (``properties.tags``, ``identity``, ``subscriptions``)."""
        # View user exists only in the User Model API, which takes the key as "Key <key>".
        path = self.dialect.user_path(self.app_id, external_id)
        _, data, _ = self._call("GET", path, group=VIEW, headers=self._user_headers)
        return data if isinstance(data, dict) else {}

    def edit_tags(self, external_id: str, tags: Mapping[str, Any]) -> TagEditResult:
        """Set tags of one user (``""`` or None deletes a tag); raise on failure.

        More than 100 tags go out as several requests (the API's limit per request).
        """
        edit = TagEdit(external_id=str(external_id), tags=clean_tags(tags))
        chunks = _tag_chunks(edit)
        method = self.dialect.tag_method
        path = self.dialect.tags_path(self.app_id, edit.external_id)
        status = None
        for chunk in chunks:
            body = orjson.dumps(self.dialect.tags_body(chunk))
            status, data, _ = self._call(method, path, body, group=USERS, user=edit.external_id)
            if not self.dialect.tag_edit_ok(status, data):
                raise self._scrub(
                    error_for(status, data, method=method, path=path, app_id=self.app_id)
                )
        return TagEditResult(edit=edit, ok=True, status=status)

    def iter_tag_edits(self, edits: Iterable[TagEdit]) -> Iterator[TagEditResult]:
        """Edit tags of many users concurrently; yield one result per edit as they finish.

        An edit that fails for good is yielded with ``ok=False`` and ``.error`` set; an auth
        failure raises :class:`AuthError` and stops everything after one request.
        """
        engine = self.engine
        dialect, app_id = self.dialect, self.app_id
        method = dialect.tag_method

        async def edit_one(edit: TagEdit) -> TagEditResult:
            status = None
            try:
                if not isinstance(edit, TagEdit):
                    ext, tags = edit
                    edit = TagEdit(external_id=str(ext), tags=tags)
                path = dialect.tags_path(app_id, edit.external_id)
                for chunk in _tag_chunks(edit):
                    tags = clean_tags(chunk)
                    body = orjson.dumps(dialect.tags_body(tags))
                    status, data, _ = await engine.perform(
                        method, path, body, group=USERS, user=edit.external_id
                    )
                    if not dialect.tag_edit_ok(status, data):
                        raise self._scrub(
                            error_for(status, data, method=method, path=path, app_id=app_id)
                        )
            except AuthError:
                raise
            except OneSigNbError as exc:
                if not isinstance(edit, TagEdit):
                    edit = TagEdit(external_id=str(edit), tags={})
                return TagEditResult(
                    edit=edit, ok=False, status=getattr(exc, "status", status), error=exc
                )
            return TagEditResult(edit=edit, ok=True, status=status)

        return engine.map(edit_one, edits)

    def edit_tags_bulk(self, edits: Iterable[TagEdit]) -> list[TagEditResult]:
        """:meth:`iter_tag_edits`, collected into a list (in completion order)."""
        return list(self.iter_tag_edits(edits))


def clean_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """Tags as OneSignal stores them: string values, ``""`` for "delete this tag"."""
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict of name -> value, not {type(tags).__name__}.")
    out: dict[str, str] = {}
    for name, value in tags.items():
        if not name or not isinstance(name, str):
            raise ValidationError(f"Tag names must be non-empty strings, not {name!r}.")
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            out[name] = ""
        elif isinstance(value, str):
            out[name] = value
        else:
            out[name] = tag_value(value, name=name) or ""
    return out


def _tag_chunks(edit: TagEdit) -> list[dict[str, Any]]:
    items = list(edit.tags.items())
    if not items:
        raise ValidationError(f"No tags to edit for {edit.external_id!r}.")
    size = limits.MAX_TAGS_PER_REQUEST
    return [dict(items[i : i + size]) for i in range(0, len(items), size)]


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
