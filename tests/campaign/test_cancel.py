"""``Campaign.cancel()``, the kill switch, against a real sandbox and its movable clock.

- A scheduled campaign cancelled before its time: nothing is delivered, ``send()`` refuses
  (and says ``reopen``), the plan is blocked, and ``send(reopen=True)`` sends it after all
  with new requests (new idempotency keys: OneSignal must not replay the cancelled
  notifications), delivered once.
- A campaign sent at once and already delivered: everyone is listed as ``gone_out``, and their
  pushes still count against the frequency cap.
- A campaign stopped after its first batch, then cancelled: the unsent batches are
  ``stopped``, nothing more goes out, and the people cancelled do not count against a later
  campaign's cap (the ledger ignores cancelled batches).
- A cancel from another process (its own journal connection) while a send is running: the
  send stops and the campaign stays cancelled.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.errors import CampaignConflict, SendStopped
from onesig_nb.journal import Journal
from onesig_nb.message import Message

CAP = osn.Rules(max_per_person=(1, "24h"))


@pytest.fixture(scope="module")
def sb():
    with osn.Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def people(sb, request):
    """Thirty people of the test's own (android; every third has a second, iOS device)."""
    prefix = request.node.name[5:25]
    ids = [f"{prefix}-{i:02d}" for i in range(30)]
    sb.add_users(
        [{"external_id": eid, "platform": "android"} for eid in ids]
        + [{"external_id": eid, "platform": "ios"} for eid in ids[::3]]
    )
    return ids


@pytest.fixture
def client(sb):
    """One request at a time: the client then takes at most 8 requests ahead of the answers
    it has handed back (``engine.map``'s window), so a stop after the first answer leaves
    most of 30 one-person batches unsent."""
    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url, max_workers=1) as c:
        yield c


def cohort(ids):
    return osn.Cohort.from_frame(pd.DataFrame({"external_id": list(ids)}))


def delivered(sb, nids) -> pd.DataFrame:
    """Deliveries of these notifications, one row per (notification, person)."""
    got = sb.deliveries()
    got = got[got["notification_id"].isin(set(nids))]
    return got.drop_duplicates(["notification_id", "external_id"])


def test_a_cancelled_scheduled_campaign_delivers_nothing_until_reopened(
    sb, client, people, tmp_path
):
    when = (sb.now() + timedelta(hours=5)).replace(second=0, microsecond=0)
    camp = Campaign(
        "sched", cohort(people), Message(contents="Tomorrow's sale"), client,
        journal=tmp_path / "j.sqlite", schedule=when, batch_size=5, now=sb.now,
    )  # fmt: skip
    first = camp.send(progress=False)
    assert first.summary["sent"] == len(people) and len(first.notification_ids) == 6
    old = sb.notifications()
    old = old[old["id"].isin(first.notification_ids)]
    assert set(old["state"]) == {"scheduled"}

    gone = camp.cancel()
    assert gone.counts == {"cancelled": 30, "stopped": 0, "gone_out": 0, "unknown": 0}
    assert gone.requests == 6 and camp.status == "cancelled"
    assert set(gone.to_frame()["external_id"]) == set(people)
    frame = camp.result().to_frame()
    assert set(frame["status"]) == {"cancelled"} and frame["error"].str.len().gt(0).all()
    assert not camp.journal.deliveries(sb.app_id, since="2000-01-01T00:00:00+00:00")

    sb.advance(hours=6)
    assert delivered(sb, first.notification_ids).empty
    assert set(sb.notifications().set_index("id").loc[list(first.notification_ids), "state"]) == {
        "canceled"
    }

    with pytest.raises(CampaignConflict, match=r"reopen=True"):
        camp.send(progress=False)
    plan = camp.plan()
    assert plan.state == "conflict" and "cancelled" in plan.blocked and "reopen" in plan.blocked

    again = camp.send(progress=False, reopen=True)
    assert again.summary["sent"] == len(people) and camp.status == "sent"
    assert not set(again.notification_ids) & set(first.notification_ids)
    notes = sb.notifications().set_index("id")
    new_keys = set(notes.loc[list(again.notification_ids), "idempotency_key"])
    assert not new_keys & set(old["idempotency_key"])  # new requests, not replays
    sb.advance(hours=1)
    got = delivered(sb, again.notification_ids)
    assert sorted(got["external_id"]) == sorted(people)  # each person once
    assert delivered(sb, first.notification_ids).empty


