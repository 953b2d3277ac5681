"""MessagePreview: pick a user, see their push on iOS, Android and Chrome, with lint beneath.

    from onesig_nb.widgets import MessagePreview
    MessagePreview(msg, cohort, app_name="Shop", app_icon="https://shop.example/icon.png")

A thin ipywidgets shell: rendering and lint come from :class:`onesig_nb.message.Message`, the
mock-ups from :mod:`onesig_nb.widgets.phone`. Switching users or editing the message renders one
person; the cohort-wide lint is computed lazily (automatically for small cohorts, on a button
click for large ones) and cached per message fingerprint.

The user box finds people by external id, name or email (:func:`find_people`): an exact id or
email first, then anyone whose id, name or email contains the text, ignoring case and accents
("zoe" finds Zoé). When nobody matches it says so and keeps showing the same person.
"""

from __future__ import annotations

import html
import time
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd

from onesig_nb._words import count, people
from onesig_nb.message import Finding, Findings, Message, describe_person
from onesig_nb.message.rendering import cohort_frame
from onesig_nb.widgets.phone import badge_text, devices_html

__all__ = [
    "SEARCH_TRAITS",
    "MessagePreview",
    "find_people",
    "findings_html",
    "person_line",
    "preview_html",
]

#: Cohorts up to this size get their cohort-wide lint computed on every change (tens of ms);
#: larger ones wait for the "Check all users" button.
AUTO_COHORT_LINT = 5_000
#: The searchable dropdown lists at most this many ids; any id can still be typed.
MAX_OPTIONS = 2_000
#: What the user box accepts, said under it.
SEARCH_HINT = "Type an external id, a name or an email, then press Enter."
HINT_HTML = f"<span style='color:#666;font-size:12px'>{SEARCH_HINT}</span>"
#: The traits the user box searches besides the external id (Segment's reserved identify
#: traits for a person's name and email).
SEARCH_TRAITS = ("first_name", "last_name", "name", "email")
#: How many matching people the status line names when a search finds several.
SHOWN_MATCHES = 5


def _fold(text: str) -> str:
    """Lower case without accents, so "zoe" finds "Zoé" and "MÜLLER" finds "Müller"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    if name not in df.columns:
        return pd.Series([""] * len(df), index=df.index, dtype=object)
    return df[name].where(df[name].notna(), "").astype(str)


def find_people(df: pd.DataFrame, query: str) -> list[int]:
    """Row positions of the people ``query`` names, best first: an exact external id, else an
    exact email, else everyone whose id, full name or email contains it (case and accents
    ignored), in cohort order. Empty when nobody matches."""
    query = query.strip()
    if not query or df.empty:
        return []
    ids = df["external_id"].astype(str)
    exact = (ids == query).to_numpy().nonzero()[0]
    if len(exact):
        return exact.tolist()
    wanted = _fold(query)
    email = _column(df, "email").map(_fold)
    exact = (email == wanted).to_numpy().nonzero()[0]
    if len(exact):
        return exact.tolist()
    full = (_column(df, "first_name") + " " + _column(df, "last_name")).str.strip()
    full = full.where(full != "", _column(df, "name"))
    haystack = (ids + "\n" + full + "\n" + email).map(_fold)
    return haystack.str.contains(wanted, regex=False).to_numpy().nonzero()[0].tolist()


def findings_html(findings: Sequence[Finding], title: str, *, counts: bool = True) -> str:
    """A compact list of findings (escaped), or a short "no problems" line.

    ``counts`` adds "(N users)" to findings whose sentence does not already say how many.
    """
    return Findings(findings).to_html(title, counts=counts)


def person_line(row: Mapping[str, Any]) -> str:
    """Who a cohort row is, e.g. "u_000003 · Dmitri Ivanova · German (de) · Paris · d@x.com"."""
    who = describe_person(row)
    email = row.get("email")
    email = email if isinstance(email, str) and email.strip() else None
    return " · ".join(
        x for x in (who["external_id"], who["full"], who["language"], who["city"], email) if x
    )


def preview_html(
    msg: Message,
    person: Any,
    *,
    app_name: str,
    app_icon: str | None = None,
    tag_map: Mapping[str, str] | None = None,
) -> tuple[str, list[Finding]]:
    """Mock-ups for the first person of ``person`` and that person's findings (never raises)."""
    try:
        r = msg.render_user(person, tag_map=tag_map)
        findings = msg.lint(person, tag_map=tag_map)
    except Exception as exc:  # noqa: BLE001 - the preview shows problems, it never crashes
        return "", [Finding("error", "preview", f"Could not render this user: {exc}")]
    site = None
    link = r.get("web_url") or r.get("url")  # Chrome opens web_url when it is set (v11.6)
    if link and "://" in link:
        site = link.split("://", 1)[1].split("/", 1)[0]
    body = devices_html(
        app_name=app_name,
        title=r["heading"],
        subtitle=r["subtitle"],
        body=r["contents"],
        ios_image=r["ios_image"],
        android_image=r["big_picture"],
        chrome_image=r["chrome_web_image"],
        buttons=msg.buttons,
        site=site,
        web_buttons=msg.web_buttons,
        large_icon=r.get("large_icon"),
        badge=badge_text(msg.ios_badgeType, msg.ios_badgeCount),
        app_icon=app_icon,
    )
    return body, findings


