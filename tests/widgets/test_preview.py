"""Headless tests of MessagePreview: user switching, lint display, static HTML, speed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

from onesig_nb._html import PALETTE  # noqa: E402
from onesig_nb.message import Finding, Message  # noqa: E402
from onesig_nb.message.rendering import cohort_frame  # noqa: E402
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


@pytest.fixture
def people_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": ["u_1", "u_2", "u_3", "u_4"],
            "first_name": ["Zoé", "Ana", "Ana", None],
            "last_name": ["Haddad", "Lopez", "Berg", "Moreau"],
            "email": ["zoe.h@example.com", "ana.l@example.com", "ab@example.com", None],
        }
    )


def device(html: str, kind: str) -> str:
    return html.split(f'data-device="{kind}"')[1].split("data-device=")[0]


def test_the_user_box_finds_people_by_name_email_or_id(people_frame):
    p = MessagePreview(MSG, people_frame)
    p.search.value = "zoe haddad"  # accents and case ignored
    assert p.user == "u_1" and "Hi Zoé" in p.devices.value
    p.search.value = "AB@example.com"  # an exact email
    assert p.user == "u_3" and "u_3 · Ana Berg" in p.person.value
    p.search.value = "moreau"
    assert p.user == "u_4"
    p.search.value = "u_2"
    assert p.user == "u_2"
    assert p.find("ana") == ["u_2", "u_3"] and p.find("example.com") == ["u_1", "u_2", "u_3"]


def test_several_matches_show_the_first_and_name_the_others(people_frame):
    p = MessagePreview(MSG, people_frame)
    p.search.value = "ana"
    assert p.user == "u_2"
    status = p.search_status.value
    assert "2 people match &#x27;ana&#x27;: showing the first. Also: u_3 · Ana Berg" in status


def test_nobody_matching_is_said_plainly_and_the_person_stays(people_frame):
    p = MessagePreview(MSG, people_frame)
    p.next()
    assert p.search_for("nobody-like-this") == []
    assert p.user == "u_2" and p.search.value == "u_2"
    assert (
        "Nobody in this cohort matches &#x27;nobody-like-this&#x27; (searched 4 people by "
        "external id, name and email)" in p.search_status.value
    )
    p.next()  # moving on clears the message
    assert "Nobody" not in p.search_status.value


def test_the_sample_cohort_is_searchable_by_its_traits(sample_workspace):
    import onesig_nb as osn

    cohort = osn.load_cohort(sample_workspace / "segment-logs", audience="cart_abandoners")
    p = MessagePreview(MSG, cohort)
    row = cohort_frame(cohort).iloc[3]
    p.search.value = row["email"].upper()
    assert p.user == row["external_id"]
    p.search.value = f"{row['first_name']} {row['last_name']}"
    assert row["external_id"] in p.find(f"{row['first_name']} {row['last_name']}")


def test_the_app_name_and_a_neutral_icon_show_on_every_card(cohort):
    html = MessagePreview(MSG, cohort).devices.value
    assert html.count('<span class="osn-app-tile" aria-hidden="true">Y</span>') == 4
    assert (
        "YOUR APP" in html and "Your app · now" in html and '<img class="osn-app-icon"' not in html
    )
    html = MessagePreview(MSG, cohort, app_name="Acme", app_icon="https://a.example/i.png")
    html = html.devices.value
    for kind in ("ios", "android", "chrome"):
        assert '<img class="osn-app-icon" src="https://a.example/i.png"' in device(html, kind)
    assert 'class="osn-app-tile"' not in html and "ACME" in html


def test_an_app_icon_that_is_not_a_web_url_is_never_loaded():
    html = devices_html(app_name="acme", title="t", body="b", app_icon="javascript:alert(1)")
    assert "javascript:alert(1)" not in html.replace('title="app icon: javascript:alert(1)"', "")
    assert '<span class="osn-app-tile" title="app icon: javascript:alert(1)"' in html
    assert "<img" not in html


def test_android_shows_a_collapsed_and_an_expanded_view():
    body = "word " * 60  # 300 characters: past the collapsed line, within the expanded view
    html = devices_html(
        app_name="A",
        title="t",
        body=body,
        android_image="https://img.example/big.png",
        buttons=[{"id": "b", "text": "Buy"}],
    )
    android = device(html, "android")
    collapsed = android.split('data-view="collapsed"')[1].split('data-view="expanded"')[0]
    expanded = android.split('data-view="expanded"')[1]
    assert "truncated on this device" in collapsed and "truncated" not in expanded
    assert body.strip() in expanded and body.strip() not in collapsed
    assert '<img class="osn-thumb" src="https://img.example/big.png"' in collapsed
    assert '<img class="osn-img" src="https://img.example/big.png"' in expanded
    assert "Buy" in expanded and "Buy" not in collapsed  # buttons: expanded only
    assert ">collapsed<" in android and ">expanded<" in android


def test_each_platform_cuts_the_text_where_it_would():
    from onesig_nb.message.devices import DEVICE_LIMITS

    body = "x" * 700
    html = devices_html(app_name="A", title="t", body=body)
    for kind, view, limit in (
        ("ios", None, DEVICE_LIMITS["ios"]["body"]),
        ("chrome", None, DEVICE_LIMITS["chrome"]["body"]),
        ("android", "collapsed", DEVICE_LIMITS["android"]["body"]),
        ("android", "expanded", DEVICE_LIMITS["android"]["body_expanded"]),
    ):
        part = device(html, kind)
        if view:
            part = part.split(f'data-view="{view}"')[1].split("data-view=")[0]
        shown = part.split('<div class="osn-body" dir="auto">')[1].split("<")[0]
        assert shown == "x" * limit + "…", (kind, view, len(shown))


def test_emoji_have_a_colour_emoji_font():
    html = devices_html(app_name="A", title="🎉", body="b")
    assert "'Noto Color Emoji'" in html and "🎉" in html
