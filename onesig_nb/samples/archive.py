"""The archive writer: the S3-style gzipped NDJSON files of both sources, with a few malformed lines.

Every well-formed, non-duplicate message is also handed to the warehouse as it is written.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from onesig_nb.samples.events import engage_dict, web_dict
from onesig_nb.samples.formats import JSON_OPTS
from onesig_nb.samples.warehouse import WarehouseWriter
from onesig_nb.samples.world import DAY_MS, ENGAGE_SOURCE_ID, FILE_WINDOW_MS, HOUR_MS, WEB_SOURCE_ID

GZIP_LEVEL = 6

_WEB, _ENGAGE = 0, 1
_SOURCES = (WEB_SOURCE_ID, ENGAGE_SOURCE_ID)


def write_archive(ws: Path, rng, people, web, engage) -> dict[str, Any]:
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
    wh = WarehouseWriter(ws / "warehouse.duckdb")
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
                msg = web_dict(m, people)
                kind, p, extra, with_uid, t, skew, d, la, _ = m[4:]
                times = (t + d + la, t + skew + d, t + la, t + skew)
            else:
                msg = engage_dict(m, people)
                times = (m[10], None, m[8], m[8])
            lines.append(orjson.dumps(msg, option=JSON_OPTS))
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
