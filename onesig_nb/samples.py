"""A deterministic, realistic sample Segment workspace with its own ground truth.

``make_workspace(path, users=5_000, seed=7)`` writes, for ``users`` synthetic people:

- ``segment-logs/<source-id>/<UTC-midnight-epoch-ms>/part-HH.gz``: the S3-style archive of a web
  (analytics.js) source and an Engage (personas) source, gzipped NDJSON, 30 days of history;
- ``batch/batch-NNN.json``: a few analytics-python ``/v1/batch`` bodies from a backend;
- ``engage-csv/<audience>-{formatted,unformatted}.csv``: Engage "Download CSV" snapshots;
- ``warehouse.duckdb``: Segment warehouse tables derived from the same event stream;
- ``onesignal-users.csv``: the OneSignal roster (external_id = Segment userId);
- ``manifest.json``: who is in which audience, from the generator's own model of the world.

Same seed, same bytes (except ``warehouse.duckdb``, whose *contents* are deterministic): there is
no wall clock anywhere, gzip headers carry mtime 0 and no file name, JSON keys are sorted.
About five messages per user; 200,000 users give about a million messages.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import logging
import os
import shutil
import sys
import tempfile
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .errors import ValidationError
from .tags import tag_value

__all__ = [
    "ALL_KEYS",
    "AUDIENCES",
    "CSV_AUDIENCES",
    "JOURNEY_KEY",
    "ensure_workspace",
    "load_manifest",
    "load_roster",
    "main",
    "make_workspace",
]

log = logging.getLogger("onesig_nb.samples")

AUDIENCES = ("cart_abandoners", "high_value_users", "new_signups", "churn_risk")
JOURNEY_KEY = "j_o_winback"
ALL_KEYS = (*AUDIENCES, JOURNEY_KEY)
CSV_AUDIENCES = ("cart_abandoners", "high_value_users")
#: Audiences whose ID Sync strategy is "last added": entries go to the newest anonymousId only,
#: exits go to every identifier combination (Segment docs: ID Sync does not apply to exits).
LAST_ADDED_KEYS = ("new_signups",)
#: Audiences only known (identified) users can be in; the others also have anonymous-only members.
KNOWN_ONLY_KEYS = ("high_value_users", "churn_risk", JOURNEY_KEY)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
HISTORY_START_MS = 1_740_787_200_000  # 2025-03-01T00:00:00Z
HISTORY_DAYS = 30
HISTORY_END_MS = HISTORY_START_MS + HISTORY_DAYS * DAY_MS
AS_OF_MS = HISTORY_START_MS + 15 * DAY_MS + 12 * HOUR_MS  # 2025-03-16T12:00:00.000Z
FILE_WINDOW_MS = 6 * HOUR_MS  # four archive files per source per day: part-00/06/12/18.gz

WEB_SOURCE_ID = "qR7xK2mWp9"
ENGAGE_SOURCE_ID = "Zt4nE8vLc3"
WRITE_KEY = "SAMPLEwk0nes1gNbBackend00000000"  # a Segment write key is not a secret
BATCH_SPLITS = (100, 100, 50)  # what analytics-python 2.4.0 sends for 250 small messages
GZIP_LEVEL = 6
MAX_USERS = 5_000_000

_B62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = b"0123456789abcdef"


def _b62_digest(text: str, n: int) -> str:
    digest = hashlib.sha256(text.encode()).digest() * 2
    return "".join(chr(_B62[b % 62]) for b in digest[:n])


SPACE_ID = "spa_" + _b62_digest("onesig_nb space", 22)
COMPUTATION_IDS = {k: "aud_" + _b62_digest(f"onesig_nb audience {k}", 27) for k in ALL_KEYS}

FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gustavo", "Hana", "Ivan", "Jonas",
    "Kemal", "Lucía", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomás",
    "Uma", "Valentina", "Wei", "Ximena", "Yusuf", "Zoé", "Léa", "Jürgen", "Amélie", "Carlos",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "García", "Müller", "Dubois", "Rossi", "Kowalski", "Novak", "Silva", "Jensen",
    "O'Brien", "Nakamura", "Fischer", "Martin", "López", "Schmidt", "Bernard", "Costa", "Lee",
    "Ivanova", "Haddad",
)  # fmt: skip
CITIES = (
    ("New York", "US"), ("San Francisco", "US"), ("Austin", "US"), ("London", "GB"),
    ("Toronto", "CA"), ("Madrid", "ES"), ("Mexico City", "MX"), ("Buenos Aires", "AR"),
    ("Berlin", "DE"), ("Munich", "DE"), ("Vienna", "AT"), ("Paris", "FR"), ("Lyon", "FR"),
    ("Montréal", "CA"), ("Sydney", "AU"),
)  # fmt: skip
LANGUAGES = ("en", "es", "de", "fr")
PLANS = ("free", "pro", "business")
PRODUCTS = (
    ("sku-1001", "Trail Runner Shoes", "shoes", 119.0), ("sku-1002", "Rain Jacket", "outerwear", 189.5),
    ("sku-1003", "Merino Socks", "accessories", 18.0), ("sku-1004", "Day Pack 22L", "bags", 79.99),
    ("sku-1005", "Water Bottle", "accessories", 24.0), ("sku-1006", "Fleece Hoodie", "tops", 64.0),
    ("sku-1007", "Headlamp", "gear", 39.95), ("sku-1008", "Camp Stove", "gear", 54.0),
)  # fmt: skip
PAGES = (("Home", "/"), ("Pricing", "/pricing"), ("Product", None), ("Cart", "/cart"),
         ("Blog", "/blog/packing-list"))  # fmt: skip
TRACK_EVENTS = ("Product Viewed", "Checkout Started", "Order Completed")
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.0.0 Mobile Safari/537.36",
)
SITE = "https://shop.example.com"
AJS_LIBRARY = {"name": "analytics.js", "version": "npm:next-1.70.0"}
ENGAGE_LIBRARY = {"name": "unknown", "version": "unknown"}
ENGAGE_INTEGRATIONS = {"All": False, "Amazon S3": True, "OneSignal (Actions)": True}
TRAIT_COLUMNS = ("first_name", "last_name", "email", "city", "country", "language", "plan", "ltv",
                 "last_product")  # fmt: skip
ROSTER_TAGS = ("first_name", "language", "plan", "ltv")

_WEB, _ENGAGE = 0, 1
_SOURCES = (WEB_SOURCE_ID, ENGAGE_SOURCE_ID)
_OPTS = orjson.OPT_SORT_KEYS


# ----------------------------------------------------------------------------- small helpers
_DAY_CACHE: dict[int, str] = {}


def _iso(ms: int) -> str:
    """Segment's timestamp format: ``2025-03-01T10:00:00.120Z``."""
    d, r = divmod(ms, DAY_MS)
    day = _DAY_CACHE.get(d)
    if day is None:
        day = _DAY_CACHE[d] = datetime.fromtimestamp(d * 86_400, UTC).strftime("%Y-%m-%d")
    h, r = divmod(r, HOUR_MS)
    m, r = divmod(r, 60_000)
    s, f = divmod(r, 1000)
    return f"{day}T{h:02d}:{m:02d}:{s:02d}.{f:03d}Z"


