"""Cohort load at 10x the archive: does ``load_cohort`` scale linearly, in bounded memory?

Ours: ``onesig_nb.load_cohort(<x10>/segment-logs, audience=K, cache=False)`` on a 10M-message
archive (about 2M people). Peer: the same call on the 1M-message archive it was built from,
measured in the same run (cold, ``cache=False``, each run a fresh subprocess; wall time from
``os.wait4``, peak memory from the child's own ``VmHWM``, see ``bench._harness``).

The 10M archive is the 1M sample workspace of ``bench.cohort_load`` copied 10 times ("shards")
with the ids rewritten so nothing collides across shards: shard ``k`` renames ``userId``
``u_123`` to ``u<k>_123`` and prefixes ``anonymousId`` and ``messageId`` with ``s<k>-`` (so the
de-duplication by messageId keeps every copy). Malformed lines are kept byte for byte, so the
loader sees them 10 times. The shards keep the day folders: ``<source>/<day>/part-NN-s<k>.gz``,
still a 30-day archive of two sources. It is cached under ``bench/_data/cohort-<users>-x10/``
with a marker recording the digest of the source archive, and rebuilt when that changes.

Because shards share no id, the 10M audience must be exactly the union over shards of the 1M
members renamed; every row checks that (sorted-id digests), so it proves the answer as well as
the speed. ``--size quick`` uses the small quick workspace doubled (x2) and applies no target.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import orjson
from isal import igzip, isal_zlib

from bench._harness import median, row, run_python
from bench.cohort_load import AUDIENCE, count_messages, workspace

AREA = "cohort_scale"

#: users in the source workspace, shards (copies), 1M runs (median), most 10M runs, and how the
#: rows name the big and the small archive.
SIZES = {
    "quick": (4_000, 2, 3, 3, "x2", "x1"),
    "full": (200_000, 10, 3, 3, "10M", "1M"),
}
#: More 10M runs only while the 10M runs so far took less than this (one run is enough when a
#: run takes minutes; the note says how many were taken).
BIG_RUNS_BUDGET_S = 60.0

#: Issue 17: "10M messages (about 2M people): at most 10x the 1M time, with peak memory under
#: 1 GB and not growing with the archive". The time budget is linear: at most as many times the
#: 1M time as there are shards (10 at full size). "Not growing" is made concrete as: the 10M peak
#: is at most 1.5x the 1M peak (with 10x the data).
TARGET_MB = 1_000.0
TARGET_GROWTH = 1.5

#: How the archive is rewritten per shard (byte patterns of Segment's compact JSON). The
#: generator checks that each pattern occurs exactly once per message carrying that id.
USER_PREFIX = "u_"
USER_TEMPLATE = "u{k}_"  # shard k's userId prefix
ID_FIELDS = ("userId", "anonymousId", "messageId")
COMPRESS_LEVEL = 1  # isal levels 0-3; 1 keeps generation fast, files ~ as big as zlib -6
FORMAT = 1  # bump when the rewrite changes, so cached archives are rebuilt

LOAD = r"""
import hashlib, json, sys, time
from onesig_nb import load_cohort
shards, old, new = int(sys.argv[3]), sys.argv[4], sys.argv[5]
t0 = time.perf_counter()
c = load_cohort(sys.argv[1], audience=sys.argv[2], cache=False)
inside = time.perf_counter() - t0
ids = sorted(map(str, c.external_ids))
def sha(xs):
    return hashlib.sha1("\n".join(xs).encode()).hexdigest()
out = {"members": len(ids), "inside_s": inside, "sha": sha(ids),
       "counts": {k: v for k, v in c.report.counts.items() if isinstance(v, int)}}
if shards:  # the members the sharded archive must have: each shard's renamed copy of these
    out["renamed_sha"] = sha(sorted(
        new.format(k=k) + i[len(old):] if i.startswith(old) else i
        for k in range(shards) for i in ids))
