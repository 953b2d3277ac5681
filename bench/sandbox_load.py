"""Load check: tag edits per second the sandbox sustains on loopback while persisting to SQLite.

A separate load generator drives ``PATCH /apps/{app}/users/by/external_id/{id}`` (unique tag
value per request, users cycled): ``wrk`` when installed (``apt-get install -y wrk``), else an
aiohttp generator in its own process. Every run is checked against the sandbox's own request
log (all answered 202) and the store (the last edit of a user is readable after a restart).
Target (issue 3): at least 3,000 edits/s on a 2-core machine.

    python -m bench.sandbox_load            # quick
    python -m bench.sandbox_load full
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

TARGET_EDITS_PER_SECOND = 3_000
SIZES = {  # runs, seconds per run, connections, seeded users
    "quick": (2, 3, 32, 2_000),
    "full": (5, 5, 32, 10_000),
}

WRK_SCRIPT = textwrap.dedent(
    """
    local counter = 0
    local users = {users}
    wrk.method = "PATCH"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Key {key}"
    request = function()
      counter = counter + 1
      local path = "/apps/{app}/users/by/external_id/u" .. (counter % users)
      local body = '{{"properties":{{"tags":{{"seen":"' .. counter .. '","plan":"pro"}}}}}}'
      return wrk.format(nil, path, nil, body)
    end
    """
)

AIOHTTP_GENERATOR = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import aiohttp
    url, app, key, users, seconds, conns = sys.argv[1:7]
    users, seconds, conns = int(users), float(seconds), int(conns)
    async def main():
        done = 0; bad = 0; n = 0
        headers = {"Authorization": "Key " + key}
        conn = aiohttp.TCPConnector(limit=conns)
        async with aiohttp.ClientSession(url, connector=conn, headers=headers) as s:
            end = time.perf_counter() + seconds
            async def worker():
                nonlocal done, bad, n
                while time.perf_counter() < end:
                    n += 1; i = n
                    body = {"properties": {"tags": {"seen": str(i), "plan": "pro"}}}
                    async with s.patch(f"/apps/{app}/users/by/external_id/u{i % users}",
                                       json=body) as r:
                        await r.read()
                        done += 1; bad += r.status != 202
            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(conns)))
            took = time.perf_counter() - t0
        print(json.dumps({"requests": done, "non2xx": bad, "seconds": took}))
    asyncio.run(main())
    """
)


def _seed(sb, users: int) -> None:
    sb.add_users(
        [
            {"external_id": f"u{i}", "platform": "ios", "tags": {"plan": "free"}}
            for i in range(users)
        ]
    )


def _run_wrk(sb, seconds: int, conns: int, users: int, workdir: Path) -> dict:
    script = workdir / "patch.lua"
    script.write_text(WRK_SCRIPT.format(users=users, key=sb.api_key, app=sb.app_id))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "-s", str(script), sb.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "requests": total,
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
        "tool": "wrk",
    }


def _run_aiohttp(sb, seconds: int, conns: int, users: int, workdir: Path) -> dict:
    script = workdir / "gen.py"
    script.write_text(AIOHTTP_GENERATOR)
    args = [sb.url, sb.app_id, sb.api_key, str(users), str(seconds), str(conns)]
    out = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=True
    ).stdout
    res = json.loads(out.strip().splitlines()[-1])
    return {
        "rps": res["requests"] / res["seconds"],
        "requests": res["requests"],
        "non2xx": res["non2xx"],
        "socket_errors": "",
        "tool": "aiohttp (32 concurrent, separate process)",
    }


def measure(size: str = "quick") -> dict:
    """Run the load check; returns the per-run figures and the verification results."""
    from onesig_nb.sandbox import Sandbox

    runs, seconds, conns, users = SIZES[size]
    use_wrk = shutil.which("wrk") is not None
    with tempfile.TemporaryDirectory(prefix="sandbox-load-") as tmp:
        work = Path(tmp)
        db = work / "load.sqlite"
        results = []
        with Sandbox(db=db) as sb:
            _seed(sb, users)
            run = _run_wrk if use_wrk else _run_aiohttp
            run(sb, 1, conns, users, work)  # warm-up
            for _ in range(runs):
                before = sb.request_count()
                res = run(sb, seconds, conns, users, work)
                log = sb.requests(since=before)
                res["logged"] = len(log)
                res["logged_202"] = int((log.status == 202).sum())
                results.append(res)
            port, app_id, key = sb.port, sb.app_id, sb.api_key
            last = sb.user_tags("u1")
        with Sandbox(db=db, port=port) as again:  # durability: a clean restart keeps the edits
            survived = again.user_tags("u1") == last and again.app_id == app_id
            survived = survived and again.api_key == key
    return {"runs": results, "durable_after_restart": survived, "conns": conns, "seconds": seconds}


def run(size: str) -> list[dict]:
    """Contract 8 rows: median tag edits/s, verified against the sandbox's request log."""
    m = measure(size)
    rates = [r["rps"] for r in m["runs"]]
    ours = statistics.median(rates)
    all_ok = (
        all(r["non2xx"] == 0 and r["logged_202"] >= r["requests"] * 0.99 for r in m["runs"])
        and m["durable_after_restart"]
    )
    tool = m["runs"][0]["tool"]
    note = (
        f"{tool} -c{m['conns']} {m['seconds']} s x {len(rates)} runs (min {min(rates):,.0f}, "
        f"max {max(rates):,.0f}); PATCH current dialect, SQLite WAL synchronous=NORMAL, group "
        f"commit before each 202; every request answered 202 and logged: {all_ok}; "
        f"edits survive a restart: {m['durable_after_restart']}"
    )
    return [
        {
            "area": "sandbox",
            "metric": "tag edits/s persisted to SQLite (loopback)",
            "ours": round(ours),
            "peer": None,
            "peer_name": None,
            "ratio": None,
            "unit": "edits/s",
            "target": TARGET_EDITS_PER_SECOND,
            "met": bool(ours >= TARGET_EDITS_PER_SECOND and all_ok),
            "note": note,
        }
    ]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for row in run(sys.argv[1] if len(sys.argv) > 1 else "quick"):
        print(json.dumps(row, indent=2))
