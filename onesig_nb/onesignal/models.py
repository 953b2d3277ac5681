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
    "NotificationRequest",
    "NotificationResponse",
    "NotificationStats",
    "TagEdit",
    "TagEditResult",
]

#: Platforms a subscription can be on, as the toolkit names them.
PLATFORMS = ("ios", "android", "web")


@dataclass(frozen=True)
class NotificationRequest:
    """One create-notification call: a message for at most one batch of external ids.

    :param payload: message fields in OneSignal's names, without targeting or app id
        (``contents``, ``headings``, ``subtitle``, ``url``, ``data``, ``buttons``, ``ttl``, ...)
    :param external_ids: who to target (at most the dialect's per-call limit)
    :param idempotency_key: a UUID string; the same key is reused on every retry
    :param platforms: restrict to these of :data:`PLATFORMS` (None = every platform)
    :param ref: the caller's handle (e.g. a batch number), echoed back in the response
    """

    payload: dict[str, Any]
    external_ids: tuple[str, ...]
    idempotency_key: str
    platforms: tuple[str, ...] | None = None
    ref: Any = None


@dataclass(frozen=True)
class NotificationResponse:
    """What came back for one :class:`NotificationRequest`.

    ``id`` is ``""`` when OneSignal created nothing (e.g. nobody targeted was subscribed).
    ``invalid_external_ids`` are targeted ids that exist but are unsubscribed.
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
class NotificationStats:
    """Delivery statistics of one notification (view-notification)."""

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

    @property
    def complete(self) -> bool:
        return self.remaining == 0 or self.completed_at is not None or self.canceled
