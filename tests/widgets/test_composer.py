"""Headless tests of MessageComposer: live editing, variables, languages, invalid input."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from onesig_nb.errors import ValidationError  # noqa: E402
from onesig_nb.message import Message  # noqa: E402
from onesig_nb.widgets.composer import MessageComposer  # noqa: E402


@pytest.fixture
def cohort() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": ["ana", "ben"],
            "first_name": ["Ana", None],
            "city": ["Berlin", "Paris"],
            "language": ["en", "es"],
        }
    )


def test_live_edit_updates_the_preview(cohort):
    c = MessageComposer(cohort, debounce=0)
    c.contents.value = "Welcome back {{ first_name | default: 'friend' }}"
    assert "Welcome back Ana" in c.preview.devices.value
    c.heading.value = "Sale in {{ city }}"
    assert "Sale in Berlin" in c.preview.devices.value
    msg = c.message
    assert isinstance(msg, Message) and msg.headings == {"en": "Sale in {{ city }}"}


def test_edits_are_debounced_until_flushed(cohort):
    c = MessageComposer(cohort, debounce=60)
    c.contents.value = "One"
    c.contents.value = "Two"
    assert "Two" not in c.preview.devices.value and c._debounced.pending
    c.flush()
    assert "Two" in c.preview.devices.value and not c._debounced.pending
    c._debounced.cancel()


def test_insert_variable_from_the_cohort_traits(cohort):
    c = MessageComposer(cohort, debounce=0)
    assert set(c.variable.options) == {"first_name", "city", "language"}
    c.contents.value = "Hi"
    c.variable.value = "city"
    c.insert_button.click()
    assert c.contents.value == "Hi {{ city }}" and "Hi Berlin" in c.preview.devices.value
    c.target.value = "heading"
    c.variable.value = "first_name"
    c.insert_button.click()
    assert c.heading.value.endswith("{{ first_name }}")


def test_switching_language_keeps_each_text(cohort):
    c = MessageComposer(cohort, debounce=0)
    c.contents.value = "Hi"
    c.language.value = "es"
    assert c.contents.value == ""
    c.contents.value = "Hola"
    c.language.value = "en"
    assert c.contents.value == "Hi"
    assert c.message.contents == {"en": "Hi", "es": "Hola"}
    c.preview.next()
    assert "Hola" in c.preview.devices.value


def test_invalid_input_shows_a_finding_instead_of_crashing(cohort):
    c = MessageComposer(cohort, debounce=0)
    c.contents.value = ""
    assert "invalid-message" in c.status.value and "English" in c.status.value
    with pytest.raises(ValidationError):
        _ = c.message
    c.contents.value = "Hi {% if city %}"
    assert c.status.value == "" and "liquid-syntax" in c.preview.user_lint.value
    c.url.value = "http://x.io"
    assert "url" in c.preview.user_lint.value


def test_starts_from_a_given_message_and_keeps_its_other_fields(cohort):
    start = Message("Hello", url="https://x.io", ttl=600, buttons=[{"id": "a", "text": "A"}])
    c = MessageComposer(cohort, message=start, debounce=0)
    c.contents.value = "Hello again"
    msg = c.message
    assert msg.ttl == 600 and msg.buttons == start.buttons and msg.url == "https://x.io"


def test_repr_html_shows_texts_and_preview(cohort):
    c = MessageComposer(cohort, debounce=0)
    c.contents.value = "مرحبا {{ first_name }}"
    html = c._repr_html_()
    assert "مرحبا Ana" in html and "osn-composer" in html and "dir='auto'" in html


def test_default_title_is_a_plain_greeting_not_a_bare_variable(cohort):
    c = MessageComposer(cohort, debounce=0)
    assert not c.heading.value.startswith("{{")
    assert "Hello Ana" in c.preview.devices.value and "Berlin" not in c.preview.devices.value
    assert c.heading.placeholder and c.contents.placeholder
    found = c.preview.cohort_findings
    assert not [f for f in found if f.severity != "info" or f.code.startswith("truncated")]
    c = MessageComposer(cohort[["external_id", "city"]], debounce=0)  # no first names
    assert c.heading.value == "Hello there" and "{{" not in c.contents.value


def test_the_apps_name_and_icon_reach_the_mockups(cohort):
    c = MessageComposer(
        cohort, app_name="Acme", app_icon="https://acme.example/icon.png", debounce=0
    )
    html = c.preview.devices.value
    assert html.count('<img class="osn-app-icon" src="https://acme.example/icon.png"') == 4
    assert "ACME" in html and "Acme · now" in html
