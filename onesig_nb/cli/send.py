"""``onesig-nb send``: send a campaign without a notebook (cron, papermill), exactly once.

    onesig-nb send --cohort workspace/segment-logs --audience cart_abandoners \\
        --message message.yaml --name cart-nudge-2025-03 [--journal campaigns.sqlite] \\
        [--dry-run] [--yes] [--api legacy|current] [--exclude-platform ios] [--resend-expired]
        [--rules rules.yaml] [--reopen] [--sandbox [--workspace DIR]]

It prints the plan, then sends through the same journal as the notebook: a re-run of the same
command resumes an interrupted send and sends nothing twice; a finished campaign says so and
sends nothing. Credentials come from the environment or ``.env`` (never from the command line).
With none set it refuses to send (a scheduler box that lost its ``.env`` must not report
success every morning while reaching nobody). ``--sandbox`` rehearses instead: against a
temporary local sandbox seeded with the sample workspace's OneSignal users (``--workspace``,
else ``$ONESIG_NB_WORKSPACE``, else the workspace ``--cohort`` lies in), so a rehearsal of the
sample reaches the people the sample says are reachable, and with a temporary journal, so a
rehearsal never marks the real campaign sent. A ``--dry-run`` without credentials plans
against that sandbox and says so.

``--rules rules.yaml`` applies sending rules (``onesig_nb.campaign.rules.load_rules``: a
frequency cap across every campaign of the app in the journal, quiet hours, suppression); the
plan lists them and who they leave out. A campaign stopped with ``onesig-nb cancel`` is
refused until ``--reopen``, which sends, with new requests, to the people the cancel stopped
and those not reached yet, never again to anyone already reached.

Library errors name Python arguments (``audience=...``, ``send(extend=True)``); here they are
reworded with this command's flags (:func:`cli_wording`).

Exit codes (statuses as ``onesig_nb.campaign.views.RESULT_STATUSES`` defines them): 0 sent or
accepted (or dry run / nothing left to send), 1 error, no credentials, some recipients failed
or pending, or nobody was reached (all excluded, unknown to the app or unsubscribed, or left
out by the ``--rules``: capped, suppressed; a cancelled campaign without ``--reopen``), 2 bad
command line, 3 confirmation needed (pass ``--yes``). An unreadable ``--rules`` file is an
error (1) that names the file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from onesig_nb import onesignal as _onesignal  # noqa: F401  (before config: see campaign.py)
from onesig_nb.errors import ConfirmationRequired, OneSigNbError

__all__ = ["CLI_HINTS", "cli_wording", "find_workspace", "main"]

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
    p.add_argument(
        "--acknowledge",
        action="append",
        default=[],
        metavar="CODE",
        help="accept a lint warning that changes the text for some people (repeatable; 'all')",
    )
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
        "--rules",
        default=None,
        metavar="RULES.yaml",
        help="sending rules: max_per_person, quiet_hours, timezone_trait, default_timezone, "
        "suppress (a YAML mapping)",
    )
    p.add_argument(
        "--reopen",
        action="store_true",
        help="send a campaign stopped with 'onesig-nb cancel' after all (to the people it "
        "stopped and those not reached yet)",
    )
    p.add_argument(
        "--resend-expired",
        action="store_true",
        help="resume batches attempted more than 29 days ago (OneSignal no longer dedupes them)",
    )
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="rehearse against a temporary local sandbox seeded with the sample users "
        "(never the app in your credentials) and a temporary journal",
    )
    p.add_argument(
        "--workspace",
        default=None,
        help="sample workspace whose OneSignal users seed the --sandbox (default: "
        "$ONESIG_NB_WORKSPACE, else the workspace --cohort lies in)",
    )
    return p


#: The sample workspace's OneSignal roster: a folder holding it is a sample workspace.
ROSTER_FILE = "onesignal-users.csv"

#: Library hints that name Python arguments, and the same hint with this command's flags.
#: Applied in order to every message the command prints (:func:`cli_wording`); the library's
#: own messages stay Python-worded for notebooks.
CLI_HINTS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(
            r"Pass one of these as audience=\.\.\., or call onesig_nb\.list_audiences\("
            r"source\)\."
        ),
        "Pass one of these as --audience KEY.",
    ),
    (re.compile(r"\baudience=\.\.\."), "--audience KEY"),
    (
        re.compile(r"call send\(confirm=\d+\) \(or send\(confirm=True\)\)"),
        "add --yes",
    ),
    (re.compile(r"send\(confirm=(?:\d+|True)\)"), "--yes"),
    (re.compile(r"\bconfirm_above=([\d,]+)"), r"--confirm-above \1"),
    (
        re.compile(r"send\(resend_expired=True\) \(onesig-nb send: --resend-expired\)"),
        "--resend-expired",
    ),
    (re.compile(r"send\(resend_expired=True\)"), "--resend-expired"),
    (re.compile(r"send\(extend=True\)"), "--extend"),
    (
        re.compile(r"send\(\) now refuses; send\(reopen=True\) sends it after all\."),
        "onesig-nb send now refuses it; onesig-nb send --reopen sends it after all.",
    ),
    (
        re.compile(r"call send\(reopen=True\) \(onesig-nb send: --reopen\)"),
        "run this command again with --reopen",
    ),
    (re.compile(r"send\(reopen=True\) \(onesig-nb send: --reopen\)"), "--reopen"),
    (re.compile(r"send\(reopen=True\)"), "--reopen"),
    (re.compile(r"\bsend\(\) sends nothing more"), "onesig-nb send sends nothing more"),
    (
        re.compile(r"is in result\(\) and the cancel's list"),
        "was listed by onesig-nb cancel",
    ),
    (
        re.compile(r"exclude_platforms=\(([^)]*)\)"),
        lambda m: " ".join(f"--exclude-platform {p}" for p in re.findall(r"'([^']+)'", m.group(1))),
    ),
    (re.compile(r"the client \(api=\.\.\.\)"), "the --api"),
    (re.compile(r"Check campaign\.plan\(\)"), "Check the plan (--dry-run)"),
)


def cli_wording(text: str) -> str:
    """``text`` with its Python-argument hints reworded as this command's flags."""
    for pattern, replacement in CLI_HINTS:
        text = pattern.sub(replacement, text)
    return text


