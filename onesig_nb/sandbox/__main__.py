"""``python -m onesig_nb.sandbox --port P --db FILE``: run the sandbox until SIGTERM / Ctrl-C."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from onesig_nb.sandbox.faults import FAULT_KINDS
from onesig_nb.sandbox.limits import DEFAULT_MAX_TAGS_PER_USER
from onesig_nb.sandbox.runner import KEY_ENV, ServerOptions, serve, write_ready


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="onesig-nb sandbox",
        description="Run the local OneSignal-compatible sandbox (both API generations).",
    )
    p.add_argument("--port", type=int, default=8787, help="port on 127.0.0.1 (0 = any free one)")
    p.add_argument("--db", default=None, help="SQLite file to persist in (default: a temp file)")
    p.add_argument("--app-id", default=None, help="app id (default: stored in the db, or new)")
    p.add_argument("--api-key", default=None, help="API key (default: stored in the db, or new)")
    p.add_argument("--latency-ms", type=float, default=0, help="delay added to every response")
    p.add_argument(
        "--rate-limits",
        default=None,
        help='"default" for the documented limits, or JSON such as {"create": 150}',
    )
    p.add_argument("--seed", type=int, default=0, help="seed for conversions")
    p.add_argument(
        "--max-tags",
        type=int,
        default=DEFAULT_MAX_TAGS_PER_USER,
        help=f"tags one user may hold, as your plan allows (default {DEFAULT_MAX_TAGS_PER_USER}; "
        "0 = no cap)",
    )
    p.add_argument(
        "--tag-delay-s",
        type=float,
        default=0.0,
        help="seconds before a tag edit reaches personalization (OneSignal: allow 60+)",
    )
    p.add_argument("--fault-rate", type=float, default=0.0, help="fraction of requests to fail")
    p.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated subset of {','.join(FAULT_KINDS)}",
    )
    p.add_argument("--fault-seed", type=int, default=1)
    p.add_argument("--stall-seconds", type=float, default=None)
    p.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    return p


def _rate_limits(text: str | None):
    if not text:
        return None
    if text.strip().lower() in ("default", "defaults", "on", "true"):
        return True
    return json.loads(text)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    temp = None
    db = args.db
    if db is None:
        fd, temp = tempfile.mkstemp(prefix="onesig-sandbox-", suffix=".sqlite")
        os.close(fd)
        db = temp
    faults = None
    if args.fault_rate > 0:
        faults = {
            "rate": args.fault_rate,
            "kinds": [k.strip() for k in args.fault_kinds.split(",") if k.strip()],
            "seed": args.fault_seed,
            "stall_seconds": args.stall_seconds,
        }
    opts = ServerOptions(
        db=db,
        port=args.port,
        app_id=args.app_id,
        api_key=args.api_key or os.environ.get(KEY_ENV) or None,
        latency_ms=args.latency_ms,
        rate_limits=_rate_limits(args.rate_limits),
        seed=args.seed,
        faults=faults,
        parent_pid=args.parent_pid,
        max_tags=args.max_tags or None,
        tag_delay_s=args.tag_delay_s,
    )

    def ready(info: dict) -> None:
        if args.ready_fd is not None:
            write_ready(args.ready_fd, info)
        if not args.quiet:
            print(f"OneSignal sandbox listening on {info['url']}", flush=True)
            print(f"  app id:  {info['app_id']}", flush=True)
            print(f"  api key: {info['api_key']}", flush=True)
            print(f"  db:      {info['db']}  (Ctrl-C or SIGTERM stops it)", flush=True)

    try:
        return serve(opts, on_ready=ready)
    except OSError as exc:
        print(f"sandbox: cannot start on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # e.g. a store created with a supplied key, started without it
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    finally:
        if temp is not None:
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(temp + suffix)
                except OSError:
                    pass


if __name__ == "__main__":
    sys.exit(main())
