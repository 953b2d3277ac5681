"""The event history: compact message tuples for the web and Engage sources, and their rendering
as Segment message JSON.

A message is a tuple ``(window, wkey, seq, dup, kind, args...)``. ``window`` = receivedAt // 6 h
selects the archive file; files are written in ``wkey`` order (receivedAt + jitter: slight
disorder); ``seq`` breaks ties; ``dup`` marks a redelivered copy. ``args`` are, for the web source,
``(person, extra, with_uid, t, skew, delay, latency, message_id)`` and, for Engage,
``(person, key_index, value, t, ns, received_at, user_id, anonymous_id, message_id)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from onesig_nb.samples.formats import iso
from onesig_nb.samples.world import (
    AJS_LIBRARY,
    ALL_KEYS,
    COMPUTATION_IDS,
    ENGAGE_INTEGRATIONS,
    ENGAGE_LIBRARY,
    FILE_WINDOW_MS,
    HISTORY_END_MS,
    HISTORY_START_MS,
    HOUR_MS,
    JOURNEY_KEY,
    LAST_ADDED_KEYS,
    PAGES,
    PLANS,
    PRODUCTS,
    SITE,
    SPACE_ID,
    TRACK_EVENTS,
    USER_AGENTS,
)


def web_messages(rng, people, ids) -> list[tuple]:
    """The analytics.js history of every person: a first page view, identifies, pages, tracks."""
    n = people["n"]
    known, skew = people["known"], people["skew"]
    span = HISTORY_END_MS - 2 * HOUR_MS - HISTORY_START_MS
    first_seen = (HISTORY_START_MS + rng.random(n) * span * 0.9).astype(np.int64).tolist()
    n_ident = (1 + rng.poisson(0.3, n)).tolist()
    n_page = rng.poisson(0.6, n).tolist()
    n_track = rng.poisson(0.6, n).tolist()
    total = int(sum(n_ident) + sum(n_page) + n + sum(n_track))
    u = rng.random((total, 4))
    delay = (u[:, 0] * 3000).astype(np.int64).tolist()
    lat = (50 + u[:, 1] * 450).astype(np.int64).tolist()
    jitter = (u[:, 2] * 3000).astype(np.int64).tolist()
    pick = (u[:, 3] * 1_000_000).astype(np.int64).tolist()
    msgs, c = [], 0
    for p in range(n):
        t0, tend = first_seen[p], HISTORY_END_MS - 2 * HOUR_MS
        times: list[tuple[str, int]] = []
        times.append(("page", t0))  # the first page view comes before identify
        if known[p]:
            ti = sorted(max(int(t0 + (tend - t0) * x), t0 + 60_000) for x in rng.random(n_ident[p]))
            ti[0] = t0 + 60_000  # identified a minute after the first page view
            times += [("identify", t) for t in ti]
        times += [("page", int(t0 + (tend - t0) * x)) for x in rng.random(n_page[p])]
        times += [("track", int(t0 + (tend - t0) * x)) for x in rng.random(n_track[p])]
        last_ident = max((t for k, t in times if k == "identify"), default=None)
        for kind, t in times:
            d, la = delay[c], lat[c]
            recv = t + d + la
            with_uid = known[p] and t >= t0 + 60_000
            extra = pick[c]
            if kind == "identify":
                extra = 0 if t == last_ident else 1  # 1 = an earlier identify (older traits)
            msgs.append((recv // FILE_WINDOW_MS, recv + jitter[c], len(msgs), False, kind,
                         p, extra, with_uid, t, skew[p], d, la, ids.uuid()))  # fmt: skip
            c += 1
    return msgs


def engage_messages(rng, people, timelines, ids) -> list[tuple]:
    """An identify and a track per timeline step and identifier combination (Engage's fan-out)."""
    msgs = []
    anon, uids = people["anon"], people["user_ids"]
    for p, key, steps in timelines:
        ki = ALL_KEYS.index(key)
        prev_recv = None
        for t, value, tie in steps:
            base = int(rng.integers(50, 200)) + (300 if tie else 0)
            combos = [(uids[p], a) for a in anon[p]]
            if value and key in LAST_ADDED_KEYS:
                combos = combos[-1:]
            for ci, (uid, a) in enumerate(combos):
                for kind_i, kind in enumerate(("identify", "track")):
                    recv = t + base + ci * 4 + kind_i
                    # a tie's later-received event is written first: file order is not event order
                    wkey = prev_recv - 500 if tie and prev_recv else recv + int(rng.integers(3000))
                    ns = int(rng.integers(1_000_000))
                    msgs.append((recv // FILE_WINDOW_MS, wkey, len(msgs), False, "e" + kind,
                                 p, ki, value, t, ns, recv, uid, a, "personas_" + ids.one()))  # fmt: skip
            prev_recv = t + base
    return msgs


def add_duplicates(rng, msgs: list[tuple], rate: float) -> None:
    """Segment delivers some messages twice: same bytes, same messageId, later in the file."""
    picks = np.flatnonzero(rng.random(len(msgs)) < rate).tolist()
    for i in picks:
        m = msgs[i]
        msgs.append((m[0], m[1] + int(rng.integers(1, 5_000)), len(msgs), True, *m[4:]))


def web_dict(m: tuple, people: dict) -> dict:
    """A web message tuple as the analytics.js message JSON Segment archives."""
    kind, p, extra, with_uid, t, skew, d, la, mid = m[4:]
    anon = people["anon"][p]
    orig = t + skew
    page_i = extra % len(PAGES)
    prod = PRODUCTS[(extra // 7) % len(PRODUCTS)] if kind != "identify" else None
    name, path = PAGES[page_i] if kind == "page" else ("Product", None)
    if path is None:
        path = f"/products/{(prod or PRODUCTS[0])[0]}"
    title = f"{name} | Example Shop"
    context = {
        "ip": f"203.0.113.{p % 250 + 1}",
        "library": AJS_LIBRARY,
        "locale": "en-US",
        "page": {"path": path, "referrer": "https://www.google.com/" if extra % 3 == 0 else "",
                 "search": "", "title": title, "url": SITE + path},
        "userAgent": USER_AGENTS[p % len(USER_AGENTS)],
    }  # fmt: skip
    msg: dict[str, Any] = {
        "anonymousId": anon[(extra // 3) % len(anon)] if kind != "identify" else anon[-1],
        "context": context,
        "integrations": {},
        "messageId": f"ajs-next-{orig}-{mid}",
        "originalTimestamp": iso(orig),
        "receivedAt": iso(t + d + la),
        "sentAt": iso(orig + d),
        "timestamp": iso(t + la),  # = receivedAt - (sentAt - originalTimestamp)
        "type": kind,
        "userId": people["user_ids"][p] if with_uid else None,
    }
    if kind == "identify":
        traits = dict(people["traits"][p])
        if extra:  # an earlier identify: older plan and ltv, no last_product yet
            traits["plan"] = PLANS[people["prev_plan"][p]]
            traits["ltv"] = people["prev_ltv"][p]
            traits.pop("last_product", None)
        msg["traits"] = traits
    elif kind == "page":
        msg["name"] = name
        msg["properties"] = dict(context["page"])
    else:
        event = TRACK_EVENTS[0 if extra % 10 < 6 else (1 if extra % 10 < 8 else 2)]
        sku, pname, cat, price = prod
        props: dict[str, Any] = {"product_id": sku, "name": pname, "category": cat, "price": price}
        if event != "Product Viewed":
            props = {"order_id": f"ord_{p + 1}_{extra % 997}", "value": price, "revenue": price,
                     "currency": "USD", "products": [{"product_id": sku, "quantity": 1}]}  # fmt: skip
        msg["event"] = event
        msg["properties"] = props
    return msg


def engage_dict(m: tuple, people: dict) -> dict:
    """An Engage message tuple as the audience identify or track Segment archives."""
    kind, p, ki, value, t, ns, recv, uid, anon, mid = m[4:]
    key = ALL_KEYS[ki]
    val: Any = ("true" if value else "false") if key == JOURNEY_KEY else value
    email = people["traits"][p].get("email")
    personas = {"computation_class": "audience", "computation_id": COMPUTATION_IDS[key],
                "computation_key": key, "namespace": SPACE_ID, "space_id": SPACE_ID}  # fmt: skip
    context: dict[str, Any] = {"library": ENGAGE_LIBRARY, "personas": personas}
    msg: dict[str, Any] = {
        "anonymousId": anon, "context": context, "integrations": ENGAGE_INTEGRATIONS,
        "messageId": mid, "originalTimestamp": f"{iso(t)[:-1]}{ns:06d}Z",
        "receivedAt": iso(recv), "sentAt": None, "timestamp": iso(t), "userId": uid,
    }  # fmt: skip
    if kind == "eidentify":
        msg["type"] = "identify"
        msg["traits"] = {key: val, "email": email} if email else {key: val}
    else:
        if email:
            context["traits"] = {"email": email}
        msg["type"] = "track"
        msg["event"] = "Audience Entered" if value else "Audience Exited"
        msg["properties"] = {"audience_key": key, key: val}
    return msg
