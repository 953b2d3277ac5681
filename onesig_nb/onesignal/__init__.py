"""The OneSignal side: a client for both API generations, batching, retries, rate limits.

from onesig_nb.onesignal import OneSignal, connect
client = connect()                       # env / .env, or a local sandbox
client.send_push(ids, {"contents": {"en": "Hi"}})
client.edit_tags_bulk([TagEdit("u1", {"plan": "pro"})])
"""

from __future__ import annotations

from .client import OneSignal
from .connect import connect
from .models import (
    PLATFORMS,
    NotificationRequest,
    NotificationResponse,
    NotificationStats,
    TagEdit,
    TagEditResult,
)
from .push import PushResult
from .retry import RetryPolicy

__all__ = [
    "PLATFORMS",
    "NotificationRequest",
    "NotificationResponse",
    "NotificationStats",
    "OneSignal",
    "PushResult",
    "RetryPolicy",
    "TagEdit",
    "TagEditResult",
    "connect",
]
