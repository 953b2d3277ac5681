"""``onesig-nb sample``: the command line for writing the sample workspace."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from onesig_nb.errors import ValidationError
from onesig_nb.samples import make_workspace
from onesig_nb.samples.manifest import load_manifest
from onesig_nb.samples.workspace import default_workspace


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
