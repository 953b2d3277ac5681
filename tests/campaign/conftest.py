"""Fixtures of the campaign tests: a module-wide sandbox with a known roster, a journal path,
a campaign builder over the in-memory fakes, and a clock that runs ahead (no test sleeps)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest

from onesig_nb.campaign import Campaign
from onesig_nb.campaign.mode import TAG_PROPAGATION_SECONDS
from onesig_nb.message import Message

from .fakes import FakeClient, FakeCohort

PEOPLE = 240
NAMES = ["Ana", "Ben", "Chloé", "Dmitri"]

#: The message most fake-client tests send: one Liquid variable with a default.
HELLO = Message(contents="Hi {{ first_name | default: 'there' }}", headings="Cart")


def make(journal, n=50, *, client=None, msg=None, name="nudge", **kw) -> Campaign:
    """A campaign over ``n`` fake people named Ana (or ``cohort=``), sent through a
    :class:`~tests.campaign.fakes.FakeClient` that takes 10 ids per request unless given one."""
    client = client or FakeClient(max_ids=10)
    cohort = kw.pop("cohort", None)
    cohort = FakeCohort.of(n, first_name="Ana") if cohort is None else cohort
    return Campaign(name, cohort, msg or HELLO, client, journal=journal, **kw)


def clock_ahead(seconds: float) -> Callable[[], dt.datetime]:
    """A clock ``seconds`` ahead of the real one, for ``Campaign(now=...)``."""
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


#: A clock past OneSignal's tag-propagation wait for tags written just now.
AFTER_TAG_PROPAGATION = clock_ahead(TAG_PROPAGATION_SECONDS + 5)


@pytest.fixture
def journal(tmp_path):
    """Where a test's campaign journal lives (created on first use)."""
    return tmp_path / "campaigns.sqlite"


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
