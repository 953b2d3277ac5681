"""Response values and the error bodies OneSignal answers with, verbatim where known.

Sources: the project reference ``onesignal-api.md`` (sections 1, 2.2, 4 and 5) and the two
OpenAPI specs. Notification endpoints answer errors as a string array (``BasicErrorResponse``);
user endpoints as ``{"code", "title"}`` objects (``StructuredErrorResponse``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

#: Legacy host, any auth failure (HTTP 400) — verbatim.
LEGACY_AUTH_ERROR = {
    "errors": [
        "Please include a case-sensitive header of Authorization: Basic <YOUR-REST-API-KEY-HERE>"
        ' or Bearer token="<YOUR-REST-API-KEY-HERE>" with a valid REST API key.'
    ],
    "reference": ["https://documentation.onesignal.com/docs/accounts-and-keys#section-keys-ids"],
}
LEGACY_AUTH_STATUS = 400

#: Current host, wrong scheme or key (status UNCONFIRMED upstream; 403 assumed) — verbatim.
ACCESS_DENIED = {
    "errors": [
        "Access denied.  Please include an 'Authorization: ...' header with a valid API key "
        "(https://documentation.onesignal.com/docs/accounts-and-keys)."
    ]
}
ACCESS_DENIED_STATUS = 403

#: Current user endpoints, no Authorization header at all (HTTP 401) — verbatim (spec example).
USER_AUTH_MISSING = {
    "errors": [
        {"code": "auth-1", "title": "This operation requires 'Authorization' in the HTTP header"}
    ]
}

RATE_LIMITED_BASIC = {"errors": ["API rate limit exceeded"]}
RATE_LIMITED_STRUCTURED = {
    "errors": [{"code": "Rate Limit Exceeded", "title": "API rate limit exceeded"}]
}
UNAVAILABLE = {"errors": ["Service temporarily unavailable"]}
NO_SUBSCRIBERS = "All included players are not subscribed"
ENGLISH_REQUIRED = "Message Notifications must have English language content"
APP_NOT_FOUND = "app_id not found. You may be missing a Content-Type: application/json header."
TAG_LIMIT_PER_REQUEST = "Please limit your tag updates to 100 per request"


class Rejected(Exception):
    """A request the real API would refuse with HTTP 400 (``{"errors": [...messages]}``)."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[0])
        self.messages = list(messages)


@dataclass
class Response:
    """What a handler answers: status, JSON body, extra headers."""

    status: int
    body: Any
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    wrote: bool = False  # True when the handler changed the store (must be durable first)

    def encoded(self) -> bytes:
        return orjson.dumps(self.body)


def basic_error(status: int, *messages: str, **extra: Any) -> Response:
    """``{"errors": [...]}`` — the notification endpoints' error shape."""
    return Response(status, {"errors": list(messages), **extra})


def structured_error(status: int, code: str, title: str, meta: dict | None = None) -> Response:
    """``{"errors": [{"code", "title"}]}`` — the user endpoints' error shape."""
    err: dict[str, Any] = {"code": code, "title": title}
    if meta is not None:
        err["meta"] = meta
    return Response(status, {"errors": [err]})


def rate_limited(structured: bool, retry_after: int) -> Response:
    body = RATE_LIMITED_STRUCTURED if structured else RATE_LIMITED_BASIC
    return Response(429, body, [(b"retry-after", str(retry_after).encode())])
