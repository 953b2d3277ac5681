"""The sandbox clock: wall time plus an offset that tests and notebooks move forward.

``Sandbox.advance(hours=12)`` moves it (through the admin route ``POST /_sandbox/clock``);
scheduled notifications, idempotency windows and the tag-propagation delay all read this clock,
never ``time.time()`` directly, so a day of schedules can be rehearsed in a second. The offset
is kept in the store, so a sandbox restarted on the same file keeps its time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Seconds since the epoch, ``offset`` seconds ahead of the wall clock."""

    def __init__(self, offset: float = 0.0, *, wall=time.time) -> None:
        self.offset = float(offset)
        self._wall = wall

    def now(self) -> float:
        return self._wall() + self.offset

    def advance(self, seconds: float) -> float:
        """Move forward (never back: time-travel would reorder what was already delivered)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward; advance by >= 0 seconds")
        self.offset += float(seconds)
        return self.now()

    def to_dict(self) -> dict[str, object]:
        now = self.now()
        return {
            "now": now,
            "iso": datetime.fromtimestamp(now, UTC).isoformat(),
            "offset_s": self.offset,
        }
