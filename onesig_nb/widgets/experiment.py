"""ExperimentPanel: arm sizes, the phase-one send, reading results, and sending the winner.

    from onesig_nb.widgets import ExperimentPanel
    ExperimentPanel(exp, source=ws / "segment-logs", event="Order Completed", base_rate=0.03)

A thin UI over :class:`onesig_nb.Experiment`, like :class:`~onesig_nb.widgets.SendPanel` over a
campaign: every decision (assignment, exactly-once, confirmation, the winner rule) stays in the
experiment. A send button opens a box where you type the number of people (or the experiment's
name) before the real button enables; while an action runs every button is disabled and a lock
refuses a second click. After results are read, the panel shows the conversion rate per arm
with its confidence bars and a one-line verdict.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from onesig_nb._words import people
from onesig_nb.widgets.actions import ActionPanel

__all__ = ["ExperimentPanel"]


class ExperimentPanel(ActionPanel):
    """Plan, send phase one, read results and send the winner of one experiment.

    :param experiment: a :class:`onesig_nb.Experiment`
    :param source: where the Segment track events are (archive, warehouse, URL, DataFrame);
        without it the panel has no results button
    :param event: the conversion event
    :param window: how long after each send a conversion counts
    :param base_rate: the conversion rate expected without a push (for the power line)
    :param results_options: more keyword arguments for :meth:`Experiment.results`
        (e.g. ``as_of=``, ``clicks=False``)
    """

    def __init__(
        self,
        experiment: Any,
        *,
        source: Any = None,
        event: str = "Order Completed",
        window: Any = "72h",
        base_rate: float | None = None,
        results_options: dict | None = None,
    ):
        super().__init__()
        self.experiment = experiment
        self._source, self._event, self._window = source, event, window
        self._base_rate = base_rate
        self._results_options = dict(results_options or {})
        self._pending: str | None = None  # "send" or "winner" while the confirm box is open
        self.plan_view = widgets.HTML()
        self.send_button = widgets.Button(description="Send phase one", button_style="danger")
        self.arm_choice = widgets.Dropdown(
            options=["auto", *experiment.variants], value="auto", description="Winner"
        )
        self.winner_button = widgets.Button(description="Send winner", button_style="danger")
        self.results_button = widgets.Button(description="Read results", icon="chart-bar")
        self.confirm_box = widgets.HBox(
            [self.confirm_text, self.confirm_button, self.cancel_button],
            layout=widgets.Layout(display="none"),
        )
        self.sent_view = widgets.HTML()
        self.results_view = widgets.HTML()
        self.send_button.on_click(self._on_send)
        self.winner_button.on_click(self._on_winner)
        self.results_button.on_click(self._on_results)
        rows = [self.send_button, widgets.HBox([self.arm_choice, self.winner_button])]
        if source is not None:
            rows.append(self.results_button)
        self.children = [self.plan_view, *rows, self.confirm_box, self.status, self.sent_view,
                         self.results_view]  # fmt: skip
        self.refresh()

    # -- state --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute the plan and the buttons from the experiment and its journal."""
        self.cancel_button.disabled = False  # after an action too: the next send can be cancelled
        self.plan = self.experiment.plan(base_rate=self._base_rate)
        self.plan_view.value = self.plan._repr_html_()
        phase, n = self.plan.phase, self.plan.to_send
        self.send_button.description = (
            f"Send phase one to {people(n)}" if phase == "one" and n else "Phase one sent"
        )
        self.send_button.disabled = phase != "one" or n == 0
        two = phase == "two" and self.experiment.test_fraction is not None
        rest = next((a.people for a in self.plan.arms if a.arm == "rest"), 0)
        self.winner_button.description = f"Send winner to {people(rest)}" if two else "Send winner"
        self.winner_button.disabled = not two or rest == 0
        self.arm_choice.disabled = self.winner_button.disabled
        self.results_button.disabled = phase == "one" and n > 0

    def action_buttons(self) -> tuple[widgets.Button, ...]:
        """Every button: an action runs alone."""
        return (self.send_button, self.winner_button, self.results_button,
                self.confirm_button, self.cancel_button)  # fmt: skip

    def to_html(self) -> str:
        """Static HTML of the panel: the plan, the last message, send result and results."""
        parts = [self.plan_view.value, self.status.value, self.sent_view.value,
                 self.results_view.value]  # fmt: skip
        return "<div class='onesig-experiment-panel'>" + "".join(p for p in parts if p) + "</div>"

    # -- handlers -----------------------------------------------------------------------------
    def _expected(self) -> int:
        if self._pending == "winner":
            return next((a.people for a in self.plan.arms if a.arm == "rest"), 0)
        return self.plan.to_send

    def _open_confirm(self, what: str) -> None:
        if self.lock.locked():
            return
        self._pending = what
        self.confirm_text.value = ""
        self.confirm_box.layout.display = "flex"
        self.say(
            f"Type {self._expected()} (the number of people) or the experiment name "
            f"{self.experiment.name!r} to confirm."
        )

    def _on_send(self, _button: Any = None) -> None:
        if not self.send_button.disabled:
            self._open_confirm("send")

    def _on_winner(self, _button: Any = None) -> None:
        if not self.winner_button.disabled:
            self._open_confirm("winner")

    def _confirmed(self) -> bool:
        typed = self.confirm_text.value.strip().replace(",", "")
        return typed in (str(self._expected()), self.experiment.name.replace(",", ""))

    def _on_cancel(self, _button: Any = None) -> None:
        super()._on_cancel(_button)
        self._pending = None

    def _on_confirm(self, _button: Any = None) -> None:
        if self.confirm_button.disabled or not self._confirmed() or self._pending is None:
            return
        what, self._pending = self._pending, None
        with self.one_action() as go:
            if not go:
                return
            self.confirm_box.layout.display = "none"
            if what == "send":
                sent = self.experiment.send(confirm=self.plan.to_send, progress=False)
            else:
                rest = next((a.to_send for a in self.plan.arms if a.arm == "rest"), None)
                confirm = rest if rest else True  # the winner's plan is known once chosen
                sent = self.experiment.send_winner(
                    self.arm_choice.value, confirm=confirm, progress=False
                )
            self.sent_view.value = sent._repr_html_()
            self.say(sent.headline(), "ok")

    def _on_results(self, _button: Any = None) -> None:
        with self.one_action() as go:
            if go:
                res = self.experiment.results(
                    self._source, self._event, self._window, **self._results_options
                )
                self.results_view.value = res._repr_html_()
                self.say(res.verdict, "ok" if res.winner else None)
