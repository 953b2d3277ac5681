"""Headless tests of MessagePreview: user switching, lint display, static HTML, speed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from onesig_nb._html import PALETTE  # noqa: E402
from onesig_nb.message import Finding, Message  # noqa: E402
from onesig_nb.widgets.phone import devices_html, truncate  # noqa: E402
from onesig_nb.widgets.preview import MessagePreview, findings_html  # noqa: E402


@pytest.fixture
def cohort() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": ["ana", "ben", "sara"],
            "first_name": ["Ana", None, "سارة"],
            "language": ["en", "es", "en"],
        }
    )


MSG = Message(
    {"en": "Hi {{ first_name }} 🎉", "es": "Hola {{ first_name | default: 'amigo' }}"},
    headings="Cart <b>waiting</b>",
    buttons=[{"id": "buy", "text": "Buy & go"}],
    chrome_web_image="https://img.example/a.png",
)


def test_shows_the_first_user_on_three_devices(cohort):
    p = MessagePreview(MSG, cohort, app_name="Shop")
    html = p.devices.value
    assert p.user == "ana" and "Hi Ana 🎉" in html
    for device in ("ios", "android", "chrome"):
        assert f'data-device="{device}"' in html
    assert "Cart &lt;b&gt;waiting&lt;/b&gt;" in html and "<b>waiting" not in html
    assert "Buy &amp; go" in html and 'dir="auto"' in html and "SHOP" in html


def test_next_previous_and_search_switch_user(cohort):
    p = MessagePreview(MSG, cohort)
    p.next_button.click()
    assert p.user == "ben" and "Hola amigo" in p.devices.value
    p.prev_button.click()
    p.prev_button.click()  # wraps around
    assert p.user == "sara" and "سارة" in p.devices.value
    p.search.value = "ben"
    assert p.user == "ben" and "1 / 3" not in p.position.value and "2 / 3" in p.position.value
    p.search.value = "nobody"
    assert p.user == "ben"


def test_user_and_cohort_findings_are_shown(cohort):
    p = MessagePreview(Message("Hi {{ first_name }}!"), cohort)
    p.next()
    assert p.user == "ben"
    assert "missing-variable" in p.user_lint.value and "&#x27;Hi !&#x27;" in p.user_lint.value
    assert "Whole cohort (3 users)" in p.cohort_lint.value and "1 of 3 users" in p.cohort_lint.value


def test_bad_template_shows_a_finding_not_a_crash(cohort):
    p = MessagePreview(Message("Hi {% if first_name %}"), cohort)
    assert "liquid-syntax" in p.user_lint.value
    p.message = Message("Hi {{ first_name | shout }}")
    assert "liquid-unknown-filter" in p.user_lint.value
    p.message = Message("x" * 10_000)
    assert "payload-too-large" in p.user_lint.value and "…" in p.devices.value


def test_large_cohort_lint_is_lazy_and_cached():
    n = 20_000
    df = pd.DataFrame(
        {
            "external_id": [f"u{i}" for i in range(n)],
            "first_name": np.array(["Ana", "Ben", None])[np.arange(n) % 3],
        }
    )
    p = MessagePreview(Message("Hi {{ first_name }}"), df, auto_cohort_lint=5_000)
    assert "not run" in p.cohort_lint.value
    assert len(p.search.options) == 2_000
    p.check_button.click()
    assert "6,666 of 20,000 users" in p.cohort_lint.value
    p.next()  # cached for this message version: shown again without recomputing
    assert "6,666 of 20,000" in p.cohort_lint.value
    p.search.value = "u19999"  # beyond the dropdown options, still selectable
    assert p.user == "u19999"
    p.message = Message("Hello {{ first_name }}")
    assert p.last_update_ms < 100, p.last_update_ms  # one user rendered; cohort lint deferred
    assert "not run" in p.cohort_lint.value


def test_repr_html_is_static_html_of_the_current_view(cohort):
    p = MessagePreview(MSG, cohort)
    p.next()
    html = p._repr_html_()
    assert "Hola amigo" in html and "ben" in html and "osn-devices" in html
    assert p._repr_mimebundle_()["text/html"] == html


def test_edit_reacts_fast(cohort):
    p = MessagePreview(MSG, cohort)
    p.message = Message("Hi {{ first_name | upcase }}")
    assert "Hi ANA" in p.devices.value and p.last_update_ms < 100


def test_empty_cohort_does_not_crash():
    p = MessagePreview(MSG, pd.DataFrame({"external_id": []}))
    assert p.user is None and "empty" in p.devices.value


def test_truncation_marks_cut_text_and_never_splits_escapes():
    text, cut = truncate("a" * 50, 40)
    assert cut and text.endswith("…") and len(text) == 41
    html = devices_html(app_name="A", title="<" * 100, body="b")
    assert "&lt;" in html and "<<" not in html and "truncated on this device" in html


def test_image_urls_other_than_http_are_not_loaded():
    html = devices_html(app_name="A", title="t", body="b", chrome_image="javascript:alert(1)")
    assert "<img" not in html and "image: javascript:alert(1)" in html


@pytest.fixture
def dmitri() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": ["u_000003", "u_000004"],
            "first_name": ["Dmitri", None],
            "last_name": ["Ivanova", "Moreau"],
            "language": ["de", "fr"],
            "city": ["Paris", None],
        }
    )


def test_header_says_who_the_person_is(dmitri):
    p = MessagePreview(Message("Hi {{ first_name | default: 'there' }}"), dmitri)
    assert "u_000003 · Dmitri Ivanova · German (de) · Paris" in p.person.value
    assert "u_000003 · Dmitri Ivanova · German (de) · Paris" in p._repr_html_()
    p.next()
    assert "u_000004 · Moreau · French (fr)" in p.person.value and "None" not in p.person.value


def test_findings_for_one_person_are_plain_sentences(dmitri):
    p = MessagePreview(Message("Hi {{ first_name | default: 'there' }}"), dmitri)
    text = p.user_lint.value
    assert (
        "Dmitri&#x27;s language is German; the message has no German text, so Dmitri sees" in text
    )
    assert "(1 user" not in text and "1 users" not in text
    p.next()  # no first name: named by id, sees the fallback
    assert "u_000004 has no &#x27;first_name&#x27;, so u_000004 sees &#x27;Hi there&#x27;" in (
        p.user_lint.value
    )


def test_counts_are_never_1_users(dmitri):
    p = MessagePreview(Message("x" * 5_000, url="{{ city }}"), dmitri.iloc[:1])
    assert p.check_button.description == "Check the 1 user"
    html = p._repr_html_()
    assert "Whole cohort (1 user)" in html and "1 users" not in html
    p = MessagePreview(Message("Hi {{ city }}"), dmitri)
    cohort = p.cohort_lint.value
    assert "1 of 2 users has no tag" in cohort and "(1 user)" not in cohort  # no duplicate count
    assert "2 of 2 users read German (1) or French (1)" in cohort
    assert p.check_button.description == "Check all 2 users"


def test_findings_are_coloured_with_the_shared_severity_palette():
    found = [
        Finding("error", "a", "Broken."),
        Finding("warning", "b", "Long."),
        Finding("info", "c", "Note."),
    ]
    page = findings_html(found, "Checks")
    for severity in ("error", "warning", "info"):
        assert f"<b style='color:{PALETTE[severity].ink}'>{severity}</b>" in page
    assert f"color:{PALETTE['ok'].ink}'>No problems found." in findings_html([], "Checks")


def test_a_custom_data_text_without_a_template_is_flagged_in_the_preview(cohort):
    p = MessagePreview(Message("Code {{ message.custom_data.code }}"), cohort)
    assert "custom-data-without-template" in {f.code for f in p.user_findings}


def test_mockups_show_images_icon_subtitle_buttons_and_badge(cohort):
    msg = Message(
        {"en": "Hi {{ first_name }}", "es": "Hola"},
        subtitle={"en": "Today only", "es": "Solo hoy"},
        big_picture="https://img.example/android.png",
        chrome_web_image="https://img.example/chrome.png",
        ios_attachments={"hero": "https://img.example/ios.png"},
        large_icon="https://img.example/face.png",
        buttons=[{"id": "buy", "text": "Buy"}],
        web_buttons=[{"id": "read", "text": "Read on web", "url": "https://shop.example/r"}],
        ios_badgeType="SetTo",
        ios_badgeCount=4,
        web_url="https://shop.example/cart",
    )
    html = MessagePreview(msg, cohort, app_name="Shop").devices.value
    ios, android, chrome = (
        html.split(f'data-device="{d}"')[1].split("data-device=")[0]
        for d in ("ios", "android", "chrome")
    )
    assert '<img class="osn-img" src="https://img.example/ios.png"' in ios
    assert "Today only" in ios and "Today only" not in android + chrome  # subtitle: iOS only
    assert '<span class="osn-badge" title="app icon badge">4</span>' in ios
    assert '<img class="osn-img" src="https://img.example/android.png"' in android
    assert '<img class="osn-icon" src="https://img.example/face.png"' in android
    assert '<img class="osn-img" src="https://img.example/chrome.png"' in chrome
    assert "Buy" in ios and "Buy" in android and ">Buy<" not in chrome  # buttons: mobile
    assert "Read on web" in chrome and "Read on web" not in ios + android  # web_buttons: Chrome
    assert "shop.example" in chrome  # the site of web_url


def test_badge_text_follows_the_badge_type():
    from onesig_nb.widgets.phone import badge_text

    assert badge_text("SetTo", 3) == "3" and badge_text("SetTo", 0) is None
    assert badge_text("Increase", 1) == "+1" and badge_text("Increase", -2) == "-2"
    assert badge_text("None", 5) is None and badge_text(None, None) is None


def test_a_large_icon_that_is_a_resource_name_is_named_not_loaded():
    html = devices_html(app_name="A", title="t", body="b", large_icon="ic_face")
    assert "icon: ic_face" in html and 'osn-icon"' not in html
