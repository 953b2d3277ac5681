"""The batch writer: analytics-python ``/v1/batch`` request bodies from a backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

from onesig_nb.samples.formats import JSON_OPTS, iso_python
from onesig_nb.samples.ids import HEX, Ids
from onesig_nb.samples.world import DAY_MS, HISTORY_END_MS, PRODUCTS

WRITE_KEY = "SAMPLEwk0nes1gNbBackend00000000"  # a Segment write key is not a secret
BATCH_SPLITS = (100, 100, 50)  # what analytics-python 2.4.0 sends for 250 small messages


def write_batches(ws: Path, rng, people) -> int:
    """analytics-python /v1/batch bodies captured from a backend (server-side events)."""
    ids = Ids(np.random.default_rng([int(rng.integers(2**32)), 3]), HEX, 32)
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
                "integrations": {}, "messageId": ids.uuid(), "timestamp": iso_python(t),
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
        body = {"batch": items, "sentAt": iso_python(t + 400), "writeKey": WRITE_KEY}
        (ws / "batch" / f"batch-{b + 1:03d}.json").write_bytes(
            orjson.dumps(body, option=JSON_OPTS | orjson.OPT_INDENT_2)
        )
        total += size
    return total
