"""Misbehaviour on purpose: seeded fault injection and opt-in per-endpoint-group rate limits.

Faults: a seeded fraction of API requests fails as one of
- ``"429"``: 429 with ``Retry-After`` (never applied),
- ``"503"``: 503 (never applied),
- ``"reset"``: the connection is reset before any response byte,
- ``"stall"``: no answer for ``stall_seconds`` (longer than a client timeout), then a reset.
For ``reset`` and ``stall`` the request may or may not have been applied first; the same seeded
RNG decides, and the request log records it (``fault``, ``applied``).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from onesig_nb.sandbox import limits

FAULT_KINDS = ("429", "503", "reset", "stall")
DEFAULT_STALL_SECONDS = 35.0
DEFAULT_RETRY_AFTER = 1
MAX_BUCKETS = 100_000  # per-user buckets kept before idle ones are dropped

#: endpoint group -> default requests per second (the "Rate limits" reference, free plan);
#: "view" covers view message and view user, 1/s per app with its own bucket
DEFAULT_RATE_LIMITS = {
    "create": limits.CREATE_NOTIFICATION_PER_SECOND_FREE,
    "users": limits.USER_UPDATES_PER_SECOND,
    "per_user": limits.USER_UPDATES_PER_USER_PER_SECOND,
    "view": limits.VIEW_PER_SECOND,
}
#: group -> bucket size when it is larger than one second's budget ("10 requests/sec
#: look-back" on view calls, docs: rate-limits)
BURSTS = {"view": limits.VIEW_BURST}


@dataclass
class Fault:
    kind: str
    applied: bool


@dataclass
class FaultPlan:
    """Which requests fail, decided by a seeded RNG in arrival order."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 1
    stall_seconds: float = DEFAULT_STALL_SECONDS
    retry_after: int = DEFAULT_RETRY_AFTER
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> FaultPlan:
        rate = float(spec.get("rate", 0.2))
        kinds = tuple(str(k) for k in spec.get("kinds") or FAULT_KINDS)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {list(FAULT_KINDS)}")
        seed = int(spec.get("seed", 1))
        stall = spec.get("stall_seconds")
        return cls(
            rate=rate,
            kinds=kinds,
            seed=seed,
            stall_seconds=DEFAULT_STALL_SECONDS if stall is None else float(stall),
            retry_after=int(spec.get("retry_after", DEFAULT_RETRY_AFTER)),
            rng=random.Random(seed),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "stall_seconds": self.stall_seconds,
            "retry_after": self.retry_after,
        }

    def draw(self) -> Fault | None:
        """The fault for the next request, or None."""
        if self.rate <= 0:
            return None
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        applied = kind in ("reset", "stall") and self.rng.random() < 0.5
        return Fault(kind, applied)


class RateLimiter:
    """Token buckets per (group, key): ``N`` requests/s with bursts of ``N``; off until set."""

    def __init__(self, spec: dict[str, Any] | bool | None = None, clock=time.monotonic) -> None:
        self.clock = clock
        self.limits: dict[str, float] = {}
        self.buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, at)
        self.configure(spec)

    def configure(self, spec: dict[str, Any] | bool | None) -> None:
        """None/False = off; True = the documented defaults; a dict overrides groups."""
        self.buckets.clear()
        if not spec:
            self.limits = {}
            return
        chosen = dict(DEFAULT_RATE_LIMITS)
        if isinstance(spec, dict):
            for group, value in spec.items():
                if group not in DEFAULT_RATE_LIMITS:
                    raise ValueError(
                        f"unknown rate-limit group {group!r}; use {list(DEFAULT_RATE_LIMITS)}"
                    )
                if value is None:
                    chosen.pop(group, None)
                elif float(value) <= 0:
                    raise ValueError(f"rate limit for {group!r} must be > 0 requests/s")
                else:
                    chosen[group] = float(value)
        self.limits = chosen

    def to_dict(self) -> dict[str, float]:
        return dict(self.limits)

    def check(self, group: str, user: str | None = None) -> int | None:
        """None if allowed (one token taken from each bucket), else Retry-After seconds."""
        if not self.limits:
            return None
        now = self.clock()
        keys = []
        if group in self.limits:
            keys.append((group, ""))
        if user is not None and "per_user" in self.limits:
            keys.append(("per_user", user))
        if len(self.buckets) > MAX_BUCKETS:
            self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 2.0}
        levels = []
        for key in keys:
            rate = self.limits[key[0]]
            size = max(rate, BURSTS.get(key[0], 0.0))
            tokens, at = self.buckets.get(key, (size, now))
            tokens = min(size, tokens + (now - at) * rate)
            if tokens < 1.0:
                return max(1, math.ceil((1.0 - tokens) / rate))
            levels.append((key, tokens))
        for key, tokens in levels:
            self.buckets[key] = (tokens - 1.0, now)
        return None
