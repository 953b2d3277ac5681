"""The sandbox process dies in the middle of a send and comes back on the same store and port.

The client must ride it out (its retries cover the gap) and exactly-once must hold in the sandbox's own records afterwards.
"""

from __future__ import annotations

import threading
import time

import pytest

import onesig_nb as osn

from .conftest import api_requests, cohort_of, fast_retry, people, roster

RECIPIENTS = 1_200  # client-rendered: ~400 distinct texts, so ~400 create requests
CREATE_RATE = 100  # requests/s the client allows itself, so the send lasts a few seconds
STOP_AFTER = 60  # notifications created before the sandbox is stopped
DOWN_SECONDS = 0.5
MESSAGE = "Hi {{ first_name | default: 'there' }}, your cart is waiting"


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_send_survives_a_sandbox_restart_with_exactly_once(tmp_path, tmp_journal):
    df = people(RECIPIENTS, prefix="restart")
    subscribed = set(df.loc[df["subscribed"], "external_id"])
    db = tmp_path / "sandbox.sqlite"
    first = osn.Sandbox(db=str(db))
    app_id, api_key, port, url = first.app_id, first.api_key, first.port, first.url
    first.add_users(roster(df))
    client = osn.OneSignal(
        app_id,
        api_key,
        base_url=url,
        api="legacy",
        timeout=2.0,
        retry=fast_retry(attempts=40),
        rate_limits={"create": CREATE_RATE},
    )
    camp = osn.Campaign(
        "restart",
        cohort_of(df),
        osn.Message(MESSAGE),
        client,
        journal=tmp_journal,
        personalization="client",
        confirm_above=RECIPIENTS + 1,
    )
    outcome: dict = {}

    def send() -> None:
        try:
            outcome["result"] = camp.send(confirm=True, progress=False)
        except Exception as exc:  # the assertion below says what happened
            outcome["error"] = exc

    worker = threading.Thread(target=send, daemon=True)
    second = None
    try:
        worker.start()
        _wait_for(lambda: len(first.notifications()) >= STOP_AFTER, 60, "the send to start")
        first.stop()
        stopped_at = time.time()
        time.sleep(DOWN_SECONDS)
        second = osn.Sandbox(db=str(db), port=port, app_id=app_id, api_key=api_key)
        assert second.url == url
        worker.join(timeout=120)
        assert not worker.is_alive(), "the send hung after the restart"
        assert "error" not in outcome, f"the send did not recover: {outcome.get('error')!r}"

        deliveries = second.deliveries()
        per_user = deliveries.groupby("external_id").size()
        assert set(per_user.index) == subscribed, "everyone, after the restart"
        assert (per_user == 1).all(), f"duplicates: {per_user[per_user > 1].head()}"
        assert second.notifications()["idempotency_key"].is_unique
        log = api_requests(second)
        after = log[log["at"].astype(float) > stopped_at]
        assert len(after) >= 50, "the restart must happen in the middle of the send"
    finally:
        client.close()
        if second is not None:
            second.stop()
        first.stop()
