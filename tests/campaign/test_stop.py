"""Stopping a 20,000-person send (50 ms per request): from the panel's Stop button, from
``Campaign.stop()`` on another thread, and with Ctrl-C. The requests in flight finish and are
journaled, the split is reported, the journal agrees with what the sandbox delivered, and the
next send resumes and finishes with nobody pushed twice."""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.errors import OneSigNbError, SendStopped
from onesig_nb.message import Message
from onesig_nb.widgets import SendPanel

PEOPLE = 20_000
LATENCY_MS = 50
#: 100 requests, at most 4 in flight: a send takes seconds, so a stop lands in the middle
BATCH, WORKERS = 200, 4
#: stop once this many people were answered
STOP_AT = 2_000
IDS = [f"stop-{i:05d}" for i in range(PEOPLE)]
MSG = Message(contents="Hi {{ first_name | default: 'there' }}, your cart is waiting")


@pytest.fixture(scope="module")
def sb():
    with osn.Sandbox(latency_ms=LATENCY_MS) as sandbox:
        sandbox.add_users(pd.DataFrame({"external_id": IDS, "platform": "android"}))
        yield sandbox


@pytest.fixture
def camp(sb, tmp_path, request):
    client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, max_workers=WORKERS)
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": IDS, "first_name": "Ana"}))
    yield Campaign(
        request.node.name[:40], cohort, MSG, client, journal=tmp_path / "j.sqlite",
        batch_size=BATCH,
    )  # fmt: skip
    client.close()


def delivered(camp: Campaign, sb) -> pd.DataFrame:
    """The sandbox's deliveries of this campaign's notifications."""
    nids = {b.notification_id for b in camp.journal.batches(camp.name) if b.notification_id}
    got = sb.deliveries()
    return got[got.notification_id.isin(nids)]


def assert_journal_agrees_with_the_sandbox(camp: Campaign, sb, *, sent: int) -> None:
    frame = camp.result().to_frame()
    journaled = set(frame.loc[frame.status == "sent", "external_id"])
    got = delivered(camp, sb)
    assert len(journaled) == sent
    assert set(got.external_id) == journaled  # delivered exactly to whom the journal says
    assert not got.external_id.duplicated().any()  # each person once
    unanswered = camp.journal.batches(camp.name, states=("intent",))
    assert sum(b.size for b in unanswered) == PEOPLE - sent
    assert all(b.attempts == 0 for b in unanswered)  # nothing in flight was abandoned


def assert_resume_finishes_exactly_once(camp: Campaign, sb, *, left: int) -> None:
    again = camp.send(confirm=left, progress=False)
    assert again.requests == left // BATCH and again.complete
    assert again.summary["sent"] == PEOPLE and camp.status == "sent"
    got = delivered(camp, sb)
    assert sorted(got.external_id) == IDS  # everyone, nobody twice


def test_campaign_stop_from_another_thread_finishes_in_flight_and_resumes(camp, sb):
    def progress(done, total):
        if done >= STOP_AT:
            stopper = threading.Thread(target=camp.stop)  # as another cell's thread would
            stopper.start()
            stopper.join()

    started = time.monotonic()
    with pytest.raises(SendStopped) as exc:
        camp.send(confirm=PEOPLE, progress=progress)
    stopped = exc.value
    assert 0 < stopped.sent < PEOPLE and stopped.sent + stopped.left == PEOPLE
    assert str(stopped).startswith(f"Stopped: {stopped.sent:,} sent, {stopped.left:,} left;")
    assert "send() resumes" in str(stopped) and "nobody gets the push twice" in str(stopped)
    assert stopped.result.summary["pending"] == stopped.left
    assert camp.status == "interrupted" and not camp.stop()  # nothing running any more
    assert_journal_agrees_with_the_sandbox(camp, sb, sent=stopped.sent)
    assert_resume_finishes_exactly_once(camp, sb, left=stopped.left)
    assert time.monotonic() - started < 60


