"""Helpers of the reliability suite: a cohort of people, API request counts, fast retries."""

from __future__ import annotations

import pandas as pd
import pytest

NAMES = ["Ana", "Ben", "Chloé", "Dmitri", "Eva", "Femi", "Gus", "Hana", "Ivo", "Jun"]
PLATFORMS = ("ios", "android", "web")


def people(n: int, *, prefix: str = "rel", unsubscribed_every: int = 20) -> pd.DataFrame:
    """``n`` people: external_id, platform, subscribed, first_name (some missing), plan, ltv."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "external_id": f"{prefix}-{i:06d}",
                "platform": PLATFORMS[i % 3],
                "subscribed": not (unsubscribed_every and i % unsubscribed_every == 7),
                "first_name": None if i % 9 == 4 else f"{NAMES[i % len(NAMES)]}{i % 37}",
                "plan": ("free", "pro", "business")[i % 3],
                "ltv": float((i * 37) % 900),
            }
        )
    return pd.DataFrame(rows)


def roster(df: pd.DataFrame) -> list[dict]:
    """The sandbox records for these people (no tags yet)."""
    return [
        {"external_id": r.external_id, "platform": r.platform, "subscribed": bool(r.subscribed)}
        for r in df.itertuples()
    ]


def cohort_of(df: pd.DataFrame):
    """A Cohort of these people, with their traits (first_name, plan, ltv)."""
    import onesig_nb as osn

    return osn.Cohort.from_frame(df[["external_id", "first_name", "plan", "ltv"]])


def api_requests(sb) -> pd.DataFrame:
    """The sandbox's request log without its own admin routes."""
    log = sb.requests()
    if len(log) == 0:
        return log
    return log[~log["path"].astype(str).str.startswith("/_sandbox")]


def fast_retry(attempts: int = 14):
    """A retry policy with many attempts and short waits (faults at 20% need a few)."""
    import random

    from onesig_nb.onesignal.retry import RetryPolicy

    return RetryPolicy(max_attempts=attempts, base=0.02, cap=0.5, rng=random.Random(3))


@pytest.fixture
def tmp_journal(tmp_path):
    return str(tmp_path / "campaigns.sqlite")