class MessagePreview(widgets.VBox):
    """Per-user preview of a message on three device mock-ups, with lint findings.

    :param msg: the :class:`~onesig_nb.message.Message` to show (settable: ``.message = ...``).
    :param cohort: a Cohort or a DataFrame with ``external_id`` and trait columns.
    :param app_name: shown as the app on the mock-ups.
    :param app_icon: the app's icon (an http(s) image URL) on the mock-ups; default a neutral
        tile with the app name's first letter.
    """

    def __init__(
        self,
        msg: Message,
        cohort: Any,
        *,
        app_name: str = "Your app",
        app_icon: str | None = None,
        tag_map: Mapping[str, str] | None = None,
        auto_cohort_lint: int = AUTO_COHORT_LINT,
    ):
        self._cohort = cohort
        self._df = cohort_frame(cohort).reset_index(drop=True)
        self._ids = self._df["external_id"].astype(str).tolist()
        self._index_of: dict[str, int] | None = None
        self._msg = msg
        self.app_name = app_name
        self.app_icon = app_icon
        self.tag_map = tag_map
        self.auto_cohort_lint = auto_cohort_lint
        self._cohort_cache: dict[str, list[Finding]] = {}
        self._index = 0
        self.last_update_ms = 0.0
        self.user_findings: list[Finding] = []

        self.search = widgets.Combobox(
            placeholder="Search an external id…",
            options=tuple(self._ids[:MAX_OPTIONS]),
            ensure_option=False,
            continuous_update=False,  # search on Enter, not on every keystroke
            description="User",
            layout=widgets.Layout(width="320px"),
        )
        self.search_status = widgets.HTML(HINT_HTML)
        self.prev_button = widgets.Button(
            description="◀ Previous", layout=widgets.Layout(width="110px")
        )
        self.next_button = widgets.Button(
            description="Next ▶", layout=widgets.Layout(width="110px")
        )
        self.position = widgets.HTML()
        self.person = widgets.HTML()
        self.devices = widgets.HTML()
        self.user_lint = widgets.HTML()
        self.cohort_lint = widgets.HTML()
        self.check_button = widgets.Button(
            description=f"Check all {count(len(self._ids), 'user')}"
            if len(self._ids) != 1
            else "Check the 1 user"
        )
        self.search.observe(self._on_search, names="value")
        self.prev_button.on_click(lambda _b: self.previous())
        self.next_button.on_click(lambda _b: self.next())
        self.check_button.on_click(lambda _b: self.check_cohort())
        super().__init__(
            [
                widgets.HBox([self.search, self.prev_button, self.next_button, self.position]),
                self.search_status,
                self.person,
                self.devices,
                self.user_lint,
                widgets.HBox([self.check_button]),
                self.cohort_lint,
            ]
        )
        self.refresh()

    # ---- state ------------------------------------------------------------------------------

    @property
    def message(self) -> Message:
        return self._msg

    @message.setter
    def message(self, msg: Message) -> None:
        self._msg = msg
        self.refresh()

    @property
    def user(self) -> str | None:
        """The external id being shown."""
        return self._ids[self._index] if self._ids else None

    def select(self, external_id: str) -> bool:
        """Show this user; returns False (and changes nothing) for an unknown id."""
        if self._index_of is None:
            self._index_of = {x: i for i, x in enumerate(self._ids)}
        i = self._index_of.get(str(external_id))
        if i is None:
            return False
        self._index = i
        self.refresh()
        return True

    def next(self) -> None:
        self.search_status.value = HINT_HTML
        if self._ids:
            self._index = (self._index + 1) % len(self._ids)
            self.refresh()

    def previous(self) -> None:
        self.search_status.value = HINT_HTML
        if self._ids:
            self._index = (self._index - 1) % len(self._ids)
            self.refresh()

    def find(self, text: str) -> list[str]:
        """External ids of the people ``text`` names (id, name or email; :func:`find_people`)."""
        return [self._ids[i] for i in find_people(self._df, text)]

    def search_for(self, text: str) -> list[str]:
        """Show the first person ``text`` names and say who else matched, or say plainly that
        nobody did (the person shown stays). Returns the matching external ids."""
        text = (text or "").strip()
        if not text:
            return []
        rows = find_people(self._df, text)
        quoted = html.escape(repr(text))
        if not rows:
            self.search_status.value = (
                f"<span style='color:#b00'>Nobody in this cohort matches {quoted} "
                f"(searched {people(len(self._ids))} by external id, name and email). "
                "Still showing the person below.</span>"
            )
            if self.user is not None and self.search.value != self.user:
                self.search.value = self.user
            return []
        found = [self._ids[i] for i in rows]
        if len(rows) == 1:
            self.search_status.value = HINT_HTML
        else:
            names = ", ".join(
                html.escape(person_line(self._df.iloc[i].to_dict()))
                for i in rows[1 : SHOWN_MATCHES + 1]
            )
            more = len(rows) - 1 - min(len(rows) - 1, SHOWN_MATCHES)
            tail = f" and {count(more, 'other')}" if more else ""
            self.search_status.value = (
                f"<span style='color:#666;font-size:12px'>{people(len(rows))} match "
                f"{quoted}: showing the first. Also: {names}{tail}. Type more to narrow it "
                "down.</span>"
            )
        self._index = rows[0]
        self.refresh()
        return found

    def _on_search(self, change: dict) -> None:
        value = (change.get("new") or "").strip()
        if value and value != self.user:
            self.search_for(value)

    # ---- rendering ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-render the current user (and the cohort lint if it is cheap or already cached)."""
        started = time.perf_counter()
        if not self._ids:
            self.devices.value = "<i>The cohort is empty: no one to preview.</i>"
            self.user_findings = []
            self.user_lint.value = ""
            self.position.value = "0 / 0"
            self.person.value = ""
        else:
            row = self._df.iloc[[self._index]]
            body, findings = preview_html(
                self._msg,
                row,
                app_name=self.app_name,
                app_icon=self.app_icon,
                tag_map=self.tag_map,
            )
            self.devices.value = body
            self.user_findings = findings
            person = row.iloc[0].to_dict()
            self.person.value = (
                f"<div class='osn-person' style='font-weight:600;margin:4px 0' dir='auto'>"
                f"{html.escape(person_line(person))}</div>"
            )
            self.user_lint.value = findings_html(
                findings, f"Checks for {describe_person(person)['short']}", counts=False
            )
            self.position.value = (
                f"<span style='margin-left:8px'>{self._index + 1:,} / {len(self._ids):,}</span>"
            )
            if self.search.value != self.user:
                self.search.value = self.user
        if self._msg.fingerprint in self._cohort_cache or len(self._ids) <= self.auto_cohort_lint:
            self.check_cohort()
        else:
            self.cohort_lint.value = (
                "<div style='color:#666'>Cohort-wide check not run for this version of the message "
                "(click the button).</div>"
            )
        self.last_update_ms = (time.perf_counter() - started) * 1000

    @property
    def cohort_findings(self) -> list[Finding]:
        """Findings for the whole cohort (computed once per message version)."""
        key = self._msg.fingerprint
        found = self._cohort_cache.get(key)
        if found is None:
            try:
                found = self._msg.lint(self._df, tag_map=self.tag_map)
            except Exception as exc:  # noqa: BLE001 - shown, never raised into the notebook
                found = [Finding("error", "lint", f"The cohort check failed: {exc}")]
            self._cohort_cache = {key: found}  # keep only the current version
        return found

    def check_cohort(self) -> list[Finding]:
        """Compute (or reuse) the cohort-wide findings and show them."""
        found = self.cohort_findings
        self.cohort_lint.value = findings_html(
            found, f"Whole cohort ({count(len(self._ids), 'user')})"
        )
        return found

    def to_html(self) -> str:
        """Static HTML of the current view (what ``_repr_html_`` shows without a kernel)."""
        who = self.person.value or f"<div>{html.escape(self.user or '-')}</div>"
        parts = [
            f"<div class='osn-preview'><div style='color:#666;font-size:12px'>Person "
            f"{self._index + 1 if self._ids else 0:,} of {len(self._ids):,}</div>{who}",
            self.devices.value,
            self.user_lint.value,
        ]
        if self._msg.fingerprint in self._cohort_cache:
            parts.append(self.cohort_lint.value)
        return "".join(parts) + "</div>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle = dict(bundle)
        bundle["text/html"] = self.to_html()
        return bundle