def find_workspace(explicit: str | None, cohort: str) -> Path | None:
    """The sample workspace that seeds a ``--sandbox``: ``--workspace``, else
    ``$ONESIG_NB_WORKSPACE``, else the nearest folder at or above ``--cohort`` holding the
    sample's OneSignal roster; None when there is none."""
    from onesig_nb.config import ENV_WORKSPACE

    for given in (explicit, os.environ.get(ENV_WORKSPACE)):
        if given:
            return Path(given).expanduser() if Path(given).expanduser().is_dir() else None
    here = Path(cohort).expanduser().absolute()
    for folder in (here, *here.parents):
        if (folder / ROSTER_FILE).is_file():
            return folder
    return None


def _rehearsal_client(api: str | None, workspace: Path | None) -> tuple[Any, str]:
    """A client bound to a new temporary sandbox seeded from ``workspace``, and the line
    that says what it knows."""
    from onesig_nb.connect import SANDBOX_TEST_USER, seed_sandbox
    from onesig_nb.onesignal import OneSignal
    from onesig_nb.sandbox import Sandbox

    sandbox = Sandbox()
    try:
        added = seed_sandbox(sandbox, workspace)
        client = OneSignal(
            sandbox.app_id, sandbox.api_key, base_url=sandbox.url, api=api or "current"
        )
    except BaseException:
        sandbox.stop()
        raise
    client.adopt_sandbox(sandbox)
    if added["roster"]:
        known = f"seeded with the {added['roster']:,} OneSignal users of the sample in {workspace}"
    else:
        known = (
            f"that knows only the test phone {SANDBOX_TEST_USER!r}: no sample workspace found "
            "(pass --workspace DIR), so this rehearsal reaches nobody in the cohort"
        )
    return client, known


#: Why a send without credentials is refused.
NO_CREDENTIALS = (
    "No ONESIGNAL_REST_API_KEY: refusing to send from a scheduled run to a temporary sandbox. "
    "Set ONESIGNAL_APP_ID and ONESIGNAL_REST_API_KEY (environment or .env), or pass --sandbox "
    "to rehearse."
)


def _err(text: str) -> None:
    print(f"onesig-nb send: {text}", file=sys.stderr)


def load_rules_file(path: str) -> Any:
    """The :class:`~onesig_nb.campaign.rules.Rules` of ``--rules``; every error names the file."""
    from onesig_nb.campaign.rules import load_rules
    from onesig_nb.errors import ValidationError

    try:
        return load_rules(Path(path).expanduser())
    except ValidationError as exc:
        text = str(exc)
        if path in text or str(Path(path).expanduser()) in text:
            raise
        raise ValidationError(f"Rules file {path!r}: {text}") from None


#: Kinds of exclusion (``views.exclusion_kind``) that the sending rules decide.
RULE_KINDS = ("capped", "suppressed", "held out")


def _rule_reasons(result: Any) -> tuple[int, list[str]]:
    """How many people of ``result`` the sending rules left out, and why (``216 capped until
    2026-03-02 09:00 UTC (1 per day)``), most first; (0, []) when they left nobody out."""
    from onesig_nb.campaign.views import exclusion_kind

    frame = result.frame
    if not len(frame) or "error" not in frame:
        return 0, []
    errors = frame.loc[frame["status"] == "excluded", "error"].fillna("").astype(str)
    ruled = errors[errors.map(exclusion_kind).isin(RULE_KINDS)]
    return len(ruled), [f"{int(n):,} {why}" for why, n in ruled.value_counts().items()]


