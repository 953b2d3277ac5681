"""``onesig-nb``: the command line, a thin dispatcher over the library.

onesig-nb lab      [--workspace DIR] [--notebooks DIR]    sample data + sandbox + JupyterLab
onesig-nb sandbox  [--port P] [--db FILE]                  the local OneSignal sandbox
onesig-nb sample   [--users N] [--out DIR]                 write the sample Segment workspace
onesig-nb send     --cohort SRC --audience KEY --message M.yaml --name NAME [--dry-run] [--yes]
                   [--rules RULES.yaml] [--reopen]
onesig-nb cancel   --name NAME [--journal FILE] [--api current|legacy]
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["main"]

COMMANDS = {
    "lab": ("onesig_nb.cli.lab", "sample workspace + sandbox + JupyterLab on notebooks/"),
    "sandbox": ("onesig_nb.sandbox.__main__", "run the local OneSignal-compatible sandbox"),
    "sample": ("onesig_nb.samples.cli", "write the deterministic sample Segment workspace"),
    "send": ("onesig_nb.cli.send", "send a campaign headless (cron, papermill), exactly once"),
    "cancel": ("onesig_nb.cli.cancel", "cancel what a campaign has not delivered yet"),
}


def _usage() -> str:
    lines = ["usage: onesig-nb <command> [options]", "", "commands:"]
    lines += [f"  {name:<8} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'onesig-nb <command> --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"onesig-nb: unknown command {command!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