def test_cancel_after_delivery_lists_everyone_as_gone_out(sb, client, people, tmp_path):
    journal = tmp_path / "j.sqlite"
    camp = Campaign(
        "now", cohort(people), Message(contents="Hello"), client, journal=journal, now=sb.now
    )
    result = camp.send(progress=False)
    assert len(delivered(sb, result.notification_ids)) == len(people)

    gone = camp.cancel()
    assert gone.counts == {"cancelled": 0, "stopped": 0, "gone_out": 30, "unknown": 0}
    assert "had already got it" in str(gone)
    frame = gone.to_frame()
    assert set(frame["status"]) == {"gone_out"} and set(frame["external_id"]) == set(people)
    # what went out still counts against the cap
    later = Campaign(
        "later", cohort(people), Message(contents="Again"), client, journal=journal,
        rules=CAP, now=sb.now,
    )  # fmt: skip
    out = later.send(progress=False).to_frame()
    assert set(out["status"]) == {"excluded"} and out["error"].str.startswith("capped").all()
    # reopening sends nobody twice: everyone was reached
    reopened = camp.send(progress=False, reopen=True)
    assert reopened.requests == 0
    assert len(delivered(sb, result.notification_ids)) == len(people)
    assert sb.deliveries()["external_id"].isin(people).sum() == len(people) + len(people[::3])


def test_a_stopped_then_cancelled_campaign_frees_the_cap_of_those_it_never_reached(
    sb, client, people, tmp_path
):
    journal = tmp_path / "j.sqlite"
    camp = Campaign(
        "halfway", cohort(people), Message(contents="Halfway"), client, journal=journal,
        rules=CAP, batch_size=1, now=sb.now,
    )  # fmt: skip
    stop = threading.Event()
    with pytest.raises(SendStopped) as exc:
        camp.send(progress=lambda done, total: stop.set(), stop=stop)
    sent, left = exc.value.sent, exc.value.left
    # the client keeps a window of requests ahead of the answers, so a few went out
    assert 1 <= sent < len(people) and sent + left == len(people)
    reached = set(camp.result().to_frame().query("status == 'sent'")["external_id"])
    assert len(reached) == sent

    gone = camp.cancel()
    assert gone.counts == {"cancelled": 0, "stopped": left, "gone_out": sent, "unknown": 0}
    frame = gone.to_frame()
    assert set(frame.loc[frame["status"] == "gone_out", "external_id"]) == reached
    stopped = set(frame.loc[frame["status"] == "stopped", "external_id"])
    assert stopped == set(people) - reached

    sb.advance(hours=1)
    nids = [b.notification_id for b in camp.journal.batches("halfway") if b.notification_id]
    assert set(delivered(sb, nids)["external_id"]) == reached  # nothing more went out
    with pytest.raises(CampaignConflict, match="reopen"):
        camp.send(progress=False)
    ledger = {r[0] for r in camp.journal.deliveries(sb.app_id, since="2000-01-01T00:00:00+00:00")}
    assert ledger == reached

    later = Campaign(
        "later", cohort(people), Message(contents="Later"), client, journal=journal,
        rules=CAP, now=sb.now,
    )  # fmt: skip
    out = later.send(progress=False).to_frame().set_index("external_id")
    assert set(out.index[out["status"] == "sent"]) == stopped
    capped = out[out["status"] == "excluded"]
    assert set(capped.index) == reached and capped["error"].str.startswith("capped until").all()


def test_a_cancel_from_another_process_while_sending_keeps_the_campaign_cancelled(
    sb, client, people, tmp_path
):
    journal = tmp_path / "j.sqlite"
    msg = Message(contents="Flash sale")

    def campaign() -> Campaign:  # each with its own journal connection, as two processes
        return Campaign(
            "flash", cohort(people), msg, client, journal=Journal(journal), batch_size=1,
            now=sb.now,
        )  # fmt: skip

    sender, elsewhere = campaign(), campaign()
    cancels = []

    def cancel_once(done, total):
        if not cancels:
            cancels.append(elsewhere.cancel())  # elsewhere's cancel stops no send of its own

    try:
        result = sender.send(progress=cancel_once)
    except SendStopped as exc:
        result = exc.result
    [gone] = cancels
    c = gone.counts
    assert c["stopped"] > 0 and c["stopped"] + c["gone_out"] + c["unknown"] == len(people)
    assert result.summary["cancelled"] == c["stopped"]

    # the campaign stays cancelled, whichever process looks
    assert sender.status == "cancelled", sender.journal.run("flash")["status"]
    assert elsewhere.status == "cancelled"
    with pytest.raises(CampaignConflict, match="reopen"):
        elsewhere.send(progress=False)
    sb.advance(hours=1)
    nids = [b.notification_id for b in sender.journal.batches("flash") if b.notification_id]
    assert len(delivered(sb, nids)) == len(people) - c["stopped"]
