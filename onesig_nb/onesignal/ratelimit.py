"""Client-side rate limiting, so a big job slows down instead of collecting 429s.

One token bucket per endpoint group (OneSignal's documented per-app budgets, reference §5):

``create``    create and cancel notifications: 150/s on the free plan (6,000/s paid)
``users``     user updates, tag edits included: 1,000/s per app
``per_user``  user updates for ONE user: 1/s
``view``      view notification / view user: 1/s (burst 10, the documented look-back)

Buckets hand out *reservations*: :meth:`RateLimiter.reserve` returns how long the caller must
wait before sending, so the same limiter serves the synchronous client (which sleeps) and the
asyncio engine (which awaits), with an injectable clock for tests. A caller first waits out
:meth:`RateLimiter.user_wait` (the per-user slot, without holding a connection), then reserves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from onesig_nb.errors import ValidationError
from onesig_nb.onesignal import limits

__all__ = ["CREATE", "DEFAULT_RATES", "USERS", "VIEW", "RateLimiter", "TokenBucket"]

CREATE = "create"
USERS = "users"
VIEW = "view"
PER_USER = "per_user"

DEFAULT_RATES: dict[str, float | None] = {
    CREATE: limits.CREATE_NOTIFICATION_PER_SECOND_FREE,
    USERS: limits.USER_UPDATES_PER_SECOND,
    PER_USER: limits.USER_UPDATES_PER_USER_PER_SECOND,
    VIEW: limits.VIEW_PER_SECOND,
}

#: Burst sizes: a 50 ms worth of requests for the big groups (so a measured rate stays within a
#: few percent of the configured one), 10 for the view group ("10 requests/sec look-back").
_BURST_SECONDS = 0.05
_VIEW_BURST = 10

_PURGE_EVERY = 10_000


class TokenBucket:
    """A rate ``rate``/s with bursts up to ``burst`` requests (GCRA: virtual scheduling)."""

    __slots__ = ("rate", "burst", "_interval", "_tolerance", "_tat")

    def __init__(self, rate: float, *, burst: float | None = None):
        if rate <= 0:
            raise ValidationError(f"A rate limit must be positive, not {rate!r}.")
        self.rate = float(rate)
        self.burst = max(1.0, float(burst if burst is not None else rate * _BURST_SECONDS))
        self._interval = 1.0 / self.rate
        self._tolerance = (self.burst - 1.0) * self._interval
        self._tat = float("-inf")  # theoretical arrival time of the next request

    def reserve(self, now: float) -> float:
        """Reserve one request at or after ``now``; return how long to wait before sending it."""
        tat = self._tat if self._tat > now else now
        self._tat = tat + self._interval
        wait = tat - self._tolerance - now
        return wait if wait > 0 else 0.0


class RateLimiter:
    """The client's buckets, shared by its synchronous calls and its engine (thread-safe).

    :param rates: overrides of :data:`DEFAULT_RATES` by group; ``None`` turns a group off
    :param clock: monotonic seconds (inject a fake one in tests)
    """

    def __init__(
        self,
        rates: Mapping[str, float | None] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        merged = dict(DEFAULT_RATES)
        unknown = set(rates or {}) - set(merged)
        if unknown:
            raise ValidationError(
                f"Unknown rate limit group(s) {sorted(unknown)}; use {sorted(merged)}."
            )
        merged.update(rates or {})
        self.rates = merged
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        for group in (CREATE, USERS, VIEW):
            rate = merged[group]
            if rate:
                burst = _VIEW_BURST if group == VIEW else None
                self._buckets[group] = TokenBucket(rate, burst=burst)
        per_user = merged[PER_USER]
        self._per_user_interval = 1.0 / per_user if per_user else 0.0
        self._next_for_user: dict[str, float] = {}
        self._since_purge = 0
        self._lock = threading.Lock()

    def user_wait(self, user: str | None) -> float:
        """Seconds until ``user`` may send again under the per-user limit (0: now); books nothing.

        Callers wait this out *before* taking a connection slot and calling :meth:`reserve`, so
        a user waiting for its 1/s slot never holds up other users' requests.
        """
        if user is None or not self._per_user_interval:
            return 0.0
        with self._lock:
            wait = self._next_for_user.get(user, 0.0) - self.clock()
        return wait if wait > 0 else 0.0

    def reserve(self, group: str, user: str | None = None) -> float:
        """Book one request of ``group`` (for ``user``, if given); return seconds to wait first.

        The shared bucket is booked at *now*, never at the user's future slot, so one user's
        wait does not push back every other user (head-of-line blocking). The user's next slot
        is booked from the moment this request actually goes out (after both waits), so the
        per-user rate holds even when the bucket delays a request, retries included.
        """
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(group)
            send = now + bucket.reserve(now) if bucket is not None else now
            if user is not None and self._per_user_interval:
                ready = self._next_for_user.get(user, send)
                if ready > send:
                    send = ready
                self._next_for_user[user] = send + self._per_user_interval
                self._since_purge += 1
                if self._since_purge >= _PURGE_EVERY:
                    self._purge(now)
            return send - now

    def _purge(self, now: float) -> None:
        self._since_purge = 0
        self._next_for_user = {u: t for u, t in self._next_for_user.items() if t > now}