print(json.dumps(out))
"""


def _user_prefix(k: int) -> str:
    return USER_TEMPLATE.format(k=k)


def _replacements(k: int) -> list[tuple[bytes, bytes]]:
    """(old, new) byte patterns that make shard ``k``'s ids unique."""
    return [
        (b'"userId":"' + USER_PREFIX.encode(), b'"userId":"' + _user_prefix(k).encode()),
        (b'"anonymousId":"', f'"anonymousId":"s{k}-'.encode()),
        (b'"messageId":"', f'"messageId":"s{k}-'.encode()),
    ]


def _source_files(ws: Path) -> list[Path]:
    files = sorted(p for p in (ws / "segment-logs").rglob("*") if p.is_file())
    odd = [str(p) for p in files if p.suffix != ".gz"]
    if odd:
        raise RuntimeError(f"only .gz archive files can be sharded; found {odd[:3]}")
    return files


def source_digest(ws: Path) -> str:
    """Identity of the source archive: its files' paths and bytes."""
    h = hashlib.sha1()
    logs = ws / "segment-logs"
    for f in _source_files(ws):
        h.update(str(f.relative_to(logs)).encode() + b"\0")
        h.update(hashlib.sha1(f.read_bytes()).digest())
    return h.hexdigest()


def _scan(data: bytes) -> tuple[list[tuple[bool, bytes]], int, set[str]]:
    """The file's text as runs of (good?, bytes), its line count and its userIds.

    A good run is only lines that parse as JSON and whose ids the byte patterns rewrite
    exactly; anything else (malformed lines) is kept verbatim in its own run.
    """
    lines = data.split(b"\n")
    n_lines = len(lines) - (1 if lines[-1] == b"" else 0)
    users: set[str] = set()
    good = bytearray(len(lines))
    expected = dict.fromkeys(ID_FIELDS, 0)
    for i, line in enumerate(lines):
        if not line:
            good[i] = 1
            continue
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        good[i] = 1
        if not isinstance(msg, dict):
            continue
        for field in ID_FIELDS:
            value = msg.get(field)
            if value is None:
                continue
            if not isinstance(value, str) or (
                field == "userId" and not value.startswith(USER_PREFIX)
            ):
                raise RuntimeError(f"cannot rename {field}={value!r}: {line[:200]!r}")
            expected[field] += 1
        if isinstance(msg.get("userId"), str):
            users.add(msg["userId"])
    runs: list[tuple[bool, bytes]] = []
    start = 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or good[i] != good[start]:
            runs.append((bool(good[start]), b"\n".join(lines[start:i])))
            start = i
    # Every id must be rewritten once: the patterns must occur once per id in the good text.
    for (old, _), field in zip(_replacements(0), ID_FIELDS, strict=True):
        found = sum(chunk.count(old) for ok, chunk in runs if ok)
        if found != expected[field]:
            raise RuntimeError(f"{field}: {found} pattern matches for {expected[field]} ids")
    return runs, n_lines, users


def _shard_file(src: Path, logs: Path, out_logs: Path, shards: int) -> dict:
    rel = src.relative_to(logs)
    raw = src.read_bytes()
    try:
        data = igzip.decompress(raw)
    except (OSError, EOFError, isal_zlib.error):
        data = None  # an unreadable file: every shard gets the same unreadable bytes
    runs, n_lines, users = _scan(data) if data is not None else (None, 0, set())
    out_bytes = 0
    for k in range(shards):
        dest = out_logs / rel.parent / f"{rel.stem}-s{k}{rel.suffix}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if runs is None:
            blob = raw
        else:
            pieces = []
            for ok, chunk in runs:
                if ok:
                    for old, new in _replacements(k):
                        chunk = chunk.replace(old, new)
                pieces.append(chunk)
            blob = igzip.compress(b"\n".join(pieces), compresslevel=COMPRESS_LEVEL)
        dest.write_bytes(blob)
        out_bytes += len(blob)
    if runs is None:
        return {"lines": 0, "unreadable": 1, "users": set(), "bytes": out_bytes}
    return {"lines": n_lines, "unreadable": 0, "users": users, "bytes": out_bytes}


