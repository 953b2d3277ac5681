"""Tag edits per second: this client's bulk edits vs the two Python SDKs, same sandbox.

- ours: ``OneSignal.edit_tags_bulk`` (current API, asyncio engine in a background thread);
- official ``onesignal`` (onesignal-python-api), used the way its README shows: one
  ``DefaultApi.update_user`` call per user, sequentially;
- community ``onesignal_sdk`` 2.0: ``Client.edit_tags`` per user, sequentially (legacy API).

Twice: on plain loopback (CPU-bound: client and sandbox share the cores) and with the sandbox
emulating a 50 ms round trip. At 50 ms the sequential peers manage ~20 edits/s, so they measure a
few hundred edits and their rate is extrapolated; ours holds the configured per-app budget.
Every run is checked against the sandbox's stored tags.
"""

from __future__ import annotations

import time

from bench._harness import median, row

AREA = "tag_edits"

#: edits per run: (ours, official, community), runs per method, extra interleaved raw/TagSync
#: pairs (the 90% target is closer than the run-to-run noise of a median of 3), edits per peer
#: run at 50 ms
SIZES = {
    "quick": {
        "users": 1_000,
        "loop": (1_000, 300, 60),
        "runs": 2,
        "pairs": 2,
        "lat_ours": 1_000,
        "lat_peer": 20,
    },
    "full": {
        "users": 5_000,
        "loop": (5_000, 3_000, 500),
        "runs": 3,
        "pairs": 6,
        "lat_ours": 5_000,
        "lat_peer": 200,
    },
}
LATENCY_MS = 50
#: OneSignal's documented per-app budget for user updates (limits.USER_UPDATES_PER_SECOND).
CONFIGURED_RATE = 1_000
#: requests in flight for ours at 50 ms: 1,000/s x 0.05 s = 50 needed, plus headroom.
WORKERS_AT_LATENCY = 96


def _ids(n: int) -> list[str]:
    return [f"bench-{i:06d}" for i in range(n)]


def _ours(sb, ids, value, *, rate_limited: bool, workers: int = 32) -> float:
    from onesig_nb import OneSignal
    from onesig_nb.onesignal.models import TagEdit

    kwargs = {} if rate_limited else {"rate_limits": _no_limits()}
    with OneSignal(sb.app_id, sb.api_key, base_url=sb.url, max_workers=workers, **kwargs) as c:
        edits = [TagEdit(eid, {"bench": value}) for eid in ids]
        t0 = time.perf_counter()
        results = c.edit_tags_bulk(edits)
        wall = time.perf_counter() - t0
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"{len(bad)} of our tag edits failed, e.g. {bad[0].error}")
    return len(ids) / wall


def _tagsync(sb, ids, value, *, workers: int = 32) -> float:
    """TagSync, the call a marketer makes: diff against the journal, journal every answer."""
    import tempfile
    from pathlib import Path

    import pandas as pd

    from onesig_nb import OneSignal, TagSync

    cohort = pd.DataFrame({"external_id": ids, "bench": value})
    with (
        tempfile.TemporaryDirectory() as tmp,
        OneSignal(
            sb.app_id, sb.api_key, base_url=sb.url, max_workers=workers, rate_limits=_no_limits()
        ) as c,
    ):
        sync = TagSync(f"bench-{value}", cohort, c, tags=["bench"], journal=Path(tmp) / "j.sqlite")
        t0 = time.perf_counter()
        result = sync.run(progress=False)
        wall = time.perf_counter() - t0
        sync.journal.close()
    if result.summary.get("updated") != len(ids):
        raise RuntimeError(f"TagSync updated {result.summary}, expected {len(ids):,}")
    return len(ids) / wall


def _no_limits():
    """Rate limits that never throttle (loopback measures the engine, not the budget)."""
    return {"users": None, "per_user": None}


def _official(sb, ids, value) -> float:
    import onesignal
    from onesignal.api import default_api
    from onesignal.model.properties_object import PropertiesObject
    from onesignal.model.update_user_request import UpdateUserRequest

    cfg = onesignal.Configuration(rest_api_key=sb.api_key, host=sb.url)
    with onesignal.ApiClient(cfg) as api_client:
        api = default_api.DefaultApi(api_client)
        t0 = time.perf_counter()
        for eid in ids:
            api.update_user(
                sb.app_id,
                "external_id",
                eid,
                UpdateUserRequest(properties=PropertiesObject(tags={"bench": value})),
            )
        wall = time.perf_counter() - t0
    return len(ids) / wall


def _community(sb, ids, value) -> float:
    from onesignal_sdk.client import Client

    client = Client(sb.app_id, sb.api_key, options={"API_ROOT": sb.url.rstrip("/") + "/api/v1"})
    t0 = time.perf_counter()
    for eid in ids:
        client.edit_tags(eid, {"tags": {"bench": value}})
    return len(ids) / (time.perf_counter() - t0)


