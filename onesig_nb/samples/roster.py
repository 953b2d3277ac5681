"""The OneSignal roster: subscriptions by external id (= Segment userId) with initial tags,
written as ``onesignal-users.csv`` and read back by :func:`load_roster`.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from onesig_nb.samples.formats import JSON_OPTS, csv_bytes
from onesig_nb.samples.workspace import file_in
from onesig_nb.samples.world import PLANS, ROSTER_TAGS
from onesig_nb.segment.tags import tag_value


def write_roster(ws: Path, rng, people) -> list[tuple[str, str, bool, dict]]:
    """The OneSignal side: subscriptions by external id (= Segment userId), with initial tags."""
    n = people["n"]
    no_row = rng.random(n) < 0.08  # never installed the app / never opted in
    first = rng.choice(3, n, p=[0.4, 0.35, 0.25])
    second = rng.random(n) < 0.12
    roll = rng.random(n).tolist()
    sub = (rng.random((n, 2)) >= 0.12).tolist()
    rows = []
    for p in range(n):
        uid = people["user_ids"][p]
        if uid is None or no_row[p]:
            continue
        platforms = [("ios", "android", "web")[first[p]]]
        if second[p]:
            platforms.append("web" if platforms[0] != "web" else "ios")
        tr = people["traits"][p]
        tags = {k: tag_value(tr.get(k)) for k in ROSTER_TAGS}
        if roll[p] < 0.15:  # stale: synced before the last plan change / purchase
            tags["plan"] = PLANS[people["prev_plan"][p]]
            tags["ltv"] = tag_value(people["prev_ltv"][p])
        elif roll[p] < 0.2:
            tags["language"] = "en"
        elif roll[p] < 0.25:
            tags.pop("ltv")
        tags = {k: v for k, v in tags.items() if v is not None}
        for i, plat in enumerate(platforms):
            rows.append((uid, plat, sub[p][i], tags))
    body = [[u, plat, "true" if sub else "false", orjson.dumps(t, option=JSON_OPTS).decode()]
            for u, plat, sub, t in rows]  # fmt: skip
    header = ["external_id", "platform", "subscribed", "tags"]
    (ws / "onesignal-users.csv").write_bytes(csv_bytes(header, body))
    return rows


def load_roster(path: str | os.PathLike):
    """The OneSignal roster as a DataFrame: external_id, platform, subscribed (bool), tags (dict)."""
    import pandas as pd

    df = pd.read_csv(file_in(path, "onesignal-users.csv"), dtype=str, keep_default_na=False)
    df["subscribed"] = df["subscribed"].str.lower().eq("true")
    df["tags"] = [orjson.loads(t) if t else {} for t in df["tags"]]
    return df[["external_id", "platform", "subscribed", "tags"]]
