"""Shared machinery of the benchmarks: rows, medians, fresh-process measurement, tables.

Every area module (``bench/<area>.py``) defines ``run(size) -> list[dict]``; each dict is one
table row (Contract 8)::

    {"area", "metric", "ours", "peer", "peer_name", "ratio", "unit", "target", "met", "note"}

``ratio`` is how many times better ours is than the peer, computed from medians taken in the
same process run. Helpers here build such rows, time things, measure a fresh subprocess (wall
time, CPU time and peak RSS from ``os.wait4``), and print the tables.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_DIR",
    "DATA_DIR",
    "ROOT",
    "SIZES",
    "Measured",
    "fmt",
    "machine_info",
    "markdown_report",
    "merge_report",
    "median",
    "render_table",
    "row",
    "run_python",
    "time_call",
    "timed_runs",
]

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "_data"
SIZES = ("quick", "full")

#: Packages whose versions go into RESULTS.md.
VERSIONED = (
    "onesig-nb",
    "pandas",
    "duckdb",
    "orjson",
    "aiohttp",
    "requests",
    "urllib3",
    "httpx",
    "uvicorn",
    "python-liquid",
    "onesignal-python-api",
    "onesignal-sdk",
    "pyarrow",
    "pyspark",
    "sqlglot",
    "boto3",
)


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else float("nan")


def row(
    area: str,
    metric: str,
    *,
    ours: float | None,
    peer: float | None = None,
    peer_name: str = "",
    unit: str = "",
    target: str = "",
    met: bool | None = None,
    note: str = "",
    higher_is_better: bool = True,
) -> dict[str, Any]:
    """One table row; ``ratio`` = how many times better ours is (None without a peer)."""
    ratio = None
    if ours is not None and peer is not None:
        if higher_is_better and peer > 0:
            ratio = ours / peer
        elif not higher_is_better and ours > 0:
            ratio = peer / ours
    return {
        "area": area,
        "metric": metric,
        "ours": ours,
        "peer": peer,
        "peer_name": peer_name,
        "ratio": ratio,
        "unit": unit,
        "target": target,
        "met": met,
        "note": note,
    }


def time_call(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Run ``fn`` once: (wall seconds, process CPU seconds (all threads), its result)."""
    c0, t0 = time.process_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, result


def timed_runs(fn: Callable[[], Any], runs: int) -> list[float]:
    """Wall seconds of ``runs`` calls of ``fn``."""
    return [time_call(fn)[0] for _ in range(runs)]


@dataclass
class Measured:
    """One fresh-process run: wall and CPU seconds, peak RSS, what it printed as JSON."""

    wall: float
    cpu: float
    peak_mb: float
    returncode: int
    result: Any
    stderr: str


#: Printed to stderr by every measured child at exit: its own peak RSS (``VmHWM``, kB).
HWM_MARKER = "__bench_vmhwm_kb__="
#: Prepended to a measured child's code. ``ru_maxrss`` from ``os.wait4`` is not enough on Linux:
#: exec keeps the *parent's* peak RSS as the child's starting ``maxrss``, so a child started by
#: a bench process that had just generated a workspace (1.6 GB) reported 1.6 GB. ``VmHWM`` is
#: the high-water mark of the child's own address space since its exec.
_HWM_PROLOGUE = (
    "import atexit as _a, sys as _s\n"
    "def _hwm():\n"
    "    try:\n"
    "        for _l in open('/proc/self/status'):\n"
    "            if _l.startswith('VmHWM:'):\n"
    f"                _s.stderr.write('\\n{HWM_MARKER}' + _l.split()[1] + '\\n')\n"
    "    except OSError:\n"
    "        pass\n"
    "_a.register(_hwm)\n"
)


def _child_hwm_mb(stderr: str) -> float | None:
    for line in reversed(stderr.splitlines()):
        if line.startswith(HWM_MARKER):
            try:
                return int(line[len(HWM_MARKER) :]) / 1024.0
            except ValueError:
                return None
    return None


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> Measured:
    """Run ``code`` in a fresh ``python -c`` and measure it with ``os.wait4``.

    The child prints one JSON document on its last stdout line; it becomes ``.result``.
    Peak RSS is the child's own ``VmHWM`` (see ``_HWM_PROLOGUE``), else ``ru_maxrss``.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", _HWM_PROLOGUE + code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(ROOT),
        env=full_env,
    )
    # Read the pipes before reaping, so a chatty child cannot block on a full pipe.
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()]
    result = None
    if lines:
        try:
            result = json.loads(lines[-1])
        except ValueError:
            result = None
    text = err.decode(errors="replace")
    hwm = _child_hwm_mb(text)
    return Measured(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_mb=hwm if hwm is not None else usage.ru_maxrss / 1024.0,
        returncode=proc.returncode,
        result=result,
        stderr=text[-4000:],
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def machine_info() -> dict[str, Any]:
    """Core count, CPU model, date, Python and package versions, and the load average."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": None if mem_gb is None else round(mem_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": tuple(round(x, 2) for x in load),
        "versions": {name: _version(name) for name in VERSIONED},
    }