def _check(sb, ids, value, who: str) -> None:
    """The sandbox's stored tags say the edits landed (first, middle and last user)."""
    for eid in {ids[0], ids[len(ids) // 2], ids[-1]}:
        got = sb.user_tags(eid).get("bench")
        if got != value:
            raise RuntimeError(f"{who}: user {eid} has bench={got!r}, expected {value!r}")


def _series(sb, plan: list[tuple[str, object, int]], runs: int) -> dict[str, list[float]]:
    """Round-robin runs of every method; returns edits/s per method."""
    rates: dict[str, list[float]] = {name: [] for name, _, _ in plan}
    for r in range(runs):
        for name, fn, n in plan:
            ids = _ids(n)
            value = f"{name}-{r}-{time.monotonic_ns()}"
            rates[name].append(fn(sb, ids, value))
            _check(sb, ids, value, name)
    return rates


def run(size: str) -> list[dict]:
    import onesig_nb as osn

    cfg = SIZES[size]
    n_ours, n_off, n_com = cfg["loop"]
    rows: list[dict] = []
    with osn.Sandbox() as sb:
        sb.add_users([{"external_id": eid, "platform": "android"} for eid in _ids(cfg["users"])])
        # warm-up (connections, imports, sandbox caches)
        _ours(sb, _ids(100), "warm", rate_limited=False)
        _tagsync(sb, _ids(100), "warm")
        _official(sb, _ids(20), "warm")
        _community(sb, _ids(20), "warm")

        loop = _series(
            sb,
            [
                ("ours", lambda s, i, v: _ours(s, i, v, rate_limited=False), n_ours),
                ("tagsync", _tagsync, n_ours),
                ("official", _official, n_off),
                ("community", _community, n_com),
            ],
            cfg["runs"],
        )
        o, off, com = (median(loop[k]) for k in ("ours", "official", "community"))
        ts = median(loop["tagsync"])
        raw_ts = _series(
            sb,
            [
                ("ours", lambda s, i, v: _ours(s, i, v, rate_limited=False), n_ours),
                ("tagsync", _tagsync, n_ours),
            ],
            cfg["pairs"],
        )
        pair_raw, pair_ts = loop["ours"] + raw_ts["ours"], loop["tagsync"] + raw_ts["tagsync"]
        pair_ratios = [t / r for t, r in zip(pair_ts, pair_raw, strict=True)]
        note = (
            f"plain loopback; {n_ours:,}/{n_off:,}/{n_com:,} edits per run, median of "
            f"{cfg['runs']} interleaved runs; ours without a client rate limit"
        )
        full = size == "full"
        rows.append(
            row(
                AREA,
                "edits/s, loopback",
                ours=o,
                peer=off,
                peer_name="onesignal-python-api seq",
                unit="edits/s",
                target=">= 2,000/s and >= 4x official",
                met=(o >= 2_000 and o / off >= 4) if full else None,
                note=note + ("" if full else "; targets apply at full size"),
            )
        )
        rows.append(
            row(
                AREA,
                "TagSync edits/s, loopback",
                ours=ts,
                peer=off,
                peer_name="onesignal-python-api seq",
                unit="edits/s",
                target=">= 4x official",
                met=(ts / off >= 4) if full else None,
                note="TagSync.run(): diff against the journal, every answer journaled; "
                + note.split("; ours")[0],
            )
        )
        rows.append(
            row(
                AREA,
                "TagSync vs the raw bulk edits",
                ours=median(pair_ts),
                peer=median(pair_raw),
                peer_name="edit_tags_bulk, same run",
                unit="edits/s",
                target=">= 90% of the raw bulk edits",
                met=(median(pair_ts) / median(pair_raw) >= 0.9) if full else None,
                note=f"ratio = TagSync / raw (1.00x = no overhead); medians of "
                f"{len(pair_ratios)} interleaved raw/TagSync pairs of {n_ours:,} edits; "
                f"per-pair ratios {min(pair_ratios):.2f} to {max(pair_ratios):.2f}, "
                f"median {median(pair_ratios):.2f}",
            )
        )
        rows.append(
            row(
                AREA,
                "edits/s, loopback",
                ours=o,
                peer=com,
                peer_name="onesignal_sdk 2.0 seq",
                unit="edits/s",
                note="community SDK (httpx, new connection per call)",
            )
        )

        sb.set_latency(LATENCY_MS)
        n_peer = cfg["lat_peer"]
        lat = _series(
            sb,
            [
                (
                    "ours",
                    lambda s, i, v: _ours(s, i, v, rate_limited=True, workers=WORKERS_AT_LATENCY),
                    cfg["lat_ours"],
                ),
                ("official", _official, n_peer),
                ("community", _community, n_peer),
            ],
            cfg["runs"],
        )
        sb.set_latency(0)
    o, off, com = (median(lat[k]) for k in ("ours", "official", "community"))
    note = (
        f"sandbox adds {LATENCY_MS} ms per response; ours {cfg['lat_ours']:,} edits per run with "
        f"the default per-app limit ({CONFIGURED_RATE:,}/s) and {WORKERS_AT_LATENCY} in flight; "
        f"the sequential peers measured over {n_peer} edits per run and extrapolated as a rate"
    )
    rows.append(
        row(
            AREA,
            f"edits/s, {LATENCY_MS} ms RTT",
            ours=o,
            peer=off,
            peer_name="onesignal-python-api seq",
            unit="edits/s",
            target=">= 30x official",
            met=(o / off >= 30) if full else None,
            note=note,
        )
    )
    rows.append(
        row(
            AREA,
            f"edits/s, {LATENCY_MS} ms RTT",
            ours=o,
            peer=com,
            peer_name="onesignal_sdk 2.0 seq",
            unit="edits/s",
        )
    )
    rows.append(
        row(
            AREA,
            "rate vs configured budget",
            ours=o,
            peer=float(CONFIGURED_RATE),
            peer_name="configured per-app limit",
            unit="edits/s",
            target=f"within 5% of {CONFIGURED_RATE:,}/s",
            met=(abs(o - CONFIGURED_RATE) <= 0.05 * CONFIGURED_RATE) if full else None,
            note="ratio = ours / budget (1.00x = exactly the budget)",
        )
    )
    return rows
