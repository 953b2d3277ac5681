"""Run the benchmarks: ``python -m bench --size quick|full [--write FILE] [--only a,b]``.

With ``--only`` and an existing ``--write`` file, only those areas' sections are replaced.

Every ``bench/<area>.py`` with a ``run(size)`` function is an area. Each area prints one table
("ours vs peer, ratio", target, met). An area that crashes prints a row saying so plainly and
makes the exit status non-zero; the other areas still run.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from bench._harness import (
    BENCH_DIR,
    SIZES,
    machine_info,
    markdown_report,
    merge_report,
    render_table,
    row,
)

#: Areas in the order they are reported; any other bench/<area>.py comes after these.
ORDER = (
    "cohort_load",
    "cohort_scale",
    "tag_edits",
    "push_fanout",
    "preview",
    "rerun",
    "sandbox_load",
)


def discover() -> list[str]:
    found = {p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_")}
    return [a for a in ORDER if a in found] + sorted(found - set(ORDER))


def run_area(area: str, size: str) -> tuple[list[dict], bool]:
    """(rows, ok). A crash becomes one row that says what failed."""
    try:
        module = importlib.import_module(f"bench.{area}")
        rows = list(module.run(size))
        if not rows:
            raise RuntimeError("run() returned no rows")
        return rows, True
    except Exception as exc:  # noqa: BLE001 - report any failure and go on with other areas
        traceback.print_exc(file=sys.stderr)
        return [
            row(
                area,
                "area did not run",
                ours=None,
                note=f"FAILED: {type(exc).__name__}: {exc}"[:300],
            )
        ], False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="quick")
    parser.add_argument("--write", metavar="FILE", help="write the Markdown report here")
    parser.add_argument("--only", metavar="AREAS", help="comma-separated areas to run")
    parser.add_argument("--notes", default="", help="free text added to the report's header")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    areas = discover()
    if args.only:
        wanted = [a.strip() for a in args.only.split(",") if a.strip()]
        unknown = sorted(set(wanted) - set(areas))
        if unknown:
            parser.error(f"unknown area(s) {unknown}; known: {', '.join(areas)}")
        areas = [a for a in areas if a in wanted]

    info = machine_info()
    print(
        f"# bench --size {args.size}: {info['cores']} cores, {info['cpu']}, "
        f"load {info['loadavg']}, {info['date']}",
        flush=True,
    )
    tables, failed = [], []
    for area in areas:
        t0 = time.perf_counter()
        load = os.getloadavg()[0]
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        print(f"\n[{area}] running...", flush=True)
        rows, ok = run_area(area, args.size)
        if not ok:
            failed.append(area)
        caption = (
            f"_--size {args.size}, started {started}, load average {load:.2f} at start, "
            f"took {time.perf_counter() - t0:.0f} s._"
        )
        tables.append((area, rows, caption))
        print(render_table(area, rows, caption), flush=True)
        print(f"[{area}] {time.perf_counter() - t0:.1f} s", flush=True)

    if args.write:
        target = Path(args.write)
        if args.only and target.exists():  # re-run of some areas: replace only their sections
            blocks = {a: render_table(a, r, c) + "\n" for a, r, c in tables}
            target.write_text(merge_report(target.read_text(), blocks))
        else:
            target.write_text(markdown_report(args.size, info, tables, args.notes))
        print(f"\nwrote {args.write}")
    if failed:
        print(f"\nareas that did not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
