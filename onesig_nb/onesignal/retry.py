"""When to try a request again, and how long to wait first.

Retried: timeouts, connection errors, 429 (waiting at least ``Retry-After``) and 5xx.
Never retried: 400/401/403/404 and every other 4xx, which would fail the same way again.
A request that is not idempotent (a create-notification without an idempotency key) is only
retried on 429, which OneSignal answers before doing anything. Every other retry of a POST
reuses the same idempotency key, so it can never duplicate a push (reference §4.2, §5).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..config import ENV_BASE
from ..errors import TransportError

__all__ = ["CONNECTION", "TIMEOUT", "RetryPolicy", "parse_retry_after", "transport_error"]

#: Outcome kinds for failures that produced no HTTP status.
TIMEOUT = "timeout"
CONNECTION = "connection"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (integer/decimal seconds; dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)


@dataclass
class RetryPolicy:
    """Capped exponential backoff with jitter, a maximum number of attempts, Retry-After honoured.

    :param max_attempts: attempts in all, the first included
    :param base: backoff before the second attempt (seconds); doubles each time
    :param cap: longest backoff between two attempts (seconds)
    :param max_retry_after: give up at once when a 429 asks to wait longer than this
    :param rng: a ``random.Random`` for the jitter (inject a seeded one in tests)

    >>> RetryPolicy(rng=random.Random(1)).delay(1, status=503) is not None
    True
    """

    max_attempts: int = 10
    base: float = 0.25
    cap: float = 30.0
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

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
    method: str, path: str, base_url: str, attempts: int, exc: BaseException | None
) -> TransportError:
    """The error for a request that never got an HTTP answer, saying what to check."""
    what = type(exc).__name__ if exc is not None else "no answer"
    detail = str(exc).strip() if exc is not None else ""
    said = f"{what}: {detail}" if detail else what
    tries = f"{attempts} attempts" if attempts != 1 else "1 attempt"
    return TransportError(
        f"No answer from {base_url} to {method} {path} after {tries} ({said}). Check the network "
        f"and {ENV_BASE}; if you use the local sandbox, check that it is still running. Resending "
        "is safe: requests carry idempotency keys."
    )
