"""``onesig-nb cancel``: the kill switch, from the journal alone (no cohort, no message).

    onesig-nb cancel --name cart-nudge-2025-03 [--journal campaigns.sqlite] [--api current|legacy]

Every push of the campaign that has not reached people yet is cancelled: each notification it
created that is still scheduled or going out (OneSignal's cancel-message), and every batch
never requested. It is recorded in the journal, so ``onesig-nb send`` then refuses the
campaign until ``--reopen``. What had already gone out is listed (OneSignal cannot take a
delivered push back).

Credentials come from the environment or ``.env``, as for ``onesig-nb send`` (never from the
command line); cancelling needs the key of the app the campaign was sent to. Without them it
refuses: a temporary sandbox knows none of the campaign's notifications.

Exit codes: 0 done (the output says what was cancelled and what had already gone out; a
campaign with nothing left to cancel is done too), 1 error (no credentials, no journal file,
no such campaign, another app's key, OneSignal refused the key), 2 bad command line.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from onesig_nb import onesignal as _onesignal  # noqa: F401  (before config: see campaign.py)
from onesig_nb._words import count
from onesig_nb.cli.send import cli_wording
from onesig_nb.errors import OneSigNbError

__all__ = ["CANCEL_HINTS", "MAX_ROWS", "main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

#: How many people of what had already gone out are listed (the rest are counted).
MAX_ROWS = 20

#: The library's cancel wording that names Python, and the same with this command's words
#: (applied after :func:`~onesig_nb.cli.send.cli_wording`).
CANCEL_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r" \(listed in to_frame\(\), status 'gone_out'\)"), " (listed below)"),
    (re.compile(r" \(osn\.campaigns\(journal\) lists them\)"), ""),
)

#: Why a cancel without credentials is refused.
NO_CREDENTIALS = (
    "No ONESIGNAL_REST_API_KEY: cannot cancel, since only the app's key can cancel its "
    "notifications. Set ONESIGNAL_APP_ID and ONESIGNAL_REST_API_KEY (environment or .env) to "
    "those of the app the campaign was sent to."
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="onesig-nb cancel",
        description="Cancel every push of a campaign that has not reached people yet "
        "(scheduled or still going out), from the journal alone.",
    )
    p.add_argument("--name", required=True, help="the campaign's name (as sent)")
    p.add_argument("--journal", default="campaigns.sqlite", help="journal file")
    p.add_argument("--api", choices=("current", "legacy"), default=None, help="API generation")
    return p


def wording(text: str) -> str:
    """``text`` with Python-worded hints reworded for the command line."""
    text = cli_wording(text)
    for pattern, replacement in CANCEL_HINTS:
        text = pattern.sub(replacement, text)
    return text


def _err(text: str) -> None:
    print(f"onesig-nb cancel: {text}", file=sys.stderr)


def _campaign_names(journal: Any) -> list[str]:
    return [r["name"] for r in journal.runs() if r["kind"] == "campaign"]


def _gone_out_lines(frame: Any) -> list[str]:
    """A short table of the people whose push had already gone out, or whose request's answer
    was never recorded (OneSignal may have accepted it)."""
    shown = frame[frame["status"].isin(("gone_out", "unknown"))]
    if not len(shown):
        return []
    rows = shown.head(MAX_ROWS)
    width = max(len("external_id"), *(len(str(e)) for e in rows["external_id"]))
    lines = [f"  {'external_id':<{width}}  {'status':<8}  notification_id"]
    for eid, status, nid in rows[["external_id", "status", "notification_id"]].itertuples(
        index=False
    ):
        lines.append(f"  {str(eid):<{width}}  {status:<8}  {nid or '-'}")
    if len(shown) > MAX_ROWS:
        lines.append(f"  ... and {len(shown) - MAX_ROWS:,} more")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run ``onesig-nb cancel``; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage / help
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    client = None
    journal = None
    try:
        from onesig_nb.campaign.cancel import cancel_campaign
        from onesig_nb.config import load_credentials
        from onesig_nb.connect import connect
        from onesig_nb.journal import open_journal

        if load_credentials() is None:
            _err(NO_CREDENTIALS)
            return EXIT_ERROR
        path = Path(args.journal).expanduser()
        if not path.is_file():  # opening it would create an empty journal
            _err(
                f"error: no journal file {str(path)!r}, so nothing was cancelled. Pass --journal "
                "with the file the campaign was sent with."
            )
            return EXIT_ERROR
        journal = open_journal(path)
        run = journal.run(args.name)
        if run is None or run["kind"] != "campaign":
            names = _campaign_names(journal)
            listed = ", ".join(repr(n) for n in names[:20]) or "none"
            more = f" (and {len(names) - 20:,} more)" if len(names) > 20 else ""
            _err(
                f"error: there is no campaign named {args.name!r} in journal {str(path)!r}, so "
                f"nothing was cancelled. Campaigns in it: {listed}{more}."
            )
            return EXIT_ERROR
        client = connect(api=args.api)
        done = cancel_campaign(journal, args.name, client, clean=client.redact)
    except OneSigNbError as exc:
        _err(f"error: {wording(str(exc))}")
        return EXIT_ERROR
    except (OSError, ImportError) as exc:
        _err(f"error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR
    finally:
        if client is not None:
            client.close()
        if journal is not None:
            journal.close()
    _kind, text = done.headline()
    print(f"campaign {args.name}: {wording(text)}")
    counts = ", ".join(f"{k.replace('_', ' ')} {n:,}" for k, n in done.counts.items())
    print(f"  {counts}; {count(done.requests, 'cancel request')}.")
    lines = _gone_out_lines(done.to_frame())
    if lines:
        print("Already gone out, or unknown (check the OneSignal dashboard):")
        print("\n".join(lines))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
