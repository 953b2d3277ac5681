"""The OneSignal client: send pushes and edit tags by external id, for either API generation.

:class:`OneSignal` is assembled from parts that each get what they use as arguments: a
:class:`~.transport.Transport` for single calls (one pooled ``requests.Session``), the asyncio
:class:`~.engine.Engine` for bulk work (started on first use, in a background thread), a
:class:`~.tagedits.TagEditor` for tag edits, and one :class:`~.failures.Failures` that both the
transport and the engine give up through. They share one retry policy and one rate limiter, and
speak through :mod:`.dialects`, the only place that knows the wire formats.

>>> with OneSignal(app_id, api_key, base_url=sandbox.url) as client:   # doctest: +SKIP
...     result = client.send_push(cohort.external_ids, {"contents": {"en": "Hi"}})
...     client.edit_tags("user-1", {"plan": "pro"})
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson
import requests

from onesig_nb.config import CURRENT_HOST, LEGACY_HOST, default_base_url, mask
from onesig_nb.errors import APIError, AuthError, OneSigNbError, TransportError, ValidationError
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.dialects import (
    EXPORT_NOT_READY,
    NOTIFICATION_KINDS,
    dialect_for,
    not_cancellable,
)
from onesig_nb.onesignal.failures import Failures
from onesig_nb.onesignal.models import (
    NotificationPage,
    NotificationRequest,
    NotificationResponse,
    NotificationStats,
    Subscription,
    TagEdit,
    TagEditResult,
    Template,
    TemplatePage,
)
from onesig_nb.onesignal.push import PushResult, audience_key, split_push, unique_ids
from onesig_nb.onesignal.ratelimit import CREATE, VIEW, RateLimiter
from onesig_nb.onesignal.retry import RetryPolicy
from onesig_nb.onesignal.secrets import Headers, clean_credentials
from onesig_nb.onesignal.tagedits import TagEditor
from onesig_nb.onesignal.targeting import check_filters, check_segments
from onesig_nb.onesignal.transport import Transport, is_loopback

if TYPE_CHECKING:  # pragma: no cover
    from onesig_nb.onesignal.engine import Engine

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "DEFAULT_TIMEOUT",
    "EXPORT_POLL_SECONDS",
    "EXPORT_TIMEOUT_SECONDS",
    "SANDBOX_EXPORT_POLL_SECONDS",
    "OneSignal",
]

#: Seconds for one attempt. OneSignal's own guidance is that an answer can take up to 100 s
#: (reference §5); 30 s plus retries with the same idempotency key is the better trade.
DEFAULT_TIMEOUT = 30.0

#: Requests in flight on the bulk engine. 1,000 user updates/s (the documented per-app limit) at
#: a 50-100 ms round trip need 50-100 in flight; measured against the sandbox at 50 ms emulated
#: latency, 64 held ~945/s and 128 ~990/s. The rate limiter, not this, is the governor.
DEFAULT_MAX_WORKERS = 128

#: Seconds between looks at a subscription export's file. v1.2.2 export_players: "The file may
#: take several minutes to generate depending on the number of users in your app".
EXPORT_POLL_SECONDS = 5.0

#: The same for a local sandbox, whose export is ready after a couple of looks.
SANDBOX_EXPORT_POLL_SECONDS = 0.05

#: How long :meth:`OneSignal.export_subscriptions` waits for the file before giving up.
EXPORT_TIMEOUT_SECONDS = 600.0


def users_base_url(api: str, base_url: str) -> str:
    """The root URL of the User Model's "view user" route for a client of ``api`` at ``base_url``.

    View user is ``GET /apps/{app_id}/users/by/external_id/{id}`` on ``https://api.onesignal.com``
    (reference onesignal-api.md §4.4, [SPEC-v11] servers); the legacy v1 API has no view of a user
    by external id (its ``GET /players/{player_id}`` takes a OneSignal player id). A legacy client
    on the real legacy host (``https://onesignal.com``) therefore reads users from the current
    host, not from ``https://onesignal.com/apps/...``, which is not an API route. The legacy
    v1.2.2 spec also lists ``fetch_user`` under ``https://onesignal.com/api/v1``, but the official
    SDK moved that route to api.onesignal.com in v2.1.0 (reference §8.1), so the current host is
    the safer reading. Any other base URL (the sandbox, a proxy) was chosen by the caller and
    serves both families at its root (reference §11), so it is kept.
    """
    if api == "legacy" and base_url.rstrip("/") == LEGACY_HOST:
        return CURRENT_HOST
    return base_url


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
        #: the API key masked (``'…cdef'``, :func:`~onesig_nb.config.mask`): safe to show
        self.key_hint = mask(api_key)
        self._sleep_fn = sleep
        if rate_limits is False:
            self.limiter: RateLimiter | None = None
        else:
            self.limiter = RateLimiter(
                rate_limits if isinstance(rate_limits, Mapping) else None,
                clock=clock or time.monotonic,
            )
        self._failures = Failures(app_id=app_id, secrets=(api_key,))
        self._headers = Headers(
            {
                "Authorization": self.dialect.auth_header(api_key),
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "User-Agent": "onesig_nb",
            }
        )
        # View user exists only in the User Model API, which takes the key as "Key <key>".
        self._user_headers = Headers(self._headers, Authorization=f"Key {api_key}")
        self._users_base_url = users_base_url(api, self.base_url)
        self._transport = Transport(
            base_url=self.base_url,
            headers=self._headers,
            timeout=timeout,
            policy=self.retry,
            limiter=self.limiter,
            failures=self._failures,
            sleep=sleep or time.sleep,
            session=session,
            pool_size=max_workers,
        )
        self._tags = TagEditor(
            app_id=app_id, dialect=self.dialect, transport=self._transport, failures=self._failures
        )
        self._engine: Engine | None = None
        self._engine_finalizer: weakref.finalize | None = None
        self._owned_sandbox: Any = None
        #: the local sandbox this client talks to (set by :func:`connect`), or None
        self.sandbox: Any = None

    def __repr__(self) -> str:
        return (
            f"OneSignal(app_id={self.app_id!r}, api={self.api!r}, base_url={self.base_url!r}, "
            f"api_key={self.key_hint!r})"
        )

    def redact(self, text: str) -> str:
        """``text`` with this client's API key replaced by its mask (``'…cdef'``).

        For callers that store or show texts that may quote the key (an error from a proxy, a
        request body): they redact through the client and never hold the key themselves.
        """
        return self._failures.redact(str(text))

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
        self._transport.close()
        if self._owned_sandbox is not None:
            sandbox, self._owned_sandbox = self._owned_sandbox, None
            sandbox.stop()

    def __enter__(self) -> OneSignal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what this client is connected to -------------------------------------------------------

    def adopt_sandbox(self, sandbox: Any) -> None:
        """Make ``sandbox`` this client's: shown as :attr:`sandbox`, stopped by :meth:`close`.

        For :func:`onesig_nb.connect`, which starts a sandbox for a client of its own.
        """
        self.sandbox = self._owned_sandbox = sandbox

    @property
    def is_sandbox(self) -> bool:
        """True when this client talks to a local sandbox, so nothing reaches real phones."""
        return self.sandbox is not None or is_loopback(self.base_url)

    def check(self) -> dict[str, Any]:
        """Prove that the API key and app id work, with one cheap request that sends nothing.

        Prints nothing; returns ``{"ok": True, "app_id", "api", "base_url", "sandbox", "key"}``
        (``key`` is masked, ``'…cdef'``). Raises :class:`AuthError` when the key or the app id
        is refused, :class:`TransportError` when nothing answers (see :mod:`.check`).
        """
        from onesig_nb.onesignal.check import check_credentials

        check_credentials(transport=self._transport, dialect=self.dialect, app_id=self.app_id)
        return {
            "ok": True,
            "app_id": self.app_id,
            "api": self.api,
            "base_url": self.base_url,
            "sandbox": self.is_sandbox,
            "key": self.key_hint,
        }

    @property
    def engine(self) -> Engine:
        """The bulk engine (started on first use)."""
        if self._engine is None:
            from onesig_nb.onesignal.engine import Engine

            self._engine = Engine(
                base_url=self.base_url,
                headers=self._headers,
                timeout=self.timeout,
                max_workers=self.max_workers,
                limiter=self.limiter,
                policy=self.retry,
                failures=self._failures,
                sleep=self._sleep_fn,
            )
            # A script that never calls close() still closes the aiohttp session: when the
            # client is garbage-collected or, at the latest, at interpreter exit. Without this,
            # aiohttp prints "Unclosed client session / Unclosed connector" as Python exits.
            self._engine_finalizer = weakref.finalize(self, self._engine.close)
        return self._engine

    # -- notifications ----------------------------------------------------------------------------

    def create_notification(self, req: NotificationRequest) -> NotificationResponse:
        """Send one create-notification request (retried with the same idempotency key).

        Raises :class:`AuthError`, :class:`RateLimited`, :class:`APIError` or
        :class:`TransportError` when it fails for good. A 2xx answer whose outcome cannot be
        read comes back with ``.error`` set (resending it with the same key is safe).
        """
        body = orjson.dumps(self.dialect.notification_body(self.app_id, req))
        status, data, headers = self._transport.call(
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
                return _failed(req, exc)
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
                responses = [_failed(reqs[0], exc)]
        else:
            responses = sorted(self.iter_notifications(reqs), key=lambda r: r.ref)
        return PushResult(responses=tuple(responses), idempotency_key=key)

    def send_to_segments(
        self,
        payload: Mapping[str, Any] | Any,
        *,
        included_segments: Iterable[str] | str | None = None,
        excluded_segments: Iterable[str] | str | None = None,
        filters: Iterable[Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
        platforms: Iterable[str] | None = None,
    ) -> PushResult:
        """Push ``payload`` to dashboard segments or to people whose tags match ``filters``.

        One request, whatever the audience's size: a cohort a TagSync has marked with a tag is
        reached with ``filters=[tag_filter("winback", "=", "1")]`` instead of id batches.
        OneSignal takes one targeting method per message (v11.6 ``included_segments``,
        ``filters``), so give ``included_segments`` (optionally with ``excluded_segments``)
        or ``filters`` (tag filters, ``OR`` entries, at most
        :data:`~onesig_nb.onesignal.limits.MAX_FILTERS`; see :mod:`.targeting`).

        :param idempotency_key: the push's key; the request's key is derived from it and the
            audience and payload (:func:`.push.audience_key`), so a resend of the same push is
            replayed, never delivered twice
        :param platforms: restrict to any of ``"ios"``, ``"android"``, ``"web"``

        Returns a :class:`PushResult` of one response (``targeted`` is 0: no ids were sent;
        ask :meth:`view_notification` how many were reached).
        """
        if hasattr(payload, "to_payload"):
            payload = payload.to_payload()
        if not isinstance(payload, Mapping):
            raise ValidationError("payload must be a dict of OneSignal fields or a Message.")
        included = check_segments("included_segments", included_segments)
        excluded = check_segments("excluded_segments", excluded_segments)
        checked = check_filters(filters) if filters is not None else ()
        if not (included or excluded or checked):
            raise ValidationError(
                "Say whom to reach: included_segments=['Active Users'] (dashboard segments) "
                "or filters=[tag_filter('plan', '=', 'pro')]; for a list of ids use send_push()."
            )
        key = str(idempotency_key) if idempotency_key else str(uuid.uuid4())
        plats = tuple(platforms) if platforms is not None else None
        body = dict(payload)
        req = NotificationRequest(
            payload=body,
            external_ids=(),
            idempotency_key=audience_key(
                key,
                body,
                included_segments=included,
                excluded_segments=excluded,
                filters=checked,
                platforms=plats,
            ),
            platforms=plats,
            ref=0,
            included_segments=included,
            excluded_segments=excluded,
            filters=checked,
        )
        self.dialect.notification_body(self.app_id, req)  # bad request: raise before sending
        try:
            response = self.create_notification(req)
        except AuthError:
            raise
        except OneSigNbError as exc:
            response = _failed(req, exc)
        return PushResult(responses=(response,), idempotency_key=key)

    def view_notification(self, notification_id: str) -> NotificationStats:
        """Delivery statistics of one notification (view calls share the 1/s view budget)."""
        path = self.dialect.notification_path(_notification_id(notification_id), self.app_id)
        _, data, _ = self._transport.call("GET", path, group=VIEW)
        return self.dialect.stats(data)

    def list_notifications(
        self, *, limit: int = limits.MAX_NOTIFICATIONS_PER_PAGE, offset: int = 0, kind=None
    ) -> NotificationPage:
        """One page of the app's notifications, newest first (``GET /notifications``).

        :param limit: notifications per page, 1 to
            :data:`~onesig_nb.onesignal.limits.MAX_NOTIFICATIONS_PER_PAGE` (50)
        :param offset: how many to skip; the next page is ``offset + limit``
        :param kind: only those created from the ``"dashboard"`` (0), by the ``"api"`` (1) or
            ``"automated"`` (3); None for all (v1.2.2 / v11.6 ``kind``)

        Returns a :class:`~.models.NotificationPage` of :class:`NotificationStats`
        (``page.to_frame()`` for a DataFrame). A view call: it uses the view rate-limit group
        (1/s per app, reference §5).
        """
        most = limits.MAX_NOTIFICATIONS_PER_PAGE
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
            raise ValidationError(
                f"limit must be a whole number from 1 to {most} (OneSignal's page size), "
                f"not {limit!r}; page with offset= for more."
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValidationError(f"offset must be a whole number of at least 0, not {offset!r}.")
        code = NOTIFICATION_KINDS.get(kind, kind) if isinstance(kind, str) else kind
        if code is not None and (isinstance(code, bool) or code not in NOTIFICATION_KINDS.values()):
            raise ValidationError(
                f"kind {kind!r} is not one OneSignal knows; use 'dashboard', 'api', "
                "'automated' (or 0, 1, 3), or None for all."
            )
        path = self.dialect.notifications_list_path(
            self.app_id, limit=limit, offset=offset, kind=code
        )
        _, data, _ = self._transport.call("GET", path, group=VIEW)
        return self.dialect.notification_page(data, limit=limit, offset=offset)

    def cancel_notification(self, notification_id: str) -> bool:
        """Stop a scheduled or still-sending notification; True when OneSignal confirmed it.

        OneSignal cancels only messages that are scheduled or still going out (v11.6
        cancel-message); one already delivered is answered with HTTP 400, raised here as
        :class:`~onesig_nb.errors.NotCancellable` (an :class:`APIError`) saying so. An unknown id
        raises :class:`APIError` with status 404. Cancel shares the create-message budget
        (reference §5).
        """
        notification_id = _notification_id(notification_id)
        path = self.dialect.notification_path(notification_id, self.app_id)
        try:
            _, data, _ = self._transport.call("DELETE", path, group=CREATE)
        except AuthError:
            raise
        except APIError as exc:
            if exc.status == 400:
                raise not_cancellable(exc, notification_id) from None
            raise
        return not (isinstance(data, Mapping) and data.get("success") is False)

    # -- templates ----------------------------------------------------------------------------
    # v11.6 only (the legacy v1.2.2 spec has no templates): like view user, a legacy client
    # reaches them on the current host with the app key as "Key <key>" (see users_base_url).

    def _current_call(self, method: str, path: str, body: Any = None, *, group: str) -> Any:
        raw = orjson.dumps(body) if body is not None else None
        _, data, _ = self._transport.call(
            method,
            path,
            raw,
            group=group,
            idempotent=method != "POST",
            headers=self._user_headers,
            base_url=self._users_base_url,
        )
        return data

    def list_templates(
        self,
        *,
        limit: int = limits.MAX_TEMPLATES_PER_PAGE,
        offset: int = 0,
        channel: str | None = "push",
    ) -> TemplatePage:
        """One page of the app's templates (``GET /templates``, v11.6 view-templates).

        :param limit: 1 to :data:`~onesig_nb.onesignal.limits.MAX_TEMPLATES_PER_PAGE` (50)
        :param channel: ``"push"`` (default), ``"email"``, ``"sms"``, or None for all
        """
        most = limits.MAX_TEMPLATES_PER_PAGE
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
            raise ValidationError(f"limit must be a whole number from 1 to {most}, not {limit!r}.")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValidationError(f"offset must be a whole number of at least 0, not {offset!r}.")
        if channel not in (None, "push", "email", "sms"):
            raise ValidationError(
                f"channel must be 'push', 'email', 'sms' or None, not {channel!r}."
            )
        path = self.dialect.templates_path(self.app_id, limit=limit, offset=offset, channel=channel)
        data = self._current_call("GET", path, group=VIEW)
        return self.dialect.template_page(data, limit=limit, offset=offset)

    def view_template(self, template_id: str) -> Template:
        """One template with its content (``GET /templates/{id}?app_id``, v11.6 view-template)."""
        path = self.dialect.templates_path(self.app_id, _template_id(template_id))
        return self.dialect.template(self._current_call("GET", path, group=VIEW))

    def create_template(
        self,
        name: str,
        contents: str | Mapping[str, str],
        *,
        dynamic_content: Mapping[str, Any] | None = None,
    ) -> Template:
        """Create a push template (``POST /templates``, v11.6 create-template).

        :param name: its name in the dashboard (at most 128 characters)
        :param contents: the body, text (English) or ``{language: text}`` with ``"en"``; it
            may use Liquid, e.g. ``{{ message.custom_data.code }}``
        :param dynamic_content: v11.6 ``dynamic_content``, passed as given

        Send with ``Message(..., template_id=template.id, custom_data={...})``. Creating a
        template is not a view call; it shares the create budget (the rate-limit page names
        no group for it, so the larger one is the safer guess: 1/s would stall a setup
        script). It is not retried on timeouts (only on 429), so it is never created twice.
        """
        body = {"app_id": self.app_id, **_template_fields(name, contents)}
        if dynamic_content is not None:
            if not isinstance(dynamic_content, Mapping):
                raise ValidationError("dynamic_content must be a dict (v11.6 dynamic_content).")
            body["dynamic_content"] = dict(dynamic_content)
        data = self._current_call(
            "POST", self.dialect.templates_path(self.app_id), body, group=CREATE
        )
        return self.dialect.template(data)

    def update_template(
        self, template_id: str, name: str, contents: str | Mapping[str, str] | None = None
    ) -> Template:
        """Rename a template and optionally replace its body (``PATCH /templates/{id}``,
        v11.6 update-template: ``name`` is required)."""
        path = self.dialect.templates_path(self.app_id, _template_id(template_id))
        body = _template_fields(name, contents)
        return self.dialect.template(self._current_call("PATCH", path, body, group=CREATE))

    # -- users and tags ---------------------------------------------------------------------------

    def view_user(self, external_id: str) -> dict[str, Any]:
        """The user as OneSignal holds it (``properties.tags``, ``identity``, ``subscriptions``).

        Both API generations read users through the User Model's view-user route (see
        :func:`users_base_url` for where a legacy client sends it).
        """
        path = self.dialect.user_path(self.app_id, external_id)
        _, data, _ = self._transport.call(
            "GET", path, group=VIEW, headers=self._user_headers, base_url=self._users_base_url
        )
        return data if isinstance(data, dict) else {}

    def user_subscriptions(self, external_id: str) -> list[Subscription] | None:
        """The push subscriptions of one user (view user), or None when OneSignal does not know
        the external id (HTTP 404). A view call: 1/s per app after a burst of 10."""
        try:
            data = self.view_user(external_id)
        except AuthError:
            raise
        except APIError as exc:
            if exc.status == 404:
                return None
            raise
        return self.dialect.user_subscriptions(data, external_id)

    def export_subscriptions(
        self,
        *,
        poll_interval: float | None = None,
        timeout: float = EXPORT_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> list[Subscription]:
        """Every subscription (device) of the app, from OneSignal's subscription CSV export.

        ``POST .../players/csv_export?app_id=`` (v1.2.2 export_players; v11.6 csv-export)
        answers a ``csv_file_url`` at once; the file is generated asynchronously and the URL
        answers 404 (or 403) until it is ready, so it is polled every ``poll_interval``
        seconds (default :data:`EXPORT_POLL_SECONDS`, or :data:`SANDBOX_EXPORT_POLL_SECONDS`
        on a sandbox) for at most ``timeout``. The file is fetched WITHOUT the API key (it is an
        unguessable storage URL, not an API route). One export runs at a time per account.

        :raises TransportError: the file was not ready within ``timeout``
        """
        path = self.dialect.export_path(self.app_id)
        body = orjson.dumps(self.dialect.export_body())
        _, data, _ = self._transport.call("POST", path, body, group=VIEW)
        url = self.dialect.export_url(data)
        if not url.startswith("https://") and not is_loopback(url):
            raise APIError(
                f"OneSignal's subscription export pointed at {url.split('?')[0]!r}, which is "
                "neither https nor this machine; it was not fetched. Pass reachability='skip' "
                "to send without checking.",
                status=None,
                body=data,
            )
        if poll_interval is None:
            poll_interval = SANDBOX_EXPORT_POLL_SECONDS if self.is_sandbox else EXPORT_POLL_SECONDS
        sleep = sleep or self._sleep_fn or time.sleep
        clock = clock or time.monotonic
        deadline = clock() + timeout
        while True:
            try:
                resp = self._transport.session.get(
                    url, headers={"Accept": "*/*", "User-Agent": "onesig_nb"},
                    timeout=self.timeout,
                )  # fmt: skip
            except requests.RequestException as exc:
                raise TransportError(f"Could not fetch the subscription export: {exc}") from None
            if resp.status_code < 300:
                return self.dialect.export_rows(resp.content)
            if resp.status_code not in EXPORT_NOT_READY:
                raise APIError(
                    f"The subscription export file answered HTTP {resp.status_code}.",
                    status=resp.status_code,
                    body=resp.text[:300],
                )
            if clock() >= deadline:
                raise TransportError(
                    f"OneSignal's subscription export was not ready after {timeout:g} s. Try "
                    "again later (large apps take minutes), or pass reachability='skip'."
                )
            sleep(poll_interval)

    def edit_tags(self, external_id: str, tags: Mapping[str, Any]) -> TagEditResult:
        """Set tags of one user (``""`` or None deletes a tag); raise on failure.

        More than 100 tags go out as several requests (the API's limit per request).
        """
        return self._tags.edit(external_id, tags)

    def iter_tag_edits(self, edits: Iterable[TagEdit]) -> Iterator[TagEditResult]:
        """Edit tags of many users concurrently; yield one result per edit as they finish.

        An edit that fails for good is yielded with ``ok=False`` and ``.error`` set; an auth
        failure raises :class:`AuthError` and stops everything after one request.
        """
        return self._tags.edit_many(self.engine, edits)

    def edit_tags_bulk(self, edits: Iterable[TagEdit]) -> list[TagEditResult]:
        """:meth:`iter_tag_edits`, collected into a list (in completion order)."""
        return list(self.iter_tag_edits(edits))


def _notification_id(notification_id: Any) -> str:
    """A notification id as text; blank is refused (it would address the list route)."""
    if not isinstance(notification_id, str) or not notification_id.strip():
        raise ValidationError(
            f"notification id {notification_id!r} is not an id; use PushResult."
            "notification_ids or list_notifications() to find one."
        )
    return notification_id.strip()


def _template_id(template_id: Any) -> str:
    if not isinstance(template_id, str) or not template_id.strip():
        raise ValidationError(
            f"template id {template_id!r} is not an id; list_templates() shows them."
        )
    return template_id.strip()


def _template_fields(name: Any, contents: Any) -> dict[str, Any]:
    """``name`` (required, at most 128 characters: v11.6) and ``contents`` (with English)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("A template needs a name, e.g. 'Order shipped'.")
    if len(name) > limits.MAX_NAME_CHARS:
        raise ValidationError(
            f"The template name is {len(name)} characters; OneSignal allows "
            f"{limits.MAX_NAME_CHARS}. Shorten it."
        )
    out: dict[str, Any] = {"name": name}
    if contents is None:
        return out
    if isinstance(contents, str):
        contents = {"en": contents}
    if (
        not isinstance(contents, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in contents.items())
        or not str(contents.get("en") or "").strip()
    ):
        raise ValidationError(
            "contents must be text or a {language: text} dict with English ('en'): OneSignal "
            "requires contents.en in a push template (v11.6 create-template)."
        )
    out["contents"] = dict(contents)
    return out


def _failed(req: NotificationRequest, exc: OneSigNbError) -> NotificationResponse:
    """The response of a request that failed for good (its typed error attached)."""
    return NotificationResponse(request=req, status=getattr(exc, "status", None), error=exc)