def sharded(ws: Path, shards: int) -> tuple[Path, dict]:
    """The ``shards``-times archive built from workspace ``ws`` (cached with a marker)."""
    out = ws.parent / f"{ws.name}-x{shards}"
    marker = out / ".bench-sharded.json"
    digest = source_digest(ws)
    if marker.is_file():
        info = json.loads(marker.read_text())
        if info.get("source_digest") == digest and info.get("format") == FORMAT:
            info["generated_now"] = False
            return out, info
    if out.exists():
        shutil.rmtree(out)
    logs, out_logs = ws / "segment-logs", out / "segment-logs"
    out_logs.mkdir(parents=True)
    t0 = time.perf_counter()
    files = _source_files(ws)
    with ThreadPool(2) as pool:
        parts = pool.starmap(_shard_file, [(f, logs, out_logs, shards) for f in files])
    users: set[str] = set()
    for p in parts:
        users |= p["users"]
    lines = sum(p["lines"] for p in parts)
    info = {
        "source": str(ws),
        "source_digest": digest,
        "format": FORMAT,
        "shards": shards,
        "source_files": len(files),
        "files": len(files) * shards,
        "source_messages": lines,
        "messages": lines * shards,
        "source_people": len(users),
        "people": len(users) * shards,
        "unreadable_files": sum(p["unreadable"] for p in parts) * shards,
        "bytes": sum(p["bytes"] for p in parts),
        "generation_s": round(time.perf_counter() - t0, 1),
    }
    marker.write_text(json.dumps(info, indent=2))  # written last: a cut-short build is redone
    info["generated_now"] = True
    return out, info


def _load(logs: Path, shards: int):
    m = run_python(LOAD, str(logs), AUDIENCE, str(shards), USER_PREFIX, USER_TEMPLATE)
    if m.returncode == 0 and m.result is None:
        raise RuntimeError(f"load printed no result: {m.stderr[-800:]}")
    return m


def _failed(m) -> str:
    why = "killed (out of memory?)" if m.returncode in (-9, 137) else "failed"
    tail = m.stderr.strip().splitlines()[-1:] or [""]
    return f"LOAD {why}: rc={m.returncode} after {m.wall:.0f} s, {tail[0][:160]}"


