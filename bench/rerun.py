"""Re-run costs: what a second run of an unchanged job sends.

- a finished ``Campaign`` sent again (a new Campaign object on the same journal, as after a
  kernel restart): ours should make 0 requests; a naive re-run loop re-sends every batch;
- an unchanged ``TagSync`` run again: ours is diff-based (0 requests); a naive loop edits every
  user again.

The "peer" figure is what the naive re-run makes: the same requests as the first run, counted
in the sandbox's request log during that first run. The legacy API is used (2,000 ids per
request), so a naive re-send would repeat several requests.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench._harness import row, time_call

AREA = "rerun"

#: users in the cohort
SIZES = {"quick": 5_000, "full": 50_000}

CONTENTS = "Hi {{ first_name | default: 'there' }}, your cart is waiting"


def _api_requests(sb) -> int:
    df = sb.requests()
    if df is None or len(df) == 0:
        return 0
    return int((~df["path"].astype(str).str.startswith("/_sandbox")).sum())


def _people(n: int):
    import pandas as pd

    names = ["Ana", "Ben", "Chloé", "Dmitri", "Eva", None]
    return pd.DataFrame(
        {
            "external_id": [f"rr-{i:06d}" for i in range(n)],
            "first_name": [names[i % len(names)] for i in range(n)],
            "plan": [("free", "pro", "business")[i % 3] for i in range(n)],
            "ltv": [float(i % 500) for i in range(n)],
        }
    )


def run(size: str) -> list[dict]:
    import onesig_nb as osn

    n = SIZES[size]
    df = _people(n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, osn.Sandbox() as sb:
        journal = str(Path(tmp) / "campaigns.sqlite")
        sb.add_users([{"external_id": e, "platform": "android"} for e in df["external_id"]])
        cohort = osn.Cohort.from_frame(df)
        msg = osn.Message(contents=CONTENTS, headings="Still thinking?")
        client = osn.OneSignal(
            sb.app_id,
            sb.api_key,
            base_url=sb.url,
            api="legacy",
            rate_limits={"users": None, "per_user": None, "create": None},
        )

        def campaign():
            return osn.Campaign(
                "bench-rerun", cohort, msg, client, journal=journal, confirm_above=n + 1
            )

        def requests_of(fn) -> tuple[int, float]:
            before = _api_requests(sb)
            wall, _, _ = time_call(fn)
            return _api_requests(sb) - before, wall

        first, t_first = requests_of(lambda: campaign().send(confirm=True, progress=False))
        again, t_again = requests_of(lambda: campaign().send(confirm=True, progress=False))
        deliveries = len(sb.deliveries())
        rows.append(
            _rerun_row(
                "finished Campaign re-sent: requests",
                again,
                first,
                "naive re-run (same requests as the first send)",
                f"{n:,} users; first send {t_first:.2f} s, re-send {t_again:.3f} s; "
                f"{deliveries:,} deliveries in the sandbox after both runs",
            )
        )
        if deliveries != n:
            rows.append(
                row(
                    AREA,
                    "deliveries after re-send",
                    ours=deliveries,
                    peer=n,
                    peer_name="users",
                    met=False,
                    note="DUPLICATES OR LOSSES",
                )
            )

        def sync():
            return osn.TagSync("bench-tags", cohort, client, tags=["plan", "ltv"], journal=journal)

        first, t_first = requests_of(lambda: sync().run(progress=False))
        again, t_again = requests_of(lambda: sync().run(progress=False))
        rows.append(
            _rerun_row(
                "unchanged TagSync re-run: requests",
                again,
                first,
                "naive re-run (one edit per user again)",
                f"{n:,} users, 2 tags; first run {t_first:.2f} s, re-run {t_again:.3f} s",
            )
        )
        client.close()
    return rows


def _rerun_row(metric: str, again: int, first: int, peer_name: str, note: str) -> dict:
    """A re-run row: requests the second run made (target 0) against the first run's."""
    return row(
        AREA,
        metric,
        ours=again,
        peer=first,
        peer_name=peer_name,
        unit="requests",
        target="0",
        met=again == 0,
        note=note,
        higher_is_better=False,
    )
