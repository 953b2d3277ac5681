"""ActionPanel: the part SendPanel and ExperimentPanel share, so both guard sends the same way.

A panel of this kind has a status line, a confirm row (type the number of people or the name,
then Confirm or Cancel) and a lock held while an action runs: a browser double click queues two
events, and ipywidgets delivers a click even to a disabled button when called from code, so the
lock, not the button state, is what makes a second click a no-op.
"""

from __future__ import annotations

import contextlib
import html
import threading
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets

from onesig_nb._html import ink
from onesig_nb.errors import OneSigNbError
from onesig_nb.widgets.static import StaticHTMLBox

__all__ = ["ActionPanel"]


class ActionPanel(StaticHTMLBox):
    """A panel whose actions run one at a time, the sends behind a typed confirmation.

    It builds ``status``, ``confirm_text``, ``confirm_button`` and ``cancel_button`` and wires
    them; a subclass places them in its ``children`` (the confirm row inside a ``confirm_box``
    it shows when a send is asked for) and defines :meth:`refresh`, :meth:`action_buttons`,
    ``_confirmed()`` (whether what was typed confirms) and ``_on_confirm()`` (the Confirm click).
    """

    def __init__(self) -> None:
        super().__init__()
        #: Held while an action runs; a second click finds it taken and does nothing.
        self.lock = threading.Lock()
        self.status = widgets.HTML()
        self.confirm_text = widgets.Text(description="Confirm")
        self.confirm_button = widgets.Button(
            description="Confirm send", button_style="danger", disabled=True
        )
        self.cancel_button = widgets.Button(description="Cancel")
        self.confirm_button.on_click(self._on_confirm)
        self.cancel_button.on_click(self._on_cancel)
        self.confirm_text.observe(self._on_typed, names="value")

    def refresh(self) -> None:  # pragma: no cover - every panel defines its own
        """Recompute the plan and the buttons."""
        raise NotImplementedError

    def action_buttons(self) -> tuple[widgets.Button, ...]:  # pragma: no cover - see subclasses
        """The buttons disabled while an action runs."""
        raise NotImplementedError

    def _confirmed(self) -> bool:  # pragma: no cover - every panel defines its own
        raise NotImplementedError

    def _on_confirm(self, _button: Any = None) -> None:  # pragma: no cover - see subclasses
        raise NotImplementedError

    def say(self, text: str, kind: str | None = None) -> None:
        """Show ``text`` in the colour of ``kind`` (``ok``, ``warn``, ``error``; None: plain)."""
        self.status.value = f"<span style='color:{ink(kind)}'>{html.escape(text)}</span>"

    def set_busy(self, busy: bool) -> None:
        """Disable (or enable) every button of :meth:`action_buttons`."""
        for button in self.action_buttons():
            button.disabled = busy

    @contextlib.contextmanager
    def one_action(self) -> Iterator[bool]:
        """One button action at a time: yields False when another is running (a double click).

        A typed error is shown in the panel; afterwards the panel refreshes and the confirm
        button is disabled again.
        """
        if not self.lock.acquire(blocking=False):
            yield False
            return
        try:
            self.set_busy(True)
            yield True
        except OneSigNbError as exc:
            self.say(str(exc), "error")
        finally:
            self.lock.release()
            self.refresh()
            self.confirm_button.disabled = True

    def _on_typed(self, _change: Any = None) -> None:
        self.confirm_button.disabled = not self._confirmed() or self.lock.locked()

    def _on_cancel(self, _button: Any = None) -> None:
        self.confirm_box.layout.display = "none"
        self.confirm_text.value = ""
        self.say("Cancelled; nothing was sent.")
