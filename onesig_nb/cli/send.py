"""``onesig-nb send``: send a campaign without a notebook (cron, papermill), exactly once.

    onesig-nb send --cohort workspace/segment-logs --audience cart_abandoners \\
        --message message.yaml --name cart-nudge-2025-03 [--journal campaigns.sqlite] \\
        [--dry-run] [--yes] [--api legacy|current] [--exclude-platform ios] [--resend-expired]
        [--sandbox]

It prints the plan, then sends through the same journal as the notebook: a re-run of the same
command resumes an interrupted send and sends nothing twice; a finished campaign says so and
sends nothing. Credentials come from the environment or ``.env`` (never from the command line).
With none set it refuses to send (a scheduler box that lost its ``.env`` must not report
success every morning while reaching nobody); ``--sandbox`` rehearses against a temporary local
sandbox instead. A ``--dry-run`` without credentials plans against that sandbox and says so.

Exit codes: 0 sent (or dry run / nothing left to send), 1 error, no credentials, some
recipients failed or pending, or nobody was reached, 2 bad command line, 3 confirmation needed
(pass ``--yes``).
"""

from __future__ import annotations

import argparse
import sys

from onesig_nb import onesignal as _onesignal  # noqa: F401  (before config: see campaign.py)
from onesig_nb.errors import ConfirmationRequired, OneSigNbError

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CONFIRM = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="onesig-nb send",
        description="Send a push to a Segment cohort exactly once (journaled, resumable).",
    )
    p.add_argument("--cohort", required=True, help="cohort source: path, folder, CSV, Parquet")
    p.add_argument("--audience", default=None, help="audience key inside the source")
    p.add_argument("--message", required=True, help="message YAML file (Message.from_yaml)")
    p.add_argument("--name", required=True, help="campaign name (anchors exactly-once)")
    p.add_argument("--journal", default="campaigns.sqlite", help="journal file")
    p.add_argument("--dry-run", action="store_true", help="print the plan, send nothing")
    p.add_argument("--yes", action="store_true", help="confirm a send above --confirm-above")
    p.add_argument("--api", choices=("current", "legacy"), default=None, help="API generation")
    p.add_argument(
        "--exclude-platform",
        action="append",
        default=[],
        choices=("ios", "android", "web"),
        help="skip a platform (repeatable), e.g. ios when Segment already pushes to iOS",
    )
    p.add_argument("--confirm-above", type=int, default=1_000, help="ask for --yes above this")
    p.add_argument("--extend", action="store_true", help="send only to people not reached yet")
    p.add_argument(
        "--resend-expired",
        action="store_true",
        help="resume batches attempted more than 29 days ago (OneSignal no longer dedupes them)",
    )
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="with no credentials set: rehearse against a temporary local sandbox",
    )
    return p


#: Why a send without credentials is refused.
NO_CREDENTIALS = (
    "No ONESIGNAL_REST_API_KEY: refusing to send from a scheduled run to a temporary sandbox. "
    "Set ONESIGNAL_APP_ID and ONESIGNAL_REST_API_KEY (environment or .env), or pass --sandbox "
    "to rehearse."
)


def _err(text: str) -> None:
    print(f"onesig-nb send: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run ``onesig-nb send``; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage / help
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    client = None
    try:
        from onesig_nb.campaign import Campaign
        from onesig_nb.cohort import load_cohort
        from onesig_nb.config import load_credentials
        from onesig_nb.connect import connect
        from onesig_nb.message import Message

        rehearsal = load_credentials() is None
        if rehearsal and not (args.sandbox or args.dry_run):
            _err(NO_CREDENTIALS)
            return EXIT_ERROR
        message = Message.from_yaml(args.message)
        cohort = load_cohort(args.cohort, audience=args.audience)
        client = connect(api=args.api)
        if rehearsal:
            print(
                "No credentials set: this run uses a temporary local sandbox; nothing reaches "
                "real users."
            )
        camp = Campaign(
            args.name,
            cohort,
            message,
            client,
            journal=args.journal,
            exclude_platforms=args.exclude_platform,
            confirm_above=args.confirm_above,
        )
        plan = camp.plan(extend=args.extend, resend_expired=args.resend_expired)
        print(plan)
        if plan.errors:
            _err("the message has lint errors (listed above); nothing was sent.")
            return EXIT_ERROR
        if plan.state == "conflict":
            _err(plan.note)
            return EXIT_ERROR
        if args.dry_run:
            print("dry run: nothing was sent.")
            return EXIT_OK
        result = camp.send(
            confirm=True if args.yes else None,
            extend=args.extend,
            progress=sys.stderr.isatty(),
            resend_expired=args.resend_expired,
        )
    except ConfirmationRequired as exc:
        _err(f"{exc} On the command line: add --yes.")
        return EXIT_CONFIRM
    except OneSigNbError as exc:
        _err(f"error: {exc}")
        return EXIT_ERROR
    except (OSError, ImportError) as exc:
        _err(f"error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR
    finally:
        if client is not None:
            client.close()
    s = result.summary
    if result.note:
        print(result.note)
    print(
        f"campaign {s['campaign']}: sent {s['sent']:,}, accepted with a device not subscribed "
        f"{s['some_devices_unsubscribed']:,}, unsubscribed {s['unsubscribed']:,}, "
        f"not reached {s['not_reached']:,}, invalid {s['invalid']:,}, failed {s['failed']:,}; "
        f"{s['requests']} requests. ('sent' = accepted by OneSignal; delivery per device is in "
        "the campaign's report().)"
    )
    if s["failed"] or s["pending"]:
        return EXIT_ERROR
    if s["not_reached"] and not s["accepted"] and not result.already_sent:
        _err(
            f"nobody was reached: {s['not_reached']:,} of {s['recipients']:,} people are not in "
            "this OneSignal app or have no subscribed device. Check the app id and the cohort."
        )
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
