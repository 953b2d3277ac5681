"""The people model: identifiers, final traits, earlier trait values and clock skew per profile."""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np

from onesig_nb.samples.ids import HEX, Ids
from onesig_nb.samples.world import (
    CITIES,
    FIRST_NAMES,
    HOUR_MS,
    LANGUAGES,
    LAST_NAMES,
    PLANS,
    PRODUCTS,
)


def make_people(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Every synthetic profile: identifiers, final traits, earlier trait values, clock skew."""
    ids = Ids(np.random.default_rng([rng.integers(2**32), 1]), HEX, 32)
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
