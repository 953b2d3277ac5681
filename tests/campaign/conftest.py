"""Fixtures of the campaign tests: a module-wide sandbox with a known roster and a journal."""

from __future__ import annotations

import pandas as pd
import pytest

PEOPLE = 240
NAMES = ["Ana", "Ben", "Chloé", "Dmitri"]


def people(n: int = PEOPLE, prefix: str = "cp") -> pd.DataFrame:
    """external_id, platform, subscribed (every 10th is not), first_name, plan, ltv."""
    return pd.DataFrame(
        {
            "external_id": [f"{prefix}-{i:04d}" for i in range(n)],
            "platform": [("ios", "android", "web")[i % 3] for i in range(n)],
            "subscribed": [i % 10 != 4 for i in range(n)],
            "first_name": [NAMES[i % 4] for i in range(n)],
            "plan": [("free", "pro")[i % 2] for i in range(n)],
            "ltv": [float(i * 3) for i in range(n)],
        }
    )


@pytest.fixture(scope="module")
def roster() -> pd.DataFrame:
    return people()


@pytest.fixture(scope="module")
def sb(roster):
    import onesig_nb as osn

    with osn.Sandbox() as sandbox:
        sandbox.add_users(roster[["external_id", "platform", "subscribed"]])
        sandbox.add_users([{"external_id": "qa-1", "platform": "ios"}])
        yield sandbox


@pytest.fixture
def client(sb):
    import onesig_nb as osn

    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, api="current") as c:
        yield c


@pytest.fixture
def cohort(roster):
    import onesig_nb as osn

    return osn.Cohort.from_frame(roster[["external_id", "first_name", "plan", "ltv"]])
