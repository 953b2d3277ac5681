"""SendPanel: the plan, a test send, a typed confirmation, live progress, Stop, results, report.

    from onesig_nb.widgets import SendPanel
    SendPanel(campaign)

A thin UI over :class:`onesig_nb.Campaign`: every decision (exactly-once, confirmation limits,
the lint gate) stays in the campaign. The panel only adds a human step: the "Send to N people"
button opens a box where you type N (or the campaign name) before the real send button
enables; when the message changes the text for some people (a variable they lack, a text cut
off), the box repeats each warning with the number of people affected and a checkbox must be
ticked too. Errors in the checks disable Send.

The send runs in a worker thread, so the kernel stays free and the panel live: the progress
bar shows the count and the rate, and Stop finishes the requests in flight, journals them and
says "Stopped: N sent, M left; Send resumes." While sending, every other button is disabled and
a lock refuses a second click, so a double click cannot send twice (and a re-send would be a
journaled no-op anyway). :meth:`SendPanel.wait` waits for the send from code (tests, Voila).

Next to the Send button a line repeats the campaign's sending rules and how many people are not
sent now, per reason ("Not sent now: 12 capped, 3 suppressed, 40 deferred by quiet hours"), as
the plan computes them (:attr:`CampaignPlan.rules`, :meth:`CampaignPlan.reasons`).

"Cancel campaign" shows once the campaign sent or scheduled something that may not have reached
people yet (a send running or unfinished, or a scheduled push): it asks for the word ``cancel``
(or the campaign name) to be typed, then calls :meth:`Campaign.cancel` in a worker thread (it
stops a running send first) and shows what was cancelled. The campaign then refuses to send
(``send(reopen=True)`` sends it after all), and the panel says so.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from onesig_nb._html import ink
from onesig_nb._words import people
from onesig_nb.campaign.views import ACCEPTED_STATUSES, FIX_CHECKS
from onesig_nb.errors import OneSigNbError, SendStopped
from onesig_nb.widgets.actions import ActionPanel

__all__ = ["SendPanel", "describe_rules", "describe_test_send", "describe_text_warnings"]

log = logging.getLogger("onesig_nb.widgets.send_panel")

#: Why a QA id did not get the test, per result status.
_NOT_DELIVERED = {
    "unsubscribed": "has no subscribed device in this OneSignal app",
    "not_reached": "is not in this OneSignal app",
    "invalid": "is not a valid external id",
}


#: Campaign statuses with a send that has not finished: cancel stops what is not sent yet.
_UNFINISHED = ("sending", "partial", "interrupted")

#: Seconds the cancel waits for the panel's own running send to stop (then cancels anyway).
CANCEL_WAIT = 30.0

#: What to type to confirm a cancel (or the campaign name).
CANCEL_WORD = "cancel"


def describe_rules(plan: Any) -> str:
    """HTML of the line next to the Send button: the plan's sending rules and how many people
    are not sent now, per reason (``Not sent now: 12 capped, 3 suppressed, 40 deferred by quiet
    hours``); empty when there are neither."""
    parts = []
    if plan.rules:
        parts.append(f"<b>Sending rules:</b> {html.escape('; '.join(plan.rules))}")
    reasons = plan.reasons()
    if reasons:
        counts = ", ".join(f"{n:,} {kind}" for kind, n in reasons.items())
        later = (
            " (the deferred get it when their quiet hours end)"
            if "deferred by quiet hours" in reasons
            else ""
        )
        parts.append(f"<b>Not sent now:</b> {html.escape(counts)}{later}")
    if not parts:
        return ""
    return "<div class='osn-rules' style='margin:4px 0'>" + "<br>".join(parts) + "</div>"


def describe_test_send(result: Any, ids: list[str]) -> tuple[str, str]:
    """(message, kind) of a test send: ``ok`` when every QA id got it, ``warn`` when some did
    not, ``error`` when nobody did; each miss is named with its reason.

    An id OneSignal accepted but listed for a device that is not subscribed counts as sent,
    with a note: its other subscribed devices got the push, if it has any.
    """
    frame = result.to_frame()
    accepted = frame.status.isin(ACCEPTED_STATUSES)
    got = [str(i) for i in frame.loc[accepted, "external_id"]]
    listed = [str(i) for i in frame.loc[frame.status == "some_devices_unsubscribed", "external_id"]]
    misses, unknown = [], False
    for row in frame[~accepted].itertuples():
        unknown = unknown or row.status in ("unsubscribed", "not_reached")
        why = _NOT_DELIVERED.get(row.status) or f"failed: {row.error or 'no reason given'}"
        misses.append(f"{row.external_id!r} {why}")
    sent = f"Test sent to {len(got)} of {len(ids)} QA ids ({', '.join(got)})."
    if listed:
        sent = (
            f"OneSignal accepted the test for {len(got)} of {len(ids)} QA ids "
            f"({', '.join(got)}), but listed a device of {', '.join(map(repr, listed))} as not "
            "subscribed: only their subscribed devices, if any, got it."
        )
    if not misses:
        return sent, "warn" if listed else "ok"
    check = " Check the id (OneSignal dashboard > Audience > Users)." if unknown else ""
    if not got:
        return f"Test NOT delivered: {'; '.join(misses)}.{check}", "error"
    return f"{sent} Not delivered: {'; '.join(misses)}.{check}", "warn"


def describe_text_warnings(warnings: Sequence[Any]) -> str:
    """HTML that repeats, in the confirmation step, each warning that changes the text for
    some people, with how many (:meth:`onesig_nb.Campaign.text_warnings`)."""
    if not warnings:
        return ""
    items = "".join(
        f"<li data-code='{html.escape(w.code)}'><b>{html.escape(people(w.people))}</b>: "
        f"{html.escape(w.message)} <code style='color:#888;font-size:11px'>"
        f"{html.escape(w.code)}</code></li>"
        for w in warnings
    )
    return (
        f"<div class='osn-ack' style='color:{ink('warn')}'><b>This message changes the text "
        f"for some people:</b><ul style='margin:2px 0;padding-left:18px'>{items}</ul>"
        "Fix the message above, or tick the box to send it as it is.</div>"
    )


class SendPanel(ActionPanel):
    """Plan, test, confirm and send one campaign from a notebook.

    :param campaign: a :class:`onesig_nb.Campaign`
    :param report: fetch and show the delivery report after sending
    :param report_options: keyword arguments for :meth:`Campaign.report` (e.g. ``timeout=``)
    """

    def __init__(self, campaign: Any, *, report: bool = True, report_options: dict | None = None):
        super().__init__()
        self.campaign = campaign
        self._report = report
        self._report_options = dict(report_options or {})
        self._tested = False  # a test was sent from this panel: "Send another test"
        self._worker: threading.Thread | None = None  # the send running in the background
        self._stop = threading.Event()  # set by Stop: the running send starts nothing more
        self._warnings: tuple = ()  # the text warnings the confirmation step showed
        self._started = 0.0  # when the running send started (for the rate)
        self._canceller: threading.Thread | None = None  # the cancel running in the background
        self._cancelling = False  # a cancel was confirmed and has not ended yet
        self._cancel_guard = threading.Lock()  # a second Confirm cancel click does nothing
        #: what the last "Cancel campaign" did (a Cancellation), None before
        self.cancellation: Any = None
        self.plan_view = widgets.HTML()
        self.rules_view = widgets.HTML()  # the rules and who is not sent now, by the button
        self.qa_ids = widgets.Text(
            value=", ".join(campaign.test_users),
            description="QA ids",
            placeholder="qa-1, qa-2",
        )
        self.test_button = widgets.Button(description="Send test", icon="flask")
        self.send_button = widgets.Button(description="Send", button_style="danger")
        self.warnings_view = widgets.HTML()
        self.acknowledge = widgets.Checkbox(
            value=False, description="Send it as it is", indent=False,
            layout=widgets.Layout(display="none"),
        )  # fmt: skip
        self.confirm_box = widgets.VBox(
            [
                self.warnings_view,
                self.acknowledge,
                widgets.HBox([self.confirm_text, self.confirm_button, self.cancel_button]),
            ],
            layout=widgets.Layout(display="none"),
        )
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="Progress")
        self.progress_text = widgets.HTML()
        self.stop_button = widgets.Button(
            description="Stop", icon="stop", button_style="warning",
            layout=widgets.Layout(display="none"),
        )  # fmt: skip
        self.cancel_campaign_button = widgets.Button(
            description="Cancel campaign", icon="ban", button_style="warning",
            tooltip="Cancel every push of this campaign that has not reached people yet",
            layout=widgets.Layout(display="none"),
        )  # fmt: skip
        self.cancel_text = widgets.Text(description="Confirm", placeholder="")
        self.cancel_confirm_button = widgets.Button(
            description="Confirm cancel", button_style="danger", disabled=True
        )
        self.keep_button = widgets.Button(description="Keep it")
        self.cancel_box = widgets.HBox(
            [self.cancel_text, self.cancel_confirm_button, self.keep_button],
            layout=widgets.Layout(display="none"),
        )
        self.results = widgets.HTML()
        self.report_view = widgets.HTML()
        self.test_button.on_click(self._on_test)
        self.send_button.on_click(self._on_send)
        self.stop_button.on_click(self._on_stop)
        self.cancel_campaign_button.on_click(self._on_cancel_campaign)
        self.cancel_confirm_button.on_click(self._on_cancel_confirm)
        self.keep_button.on_click(self._on_keep)
        self.cancel_text.observe(self._on_cancel_typed, names="value")
        self.acknowledge.observe(self._on_typed, names="value")
        self.children = [
            self.plan_view,
            widgets.HBox([self.qa_ids, self.test_button]),
            self.rules_view,
            widgets.HBox([self.send_button, self.cancel_campaign_button]),
            self.confirm_box,
            self.cancel_box,
            widgets.HBox([self.progress, self.progress_text, self.stop_button]),
            self.status,
            self.results,
            self.report_view,
        ]
        self.refresh()

    # -- state --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute the plan and the button labels from the campaign and its journal."""
        self.plan = self.campaign.plan()
        self.plan_view.value = self.plan._repr_html_()
        self.rules_view.value = describe_rules(self.plan)
        n = self.plan.to_send
        blocked = bool(self.plan.errors) or self.plan.state in ("conflict", "blocked")
        status = self.campaign.status
        cancelled = status == "cancelled" and self.plan.state == "conflict"
        self.cancel_campaign_button.layout.display = (
            "inline-flex" if self._cancellable(status) else "none"
        )
        if self.plan.state == "sent":
            # a state, not a danger: green and disabled
            self.send_button.description = "Already sent"
            self.send_button.button_style = "success"
        elif cancelled:
            self.send_button.description = "Cancelled"
            self.send_button.button_style = "warning"
        else:
            self.send_button.description = f"Send to {people(n)}"
            self.send_button.button_style = "danger"
        untested = self.campaign.require_test and n > 0 and not self.campaign.tested()
        self.send_button.disabled = blocked or n == 0 or untested
        self.send_button.tooltip = (
            "Send a test of this message first (the campaign has require_test=True)"
            if untested
            else ""
        )
        self.test_button.disabled = bool(self.plan.errors) or self.plan.state == "blocked"
        if self._tested:
            self.test_button.description = "Send another test"
        self.confirm_text.placeholder = f"type {n} or {self.campaign.name}" if n else ""
        if blocked:
            text = FIX_CHECKS if self.plan.errors or not self.plan.note else self.plan.note
            self.say(text, "warn" if cancelled and not self.plan.errors else "error")
        elif untested and not self.status.value:
            self.say("Send a test first: this campaign needs one of this message before Send.")
        if self._cancelling:  # a send that the cancel stopped refreshes meanwhile: stay busy
            self.set_busy(True)
            self.cancel_campaign_button.disabled = True

    def _cancellable(self, status: str) -> bool:
        """Whether Cancel campaign applies: a send running or unfinished, or a push scheduled
        (``result().schedule``: it, or quiet hours, made OneSignal hold it) once sent."""
        if self.sending or status in _UNFINISHED:
            return True
        return status == "sent" and self.campaign.result().schedule is not None

    def action_buttons(self) -> tuple[widgets.Button, ...]:
        """The buttons that start or confirm something (Stop stays free during a send)."""
        return (self.test_button, self.send_button, self.confirm_button, self.cancel_button)

    @property
    def sending(self) -> bool:
        """Whether a send is running in the background."""
        return self._worker is not None and self._worker.is_alive()

    @property
    def cancelling(self) -> bool:
        """Whether a cancel is running in the background."""
        return self._canceller is not None and self._canceller.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the send (or cancel) running in the background to end (tests, Voila, a
        script).

        Returns True when none is running any more, False if ``timeout`` seconds passed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        # the cancel waits for the send, and may start while the send is waited for: read
        # the threads afresh each time
        for which in ("_worker", "_canceller", "_canceller"):
            worker = getattr(self, which)
            if worker is not None:
                worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.sending and not self.cancelling

    def to_html(self) -> str:
        """Static HTML of the panel: the plan, the rules line, the last message and result (or
        cancellation), the report."""
        parts = [
            self.plan_view.value,
            self.rules_view.value,
            self.status.value,
            self.results.value,
            self.report_view.value,
        ]
        return "<div class='onesig-send-panel'>" + "".join(p for p in parts if p) + "</div>"

    # -- handlers -----------------------------------------------------------------------------
    def _on_test(self, _button: Any = None) -> None:
        ids = [i.strip() for i in self.qa_ids.value.split(",") if i.strip()]
        with self.one_action() as go:
            if go:
                res = self.campaign.send_test(ids)
                self._tested = True
                self.say(*describe_test_send(res, ids))

    def _on_send(self, _button: Any = None) -> None:
        if self.send_button.disabled or self.lock.locked() or self._cancelling:
            return
        self.confirm_text.value = ""
        self._warnings = tuple(self.campaign.text_warnings())
        self.warnings_view.value = describe_text_warnings(self._warnings)
        self.acknowledge.value = False
        self.acknowledge.layout.display = "flex" if self._warnings else "none"
        self.cancel_box.layout.display = "none"  # one question at a time
        self.cancel_button.disabled = False  # set_busy() of the last action disabled it
        self.confirm_box.layout.display = "flex"
        tick = " and tick the box" if self._warnings else ""
        self.say(
            f"Type {self.plan.to_send} (the number of people) or the campaign name "
            f"{self.campaign.name!r}{tick} to confirm."
        )

    def _confirmed(self) -> bool:
        typed = self.confirm_text.value.strip().replace(",", "")
        if typed not in (str(self.plan.to_send), self.campaign.name.replace(",", "")):
            return False
        return self.acknowledge.value or not self._warnings

    def _on_confirm(self, _button: Any = None) -> None:
        # ipywidgets delivers a click even to a disabled button when called from code, and a
        # browser double click can queue two events: the lock makes the second one a no-op.
        if self.confirm_button.disabled or self._cancelling or not self._confirmed():
            return
        if not self.lock.acquire(blocking=False):
            return
        try:
            self.set_busy(True)
            self.confirm_box.layout.display = "none"
            self.say(f"Sending to {people(self.plan.to_send)}…")
            self.results.value = self.report_view.value = ""
            self._stop = threading.Event()
            self._started = time.monotonic()
            self._progress(0, self.plan.to_send)
            self.stop_button.description, self.stop_button.disabled = "Stop", False
            self.stop_button.layout.display = "inline-flex"
            self.cancel_campaign_button.layout.display = "inline-flex"
            # The number the person confirmed, not True: if the plan changed since (cohort
            # re-bound, another kernel sent), the campaign refuses instead of sending to more;
            # likewise the warnings they acknowledged, not all warnings.
            acknowledge = [w.code for w in self._warnings]
            self._worker = threading.Thread(
                target=self._run_send, args=(self.plan.to_send, acknowledge, self._stop),
                name="onesig_nb-send", daemon=True,
            )  # fmt: skip
            self._worker.start()
        except BaseException:
            self._finish()
            raise

    def _run_send(self, confirm: int, acknowledge: list[str], stop: threading.Event) -> None:
        """The worker thread: send, show the result (or why not), then free the panel.

        Not named ``_send``: that is ipywidgets' own method for syncing state to the browser.
        """
        try:
            result = self.campaign.send(
                confirm=confirm, acknowledge=acknowledge, progress=self._progress, stop=stop
            )
            self.results.value = result._repr_html_()  # opens with the big banner
            self.status.value = ""
            if self._report and result.notification_ids:
                self.report_view.value = self.campaign.report(**self._report_options)._repr_html_()
        except SendStopped as exc:
            if exc.result is not None:
                self.results.value = exc.result._repr_html_()
            if self._cancelling:
                self.say(f"Stopped ({exc.sent:,} sent, {exc.left:,} left); cancelling…", "warn")
            else:
                self.say(f"Stopped: {exc.sent:,} sent, {exc.left:,} left; Send resumes.", "warn")
        except OneSigNbError as exc:
            self.say(str(exc), "error")
        except Exception as exc:  # a worker thread has nobody to raise to: show it here
            log.exception("campaign %s: the send failed", self.campaign.name)
            self.say(f"The send failed: {type(exc).__name__}: {exc}", "error")
        finally:
            self._finish()

    def _finish(self) -> None:
        """After a send: hide Stop, refresh the plan and buttons, release the lock."""
        self.stop_button.layout.display = "none"
        try:
            self.refresh()
        except OneSigNbError as exc:
            self.say(str(exc), "error")
        finally:
            self.confirm_button.disabled = True
            self.lock.release()

    def _on_stop(self, _button: Any = None) -> None:
        if not self.sending or self._stop.is_set():
            return
        self._stop.set()
        self.stop_button.description, self.stop_button.disabled = "Stopping…", True
        self.say("Stopping: the requests in flight finish and are recorded…", "warn")

    def _progress(self, done: int, total: int) -> None:
        self.progress.max = max(1, total)
        self.progress.value = done
        seconds = time.monotonic() - self._started
        rate = f" · {done / seconds:,.0f} people/s" if done and seconds > 0 else ""
        self.progress_text.value = f"{done:,} of {people(total)}{rate}"

    # -- cancel -------------------------------------------------------------------------------
    def _cancel_confirmed(self) -> bool:
        typed = self.cancel_text.value.strip()
        return typed.lower() == CANCEL_WORD or typed == self.campaign.name

    def _on_cancel_campaign(self, _button: Any = None) -> None:
        if self.cancel_campaign_button.disabled or self._cancelling:
            return
        self.confirm_box.layout.display = "none"  # one question at a time
        self.cancel_text.value = ""
        self.cancel_text.placeholder = f"type {CANCEL_WORD} or {self.campaign.name}"
        self.cancel_confirm_button.disabled = True
        self.cancel_box.layout.display = "flex"
        self.say(
            f"Type {CANCEL_WORD!r} (or the campaign name {self.campaign.name!r}) to cancel every "
            "push of this campaign that has not reached people yet. What has gone out stays; "
            "the campaign then refuses to send.",
            "warn",
        )

    def _on_cancel_typed(self, _change: Any = None) -> None:
        self.cancel_confirm_button.disabled = not self._cancel_confirmed() or self._cancelling

    def _on_keep(self, _button: Any = None) -> None:
        self.cancel_box.layout.display = "none"
        self.cancel_text.value = ""
        self.say("Kept: nothing was cancelled.")

    def _on_cancel_confirm(self, _button: Any = None) -> None:
        # a click on the disabled button (from code) or a second click does nothing
        if self.cancel_confirm_button.disabled or not self._cancel_confirmed():
            return
        if not self._cancel_guard.acquire(blocking=False):
            return
        try:
            self._cancelling = True
            self.cancel_box.layout.display = "none"
            self.confirm_box.layout.display = "none"
            self.cancel_text.value = ""
            self.cancel_confirm_button.disabled = self.cancel_campaign_button.disabled = True
            self.set_busy(True)
            self.say("Cancelling: what has not reached people yet…", "warn")
            self._canceller = threading.Thread(
                target=self._run_cancel, args=(self._worker, self._stop),
                name="onesig_nb-cancel", daemon=True,
            )  # fmt: skip
            self._canceller.start()
        except BaseException:
            self._cancelling = False
            self._cancel_guard.release()
            raise

    def _run_cancel(self, sender: threading.Thread | None, stop: threading.Event) -> None:
        """The cancel's worker thread: stop this panel's send (so its messages come first),
        cancel, show the :class:`~onesig_nb.campaign.cancel.Cancellation`, refresh."""
        locked, error = False, ""
        try:
            if sender is not None and sender.is_alive():
                stop.set()
                self.stop_button.description, self.stop_button.disabled = "Stopping…", True
                sender.join(CANCEL_WAIT)
            locked = self.lock.acquire(timeout=CANCEL_WAIT)  # no test or send starts meanwhile
            self.set_busy(True)
            cancellation = self.cancellation = self.campaign.cancel(wait=CANCEL_WAIT)
            self.results.value = cancellation._repr_html_()
            self.report_view.value = ""  # the report before the cancel no longer holds
            self.say(cancellation.headline()[1], cancellation.headline()[0])
        except OneSigNbError as exc:
            error = str(exc)
        except Exception as exc:  # a worker thread has nobody to raise to: show it here
            log.exception("campaign %s: the cancel failed", self.campaign.name)
            error = f"The cancel failed: {type(exc).__name__}: {exc}"
        finally:
            self._cancelling = False
            self.stop_button.layout.display = "none"
            self.cancel_campaign_button.disabled = False
            try:
                self.refresh()  # a cancelled campaign's plan says it refuses to send, and why
            except OneSigNbError as exc:
                error = error or str(exc)
            finally:
                if error:
                    self.say(error, "error")
                self.confirm_button.disabled = True
                if locked:
                    self.lock.release()
                self._cancel_guard.release()
