"""Interrupted sends resume with their keys, unless OneSignal may have forgotten them."""

from __future__ import annotations

import sqlite3

import pytest

from onesig_nb.errors import AuthError, CampaignConflict

from .conftest import make
from .fakes import FakeClient


@pytest.mark.parametrize(
    "stop", [KeyboardInterrupt("Ctrl-C"), AuthError("HTTP 403", status=403)], ids=repr
)
def test_an_interrupted_send_says_so_lists_everyone_and_the_next_send_resumes(journal, stop):
    client = FakeClient(max_ids=10)
    client.raise_after = (2, stop)
    camp = make(journal, client=client)
    with pytest.raises(type(stop)):
        camp.send(progress=False)
    assert camp.status == "interrupted"
    res = camp.result()
    frame = res.to_frame()
    assert len(frame) == 50 and frame.external_id.is_unique
    assert res.summary["accepted_unconfirmed"] == 20 and res.summary["pending"] == 30
    assert not res.complete and "pending" in res.note and "send() again" in res.note
    client.raise_after = None
    again = camp.send(progress=False)
    assert (
        again.requests == 3
        and again.summary["accepted_unconfirmed"] == 50
        and camp.status == "sent"
    )


def test_resuming_batches_older_than_the_idempotency_window_is_refused(journal):
    client = FakeClient(max_ids=10)
    client.crash_after = 2
    camp = make(journal, client=client)
    with pytest.raises(KeyboardInterrupt):
        camp.send(progress=False)
    with sqlite3.connect(journal) as c:
        c.execute("UPDATE batches SET created_at='2020-01-01T00:00:00+00:00'")
    client.crash_after = None
    before = client.count()
    with pytest.raises(CampaignConflict, match="30 days") as exc:
        camp.send(progress=False)
    assert "resend_expired=True" in str(exc.value) and "second time" in str(exc.value)
    assert client.count() == before and camp.plan().state == "conflict"
    res = camp.send(resend_expired=True, progress=False)
    assert res.summary["accepted_unconfirmed"] == 50 and res.requests == 3