def _iso_python(ms: int) -> str:
    """analytics-python's format: ``2025-03-01T10:00:00.120000+00:00``."""
    return _iso(ms)[:-1] + "000+00:00"


class _Ids:
    """Random ids drawn in vectorized chunks from their own deterministic stream."""

    def __init__(self, rng: np.random.Generator, alphabet: bytes, width: int):
        self._rng, self._alphabet, self._width = rng, np.frombuffer(alphabet, np.uint8), width
        self._buf: list[str] = []
        self._pos = 0

    def one(self) -> str:
        if self._pos >= len(self._buf):
            idx = self._rng.integers(0, len(self._alphabet), (16_384, self._width))
            raw = self._alphabet[idx].view(f"S{self._width}").ravel()
            self._buf, self._pos = raw.astype(str).tolist(), 0
        self._pos += 1
        return self._buf[self._pos - 1]

    def uuid(self) -> str:
        h = self.one()  # 32 hex digits -> uuid4 shape
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


# ----------------------------------------------------------------------------- the people
def _people(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Every synthetic profile: identifiers, final traits, earlier trait values, clock skew."""
    ids = _Ids(np.random.default_rng([rng.integers(2**32), 1]), _HEX, 32)
    known = rng.random(n) < 0.88
    known[0] = True
    if n > 1:
        known[1] = False  # at least one anonymous-only profile, whatever the size
    n_anon = 1 + (rng.random(n) < 0.30).astype(int) + (rng.random(n) < 0.08).astype(int)
    width = max(6, len(str(n)))
    user_ids = [f"u_{i + 1:0{width}d}" if k else None for i, k in enumerate(known.tolist())]
    anon = [[ids.uuid() for _ in range(c)] for c in n_anon.tolist()]
    first = rng.integers(0, len(FIRST_NAMES), n).tolist()
    no_first = (rng.random(n) < 0.15).tolist()
    last = rng.integers(0, len(LAST_NAMES), n).tolist()
    city = rng.integers(0, len(CITIES), n).tolist()
    lang = rng.choice(4, n, p=[0.7, 0.12, 0.1, 0.08]).tolist()
    plan = rng.choice(3, n, p=[0.55, 0.33, 0.12])
    ltv = np.round(rng.lognormal(4.0, 1.1, n) * (1 + plan * 1.5), 2)
    ltv[rng.random(n) < 0.1] = 0.0
    product = rng.integers(0, len(PRODUCTS), n).tolist()
    second_email = (rng.random(n) < 0.08).tolist()
    skew = rng.normal(0, 40_000, n).astype(np.int64)
    skew += np.where(rng.random(n) < 0.03, rng.choice([-2, 2], n) * HOUR_MS, 0)  # wrong clocks
    prev_plan = np.where(rng.random(n) < 0.3, np.maximum(plan - 1, 0), plan).tolist()
    prev_ltv = np.round(ltv * rng.uniform(0.3, 0.9, n), 2).tolist()
    traits, emails = [], []
    for i in range(n):
        if not known[i]:
            traits.append({})
            emails.append([])
            continue
        ln = LAST_NAMES[last[i]]
        fn = None if no_first[i] else FIRST_NAMES[first[i]]
        local = f"{fn}.{ln}" if fn else ln
        local = unicodedata.normalize("NFKD", local.lower()).encode("ascii", "ignore").decode()
        local = "".join(c for c in local if c.isalnum() or c == ".")
        mails = [f"{local}{i + 1}@example.com"]
        if second_email[i]:
            mails.append(f"{local.split('.')[-1][:3]}{i + 1}@example.org")
        t = {"last_name": ln, "email": mails[0], "city": CITIES[city[i]][0],
             "country": CITIES[city[i]][1], "language": LANGUAGES[lang[i]],
             "plan": PLANS[int(plan[i])], "ltv": float(ltv[i]),
             "last_product": PRODUCTS[product[i]][1]}  # fmt: skip
        if fn:
            t = {"first_name": fn, **t}
        traits.append(t)
        emails.append(mails)
    return {
        "n": n, "known": known.tolist(), "user_ids": user_ids, "anon": anon, "traits": traits,
        "emails": emails, "skew": skew.tolist(), "ltv": ltv, "prev_plan": prev_plan,
        "prev_ltv": prev_ltv, "product": product,
    }  # fmt: skip


# ----------------------------------------------------------------------------- audience model
def _timelines(rng: np.random.Generator, people: dict[str, Any]) -> list[tuple]:
    """Who enters/exits which audience when: ``(person, key, [(t_ms, value, tie), ...])``.

    This is the generator's intended world; the manifest is computed from it, not from the events.
    """
    n = people["n"]
    known = np.array(people["known"])
    ltv_rank = np.argsort(np.argsort(people["ltv"])) / max(n - 1, 1)
    probs = {
        "cart_abandoners": np.full(n, 0.14),
        "high_value_users": np.where(ltv_rank >= 0.85, 0.55, 0.01),
        "new_signups": np.full(n, 0.10),
        "churn_risk": np.full(n, 0.09),
        JOURNEY_KEY: np.full(n, 0.06),
    }
    span = HISTORY_END_MS - HOUR_MS - HISTORY_START_MS
    out = []
    for key in ALL_KEYS:
        eligible = known if key in KNOWN_ONLY_KEYS else np.ones(n, bool)
        chosen = np.flatnonzero((rng.random(n) < probs[key]) & eligible)
        if key == JOURNEY_KEY:  # journeys v1 send exits only when the journey has an exit rule
            counts = rng.choice([1, 2], len(chosen), p=[0.8, 0.2])
        else:
            counts = rng.choice([1, 2, 3, 4], len(chosen), p=[0.45, 0.3, 0.17, 0.08])
        starts = HISTORY_START_MS + (rng.random(len(chosen)) * span * 0.85).astype(np.int64)
        gaps = HOUR_MS + rng.exponential(4 * DAY_MS, (len(chosen), 3)).astype(np.int64)
        ties = rng.random(len(chosen)) < 0.25
        for j, p in enumerate(chosen.tolist()):
            t, steps = int(starts[j]), []
            for s in range(int(counts[j])):
                if s:
                    t += 0 if (s == 2 and ties[j]) else int(gaps[j, s - 1])
                if t >= HISTORY_END_MS - HOUR_MS:
                    break
                steps.append([t, s % 2 == 0, s == 2 and bool(ties[j])])
            out.append((p, key, steps))
    # A few transitions exactly at as_of, so "timestamp <= as_of" is really tested.
    moved = 0
    for _p, _key, steps in out:
        if moved >= 3:
            break
        times = [s[0] for s in steps]
        k = next((i for i, x in enumerate(times) if x > AS_OF_MS), len(times)) - 1
        if k >= 0 and not any(s[2] for s in steps) and times[k] < AS_OF_MS - HOUR_MS:
            steps[k][0] = AS_OF_MS
            moved += 1
    return out


def _state(steps: list, until: int | None = None) -> bool:
    value = False
    for t, v, _tie in steps:
        if until is None or t <= until:
            value = v
    return value


# ----------------------------------------------------------------------------- messages
# A message is a tuple: (window, wkey, seq, dup, kind, args...). ``window`` = receivedAt // 6 h
# selects the file; files are written in ``wkey`` order (receivedAt + jitter: slight disorder).
def _web_messages(rng, people, ids) -> list[tuple]:
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


def _engage_messages(rng, people, timelines, ids) -> list[tuple]:
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


def _web_dict(m: tuple, people: dict) -> dict:
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
        "originalTimestamp": _iso(orig),
        "receivedAt": _iso(t + d + la),
        "sentAt": _iso(orig + d),
        "timestamp": _iso(t + la),  # = receivedAt - (sentAt - originalTimestamp)
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


def _engage_dict(m: tuple, people: dict) -> dict:
    kind, p, ki, value, t, ns, recv, uid, anon, mid = m[4:]
    key = ALL_KEYS[ki]
    val: Any = ("true" if value else "false") if key == JOURNEY_KEY else value
    email = people["traits"][p].get("email")
    personas = {"computation_class": "audience", "computation_id": COMPUTATION_IDS[key],
                "computation_key": key, "namespace": SPACE_ID, "space_id": SPACE_ID}  # fmt: skip
    context: dict[str, Any] = {"library": ENGAGE_LIBRARY, "personas": personas}
    msg: dict[str, Any] = {
        "anonymousId": anon, "context": context, "integrations": ENGAGE_INTEGRATIONS,
        "messageId": mid, "originalTimestamp": f"{_iso(t)[:-1]}{ns:06d}Z",
        "receivedAt": _iso(recv), "sentAt": None, "timestamp": _iso(t), "userId": uid,
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


# ----------------------------------------------------------------------------- warehouse rows
_BASE_COLS = (
    ("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
    ("received_at", "TIMESTAMP"), ("sent_at", "TIMESTAMP"), ("timestamp", "TIMESTAMP"),
    ("original_timestamp", "TIMESTAMP"), ("context_library_name", "VARCHAR"),
    ("context_library_version", "VARCHAR"), ("context_ip", "VARCHAR"), ("context_locale", "VARCHAR"),
    ("context_page_path", "VARCHAR"), ("context_page_url", "VARCHAR"),
    ("context_user_agent", "VARCHAR"), ("context_traits_email", "VARCHAR"),
    ("context_personas_computation_class", "VARCHAR"), ("context_personas_computation_id", "VARCHAR"),
    ("context_personas_computation_key", "VARCHAR"), ("context_personas_namespace", "VARCHAR"),
    ("context_personas_space_id", "VARCHAR"),
)  # fmt: skip
_TRAIT_COLS = tuple((c, "DOUBLE" if c == "ltv" else "VARCHAR") for c in TRAIT_COLUMNS)
_KEY_COLS = tuple((k, "VARCHAR" if k == JOURNEY_KEY else "BOOLEAN") for k in ALL_KEYS)
_EVENT_COLS = (("event", "VARCHAR"), ("event_text", "VARCHAR"))
TABLES = {
    "identifies": _BASE_COLS + _TRAIT_COLS + _KEY_COLS,
    "tracks": _BASE_COLS + _EVENT_COLS,
    "pages": _BASE_COLS + (("name", "VARCHAR"), ("path", "VARCHAR"), ("referrer", "VARCHAR"),
                           ("search", "VARCHAR"), ("title", "VARCHAR"), ("url", "VARCHAR")),
    "audience_entered": _BASE_COLS + _EVENT_COLS + (("audience_key", "VARCHAR"),) + _KEY_COLS,
    "audience_exited": _BASE_COLS + _EVENT_COLS + (("audience_key", "VARCHAR"),) + _KEY_COLS,
}  # fmt: skip


def _ms(iso: str | None) -> int | None:
    if iso is None:
        return None
    return int(datetime.fromisoformat(iso[:23] + "+00:00").timestamp() * 1000)


class _Warehouse:
    """Collects flattened rows per table and loads them into DuckDB in chunks."""

    CHUNK = 100_000

    def __init__(self, path: Path):
        import duckdb

        self.con = duckdb.connect(str(path))
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
        for table, cols in TABLES.items():
            spec = ", ".join(f'"{c}" {t}' for c, t in cols)
            self.con.execute(f"CREATE TABLE {table} ({spec})")

    def add(self, msg: dict, times: tuple) -> None:
        ctx = msg["context"]
        page, personas = ctx.get("page") or {}, ctx.get("personas") or {}
        base = (
            msg["messageId"], msg["anonymousId"], msg["userId"], *times,
            ctx["library"]["name"], ctx["library"]["version"], ctx.get("ip"), ctx.get("locale"),
            page.get("path"), page.get("url"), ctx.get("userAgent"),
            (ctx.get("traits") or {}).get("email"), personas.get("computation_class"),
            personas.get("computation_id"), personas.get("computation_key"),
            personas.get("namespace"), personas.get("space_id"),
        )  # fmt: skip
        kind = msg["type"]
        if kind == "identify":
            tr = msg["traits"]
            self._put("identifies", base + tuple(tr.get(c) for c, _ in _TRAIT_COLS + _KEY_COLS))
        elif kind == "page":
            pr = msg["properties"]
            self._put("pages", base + (msg["name"], pr["path"], pr["referrer"], pr["search"],
                                       pr["title"], pr["url"]))  # fmt: skip
        else:
            event = msg["event"]
            ev = (event.lower().replace(" ", "_"), event)
            self._put("tracks", base + ev)
            if event in ("Audience Entered", "Audience Exited"):
                pr = msg["properties"]
                row = base + ev + (pr["audience_key"],) + tuple(pr.get(k) for k in ALL_KEYS)
                self._put(
                    "audience_entered" if event == "Audience Entered" else "audience_exited", row
                )

    def _put(self, table: str, row: tuple) -> None:
        rows = self.rows[table]
        rows.append(row)
        if len(rows) >= self.CHUNK:
            self._flush(table)

    def _flush(self, table: str) -> None:
        import pyarrow as pa

        rows, cols = self.rows[table], TABLES[table]
        if not rows:
            return
        types = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("ms"), "DOUBLE": pa.float64(),
                 "BOOLEAN": pa.bool_()}  # fmt: skip
        arrays = [
            pa.array(list(col), type=types[t])
            for col, (_, t) in zip(zip(*rows, strict=True), cols, strict=True)
        ]
        chunk = pa.Table.from_arrays(arrays, names=[c for c, _ in cols])  # noqa: F841
        self.con.execute(f"INSERT INTO {table} SELECT * FROM chunk")
        self.rows[table] = []

    def close(self) -> None:
        for table in TABLES:
            self._flush(table)
        # users: one row per user_id, each column = its latest non-null value (timestamp, then
        # receivedAt), like Segment's users table; anonymous-only profiles are absent.
        latest = ", ".join(
            f'arg_max("{c}", struct_pack(t := "timestamp", r := received_at)) '
            f'FILTER (WHERE "{c}" IS NOT NULL) AS "{c}"'
            for c, _ in _TRAIT_COLS + _KEY_COLS
        )
        self.con.execute(
            f"CREATE TABLE users AS SELECT user_id AS id, max(received_at) AS received_at, "
            f"{latest} FROM identifies WHERE user_id IS NOT NULL GROUP BY user_id ORDER BY id"
        )
        self.con.execute("CHECKPOINT")
        self.con.close()


# ----------------------------------------------------------------------------- writers
def _write_archive(ws: Path, rng, people, web, engage) -> dict[str, Any]:
    """Write the gz files; return counts, malformed line positions and the warehouse rows."""
    by_file: dict[tuple[int, int], list[tuple]] = {}
    for src, msgs in ((_WEB, web), (_ENGAGE, engage)):
        for m in msgs:
            by_file.setdefault((src, m[0]), []).append(m)
    files = sorted(by_file)
    # malformed lines: two truncated messages and one binary garbage line, in three web files
    web_files = [f for f in files if f[0] == _WEB]
    bad_at: dict[tuple[int, int], list[str]] = {}
    for k, kind in ((1, "truncated"), (2, "binary"), (3, "truncated")):
        bad_at.setdefault(web_files[len(web_files) * k // 4], []).append(kind)
    wh = _Warehouse(ws / "warehouse.duckdb")
    malformed: list[list] = []
    counts = {"messages": 0, "duplicate_messages": 0, "web_messages": 0, "engage_messages": 0,
              "identify": 0, "track": 0, "page": 0, "audience_entered": 0, "audience_exited": 0,
              "files": 0}  # fmt: skip
    for src, window in files:
        msgs = sorted(by_file[(src, window)], key=lambda m: (m[1], m[2]))
        day_ms = window * FILE_WINDOW_MS // DAY_MS * DAY_MS
        hour = window * FILE_WINDOW_MS % DAY_MS // HOUR_MS
        rel = f"segment-logs/{_SOURCES[src]}/{day_ms}/part-{hour:02d}.gz"
        lines = []
        for m in msgs:
            if src == _WEB:
                msg = _web_dict(m, people)
                kind, p, extra, with_uid, t, skew, d, la, _ = m[4:]
                times = (t + d + la, t + skew + d, t + la, t + skew)
            else:
                msg = _engage_dict(m, people)
                times = (m[10], None, m[8], m[8])
            lines.append(orjson.dumps(msg, option=_OPTS))
            counts["messages"] += 1
            if m[3]:
                counts["duplicate_messages"] += 1
                continue
            counts["web_messages" if src == _WEB else "engage_messages"] += 1
            counts[msg["type"]] += 1
            if msg.get("event") in ("Audience Entered", "Audience Exited"):
                counts[msg["event"].lower().replace(" ", "_")] += 1
            wh.add(msg, times)
        for bad in bad_at.get((src, window), []):
            pos = int(rng.integers(0, len(lines) + 1))
            if bad == "truncated":
                junk = next(x for x in lines[pos:] + lines[:pos] if x[:1] == b"{")
                junk = junk[: len(junk) * 3 // 5]
            else:
                junk = bytes(b for b in rng.integers(0, 256, 96, dtype=np.uint8).tobytes()
                             if b not in (10, 13)) + b"\xff\xfe\x00"  # fmt: skip
            malformed = [[f, n + 1 if f == rel and n >= pos + 1 else n] for f, n in malformed]
            lines.insert(pos, junk)
            malformed.append([rel, pos + 1])
        out = ws / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", GZIP_LEVEL, mtime=0))
        counts["files"] += 1
    wh.close()
    counts["malformed_lines"] = len(malformed)
    return {"counts": counts, "malformed": sorted(malformed)}


def _write_batches(ws: Path, rng, people) -> int:
    """analytics-python /v1/batch bodies captured from a backend (server-side events)."""
    ids = _Ids(np.random.default_rng([int(rng.integers(2**32)), 3]), _HEX, 32)
    known = [p for p in range(people["n"]) if people["known"][p]]
    (ws / "batch").mkdir()
    t = HISTORY_END_MS - 2 * DAY_MS
    total = 0
    for b, size in enumerate(BATCH_SPLITS):
        items = []
        for _ in range(size):
            p = known[int(rng.integers(len(known)))]
            t += int(rng.integers(200, 20_000))
            item: dict[str, Any] = {
                "anonymousId": None, "context": {"library": {"name": "analytics-python",
                                                             "version": "2.4.0"}},
                "integrations": {}, "messageId": ids.uuid(), "timestamp": _iso_python(t),
                "userId": people["user_ids"][p],
            }  # fmt: skip
            roll = int(rng.integers(10))
            if roll < 6:
                sku, name, _cat, price = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
                item.update(type="track", event="Order Completed", properties={
                    "order_id": f"srv_{b}_{len(items)}", "revenue": price, "currency": "USD",
                    "products": [{"product_id": sku, "name": name, "quantity": 1}]})  # fmt: skip
            elif roll < 9:
                tr = people["traits"][p]
                item.update(type="identify", traits={"plan": tr["plan"], "ltv": tr["ltv"]})
            else:
                item.update(type="page", name="Invoice", category=None,
                            properties={"path": "/account/invoices"})  # fmt: skip
            items.append(item)
        body = {"batch": items, "sentAt": _iso_python(t + 400), "writeKey": WRITE_KEY}
        (ws / "batch" / f"batch-{b + 1:03d}.json").write_bytes(
            orjson.dumps(body, option=_OPTS | orjson.OPT_INDENT_2)
        )
        total += size
    return total


def _csv_bytes(header: list[str], rows: list[list]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


def _cell(v: Any) -> str:
    return "" if v is None else (repr(v) if isinstance(v, float) else str(v))


def _write_engage_csvs(ws: Path, people, members: dict[str, list[int]]) -> None:
    """Engage "Download CSV" snapshots (final membership) in the formatted and unformatted styles."""
    (ws / "engage-csv").mkdir()
    traits_cols = [c for c in TRAIT_COLUMNS if c != "email"]
    for key in CSV_AUDIENCES:
        profiles = members[key]
        n_anon = max((len(people["anon"][p]) for p in profiles), default=1)
        n_mail = max((len(people["emails"][p]) for p in profiles), default=1)
        idx = lambda name, k: [name] + [f"{name}_{i}" for i in range(1, k)]  # noqa: E731
        header = ["key", "user_id", *idx("anonymous_id", n_anon), *idx("email", n_mail)]
        formatted, unformatted = [], []
        for p in profiles:
            anon, mails, tr = people["anon"][p], people["emails"][p], people["traits"][p]
            uid = people["user_ids"][p]
            row = [f"segment_id_{p + 1}", uid or ""]
            row += [anon[i] if i < len(anon) else "" for i in range(n_anon)]
            row += [mails[i] if i < len(mails) else "" for i in range(n_mail)]
            formatted.append(row + [_cell(tr.get(c)) for c in traits_cols])
            ext = {"anonymous_id": anon, "email": mails, "user_id": [uid] if uid else []}
            ext = {k: v for k, v in ext.items() if v}
            unformatted.append([f"segment_id_{p + 1}", orjson.dumps(ext, option=_OPTS).decode(),
                                orjson.dumps(tr, option=_OPTS).decode()])  # fmt: skip
        out = ws / "engage-csv"
        (out / f"{key}-formatted.csv").write_bytes(_csv_bytes(header + traits_cols, formatted))
        (out / f"{key}-unformatted.csv").write_bytes(
            _csv_bytes(["key", "external_ids", "traits"], unformatted)
        )


def _write_roster(ws: Path, rng, people) -> list[tuple[str, str, bool, dict]]:
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
    body = [[u, plat, "true" if sub else "false", orjson.dumps(t, option=_OPTS).decode()]
            for u, plat, sub, t in rows]  # fmt: skip
    header = ["external_id", "platform", "subscribed", "tags"]
    (ws / "onesignal-users.csv").write_bytes(_csv_bytes(header, body))
    return rows


# ----------------------------------------------------------------------------- ground truth
def _truth(people, timelines, roster) -> tuple[dict, dict[str, list[int]]]:
    """Membership per audience from the generator's model (intended state), not from the events."""
    reachable_ids = {u for u, _plat, sub, _tags in roster if sub}
    sets = {k: {"by_user_id": set(), "by_anonymous_id": set(), "by_auto": set(),
                "by_user_id_as_of": set()} for k in ALL_KEYS}  # fmt: skip
    profiles: dict[str, list[int]] = {k: [] for k in ALL_KEYS}
    for p, key, steps in timelines:
        uid, s = people["user_ids"][p], sets[key]
        if uid and _state(steps, AS_OF_MS):
            s["by_user_id_as_of"].add(uid)
        if not _state(steps):
            continue
        profiles[key].append(p)
        # "last added" ID Sync: entries reached only the newest anonymousId, exits reached all
        anon = people["anon"][p][-1:] if key in LAST_ADDED_KEYS else people["anon"][p]
        s["by_anonymous_id"].update(anon)
        if uid:
            s["by_user_id"].add(uid)
            s["by_auto"].add(uid)
        else:
            s["by_auto"].update(anon)
    out = {}
    for key, s in sets.items():
        s["reachable"] = s["by_user_id"] & reachable_ids
        out[key] = {name: sorted(v) for name, v in s.items()}
    return out, {k: sorted(v) for k, v in profiles.items()}


def _add_duplicates(rng, msgs: list[tuple], rate: float) -> None:
    """Segment delivers some messages twice: same bytes, same messageId, later in the file."""
    picks = np.flatnonzero(rng.random(len(msgs)) < rate).tolist()
    for i in picks:
        m = msgs[i]
        msgs.append((m[0], m[1] + int(rng.integers(1, 5_000)), len(msgs), True, *m[4:]))


def _generate(ws: Path, users: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    people = _people(rng, users)
    timelines = _timelines(rng, people)
    web = _web_messages(rng, people, _Ids(np.random.default_rng([seed, 2]), _HEX, 32))
    engage = _engage_messages(
        rng, people, timelines, _Ids(np.random.default_rng([seed, 3]), _B62, 27)
    )
    _add_duplicates(rng, web, 0.003)
    _add_duplicates(rng, engage, 0.015)
    archive = _write_archive(ws, rng, people, web, engage)
    batch_messages = _write_batches(ws, rng, people)
    roster = _write_roster(ws, rng, people)
    audiences, member_profiles = _truth(people, timelines, roster)
    _write_engage_csvs(ws, people, member_profiles)
    counts = archive["counts"]
    counts.update(
        people=users, known_users=sum(people["known"]),
        anonymous_only=users - sum(people["known"]), batch_files=len(BATCH_SPLITS),
        batch_messages=batch_messages, roster_rows=len(roster),
        roster_users=len({r[0] for r in roster}),
    )  # fmt: skip
    manifest = {
        "seed": seed, "users": users, "generated_for": "onesig_nb", "as_of": _iso(AS_OF_MS),
        "audiences": audiences, "csv_audiences": list(CSV_AUDIENCES), "counts": counts,
        "malformed_lines": archive["malformed"],
        "sources": {"web": WEB_SOURCE_ID, "engage": ENGAGE_SOURCE_ID},
        "space_id": SPACE_ID, "computation_ids": COMPUTATION_IDS,
        "history": {"start": _iso(HISTORY_START_MS), "end": _iso(HISTORY_END_MS),
                    "days": HISTORY_DAYS},
    }  # fmt: skip
    (ws / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | _OPTS) + b"\n"
    )
    return manifest


# ----------------------------------------------------------------------------- public API
def _check_int(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(
            f"{name} must be a whole number, got {value!r} ({type(value).__name__}). "
            f"Pass e.g. {name}=5000."
        )
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum:,}" if maximum is not None else ""
        raise ValidationError(f"{name} must be at least {minimum}{upper}, got {value}.")
    return value


def _is_workspace(path: Path) -> bool:
    try:
        return (
            orjson.loads((path / "manifest.json").read_bytes()).get("generated_for") == "onesig_nb"
        )
    except (OSError, ValueError, AttributeError):
        return False


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise ValidationError(
            f"{target} exists and is not a directory. Choose a new directory for the workspace."
        )
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:
            raise ValidationError(
                f"{target} already exists and is not empty. Pass overwrite=True "
                "(CLI: --overwrite) to replace it, or choose a new directory."
            )
        if not _is_workspace(target):
            raise ValidationError(
                f"Refusing to overwrite {target}: it is not empty and is not a sample workspace "
                "(no onesig_nb manifest.json). Choose a new or empty directory."
            )


def make_workspace(
    path: str | os.PathLike, *, users: int = 5_000, seed: int = 7, overwrite: bool = False
) -> Path:
    """Write a deterministic sample Segment workspace to ``path`` and return its path.

    Everything is written to a temporary directory next to ``path`` and renamed into place at the
    end, so a failure never leaves a half-written workspace. An existing non-empty directory is
    only replaced with ``overwrite=True``, and only if it is itself a sample workspace.
    """
    users = _check_int("users", users, minimum=1, maximum=MAX_USERS)
    seed = _check_int("seed", seed, minimum=0)
    target = Path(path).expanduser().absolute()
    _check_target(target, overwrite)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise ValidationError(
            f"Cannot write the sample workspace to {target}: {exc.strerror or exc}. "
            "Choose a directory you can write to (e.g. ./workspace)."
        ) from exc
    try:
        os.chmod(tmp, 0o755)
        started = time.perf_counter()
        manifest = _generate(tmp, users, seed)
        _install(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "wrote sample workspace %s: %d users, %d messages in %.1f s", target, users,
        manifest["counts"]["messages"], time.perf_counter() - started,
    )  # fmt: skip
    return target


def _install(tmp: Path, target: Path) -> None:
    """Move the finished temp dir into place (replacing an old workspace only when asked)."""
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    if not target.exists():
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_workspace(target):  # someone else finished first: theirs is as good
                raise
            shutil.rmtree(tmp, ignore_errors=True)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def default_workspace() -> Path:
    """``$ONESIG_NB_WORKSPACE`` if set, else ``./workspace``."""
    return Path(os.environ.get("ONESIG_NB_WORKSPACE") or "workspace")


def ensure_workspace(
    path: str | os.PathLike | None = None, *, users: int = 5_000, seed: int = 7
) -> Path:
    """Return the workspace at ``path``, generating it first only if ``manifest.json`` is missing."""
    target = Path(path) if path is not None else default_workspace()
    if (target / "manifest.json").is_file():
        return target.expanduser().absolute()
    return make_workspace(target, users=users, seed=seed)


def _file_in(path: str | os.PathLike, name: str) -> Path:
    p = Path(path).expanduser()
    p = p / name if p.is_dir() else p
    if not p.is_file():
        from .errors import SourceError

        raise SourceError(
            f"No {name} at {p}. Generate a workspace with "
            f"onesig_nb.samples.make_workspace({str(Path(path))!r}) or `onesig-nb sample --out DIR`."
        )
    return p


def load_manifest(path: str | os.PathLike) -> dict:
    """Read ``manifest.json`` of a workspace (the directory or the file itself)."""
    return orjson.loads(_file_in(path, "manifest.json").read_bytes())


def load_roster(path: str | os.PathLike):
    """The OneSignal roster as a DataFrame: external_id, platform, subscribed (bool), tags (dict)."""
    import pandas as pd

    df = pd.read_csv(_file_in(path, "onesignal-users.csv"), dtype=str, keep_default_na=False)
    df["subscribed"] = df["subscribed"].str.lower().eq("true")
    df["tags"] = [orjson.loads(t) if t else {} for t in df["tags"]]
    return df[["external_id", "platform", "subscribed", "tags"]]


def main(argv: list[str] | None = None) -> int:
    """``onesig-nb sample``: write the sample workspace and print what was written."""
    parser = argparse.ArgumentParser(
        prog="onesig-nb sample", description="Write the deterministic sample Segment workspace."
    )
    parser.add_argument(
        "--users", type=int, default=5_000, help="people to generate (default 5000)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--out", default=None, help="directory ($ONESIG_NB_WORKSPACE or ./workspace)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing workspace")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else default_workspace()
    started = time.perf_counter()
    try:
        ws = make_workspace(out, users=args.users, seed=args.seed, overwrite=args.overwrite)
    except ValidationError as exc:
        print(f"onesig-nb sample: {exc}", file=sys.stderr)
        return 2
    m = load_manifest(ws)
    c = m["counts"]
    print(f"Wrote sample workspace {ws} in {time.perf_counter() - started:.1f} s")
    print(f"  {c['people']:,} people ({c['known_users']:,} with a userId), {c['messages']:,} "
          f"archive messages in {c['files']} files, {c['malformed_lines']} malformed lines")  # fmt: skip
    print(f"  {c['roster_rows']:,} OneSignal subscriptions for {c['roster_users']:,} users; "
          f"{c['batch_files']} batch files")  # fmt: skip
    for key, a in m["audiences"].items():
        print(f"  {key:<17} {len(a['by_user_id']):>7,} users  {len(a['reachable']):>7,} reachable")
    return 0
