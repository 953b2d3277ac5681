"""When to try a request again, and how long to wait first.

Retried: timeouts, connection errors, 429 (waiting at least ``Retry-After``) and 5xx.
Never retried: 400/401/403/404 and every other 4xx, which would fail the same way again.
A request that is not idempotent (a create-notification without an idempotency key) is only
retried on 429, which OneSignal answers before doing anything. Every other retry of a POST
reuses the same idempotency key, so it can never duplicate a push (reference §4.2, §5).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

from onesig_nb.config import ENV_APP_ID, ENV_BASE, ENV_KEY, redact
from onesig_nb.errors import TransportError

__all__ = ["CONNECTION", "TIMEOUT", "RetryPolicy", "parse_retry_after", "transport_error"]

#: Outcome kinds for failures that produced no HTTP status.
TIMEOUT = "timeout"
CONNECTION = "connection"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).

    :param now: the current wall-clock time (Unix seconds) a date is measured against;
        default ``time.time()``. A date in the past, a negative or NaN delay give 0; an
        unreadable value gives None (the caller falls back to its backoff).
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" zone: RFC 5322 says UTC with unknown origin
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return 0.0
    return max(0.0, seconds)


@dataclass
class RetryPolicy:
    """Capped exponential backoff with jitter, a maximum number of attempts, Retry-After honoured.

    :param max_attempts: attempts in all, the first included
    :param base: backoff before the second attempt (seconds); doubles each time
    :param cap: longest backoff between two attempts (seconds)
    :param max_retry_after: give up at once when a 429 asks to wait longer than this
    :param rng: a ``random.Random`` for the jitter (inject a seeded one in tests)
    :param wall_clock: Unix time now (``time.time``); an HTTP-date ``Retry-After`` is measured
        against it (inject a fixed one in tests)

    >>> RetryPolicy(rng=random.Random(1)).delay(1, status=503) is not None
    True
    """

    max_attempts: int = 10
    base: float = 0.25
    cap: float = 30.0
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    wall_clock: Callable[[], float] = field(default=time.time, repr=False)

    def retry_after(self, value: str | None) -> float | None:
        """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP-date), or None."""
        return parse_retry_after(value, now=self.wall_clock() if value else None)

    @staticmethod
    def retryable(status: int | None = None, kind: str | None = None) -> bool:
        """True for outcomes worth another try: timeouts, connection errors, 429 and 5xx."""
        if kind in (TIMEOUT, CONNECTION):
            return True
        return status is not None and (status == 429 or 500 <= status <= 599)

    def backoff(self, attempt: int) -> float:
        """Jittered wait after ``attempt`` failed attempts: half fixed, half random ("equal jitter")."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return ceiling / 2 + self.rng.random() * ceiling / 2

    def after_failure(
        self,
        attempt: int,
        *,
        status: int | None,
        kind: str | None,
        headers: Mapping[str, str],
        idempotent: bool,
    ) -> tuple[float | None, float | None]:
        """What to do after a failed attempt: ``(delay or None to give up, Retry-After seconds)``.

        The one decision both the single-call path and the bulk engine make after each failure.
        """
        retry_after = self.retry_after(headers.get("Retry-After")) if status is not None else None
        wait = self.delay(
            attempt, status=status, kind=kind, retry_after=retry_after, idempotent=idempotent
        )
        return wait, retry_after

    def delay(
        self,
        attempt: int,
        *,
        status: int | None = None,
        kind: str | None = None,
        retry_after: float | None = None,
        idempotent: bool = True,
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up now.

        :param attempt: attempts made so far (1 after the first failed)
        :param status: the HTTP status of the failed attempt, if it got one
        :param kind: :data:`TIMEOUT` or :data:`CONNECTION` when it got no status
        :param retry_after: the server's ``Retry-After`` in seconds, if any
        :param idempotent: False for a request that could have done something and cannot be
            safely repeated (only a 429 is retried then)
        """
        if attempt >= self.max_attempts or not self.retryable(status, kind):
            return None
        if not idempotent and status != 429:
            return None
        wait = self.backoff(attempt)
        if retry_after is not None and status in (429, 503):
            if retry_after > self.max_retry_after:
                return None
            wait = max(wait, retry_after)
        return wait


def transport_error(
    method: str,
    path: str,
    base_url: str,
    attempts: int,
    exc: BaseException | None,
    *,
    secrets: tuple[str | None, ...] = (),
    unsendable: bool = False,
) -> TransportError:
    """The error for a request that never got an HTTP answer, saying what to check.

    :param secrets: strings to redact from the library's exception text (the API key)
    :param unsendable: the request could not even be built or sent (bad URL or header),
        so the network is not the thing to check
    """
    what = type(exc).__name__ if exc is not None else "no answer"
    detail = redact(str(exc).strip(), *secrets) if exc is not None else ""
    said = f"{what}: {detail}" if detail else what
    if unsendable:
        return TransportError(
            f"Could not send {method} {path} to {base_url} ({said}). Check {ENV_BASE} (a full "
            f"http(s):// URL) and that {ENV_KEY} and {ENV_APP_ID} have no stray characters; "
            "nothing was sent."
        )
    tries = f"{attempts} attempts" if attempts != 1 else "1 attempt"
    return TransportError(
        f"No answer from {base_url} to {method} {path} after {tries} ({said}). Check the network "
        f"and {ENV_BASE}; if you use the local sandbox, check that it is still running. Resending "
        "is safe: requests carry idempotency keys."
    )