def test_a_stop_event_passed_to_send_does_the_same(camp, sb):
    stop = threading.Event()
    with pytest.raises(SendStopped) as exc:
        camp.send(confirm=PEOPLE, stop=stop, progress=lambda d, t: d >= STOP_AT and stop.set())
    assert exc.value.left > 0
    assert_journal_agrees_with_the_sandbox(camp, sb, sent=exc.value.sent)
    assert_resume_finishes_exactly_once(camp, sb, left=exc.value.left)


@pytest.fixture
def ctrl_c_live():
    """Ctrl-C reaches Python as in a notebook kernel or a terminal. A test run started in the
    background by a non-interactive shell (``nohup make test &``) inherits SIGINT *ignored*,
    and a send rightly leaves an ignored Ctrl-C alone; these tests are about a live one."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _frames(exc: BaseException) -> list[str]:
    return [f.filename for f in traceback.extract_tb(exc.__traceback__)]


def test_ctrl_c_ends_with_the_plain_stopped_message_not_an_engine_traceback(camp, sb, ctrl_c_live):
    def progress(done, total):
        if done >= STOP_AT and not getattr(progress, "sent", False):
            progress.sent = True
            os.kill(os.getpid(), signal.SIGINT)  # a notebook's Interrupt Kernel

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(SendStopped) as exc:
        camp.send(confirm=PEOPLE, progress=progress)
    assert signal.getsignal(signal.SIGINT) is handler  # put back after the send
    assert isinstance(exc.value, KeyboardInterrupt) and isinstance(exc.value, OneSigNbError)
    assert str(exc.value).startswith("Stopped: ") and exc.value.left > 0
    assert not any(f.endswith("engine.py") for f in _frames(exc.value))
    assert exc.value.__cause__ is None and exc.value.__context__ is None
    assert_journal_agrees_with_the_sandbox(camp, sb, sent=exc.value.sent)
    assert_resume_finishes_exactly_once(camp, sb, left=exc.value.left)


def test_a_second_ctrl_c_abandons_in_flight_requests_and_the_resume_is_still_exactly_once(
    camp, sb, ctrl_c_live
):
    def progress(done, total):
        if done >= STOP_AT and not getattr(progress, "sent", False):
            progress.sent = True
            os.kill(os.getpid(), signal.SIGINT)  # stop ...
            time.sleep(0.05)  # (the handler runs)
            os.kill(os.getpid(), signal.SIGINT)  # ... now: do not wait

    with pytest.raises(SendStopped) as exc:
        camp.send(confirm=PEOPLE, progress=progress)
    assert "abandoned" in str(exc.value) and "same idempotency keys" in str(exc.value)
    assert exc.value.__suppress_context__  # the raw KeyboardInterrupt is not shown
    assert not any(f.endswith("engine.py") for f in _frames(exc.value))
    assert camp.status == "interrupted"
    assert_resume_finishes_exactly_once(camp, sb, left=exc.value.left)


def test_the_panel_stop_button_reports_the_split_and_send_resumes(camp, sb):
    panel = SendPanel(camp, report=False)
    panel.send_button.click()
    panel.confirm_text.value = str(PEOPLE)
    panel.confirm_button.click()
    assert panel.sending and panel.stop_button.layout.display != "none"
    deadline = time.monotonic() + 30
    while panel.progress.value < STOP_AT and panel.sending and time.monotonic() < deadline:
        time.sleep(0.005)  # the kernel's thread is free while the worker sends
    assert "people/s" in panel.progress_text.value
    panel.stop_button.click()
    assert panel.wait(60)
    status = panel.status.value
    assert "Stopped: " in status and "Send resumes." in status
    frame = camp.result().to_frame()
    sent = int((frame.status == "sent").sum())
    left = PEOPLE - sent
    assert f"Stopped: {sent:,} sent, {left:,} left; Send resumes." in status
    assert 0 < sent < PEOPLE and panel.stop_button.layout.display == "none"
    assert_journal_agrees_with_the_sandbox(camp, sb, sent=sent)

    assert panel.send_button.description == f"Send to {left:,} people"
    panel.send_button.click()
    panel.confirm_text.value = str(left)
    panel.confirm_button.click()
    assert panel.wait(60)
    assert panel.send_button.description == "Already sent"
    assert sorted(delivered(camp, sb).external_id) == IDS  # everyone, nobody twice
