"""An experiment against the sandbox: the holdout is never sent, every variant person gets their
arm's text, re-running sends nothing, and the winner reaches the rest exactly once even when the
sending process is killed with SIGKILL midway."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign.assignment import HOLDOUT, REST


def _texts(sb) -> pd.DataFrame:
    d = sb.deliveries()
    return d[d.status == "sent"] if "status" in d.columns else d


def test_holdout_is_never_sent_and_each_arm_gets_its_own_text(
    seeded_sandbox, client, cohort, variants, tmp_path
):
    before = set(seeded_sandbox.deliveries().notification_id)
    exp = osn.Experiment(
        "holdout-check", cohort, variants, client, journal=tmp_path / "j.sqlite", holdout=0.3
    )

    sent = exp.send(confirm=True, progress=False)

    arms = exp.assign()
    d = seeded_sandbox.deliveries()
    d = d[~d.notification_id.isin(before)]
    holdout = {i for i, a in arms.items() if a == HOLDOUT}
    assert holdout and not (set(d.external_id) & holdout)
    for arm, msg in variants.items():
        members = {i for i, a in arms.items() if a == arm}
        got = d[d.external_id.isin(members)]
        assert set(got.contents) == {msg.to_payload()["contents"]["en"]}
        assert set(got.external_id) <= members
        accepted = set(sent.results[arm].to_frame().query("status == 'sent'").external_id)
        assert got.external_id.nunique() and set(got.external_id) <= accepted
        assert got.groupby("external_id").notification_id.nunique().max() == 1
    assert set(exp.records.held()) == holdout

    again = exp.send(confirm=True, progress=False)

    assert again.requests == 0
    d2 = seeded_sandbox.deliveries()
    assert len(d2[~d2.notification_id.isin(before)]) == len(d)


def test_confirmation_is_for_the_whole_experiment(client, cohort, variants, tmp_path):
    exp = osn.Experiment(
        "confirm-check", cohort, variants, client, journal=tmp_path / "j.sqlite",
        holdout=0.2, confirm_above=5,
    )  # fmt: skip
    total = exp.plan().to_send

    with pytest.raises(osn.errors.ConfirmationRequired, match=f"confirm={total}"):
        exp.send(progress=False)
    with pytest.raises(osn.errors.ConfirmationRequired, match="was confirmed for 3 people"):
        exp.send(confirm=3, progress=False)
    assert exp.send(confirm=total, progress=False).sent > 0


def test_the_winner_goes_to_the_rest_once_and_a_second_arm_is_refused(
    seeded_sandbox, client, cohort, variants, tmp_path
):
    exp = osn.Experiment(
        "winner-once", cohort, variants, client, journal=tmp_path / "j.sqlite",
        holdout=0.1, test_fraction=0.5,
    )  # fmt: skip
    with pytest.raises(osn.ValidationError, match="not sent yet"):
        exp.send_winner("B", confirm=True, progress=False)
    exp.send(confirm=True, progress=False)

    first = exp.send_winner("B", confirm=True, progress=False)

    rest = {i for i, a in exp.assign().items() if a == REST}
    d = seeded_sandbox.deliveries()
    mine = d[d.notification_id.isin(first.results[REST].notification_ids)]
    assert set(mine.external_id) <= rest
    assert set(mine.contents) == {"Variant B: 10% off your cart today"}
    with pytest.raises(osn.errors.CampaignConflict, match="already chose 'B'"):
        exp.send_winner("A", confirm=True, progress=False)
    assert exp.send_winner("auto", confirm=True, progress=False).requests == 0
    assert exp.plan().phase == "done"


CHILD = textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    import onesig_nb as osn

    cfg = json.loads(sys.argv[1])
    cohort = osn.Cohort(pd.read_parquet(cfg["cohort"]))
    client = osn.OneSignal(cfg["app_id"], cfg["key"], base_url=cfg["url"], timeout=5.0)
    variants = {"A": osn.Message(contents="crash A"), "B": osn.Message(contents="crash B")}
    exp = osn.Experiment("crash", cohort, variants, client, journal=cfg["journal"],
                         holdout=0.1, test_fraction=0.2, batch_size=cfg["batch"])
    print("SENDING", flush=True)
    res = exp.send_winner(cfg["arm"], confirm=True, progress=False)
    print("DONE", res.sent, flush=True)
    client.close()
    """
)

CRASH_PEOPLE = 2_000
CRASH_KILLS = 3


def test_phase_two_after_sigkills_reaches_each_remaining_person_exactly_once(tmp_path):
    ids = [f"crash-{i:05d}" for i in range(CRASH_PEOPLE)]
    frame = pd.DataFrame({"external_id": ids})
    frame.to_parquet(tmp_path / "cohort.parquet")
    journal = tmp_path / "j.sqlite"
    with osn.Sandbox() as sb:
        sb.add_users([{"external_id": i, "platform": "android"} for i in ids])
        client = osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url)
        variants = {"A": osn.Message(contents="crash A"), "B": osn.Message(contents="crash B")}
        exp = osn.Experiment(
            "crash", osn.Cohort(frame), variants, client, journal=journal,
            holdout=0.1, test_fraction=0.2, batch_size=20,
        )  # fmt: skip
        exp.send(confirm=True, progress=False)
        phase_one = set(sb.deliveries().external_id)
        sb.set_latency(40)
        cfg = {"cohort": str(tmp_path / "cohort.parquet"), "app_id": sb.app_id,
               "key": sb.api_key, "url": sb.url, "journal": str(journal), "batch": 20,
               "arm": "B"}  # fmt: skip
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        rng = random.Random(15)
        for _ in range(CRASH_KILLS):
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, json.dumps(cfg)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )  # fmt: skip
            assert child.stdout.readline().strip() == "SENDING"
            time.sleep(rng.uniform(0.05, 0.6))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        sb.set_latency(0)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(cfg)],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert "DONE" in done.stdout, done.stderr[-2000:]

        arms = exp.assign()
        rest = {i for i, a in arms.items() if a == REST}
        d = sb.deliveries()
        winner_rows = d[d.contents == "crash B"]
        winner_rows = winner_rows[winner_rows.external_id.isin(rest)]
        per_person = winner_rows.groupby("external_id").size()
        assert set(per_person.index) == rest
        assert per_person.max() == 1
        holdout = {i for i, a in arms.items() if a == HOLDOUT}
        assert not (set(d.external_id) & holdout)
        assert not (phase_one & rest)
        client.close()
