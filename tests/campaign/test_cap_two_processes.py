"""Two processes sending two campaigns to the same people at the same moment cannot both pass
the frequency cap: the cap is checked again inside the transaction that journals the intents
(:func:`onesig_nb.campaign.holds.cap_guard`), so the second one finds the first one's ledger
rows, writes nothing, decides again and leaves everyone out as capped.

Each process reaches the test's sandbox with ``Sandbox.attach`` (its clock too: ``now=sb.now``)
and shares one journal file. They are started together: both import, build (and plan) their
campaign and wait for a "go" file, then send at once, while the test holds the journal's write
lock for a moment so that both have planned (the ledger still empty) before either can write:
the race is certain, and one of them must report that it decided again. Repeated three times.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.campaign import Campaign
from onesig_nb.message import Message

PEOPLE = [f"race-{i:02d}" for i in range(30)]
#: how long the journal stays locked after "go" (both plans take a few milliseconds)
HOLD_SECONDS = 1.5

CHILD = textwrap.dedent(
    """
    import json, logging, os, sys, time
    import pandas as pd
    import onesig_nb as osn
    from onesig_nb.campaign import Campaign
    from onesig_nb.message import Message

    cfg = json.loads(sys.argv[1])
    sb = osn.Sandbox.attach(cfg["url"], cfg["app_id"], cfg["key"])
    client = osn.OneSignal(cfg["app_id"], cfg["key"], base_url=cfg["url"])
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": cfg["ids"]}))
    camp = Campaign(
        cfg["name"], cohort, Message(contents=cfg["text"], headings=cfg["name"]), client,
        journal=cfg["journal"], rules=osn.Rules(max_per_person=(1, "24h")), now=sb.now,
    )
    raced = []  # the cap guard's "capped by another send meanwhile; deciding again"

    class Seen(logging.Handler):
        def emit(self, record):
            if "deciding again" in record.getMessage():
                raced.append(record.getMessage())

    log = logging.getLogger("onesig_nb.campaign.campaign")
    log.setLevel(logging.INFO)
    log.addHandler(Seen())
    camp.plan()  # warms every lazy import and cache: after "go" both only decide and write
    print("READY", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(cfg["go"]):
        if time.monotonic() > deadline:
            sys.exit("no go file")
        time.sleep(0.001)
    result = camp.send(progress=False)
    result.to_frame().to_json(cfg["out"], orient="records")
    print("DONE", "RACED" if raced else "", flush=True)
    """
)


@pytest.fixture
def sb():
    with osn.Sandbox() as sandbox:
        sandbox.add_users([{"external_id": eid, "platform": "android"} for eid in PEOPLE])
        yield sandbox


def start(sb, tmp_path: Path, name: str, text: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / f"{name}.json"
    cfg = {
        "url": sb.url, "app_id": sb.app_id, "key": sb.api_key, "ids": PEOPLE, "name": name,
        "text": text, "journal": str(tmp_path / "shared.sqlite"), "go": str(tmp_path / "go"),
        "out": str(out),
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


@pytest.mark.parametrize("attempt", range(3))
def test_two_processes_racing_for_the_same_people_send_each_person_one_push(sb, tmp_path, attempt):
    # Who OneSignal can reach is checked once here and cached in the shared journal, so the
    # two sends spend no time on lookups and plan in the same few milliseconds.
    with osn.OneSignal(sb.app_id, sb.api_key, base_url=sb.url) as client:
        cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": PEOPLE}))
        warm = Campaign("warm-up", cohort, Message(contents="-"), client,
                        journal=tmp_path / "shared.sqlite", now=sb.now)  # fmt: skip
        assert warm.plan().to_send == len(PEOPLE)
        warm.journal.close()
    raced: list[bool] = []
    procs = [
        start(sb, tmp_path, "spring-sale", "Spring sale: 20% off"),
        start(sb, tmp_path, "new-feature", "Try our new feature"),
    ]
    try:
        for proc, _ in procs:
            line = proc.stdout.readline()
            assert line.strip() == "READY", proc.stderr.read()
        # Both wait for the "go" file, so they send at the same moment. The journal's write
        # lock is held meanwhile: each plans (reading the ledger, still empty) and then waits
        # to write its intents, so both are sure to have passed the plan's cap check before
        # either writes: the in-transaction check must catch the second one.
        holder = sqlite3.connect(tmp_path / "shared.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        (tmp_path / "go").touch()
        time.sleep(HOLD_SECONDS)
        holder.execute("ROLLBACK")
        holder.close()
        for proc, _ in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0 and "DONE" in out, err[-3000:]
            raced.append("RACED" in out)
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    got = sb.deliveries().drop_duplicates(["notification_id", "external_id"])
    per_person = got.groupby("external_id").size().to_dict()
    assert per_person == dict.fromkeys(PEOPLE, 1), "each person must get exactly one push"

    frames = [pd.read_json(out, orient="records", dtype=False) for _, out in procs]
    both = pd.concat(frames, keys=["spring-sale", "new-feature"], names=["campaign", "row"])
    for eid in PEOPLE:
        rows = both[both["external_id"] == eid]
        assert sorted(rows["status"]) == ["excluded", "sent"], rows
        excluded = rows[rows["status"] == "excluded"]
        assert excluded["error"].str.startswith("capped").all(), excluded
    # the push each person got is the one of the campaign that lists them as sent
    sent = both[both["status"] == "sent"]
    sent_by = dict(zip(sent["external_id"], sent["notification_id"], strict=True))
    assert dict(zip(got["external_id"], got["notification_id"], strict=True)) == sent_by
    # one of the two found the other's ledger rows under the lock and decided again
    assert sorted(raced) == [False, True]
