"""The membership model: who enters and exits which audience when (the generator's intended world).

The manifest's ground truth is computed from these timelines, never from the generated events.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from onesig_nb.samples.world import (
    ALL_KEYS,
    AS_OF_MS,
    DAY_MS,
    HISTORY_END_MS,
    HISTORY_START_MS,
    HOUR_MS,
    JOURNEY_KEY,
    KNOWN_ONLY_KEYS,
)


def make_timelines(rng: np.random.Generator, people: dict[str, Any]) -> list[tuple]:
    """Who enters/exits which audience when: ``(person, key, [(t_ms, value, tie), ...])``.

    This is the generator's intended world; the manifest is computed from it, not from the events.
    """
    n = people["n"]
    known = np.array(people["known"])
    ltv_rank = np.argsort(np.argsort(people["ltv"])) / max(n - 1, 1)
    probs = {
        "cart_abandoners": np.full(n, 0.14),
        "high_value_users": np.where(ltv_rank >= 0.85, 0.55, 0.01),
        "new_signups": np.full(n, 0.10),
        "churn_risk": np.full(n, 0.09),
        JOURNEY_KEY: np.full(n, 0.06),
    }
    span = HISTORY_END_MS - HOUR_MS - HISTORY_START_MS
    out = []
    for key in ALL_KEYS:
        eligible = known if key in KNOWN_ONLY_KEYS else np.ones(n, bool)
        chosen = np.flatnonzero((rng.random(n) < probs[key]) & eligible)
        if key == JOURNEY_KEY:  # journeys v1 send exits only when the journey has an exit rule
            counts = rng.choice([1, 2], len(chosen), p=[0.8, 0.2])
        else:
            counts = rng.choice([1, 2, 3, 4], len(chosen), p=[0.45, 0.3, 0.17, 0.08])
        starts = HISTORY_START_MS + (rng.random(len(chosen)) * span * 0.85).astype(np.int64)
        gaps = HOUR_MS + rng.exponential(4 * DAY_MS, (len(chosen), 3)).astype(np.int64)
        ties = rng.random(len(chosen)) < 0.25
        for j, p in enumerate(chosen.tolist()):
            t, steps = int(starts[j]), []
            for s in range(int(counts[j])):
                if s:
                    t += 0 if (s == 2 and ties[j]) else int(gaps[j, s - 1])
                if t >= HISTORY_END_MS - HOUR_MS:
                    break
                steps.append([t, s % 2 == 0, s == 2 and bool(ties[j])])
            out.append((p, key, steps))
    # A few transitions exactly at as_of, so "timestamp <= as_of" is really tested.
    moved = 0
    for _p, _key, steps in out:
        if moved >= 3:
            break
        times = [s[0] for s in steps]
        k = next((i for i, x in enumerate(times) if x > AS_OF_MS), len(times)) - 1
        if k >= 0 and not any(s[2] for s in steps) and times[k] < AS_OF_MS - HOUR_MS:
            steps[k][0] = AS_OF_MS
            moved += 1
    return out


def is_member(steps: list, until: int | None = None) -> bool:
    """Whether a timeline ends in the audience (only steps at or before ``until``, if given)."""
    value = False
    for t, v, _tie in steps:
        if until is None or t <= until:
            value = v
    return value
