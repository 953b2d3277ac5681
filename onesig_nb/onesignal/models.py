"""Plain data the client takes and gives back, independent of the wire dialect.

The campaign layer builds :class:`NotificationRequest` / :class:`TagEdit` objects (each carrying
its own idempotency key and a caller ``ref``), hands them to the client, and gets one
:class:`NotificationResponse` / :class:`TagEditResult` back per request, whatever shape the API's
``errors`` field took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onesig_nb.errors import OneSigNbError

__all__ = [
    "PLATFORMS",
    "WEB_PUSH_PLATFORMS",
    "Subscription",
    "DeliveryCounts",
    "NotificationPage",
    "NotificationRequest",
    "NotificationResponse",
    "NotificationStats",
    "TagEdit",
    "TagEditResult",
    "Template",
    "TemplatePage",
]

#: Platforms a subscription can be on, as the toolkit names them.
PLATFORMS = ("ios", "android", "web")

#: ``platform_delivery_stats`` keys of the web browsers, each counted on its own (v1.2.2
#: ``PlatformDeliveryData``: ``chrome_web_push``, ``firefox_web_push``, ``safari_web_push``,
#: ``edge_web_push``); :meth:`NotificationStats.platform_totals` adds them up as ``web``.
WEB_PUSH_PLATFORMS = ("chrome_web_push", "firefox_web_push", "safari_web_push", "edge_web_push")

#: The five counters every platform has (v1.2.2 ``DeliveryData``; v11.6 view-message
#: ``platform_delivery_stats``: "successful, errored, failed, converted, received ... counts").
DELIVERY_COUNTERS = ("successful", "failed", "errored", "converted", "received")


@dataclass(frozen=True)
class NotificationRequest:
    """One create-notification call: a message for at most one batch of external ids, or for
    segments or tag filters.

    :param payload: message fields in OneSignal's names, without targeting or app id
        (``contents``, ``headings``, ``subtitle``, ``url``, ``data``, ``buttons``, ``ttl``, ...)
    :param external_ids: who to target (at most the dialect's per-call limit); empty when the
        request targets segments or filters
    :param idempotency_key: a UUID string; the same key is reused on every retry
    :param platforms: restrict to these of :data:`PLATFORMS` (None = every platform)
    :param ref: the caller's handle (e.g. a batch number), echoed back in the response
    :param included_segments: segment names to target instead of ids (with optional
        ``excluded_segments``); OneSignal takes one targeting method per message (v11.6
        ``included_segments``: "Not compatible with any other targeting parameters")
    :param filters: tag filters (and ``{"operator": "OR"}`` entries) instead of ids or
        segments; checked by :func:`onesig_nb.onesignal.targeting.check_filters`
    """

    payload: dict[str, Any]
    external_ids: tuple[str, ...]
    idempotency_key: str
    platforms: tuple[str, ...] | None = None
    ref: Any = None
    included_segments: tuple[str, ...] = ()
    excluded_segments: tuple[str, ...] = ()
    filters: tuple[dict[str, str], ...] = ()

    @property
    def targets_ids(self) -> bool:
        """True when this request targets external ids (not segments or filters)."""
        return not (self.included_segments or self.excluded_segments or self.filters)


@dataclass(frozen=True)
class NotificationResponse:
    """What came back for one :class:`NotificationRequest`.

    ``id`` is ``""`` when OneSignal created nothing (e.g. nobody targeted was subscribed).
    ``invalid_external_ids`` are targeted ids OneSignal listed because at least one of their
    subscriptions is unsubscribed (``errors.invalid_aliases``, legacy
    ``invalid_external_user_ids``, or ``warnings.invalid_external_user_ids``, a list or a
    string). OneSignal lists an id once per unsubscribed *subscription* (v11.6 create-message
    200 example), so when ``id`` is set a listed person may still have been reached on another
    device: read it as "some devices not subscribed", not "not reached".
    ``recipients`` is the legacy API's estimate of subscriptions targeted; the current API
    does not send it (v11.6 create-message; official SDK 5.x model), so it is None there.
    ``error`` is set when the request failed for good (after retries); ``id`` is then ``""``.
    """

    request: NotificationRequest | None
    id: str = ""
    status: int | None = None
    recipients: int | None = None
    invalid_external_ids: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    replayed: bool = False
    error: OneSigNbError | None = None

    @property
    def sent(self) -> bool:
        """True when OneSignal created a notification for this request."""
        return bool(self.id) and self.error is None

    @property
    def ref(self) -> Any:
        return None if self.request is None else self.request.ref


@dataclass(frozen=True)
class TagEdit:
    """Set (string value) or delete (``""``) tags of one user, by external id."""

    external_id: str
    tags: dict[str, str]
    ref: Any = None


@dataclass(frozen=True)
class TagEditResult:
    """What came back for one :class:`TagEdit` (``error`` set when it failed for good)."""

    edit: TagEdit
    ok: bool
    status: int | None = None
    error: OneSigNbError | None = None

    @property
    def external_id(self) -> str:
        return self.edit.external_id


@dataclass(frozen=True)
class DeliveryCounts:
    """One platform's counters in ``platform_delivery_stats`` (v1.2.2 ``DeliveryData``).

    Each is None when OneSignal did not report it (the spec marks them nullable); ``received``
    (confirmed deliveries) is a paid feature, 0 on free plans (v1.2.2 ``received``). ``extra``
    holds the other integer counters some channels add (SMS ``provider_*``, email ``opened``...,
    v11.6 frequency-cap counts).
    """

    successful: int | None = None
    failed: int | None = None
    errored: int | None = None
    converted: int | None = None
    received: int | None = None
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        """The counters that were reported, as ``{name: count}`` (extra counters included)."""
        out = {k: getattr(self, k) for k in DELIVERY_COUNTERS if getattr(self, k) is not None}
        out.update(self.extra)
        return out


def _add(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


@dataclass(frozen=True)
class NotificationStats:
    """Delivery statistics of one notification (view-notification, or one row of a list).

    Counts follow v1.2.2 ``NotificationWithMeta`` / v11.6 view-message: ``failed`` are
    subscriptions found unsubscribed, ``received`` confirmed deliveries (None when not
    reported), ``remaining`` None while OneSignal still processes the audience. ``queued_at``,
    ``send_after`` and ``completed_at`` are Unix seconds (None when absent or not integers).
    ``platform_delivery_stats`` maps each platform key as OneSignal sends it (web browsers
    separately: :data:`WEB_PUSH_PLATFORMS`) to its integer counters; :attr:`platforms` gives
    the same as :class:`DeliveryCounts`, :meth:`platform_totals` per toolkit platform.
    """

    id: str
    successful: int = 0
    failed: int = 0
    errored: int = 0
    converted: int = 0
    remaining: int | None = None
    completed_at: int | None = None
    canceled: bool = False
    platform_delivery_stats: dict[str, dict[str, int]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    received: int | None = None
    queued_at: int | None = None
    send_after: int | None = None
    name: str | None = None
    throttle_rate_per_minute: float | None = None

    @property
    def complete(self) -> bool:
        return self.remaining == 0 or self.completed_at is not None or self.canceled

    @property
    def platforms(self) -> dict[str, DeliveryCounts]:
        """``platform_delivery_stats`` as typed counters, one entry per platform key."""
        out = {}
        for platform, counts in self.platform_delivery_stats.items():
            known = {k: counts[k] for k in DELIVERY_COUNTERS if k in counts}
            extra = {k: v for k, v in counts.items() if k not in DELIVERY_COUNTERS}
            out[platform] = DeliveryCounts(**known, extra=extra)
        return out

    def platform_totals(self) -> dict[str, DeliveryCounts]:
        """Counters per toolkit platform: ``ios``, ``android`` and ``web`` (the browsers of
        :data:`WEB_PUSH_PLATFORMS` added up); other keys (``email``, ``sms``...) as they are."""
        out: dict[str, DeliveryCounts] = {}
        for platform, counts in self.platforms.items():
            key = "web" if platform in WEB_PUSH_PLATFORMS else platform
            have = out.get(key)
            if have is None:
                out[key] = counts
                continue
            extra = dict(have.extra)
            for k, v in counts.extra.items():
                extra[k] = extra.get(k, 0) + v
            out[key] = DeliveryCounts(
                **{k: _add(getattr(have, k), getattr(counts, k)) for k in DELIVERY_COUNTERS},
                extra=extra,
            )
        return out


@dataclass(frozen=True)
class NotificationPage:
    """One page of ``GET /notifications`` (newest first by ``queued_at``; v11.6 view-messages).

    ``total_count`` counts every message of the app, not just this page; ask for the next page
    with ``offset + limit`` until ``notifications`` is empty.
    """

    notifications: tuple[NotificationStats, ...]
    total_count: int | None = None
    offset: int = 0
    limit: int = 50

    def __len__(self) -> int:
        return len(self.notifications)

    def __iter__(self):
        return iter(self.notifications)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per notification (``pd.DataFrame(page.to_records())`` works)."""
        return [
            {
                "id": n.id,
                "name": n.name,
                "queued_at": n.queued_at,
                "send_after": n.send_after,
                "completed_at": n.completed_at,
                "successful": n.successful,
                "failed": n.failed,
                "errored": n.errored,
                "converted": n.converted,
                "received": n.received,
                "remaining": n.remaining,
                "canceled": n.canceled,
            }
            for n in self.notifications
        ]

    def to_frame(self):
        """The page as a DataFrame, one row per notification (see :meth:`to_records`)."""
        import pandas as pd

        return pd.DataFrame(
            self.to_records(),
            columns=[
                "id", "name", "queued_at", "send_after", "completed_at", "successful",
                "failed", "errored", "converted", "received", "remaining", "canceled",
            ],
        )  # fmt: skip


@dataclass(frozen=True)
class Template:
    """A message template (v11.6 view-template / create-template ``TemplateResource``).

    ``content`` is the stored message (``contents``, ``headings``, platform flags...), empty in
    list answers, which carry only id, name and dates.
    """

    id: str
    name: str | None = None
    channel: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class TemplatePage:
    """One page of ``GET /templates`` (v11.6 view-templates)."""

    templates: tuple[Template, ...]
    total_count: int | None = None
    offset: int = 0
    limit: int = 50

    def __len__(self) -> int:
        return len(self.templates)

    def __iter__(self):
        return iter(self.templates)


@dataclass(frozen=True)
class Subscription:
    """One device (subscription) of a user, as the subscription export or view user says it.

    ``platform``: ``ios``, ``android``, ``web`` or ``other`` (email, SMS, Huawei, ...);
    ``subscribed``: OneSignal can push to it (export ``invalid_identifier`` ``f`` and a
    positive ``notification_types``; view user ``enabled``). ``external_id`` is None for a
    device no external id was set on.
    """

    external_id: str | None
    platform: str
    subscribed: bool
    id: str = ""
