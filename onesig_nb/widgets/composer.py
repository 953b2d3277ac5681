"""MessageComposer: write a push with a live per-user preview, then take ``.message``.

    from onesig_nb.widgets import MessageComposer
    c = MessageComposer(cohort); c            # edit title/text, insert variables, switch language
    msg = c.message                           # a validated Message (raises ValidationError if not)

Edits are debounced; invalid input (no English text, bad Liquid, ...) shows a finding instead
of raising. All decisions live in :class:`onesig_nb.message.Message`; this only wires widgets.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from onesig_nb.errors import ValidationError
from onesig_nb.message import LANGUAGE_TRAIT, Finding, Message
from onesig_nb.message.rendering import cohort_frame
from onesig_nb.widgets.preview import MessagePreview, findings_html
from onesig_nb.widgets.static import StaticHTMLBox

__all__ = ["MessageComposer"]

#: The text a new composer starts with: a plain example, so the mock-up reads like a real push
#: (a bare variable as the title would read like a title, e.g. "Paris").
_DEFAULT_TITLE = "Hello {{ first_name | default: 'there' }}"
_DEFAULT_TITLE_NO_NAME = "Hello there"
_DEFAULT_TEXT = "We have something new for you. Tap to see it."


class _Debouncer:
    """Call ``fn`` once, ``delay`` seconds after the last trigger (0 = immediately)."""

    def __init__(self, delay: float, fn: Callable[[], None]):
        self.delay = delay
        self.fn = fn
        self._handle: Any = None

    def __call__(self) -> None:
        self.cancel()
        if self.delay <= 0:
            self.fn()
            return
        try:
            loop = asyncio.get_running_loop()
            self._handle = loop.call_later(self.delay, self._fire)
        except RuntimeError:  # no running loop (plain Python): a timer thread
            self._handle = threading.Timer(self.delay, self._fire)
            self._handle.daemon = True
            self._handle.start()

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def _fire(self) -> None:
        self._handle = None
        self.fn()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def flush(self) -> None:
        """Run a pending call now."""
        if self._handle is not None:
            self.cancel()
            self.fn()


class MessageComposer(StaticHTMLBox):
    """Edit a message's title and text per language with a debounced live preview.

    :param cohort: a Cohort or DataFrame (external_id + traits) to preview against.
    :param message: a Message to start from (default: a friendly greeting).
    :param debounce: seconds to wait after the last keystroke before re-rendering.
    :param app_name: ``app_icon``: the app's name and icon (http(s) URL) on the mock-ups.
    """

    def __init__(
        self,
        cohort: Any,
        *,
        message: Message | None = None,
        app_name: str = "Your app",
        app_icon: str | None = None,
        tag_map: Mapping[str, str] | None = None,
        debounce: float = 0.3,
    ):
        df = cohort_frame(cohort)
        title = _DEFAULT_TITLE if "first_name" in df.columns else _DEFAULT_TITLE_NO_NAME
        start = message or Message(_DEFAULT_TEXT, headings=title)
        self._base = start.to_dict()
        self._texts: dict[str, dict[str, str]] = {
            "headings": dict(start.headings or {}),
            "contents": dict(start.contents),
        }
        langs = list(start.contents)
        if LANGUAGE_TRAIT in df.columns:
            counts = df[LANGUAGE_TRAIT].dropna().astype(str).value_counts()
            langs += [lg for lg in counts.index[:20] if lg not in langs and len(lg) <= 7]
        self._lang = "en"
        self.findings: list[Finding] = []
        self._last_good: Message = start

        self.language = widgets.Dropdown(options=langs, value="en", description="Language")
        self.heading = widgets.Text(
            description="Title",
            placeholder="e.g. Hello {{ first_name | default: 'there' }}",
            layout=widgets.Layout(width="560px"),
        )
        self.contents = widgets.Textarea(
            description="Text",
            placeholder="What the push says, in one or two short sentences",
            layout=widgets.Layout(width="560px", height="80px"),
        )
        self.url = widgets.Text(
            value=start.url or "", description="Launch URL", layout=widgets.Layout(width="560px")
        )
        traits = [str(c) for c in df.columns if c != "external_id"]
        self.variable = widgets.Dropdown(options=traits, description="Variable")
        self.target = widgets.ToggleButtons(options=["contents", "heading"], value="contents")
        self.insert_button = widgets.Button(description="Insert variable")
        self.status = widgets.HTML()
        self.preview = MessagePreview(
            start, df, app_name=app_name, app_icon=app_icon, tag_map=tag_map
        )
        self._debounced = _Debouncer(debounce, self._apply)
        self._loading = False
        self._load_language("en")

        self.language.observe(self._on_language, names="value")
        for w in (self.heading, self.contents, self.url):
            w.observe(self._on_edit, names="value")
        self.insert_button.on_click(lambda _b: self.insert_variable(self.variable.value))
        super().__init__(
            [
                self.language,
                self.heading,
                self.contents,
                self.url,
                widgets.HBox([self.variable, self.target, self.insert_button]),
                self.status,
                self.preview,
            ]
        )
        self._apply()

    # ---- editing ----------------------------------------------------------------------------

    def _load_language(self, lang: str) -> None:
        self._loading = True
        try:
            self.heading.value = self._texts["headings"].get(lang, "")
            self.contents.value = self._texts["contents"].get(lang, "")
        finally:
            self._loading = False

    def _on_language(self, change: dict) -> None:
        self._lang = change["new"]
        self._load_language(self._lang)
        self._debounced()

    def _on_edit(self, _change: dict) -> None:
        if self._loading:
            return
        self._texts["headings"][self._lang] = self.heading.value
        self._texts["contents"][self._lang] = self.contents.value
        self._debounced()

    def insert_variable(self, name: str | None, *, into: str | None = None) -> None:
        """Append ``{{ name }}`` to the text (or title) being edited."""
        if not name:
            return
        tag = "{{ " + name + " }}" if name.isidentifier() else "{{ user.tags['" + name + "'] }}"
        widget = self.heading if (into or self.target.value) == "heading" else self.contents
        sep = "" if not widget.value or widget.value.endswith(" ") else " "
        widget.value = widget.value + sep + tag

    def flush(self) -> None:
        """Apply a pending (debounced) edit now."""
        self._debounced.flush()

    # ---- result -----------------------------------------------------------------------------

    def _build(self) -> Message:
        d = dict(self._base)
        d["contents"] = {k: v for k, v in self._texts["contents"].items() if v}
        heads = {k: v for k, v in self._texts["headings"].items() if v}
        d["headings"] = heads or None
        d["url"] = self.url.value.strip() or None
        return Message.from_dict({k: v for k, v in d.items() if v is not None})

    @property
    def message(self) -> Message:
        """The message as currently edited; raises ValidationError if it is not valid."""
        self.flush()
        return self._build()

    def _apply(self) -> None:
        try:
            msg = self._build()
        except ValidationError as exc:
            self.findings = [Finding("error", "invalid-message", str(exc))]
            self.status.value = findings_html(self.findings, "Message")
            return
        except Exception as exc:  # noqa: BLE001 - a composer never crashes the notebook
            self.findings = [Finding("error", "invalid-message", f"Unexpected problem: {exc}")]
            self.status.value = findings_html(self.findings, "Message")
            return
        self.findings = []
        self.status.value = ""
        self._last_good = msg
        self.preview.message = msg

    def to_html(self) -> str:
        """Static HTML of the current view: the texts being edited and the preview."""
        rows = "".join(
            f"<div><b>{html.escape(label)} ({html.escape(self._lang)})</b>: "
            f"<span dir='auto'>{html.escape(value)}</span></div>"
            for label, value in (("Title", self.heading.value), ("Text", self.contents.value))
        )
        return f"<div class='osn-composer'>{rows}{self.status.value}{self.preview.to_html()}</div>"
