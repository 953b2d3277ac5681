"""Wire formats shared by the writers: Segment timestamps, sorted-key JSON, CSV bytes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import orjson

from onesig_nb.samples.world import DAY_MS, HOUR_MS

#: Every JSON file and cell is written with sorted keys, so the same seed gives the same bytes.
JSON_OPTS = orjson.OPT_SORT_KEYS

_DAY_CACHE: dict[int, str] = {}


def iso(ms: int) -> str:
    """Segment's timestamp format: ``2025-03-01T10:00:00.120Z``."""
    d, r = divmod(ms, DAY_MS)
    day = _DAY_CACHE.get(d)
    if day is None:
        day = _DAY_CACHE[d] = datetime.fromtimestamp(d * 86_400, UTC).strftime("%Y-%m-%d")
    h, r = divmod(r, HOUR_MS)
    m, r = divmod(r, 60_000)
    s, f = divmod(r, 1000)
    return f"{day}T{h:02d}:{m:02d}:{s:02d}.{f:03d}Z"


def iso_python(ms: int) -> str:
    """analytics-python's format: ``2025-03-01T10:00:00.120000+00:00``."""
    return iso(ms)[:-1] + "000+00:00"


def csv_bytes(header: list[str], rows: list[list]) -> bytes:
    """A CSV file's bytes: UTF-8, ``\\n`` line ends, the header first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()