def run(size: str) -> list[dict]:
    users, shards, small_runs, big_max, base, small_label = SIZES[size]
    ws = workspace(users)
    source_messages = count_messages(ws)
    big_ws, info = sharded(ws, shards)
    if info["source_messages"] != source_messages or info["messages"] != shards * source_messages:
        raise RuntimeError(
            f"sharded archive has {info['messages']:,} messages, not {shards} x {source_messages:,}"
        )

    small = [_load(ws / "segment-logs", shards) for _ in range(small_runs)]
    if small[0].returncode != 0:
        raise RuntimeError(f"1M load failed: {small[0].stderr[-800:]}")
    big = []
    while len(big) < big_max and (not big or sum(m.wall for m in big) < BIG_RUNS_BUDGET_S):
        big.append(_load(big_ws / "segment-logs", 0))
        if big[-1].returncode != 0:
            break
    ok = [m for m in big if m.returncode == 0]

    full = size == "full"
    s_wall, s_mb = median(m.wall for m in small), median(m.peak_mb for m in small)
    b_wall = median(m.wall for m in ok) if ok else None
    b_mb = median(m.peak_mb for m in ok) if ok else max(m.peak_mb for m in big)
    s_res = small[0].result

    if ok:
        b_res = ok[0].result
        same = b_res["sha"] == s_res["renamed_sha"]
        counts_ok = all(
            b_res["counts"].get(k) == shards * s_res["counts"].get(k, 0)
            for k in ("messages_read", "malformed_lines", "duplicates_dropped")
        )
        agree = (
            f"same members as the {shards} renamed {small_label} shards"
            if same
            else f"MEMBERS DIFFER from the {shards} renamed {small_label} shards "
            f"({b_res['members']:,} vs {shards} x {s_res['members']:,})"
        )
        bc = b_res["counts"]
        counted = (
            f"read {bc.get('messages_read', 0):,} events, {bc.get('malformed_lines', 0):,} "
            f"malformed lines, {bc.get('duplicates_dropped', 0):,} duplicates dropped"
            + ("" if counts_ok else f" (NOT {shards}x the {small_label} load's)")
        )
        scale = (
            f"{info['messages']:,} messages ({shards} x {source_messages:,}), "
            f"{info['people']:,} people (userIds), {info['files']:,} files; "
            f"{AUDIENCE}: {b_res['members']:,} members; {counted}; {agree}"
        )
    else:
        same = counts_ok = False
        agree = _failed(big[-1])
        scale = f"{info['messages']:,} messages, {info['people']:,} people; {agree}"
    runs = (
        f"{base}: {len(ok) or len(big)} run(s)"
        + (f" (one: it took over {BIG_RUNS_BUDGET_S:.0f} s)" if len(big) == 1 < big_max else "")
        + f", {small_label}: median of {small_runs}; each a fresh process, cache=False, "
        "files in the page cache"
    )
    at_full = "" if full else "; targets apply at full size"
    time_ok = b_wall is not None and b_wall <= shards * s_wall
    mem_ok = bool(ok) and b_mb < TARGET_MB
    growth = b_mb / s_mb if s_mb else float("nan")

    factor = f"{base} / {small_label} = {b_wall / s_wall:.1f}x; " if b_wall is not None else ""

    def met(value: bool) -> bool | None:
        return (value and same and counts_ok) if full else None

    wall_row = row(
        AREA,
        f"{base} messages cold load (wall)",
        ours=b_wall,
        peer=s_wall,
        peer_name=f"{small_label} cold load, same run",
        unit="s",
        target=f"<= {shards}x the {small_label} time (ratio >= 1.00x)",
        met=met(time_ok),
        note=f"{factor}ratio = {shards} x {small_label} time / {base} time; "
        f"{scale}; {runs}" + at_full,
        higher_is_better=False,
    )
    # row() gives peer/ours (0.1x when exactly linear); the target is a budget of `shards` times
    # the peer, so the ratio shown is how many times within that budget ours is (>= 1: met).
    if b_wall:
        wall_row["ratio"] = shards * s_wall / b_wall
    rows = [
        wall_row,
        row(
            AREA,
            f"peak memory (RSS), {base} cold load",
            ours=b_mb,
            peer=s_mb,
            peer_name=f"{small_label} cold load",
            unit="MB",
            target=f"< {TARGET_MB:,.0f} MB",
            met=met(mem_ok),
            note=f"VmHWM of the loading process alone; {scale}" + at_full,
            higher_is_better=False,
        ),
        row(
            AREA,
            f"peak memory growth {small_label} → {base}",
            ours=growth,
            unit=f"x the {small_label} peak",
            target=f"<= {TARGET_GROWTH}x the {small_label} peak with {shards}x the messages "
            "(not growing with the archive)",
            met=met(bool(ok) and growth <= TARGET_GROWTH),
            note=f"{b_mb:,.0f} MB / {s_mb:,.0f} MB; {agree}" + at_full,
        ),
    ]
    gen = (
        f"built now in {info['generation_s']:.0f} s"
        if info["generated_now"]
        else f"reused (built in {info['generation_s']:.0f} s)"
    )
    print(
        f"[{AREA}] sharded archive {big_ws}: {gen}, {info['bytes'] / 1e6:,.0f} MB on disk, "
        f"{info['messages']:,} messages; {base} load(s) "
        + ", ".join(f"{m.wall:.1f} s/{m.peak_mb:,.0f} MB" for m in big)
        + f"; {small_label} loads "
        + ", ".join(f"{m.wall:.1f} s/{m.peak_mb:,.0f} MB" for m in small),
        flush=True,
    )
    return rows
