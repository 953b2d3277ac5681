"""How onesig_nb's own errors look in a notebook: the plain message, not our internal frames.

Every :class:`~onesig_nb.errors.OneSigNbError` says what happened and how to fix it; a
five-frame traceback through ``segment/sources.py`` above that sentence only hides it. Under
IPython (JupyterLab, Voilà, nbclient, the IPython terminal) :func:`register` installs a custom
exception display (``InteractiveShell.set_custom_exc``) for that one class tree, which shows

    AudienceNotFound: No audience 'cart_abandoner' in this source. Did you mean ...
    (raised in your cell, line 3; %tb shows the full traceback)

Any other exception keeps IPython's normal traceback, and the cell still fails as before (the
kernel reports an error, so nbval, papermill and Voilà see a failed cell). The full traceback
stays one ``%tb`` away: the handler records it where ``%tb`` reads it (``sys.last_*``).

Standard library and :mod:`onesig_nb.errors` only; IPython is never imported here, only found
when it is already running, so ``import onesig_nb`` stays cheap in scripts and the CLI.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any

from onesig_nb.errors import OneSigNbError

__all__ = ["PACKAGE_DIR", "plain_error_lines", "register"]

#: Frames from files under this folder are "ours" and left out of what the reader sees.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

#: The hint after the message: IPython's ``%tb`` magic prints the last full traceback.
FULL_TRACEBACK_HINT = "%tb shows the full traceback"


def _user_line(tb: TracebackType | None) -> int | None:
    """The line of the last frame outside onesig_nb: the reader's own line that failed."""
    line = None
    while tb is not None:
        filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if not filename.startswith(PACKAGE_DIR) and "site-packages" not in filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def plain_error_lines(error: BaseException, tb: TracebackType | None = None) -> list[str]:
    """What a reader sees for one of our errors: ``Type: message`` and where in their cell."""
    lines = [f"{type(error).__name__}: {error}"]
    line = _user_line(tb)
    where = f"raised in your cell, line {line}; " if line is not None else ""
    lines.append(f"({where}{FULL_TRACEBACK_HINT})")
    return lines


def _show_plain(
    shell: Any, etype: type, value: BaseException, tb: TracebackType | None, tb_offset: Any = None
) -> list[str]:
    """The custom exception handler IPython calls for a :class:`OneSigNbError`."""
    # where %tb (and %debug) look for the last error
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    stb = plain_error_lines(value, tb)
    # _showtraceback is how IPython itself shows an error: a kernel sends an "error" message
    # (a failed cell for every front end), a terminal prints the lines.
    shell._showtraceback(etype, value, stb)
    return stb


def register(shell: Any = None) -> bool:
    """Show :class:`OneSigNbError` plainly in this IPython session; True when installed.

    Does nothing (False) outside IPython, or when another library already installed its own
    custom exception display (IPython keeps one; ours would silently replace theirs).
    Calling it again is harmless.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        get = getattr(ipython, "get_ipython", None)
        shell = get() if get is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    current = tuple(getattr(shell, "custom_exceptions", ()) or ())
    if current and current != (OneSigNbError,):
        return False
    shell.set_custom_exc((OneSigNbError,), _show_plain)
    return True
