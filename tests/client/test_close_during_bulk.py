"""Closing the client while a bulk generator is open ends it with a typed error, never a hang."""

from __future__ import annotations

import threading
import time

import pytest

from onesig_nb.errors import TransportError
from onesig_nb.onesignal import NotificationRequest, OneSignal

from .client_fakes import API_KEY, APP_ID

PAYLOAD = {"contents": {"en": "Hi"}}


def _stalling_client(fake_api):
    fake_api.handler = lambda seen: ("stall", 0.3, (200, {"id": seen.body["idempotency_key"]}))
    return OneSignal(APP_ID, API_KEY, base_url=fake_api.url, rate_limits=False, max_workers=2)


def _reqs(n):
    return [
        NotificationRequest(
            payload=PAYLOAD, external_ids=(f"u{i}",), idempotency_key=f"k{i}", ref=i
        )
        for i in range(n)
    ]


def test_closing_the_client_ends_an_open_generator_with_a_typed_error(fake_api):
    client = _stalling_client(fake_api)
    results = client.iter_notifications(_reqs(10))
    assert next(results).id == "k0"
    client.close()
    outcome: list = []

    def pull():
        started = time.monotonic()
        try:
            outcome.append(next(results))
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)
        outcome.append(time.monotonic() - started)

    thread = threading.Thread(target=pull, daemon=True)
    thread.start()
    thread.join(5)
    assert outcome, "next() hung after close()"
    error, elapsed = outcome
    assert isinstance(error, TransportError) and "closed" in str(error) and elapsed < 2
    assert next(results, "END") == "END"  # the generator is finished, not stuck


def test_a_generator_first_pulled_after_close_raises_instead_of_restarting(fake_api):
    client = _stalling_client(fake_api)
    engine = client.engine
    results = client.iter_notifications(_reqs(3))
    client.close()
    with pytest.raises(TransportError, match="closed"):
        next(results)
    assert engine._loop is None and not fake_api.seen
