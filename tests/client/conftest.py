"""Fixtures for the client tests: a scriptable fake OneSignal on 127.0.0.1 and a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from .client_fakes import API_KEY, APP_ID, FakeAPI, FakeTime


@pytest.fixture
def fake_api():
    api = FakeAPI().start()
    yield api
    api.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_api, fake_time):
    """Build a client bound to the fake API, with the fake clock and no rate limiting."""
    from onesig_nb.onesignal import OneSignal, RetryPolicy

    made = []

    def make(api: str = "current", **options: Any) -> OneSignal:
        import random

        options.setdefault("rate_limits", False)
        options.setdefault("retry", RetryPolicy(rng=random.Random(3)))
        options.setdefault("timeout", 2.0)
        client = OneSignal(
            APP_ID,
            API_KEY,
            base_url=fake_api.url,
            api=api,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
