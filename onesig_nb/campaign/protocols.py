"""What a Campaign and a TagSync need from a OneSignal client, and nothing more.

:class:`~onesig_nb.onesignal.OneSignal` (real API or sandbox) provides both protocols, and so do
the in-memory fakes of the tests. A campaign only reads these members: it never sees the API key.
A text that may quote the key (an error) goes through ``redact``, and the plan's sample request
shows ``key_hint`` (the key masked to its last characters) so a marketer can tell which key a
send would use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from onesig_nb.onesignal.models import (
    NotificationRequest,
    NotificationResponse,
    NotificationStats,
    TagEdit,
    TagEditResult,
)

__all__ = ["PushClient", "TagClient"]


@runtime_checkable
class PushClient(Protocol):
    """The client a :class:`~onesig_nb.campaign.Campaign` sends through."""

    #: the OneSignal app the pushes go to (a journal's run is bound to it)
    app_id: str
    #: ``"current"`` or ``"legacy"``: which wire format (:mod:`onesig_nb.onesignal.dialects`)
    api: str
    #: concurrent requests; the plan's duration estimate counts waves of this many
    max_workers: int
    #: the API key masked (``'…9f2c'``, :func:`onesig_nb.config.mask`), shown in the plan
    key_hint: str

    @property
    def max_ids_per_request(self) -> int:
        """External ids one create-notification request takes (the largest batch)."""
        ...

    def iter_notifications(
        self, requests: Iterable[NotificationRequest]
    ) -> Iterator[NotificationResponse]:
        """Send the requests concurrently; yield each answer (``.ref`` says which) as it comes."""
        ...

    def view_notification(self, notification_id: str) -> NotificationStats:
        """Delivery statistics of one notification."""
        ...

    def redact(self, text: str) -> str:
        """``text`` with the client's API key masked, safe to show or journal."""
        ...


@runtime_checkable
class TagClient(Protocol):
    """The client a :class:`~onesig_nb.campaign.TagSync` writes tags through."""

    app_id: str

    def iter_tag_edits(self, edits: Iterable[TagEdit]) -> Iterator[TagEditResult]:
        """Send the tag edits concurrently; yield each result (``.edit.ref`` says which)."""
        ...

    def redact(self, text: str) -> str:
        """``text`` with the client's API key masked, safe to show or journal."""
        ...
