"""The OneSignal side: a client for both API generations, batching, retries, rate limits.

    from onesig_nb.onesignal import OneSignal, connect
    client = connect()                       # env / .env, or a local sandbox
    client.send_push(ids, {"contents": {"en": "Hi"}})
    client.edit_tags_bulk([TagEdit("u1", {"plan": "pro"})])

Names are imported on first use, so the sandbox's server process can read ``limits`` and
``models`` without loading the HTTP client (aiohttp, requests).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "PLATFORMS",
    "SANDBOX_TEST_USER",
    "NotificationRequest",
    "NotificationResponse",
    "NotificationStats",
    "OneSignal",
    "PushResult",
    "RetryPolicy",
    "TagEdit",
    "TagEditResult",
    "connect",
    "seed_sandbox",
]

#: External id of the pretend QA phone (iOS, subscribed) every seeded sandbox has, so
#: ``campaign.send_test([SANDBOX_TEST_USER])`` works out of the box in a rehearsal.
#: It is not in the sample roster, so it never shows up in a cohort.
SANDBOX_TEST_USER = "qa-you"

_LAZY = {
    "OneSignal": ".client",
    "connect": ".connect",
    "seed_sandbox": ".connect",
    "PushResult": ".push",
    "RetryPolicy": ".retry",
    "PLATFORMS": ".models",
    "NotificationRequest": ".models",
    "NotificationResponse": ".models",
    "NotificationStats": ".models",
    "TagEdit": ".models",
    "TagEditResult": ".models",
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
    from .client import OneSignal
    from .connect import connect, seed_sandbox
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