def main(argv: list[str] | None = None) -> int:
    """Run ``onesig-nb send``; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage / help
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    client = None
    scratch: tempfile.TemporaryDirectory | None = None
    try:
        from onesig_nb.campaign import Campaign
        from onesig_nb.cohort import load_cohort
        from onesig_nb.config import load_credentials
        from onesig_nb.connect import connect
        from onesig_nb.message import Message

        no_credentials = load_credentials() is None
        if no_credentials and not (args.sandbox or args.dry_run):
            _err(NO_CREDENTIALS)
            return EXIT_ERROR
        rehearsal = args.sandbox or no_credentials
        message = Message.from_yaml(args.message)
        rules = load_rules_file(args.rules) if args.rules else None
        cohort = load_cohort(args.cohort, audience=args.audience)
        journal: Any = args.journal
        if rehearsal:
            client, known = _rehearsal_client(args.api, find_workspace(args.workspace, args.cohort))
            scratch = tempfile.TemporaryDirectory(prefix="onesig-nb-rehearsal-")
            journal = Path(scratch.name) / "rehearsal.sqlite"
            why = "No credentials set" if no_credentials else "--sandbox"
            print(
                f"{why}: this run uses a temporary local sandbox {known}, and a temporary "
                "journal (your journal is left untouched); nothing reaches real users."
            )
        else:
            client = connect(api=args.api)
        camp = Campaign(
            args.name,
            cohort,
            message,
            client,
            journal=journal,
            exclude_platforms=args.exclude_platform,
            confirm_above=args.confirm_above,
            rules=rules,
        )
        plan = camp.plan(extend=args.extend, resend_expired=args.resend_expired, reopen=args.reopen)
        print(cli_wording(str(plan)))
        if plan.errors:
            _err("the message has lint errors (listed above); nothing was sent.")
            return EXIT_ERROR
        if plan.state == "conflict":
            _err(cli_wording(plan.note))
            return EXIT_ERROR
        if args.dry_run:
            print("dry run: nothing was sent.")
            return EXIT_OK
        acknowledge: bool | list[str] = "all" in args.acknowledge or args.acknowledge
        result = camp.send(
            confirm=True if args.yes else None,
            acknowledge=acknowledge,
            extend=args.extend,
            progress=sys.stderr.isatty(),
            resend_expired=args.resend_expired,
            reopen=args.reopen,
        )
    except ConfirmationRequired as exc:
        text = cli_wording(str(exc))
        if getattr(exc, "warnings", None):
            codes = " ".join(f"--acknowledge {w.code}" for w in exc.warnings)
            _err(f"{text} On the command line: add {codes} (or --acknowledge all).")
        else:
            _err(text if "--yes" in text else f"{text} On the command line: add --yes.")
        return EXIT_CONFIRM
    except OneSigNbError as exc:
        _err(f"error: {cli_wording(str(exc))}")
        return EXIT_ERROR
    except (OSError, ImportError) as exc:
        _err(f"error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR
    finally:
        if client is not None:
            client.close()
        if scratch is not None:
            scratch.cleanup()
    from onesig_nb.campaign.views import STATUS_WORDS

    s = result.summary
    if result.note:
        print(cli_wording(result.note))
    shown = [k for k in STATUS_WORDS if s[k] or k in ("sent", "failed")]
    counts = ", ".join(f"{STATUS_WORDS[k]} {s[k]:,}" for k in shown)
    print(
        f"campaign {s['campaign']}: {counts}; {s['requests']} requests. (sent = accepted by "
        "OneSignal and known reachable before sending; accepted (unconfirmed) = accepted, "
        "reachability not checked; delivery per device is in the campaign's report().)"
    )
    if s["failed"] or s["pending"]:
        return EXIT_ERROR
    lost = s["not_reached"] + s["unsubscribed"] + s["excluded"]
    if lost and not s["accepted"] and not result.already_sent:
        ruled, reasons = _rule_reasons(result)
        if ruled:
            shown = "; ".join(reasons[:3]) + ("; ..." if len(reasons) > 3 else "")
            rest = lost - ruled
            others = f", and {rest:,} cannot be reached (not in this app or not subscribed)"
            _err(
                f"nobody was reached: of {s['recipients']:,} people, {ruled:,} were left out by "
                f"the sending rules ({shown}){others if rest else ''}. Nothing was sent."
            )
            return EXIT_ERROR
        _err(
            f"nobody was reached: {lost:,} of {s['recipients']:,} people are not in this "
            "OneSignal app or have no subscribed device. Check the app id and the cohort."
        )
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
