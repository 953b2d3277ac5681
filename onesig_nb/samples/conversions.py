"""Conversions with a known answer: Segment ``track`` events for the people an experiment
reached (and held out), appended to a sample workspace's archive and warehouse.

    truth = simulate_conversions(ws, exp.exposures(), base_rate=0.03,
                                 lift={"A": 0.01, "B": 0.03}, seed=1,
                                 delivered=sandbox.deliveries())

Each person converts with probability ``base_rate`` plus their arm's ``lift`` (absolute, in
rate units: 0.01 = one percentage point) if the push reached them, else ``base_rate`` (the
holdout, and variant people the sandbox delivered nothing to). A converter's event comes a
random time within ``within`` after their own send. Some people (at ``base_rate``) also
converted shortly *before* their send, which no measurement may count. The events are written
like the analytics.js history around them: one gzipped NDJSON file per UTC day in the web
source's folder of the archive, and the same rows in the warehouse's ``tracks`` table.

Same seed, same events, same message ids: running it again replaces its own files and rows
instead of adding more. The returned frame is the ground truth a test or notebook checks
against. Takes plain data (a DataFrame of people with their arm and send time) and imports
nothing of the client or campaign side.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from onesig_nb._times import positive_duration
from onesig_nb.errors import ValidationError
from onesig_nb.samples.archive import GZIP_LEVEL
from onesig_nb.samples.formats import JSON_OPTS, iso
from onesig_nb.samples.workspace import file_in
from onesig_nb.samples.world import AJS_LIBRARY, DAY_MS, PRODUCTS, WEB_SOURCE_ID

__all__ = ["TRUTH_COLUMNS", "simulate_conversions"]

#: The ground truth returned: who, which arm, whether they converted within the window after
#: their send (``converted``), and when their simulated events happened (``ts``, NaT if none).
TRUTH_COLUMNS = ["external_id", "arm", "sent_at", "reached", "rate", "converted", "ts"]
#: File name prefix of the simulated day files (next to the history's ``part-HH.gz``).
FILE_PREFIX = "conversions"
#: Delay from receipt by the device to Segment's ``receivedAt`` (ms), as in the history.
LATENCY_MS = 120


def _check_rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValidationError(f"{name} must be a probability between 0 and 1, not {value!r}.")
    return float(value)


def _check_people(people: Any) -> pd.DataFrame:
    if not isinstance(people, pd.DataFrame) or not {"external_id", "arm", "sent_at"} <= set(
        people.columns
    ):
        raise ValidationError(
            "people must be a DataFrame with external_id, arm and sent_at columns, such as "
            "experiment.exposures()."
        )
    frame = people[["external_id", "arm", "sent_at"]].copy()
    frame["external_id"] = frame["external_id"].astype(str)
    frame["arm"] = frame["arm"].astype(str)
    frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True)
    if frame["sent_at"].isna().any():
        raise ValidationError("Every person needs a sent_at time (when their push went out).")
    return frame.drop_duplicates("external_id").reset_index(drop=True)


def _digest(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def _message(eid: str, ms: int, event: str, mid: str, n: int) -> dict:
    """An analytics.js track message like the history's (order properties for purchases)."""
    sku, name, _cat, price = PRODUCTS[n % len(PRODUCTS)]
    anon = _digest("anon", eid)
    return {
        "anonymousId": f"{anon[:8]}-{anon[8:12]}-4{anon[13:16]}-8{anon[17:20]}-{anon[20:32]}",
        "context": {"library": AJS_LIBRARY, "locale": "en-US"},
        "event": event,
        "integrations": {},
        "messageId": f"ajs-next-{ms}-{mid[:8]}-{mid[8:12]}-4{mid[13:16]}-9{mid[17:20]}-{mid[20:32]}",
        "originalTimestamp": iso(ms),
        "properties": {
            "currency": "USD",
            "order_id": f"sim_{mid[:10]}",
            "revenue": price,
            "products": [{"product_id": sku, "name": name, "quantity": 1}],
        },  # fmt: skip
        "receivedAt": iso(ms + LATENCY_MS),
        "sentAt": iso(ms + LATENCY_MS // 2),
        "timestamp": iso(ms),
        "type": "track",
        "userId": eid,
    }


def _write_archive(ws: Path, messages: list[dict], tag: str) -> list[Path]:
    """One gz file per UTC day under the web source; old files of this ``tag`` replaced."""
    root = ws / "segment-logs" / WEB_SOURCE_ID
    for old in root.glob(f"*/{FILE_PREFIX}-{tag}.gz"):
        old.unlink()
    by_day: dict[int, list[dict]] = {}
    for m in messages:
        ms = int(pd.Timestamp(m["timestamp"]).value // 1_000_000)
        by_day.setdefault(ms // DAY_MS * DAY_MS, []).append(m)
    written = []
    for day, msgs in sorted(by_day.items()):
        out = root / str(day) / f"{FILE_PREFIX}-{tag}.gz"
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            orjson.dumps(m, option=JSON_OPTS) for m in sorted(msgs, key=lambda m: m["receivedAt"])
        ]
        out.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", GZIP_LEVEL, mtime=0))
        written.append(out)
    return written


def _write_warehouse(ws: Path, messages: list[dict], tag: str) -> None:
    """The same messages as rows of the warehouse's ``tracks`` table. Their library version
    says ``sim-<tag>``, so a later run with the same seed and event replaces them."""
    import duckdb

    path = file_in(ws, "warehouse.duckdb")
    naive = lambda text: pd.Timestamp(text).tz_convert("UTC").tz_localize(None)  # noqa: E731
    rows = pd.DataFrame(
        {
            "id": [m["messageId"] for m in messages],
            "anonymous_id": [m["anonymousId"] for m in messages],
            "user_id": [m["userId"] for m in messages],
            "received_at": [naive(m["receivedAt"]) for m in messages],
            "sent_at": [naive(m["sentAt"]) for m in messages],
            "timestamp": [naive(m["timestamp"]) for m in messages],
            "original_timestamp": [naive(m["originalTimestamp"]) for m in messages],
            "context_library_name": AJS_LIBRARY["name"],
            "context_library_version": AJS_LIBRARY["version"],
            "context_locale": "en-US",
            "event": [m["event"].lower().replace(" ", "_") for m in messages],
            "event_text": [m["event"] for m in messages],
        }
    )
    con = duckdb.connect(str(path))
    try:
        con.execute("DELETE FROM tracks WHERE context_library_version = ?", [f"sim-{tag}"])
        if len(rows):
            rows["context_library_version"] = f"sim-{tag}"
            con.register("simulated", rows)
            con.execute("INSERT INTO tracks BY NAME SELECT * FROM simulated")
            con.unregister("simulated")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def simulate_conversions(
    workspace: str | os.PathLike,
    people: pd.DataFrame,
    *,
    base_rate: float,
    lift: Mapping[str, float],
    seed: int = 0,
    event: str = "Order Completed",
    within: Any = "24h",
    delivered: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Append ``event`` track events for ``people`` to the workspace's archive and warehouse.

    :param people: one row per person: ``external_id``, ``arm`` and ``sent_at`` (their send
        time, or when the holdout was held out), e.g. ``experiment.exposures()``
    :param base_rate: the conversion rate without a push (the holdout's)
    :param lift: arm -> absolute lift of the rate for people the push reached (arms not named,
        such as the holdout, convert at ``base_rate``)
    :param within: how long after their send a converter's event comes (uniformly spread)
    :param delivered: the sandbox's ``deliveries()`` (or any frame with ``external_id``): variant
        people missing from it were not reached and convert at ``base_rate``. None: everyone in
        a lifted arm was reached.
    :returns: the ground truth, :data:`TRUTH_COLUMNS`
    """
    base = _check_rate("base_rate", base_rate)
    if not isinstance(lift, Mapping):
        raise ValidationError("lift must be a dict of arm -> absolute lift, e.g. {'A': 0.01}.")
    frame = _check_people(people)
    unknown = sorted(set(lift) - set(frame["arm"]))
    if unknown:
        raise ValidationError(
            f"lift names arms nobody is in: {', '.join(map(repr, unknown))}. The arms present "
            f"are {', '.join(map(repr, sorted(set(frame['arm']))))}."
        )
    rates = {arm: _check_rate(f"base_rate + lift[{arm!r}]", base + lift[arm]) for arm in lift}
    span = positive_duration(within, name="within", example="24h")
    reached = frame["arm"].isin(list(lift))
    if delivered is not None:
        reached &= frame["external_id"].isin(set(delivered["external_id"].astype(str)))
    frame["reached"] = reached
    frame["rate"] = [rates[a] if r else base for a, r in zip(frame["arm"], reached, strict=True)]
    rng = np.random.default_rng(seed)
    n = len(frame)
    frame["converted"] = rng.random(n) < frame["rate"].to_numpy()
    span_ms = int(span.total_seconds() * 1000)
    delay = 1_000 + (rng.random(n) * (span_ms - 1_000)).astype(np.int64)
    before = rng.random(n) < base  # converted shortly before the push: never counted
    early = 1_000 + (rng.random(n) * (span_ms - 1_000)).astype(np.int64)
    sent_ms = np.array([t.value // 1_000_000 for t in frame["sent_at"]], dtype=np.int64)
    tag = _digest(seed, event)[:12]
    messages, times = [], [pd.NaT] * n
    for i, eid in enumerate(frame["external_id"]):
        if frame["converted"].iat[i]:
            ms = int(sent_ms[i] + delay[i])
            messages.append(_message(eid, ms, event, _digest(tag, eid, "after"), i))
            times[i] = pd.Timestamp(ms, unit="ms", tz="UTC")
        if before[i]:
            ms = int(sent_ms[i] - early[i])
            messages.append(_message(eid, ms, event, _digest(tag, eid, "before"), i))
    ws = Path(workspace).expanduser()
    _write_archive(ws, messages, tag)
    _write_warehouse(ws, messages, tag)
    frame["ts"] = pd.to_datetime(pd.Series(times, dtype="object"), utc=True)
    return frame[TRUTH_COLUMNS]
