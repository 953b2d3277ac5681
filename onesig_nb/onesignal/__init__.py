"""The HTTP client for OneSignal, both API generations: batching, retries, rate limits.

It knows no sandbox, no samples and no campaigns; :mod:`onesig_nb.connect` chooses between a
real app and a started sandbox.

    from onesig_nb.onesignal import OneSignal
    client = OneSignal(app_id, api_key)      # or onesig_nb.connect() for env / .env / sandbox
    client.send_push(ids, {"contents": {"en": "Hi"}})
    client.edit_tags_bulk([TagEdit("u1", {"plan": "pro"})])
    client.send_to_segments(msg, filters=[tag_filter("winback", "=", "1")])
    client.list_notifications(limit=10).to_frame(); client.cancel_notification(nid)

Names are imported on first use, so ``limits`` and ``models`` can be read without loading
the HTTP client (aiohttp, requests).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "AND",
    "OR",
    "PLATFORMS",
    "DeliveryCounts",
    "NotificationPage",
    "NotificationRequest",
    "NotificationResponse",
    "NotificationStats",
    "OneSignal",
    "PushResult",
    "RetryPolicy",
    "TagEdit",
    "TagEditResult",
    "Template",
    "TemplatePage",
    "tag_filter",
]

_LAZY = {
    "OneSignal": ".client",
    "PushResult": ".push",
    "RetryPolicy": ".retry",
    "PLATFORMS": ".models",
    "NotificationRequest": ".models",
    "NotificationResponse": ".models",
    "NotificationStats": ".models",
    "TagEdit": ".models",
    "TagEditResult": ".models",
    "DeliveryCounts": ".models",
    "NotificationPage": ".models",
    "Template": ".models",
    "TemplatePage": ".models",
    "AND": ".targeting",
    "OR": ".targeting",
    "tag_filter": ".targeting",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'onesig_nb.onesignal' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from onesig_nb.onesignal.client import OneSignal
    from onesig_nb.onesignal.models import (
        PLATFORMS,
        DeliveryCounts,
        NotificationPage,
        NotificationRequest,
        NotificationResponse,
        NotificationStats,
        TagEdit,
        TagEditResult,
        Template,
        TemplatePage,
    )
    from onesig_nb.onesignal.push import PushResult
    from onesig_nb.onesignal.retry import RetryPolicy
    from onesig_nb.onesignal.targeting import AND, OR, tag_filter