def fmt(value: Any, unit: str = "") -> str:
    """A number as the tables show it (3 significant figures, thousands separators)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        if value == 0:
            return "0"
        mag = abs(value)
        if mag >= 100:
            return f"{value:,.0f}"
        if mag >= 10:
            return f"{value:.1f}"
        if mag >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def _met(value: bool | None) -> str:
    if value is None:
        return "—"
    return "met" if value else "**MISSED**"


def _ratio(r: dict[str, Any]) -> str:
    if r.get("ratio") is None:
        return "—"
    return f"{fmt(float(r['ratio']))}x"


COLUMNS = ("metric", "ours", "peer", "ratio", "unit", "target", "met", "note")


def _cells(r: dict[str, Any]) -> list[str]:
    peer = fmt(r.get("peer"))
    if r.get("peer_name") and r.get("peer") is not None:
        peer = f"{peer} ({r['peer_name']})"
    elif r.get("peer_name"):
        peer = f"— ({r['peer_name']})"
    return [
        str(r.get("metric", "")),
        fmt(r.get("ours")),
        peer,
        _ratio(r),
        str(r.get("unit", "")),
        str(r.get("target", "")),
        _met(r.get("met")),
        str(r.get("note", "")),
    ]


def render_table(area: str, rows: list[dict[str, Any]], caption: str = "") -> str:
    """A Markdown table of one area's rows, readable in a terminal too."""
    lines = [f"### {area}", ""]
    if caption:
        lines += [caption, ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|" + "|".join("---" for _ in COLUMNS) + "|")
    for r in rows:
        cells = [c.replace("|", "\\|").replace("\n", " ") for c in _cells(r)]
        lines.append("| " + " | ".join(cells) + " |")
    missed = [r["metric"] for r in rows if r.get("met") is False]
    if missed:
        lines.append("")
        lines.append(f"Targets MISSED in {area}: " + "; ".join(missed) + ".")
    return "\n".join(lines)


def merge_report(old: str, new_blocks: dict[str, str]) -> str:
    """``old`` RESULTS.md text with the ``### <area>`` sections in ``new_blocks`` replaced."""
    head, *sections = old.split("\n### ")
    out, seen = [head], set()
    for section in sections:
        area = section.split("\n", 1)[0].strip()
        if area in new_blocks:
            seen.add(area)
            out.append(new_blocks[area].removeprefix("### ").rstrip("\n") + "\n")
        else:
            out.append(section)
    for area, block in new_blocks.items():
        if area not in seen:
            out.append(block.removeprefix("### ").rstrip("\n") + "\n")
    return "\n### ".join(out)


def markdown_report(
    size: str,
    info: dict[str, Any],
    tables: list[tuple[str, list[dict[str, Any]], str]],
    notes: str,
) -> str:
    """The whole RESULTS.md text."""
    versions = " · ".join(f"{k} {v}" for k, v in info["versions"].items())
    head = [
        "# onesig_nb benchmark results",
        "",
        f"Generated by `python -m bench --size {size}` on {info['date']}.",
        "",
        f"- Machine: {info['cores']} cores, {info['cpu']}, {info['memory_gb']} GB RAM, "
        f"Linux {info['kernel']}, Python {info['python']}",
        f"- Load average when the run started: {info['loadavg']}",
        f"- Versions: {versions}",
        "",
        "Each row is *ours vs peer*; **ratio** = how many times better ours is (from medians of "
        "several runs in this one process run, unless the note says otherwise). A target that "
        "was not reached is marked **MISSED**. Client and sandbox share the same cores, so every "
        "HTTP figure is client + server on one box.",
        "",
    ]
    if notes:
        head += [notes, ""]
    body = [render_table(area, rows, caption) + "\n" for area, rows, caption in tables]
    return "\n".join(head + body)
