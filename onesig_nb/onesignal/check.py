"""``client.check()``: prove the key and app id work with one request that sends nothing.

It asks OneSignal for a notification that cannot exist (a random UUID). "Not found" means the
key and the app id were accepted; 401/403 (or the legacy host's "include a valid key" 400)
means the key was refused; "app not found" means the app id is wrong. One GET, rate-limited
like any other view request; nothing is created, changed or delivered.
"""

from __future__ import annotations

import uuid

from onesig_nb.config import ENV_APP_ID, ENV_KEY
from onesig_nb.errors import APIError, AuthError
from onesig_nb.onesignal.dialects import Dialect, app_not_found_text, is_app_not_found
from onesig_nb.onesignal.ratelimit import VIEW
from onesig_nb.onesignal.transport import Transport

__all__ = ["check_credentials"]


def check_credentials(*, transport: Transport, dialect: Dialect, app_id: str) -> None:
    """One authenticated GET; returns when the key and app id were accepted.

    Raises :class:`AuthError` (with advice first) when the key or the app id is refused, and
    lets rate-limit, server and transport errors through (they say nothing about credentials).
    """
    try:
        transport.call("GET", dialect.notification_path(str(uuid.uuid4()), app_id), group=VIEW)
    except AuthError:
        raise
    except APIError as exc:
        said = "; ".join(exc.errors) or "no error text"
        where = f"GET {dialect.notification_path('<random id>', app_id)}"
        if is_app_not_found(exc.status, said):
            raise AuthError(
                app_not_found_text(app_id, status=exc.status, where=where, said=said),
                status=exc.status,
                errors=exc.errors,
                body=exc.body,
            ) from None
        if not _notification_not_found(exc.status, said):
            if exc.status is None or exc.status == 429 or exc.status >= 500:
                raise  # not a verdict on the credentials: rate limit or server trouble
            raise AuthError(
                f"OneSignal did not accept the credentials check (HTTP {exc.status} on {where}). "
                f"Check {ENV_APP_ID} and {ENV_KEY} in the environment or .env (OneSignal "
                "dashboard: Settings > Keys & IDs) and that the key belongs to this app. "
                f"OneSignal said: {said}",
                status=exc.status,
                errors=exc.errors,
                body=exc.body,
            ) from None


def _notification_not_found(status: int | None, said: str) -> bool:
    """True for the answer the check hopes for: no notification by that id."""
    if status == 404:
        return True
    lowered = said.lower()
    return (
        status == 400
        and "notification" in lowered
        and ("not found" in lowered or "find" in lowered)
    )
