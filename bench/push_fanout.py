"""Push fan-out: one push to 1,000,000 external ids, both API generations.

- ours: ``OneSignal.send_push`` (splits at 20,000 current / 2,000 legacy, concurrent batches on
  the asyncio engine, orjson bodies);
- current API peer: the official ``onesignal`` SDK sending sequentially, one
  ``create_notification`` per 2,000-id chunk (the way its README and most users do it);
- legacy API peer: community ``onesignal_sdk`` 2.0 ``send_notification`` per 2,000-id chunk.

Measured: requests made (from the sandbox's request log), wall time, and client CPU time (this
process, all threads; the sandbox runs in its own process). Only every ``SEED_EVERY``-th id
exists in the sandbox (OneSignal ignores unknown ids), which keeps the server's delivery work
small; those users' deliveries are checked for exactly-once after every run.
"""

from __future__ import annotations

import time
import uuid

from bench._harness import median, row, time_call

AREA = "push_fanout"

#: (recipients, runs for ours, runs for the peers)
SIZES = {"quick": (100_000, 2, 1), "full": (1_000_000, 3, 1)}
SEED_EVERY = 100
PEER_CHUNK = 2_000
PAYLOAD = {"headings": {"en": "Flash sale"}, "contents": {"en": "Everything -20% until midnight"}}


def _ids(n: int) -> list[str]:
    return [f"fan-{i:07d}" for i in range(n)]


def _requests(sb) -> int:
    return sum(1 for r in _log(sb) if "notifications" in str(r.get("path", "")))


def _log(sb) -> list[dict]:
    df = sb.requests()
    return [] if df is None or len(df) == 0 else df.to_dict("records")


def _ours(sb, ids, api):
    from onesig_nb import OneSignal

    with OneSignal(
        sb.app_id, sb.api_key, base_url=sb.url, api=api, rate_limits={"create": None}
    ) as client:
        result = client.send_push(ids, PAYLOAD, idempotency_key=str(uuid.uuid4()))
    failed = [r for r in result.responses if r.error is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} of our batches failed: {failed[0].error}")
    return result.notification_ids


def _official(sb, ids, api):
    import onesignal
    from onesignal.api import default_api
    from onesignal.model.language_string_map import LanguageStringMap
    from onesignal.model.notification import Notification

    cfg = onesignal.Configuration(rest_api_key=sb.api_key, host=sb.url)
    out = []
    with onesignal.ApiClient(cfg) as api_client:
        sdk = default_api.DefaultApi(api_client)
        for i in range(0, len(ids), PEER_CHUNK):
            n = Notification(
                app_id=sb.app_id,
                headings=LanguageStringMap(en=PAYLOAD["headings"]["en"]),
                contents=LanguageStringMap(en=PAYLOAD["contents"]["en"]),
                include_aliases={"external_id": ids[i : i + PEER_CHUNK]},
                target_channel="push",
            )
            out.append(sdk.create_notification(n).id)
    return out


def _community(sb, ids, api):
    from onesignal_sdk.client import Client

    client = Client(sb.app_id, sb.api_key, options={"API_ROOT": sb.url.rstrip("/") + "/api/v1"})
    out = []
    for i in range(0, len(ids), PEER_CHUNK):
        body = dict(PAYLOAD, include_external_user_ids=ids[i : i + PEER_CHUNK])
        out.append(client.send_notification(body).body.get("id"))
    return out


def _measure(sb, fn, ids, api, seeded):
    before_req = _requests(sb)
    before_del = len(sb.deliveries())
    wall, cpu, _ = time_call(lambda: fn(sb, ids, api))
    requests = _requests(sb) - before_req
    delivered = len(sb.deliveries()) - before_del
    if delivered != len(seeded):
        raise RuntimeError(
            f"{fn.__name__} ({api}): {delivered:,} deliveries for {len(seeded):,} reachable users"
        )
    return wall, cpu, requests


def run(size: str) -> list[dict]:
    import onesig_nb as osn

    n, our_runs, peer_runs = SIZES[size]
    ids = _ids(n)
    seeded = ids[::SEED_EVERY]
    rows: list[dict] = []
    with osn.Sandbox() as sb:
        sb.add_users([{"external_id": e, "platform": "ios"} for e in seeded])
        for api, peer_fn, peer_name, our_batch in (
            ("current", _official, "onesignal-python-api seq, 2,000-id chunks", 20_000),
            ("legacy", _community, "onesignal_sdk 2.0 seq, 2,000-id chunks", 2_000),
        ):
            ours = [_measure(sb, _ours, ids, api, seeded) for _ in range(our_runs)]
            peer = [_measure(sb, peer_fn, ids, api, seeded) for _ in range(peer_runs)]
            o_req, p_req = ours[0][2], peer[0][2]
            expected = -(-n // our_batch)
            common = (
                f"{n:,} ids, {len(seeded):,} of them exist in the sandbox (each delivered once per "
                f"run, checked); ours median of {our_runs}, peer {peer_runs} run(s)"
            )
            rows += [
                row(
                    AREA,
                    f"{api}: requests made",
                    ours=o_req,
                    peer=p_req,
                    peer_name=peer_name,
                    unit="requests",
                    target=f"{expected:,}",
                    met=o_req == expected,
                    note="counted in the sandbox's request log",
                    higher_is_better=False,
                ),
                *(
                    row(
                        AREA,
                        f"{api}: {what}",
                        ours=median(o[i] for o in ours),
                        peer=median(p[i] for p in peer),
                        peer_name=peer_name,
                        unit="s",
                        note=note,
                        higher_is_better=False,
                    )
                    for i, what, note in (
                        (0, "wall time", common),
                        (1, "client CPU time", "user+sys of the client process, all threads"),
                    )
                ),
            ]
            time.sleep(0.2)
    return rows
