"""What a marketer reads: plain words in the load report, list_audiences and the cohort header;
machine-readable count names stay in ``report.to_dict()`` and ``list_audiences(raw_columns=True)``.
"""

from __future__ import annotations

import gzip
import json
import re

import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.errors import AudienceNotFound
from onesig_nb.segment.sources import suggest_audience

#: Names and phrases of the code that a marketer should never have to decode.
INTERNAL = (
    "latest_false",
    "no_id_messages",
    "no_id_people",
    "no_id_members",
    "without the chosen id",
    "id user_id",
    "id_type=user_id",
)
MACHINE_KEYS = {"latest_false", "no_id_messages", "no_id_people", "no_id_members", "members"}


def _visible_text(page: str) -> str:
    """The text a browser shows (tags and their attributes removed, whitespace collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).replace("&middot;", "·")


def _msg(i: int, key: str, *, user: str | None = "u1", anon: str | None = None) -> dict:
    return {
        "type": "identify", "messageId": f"m{i}", "userId": user, "anonymousId": anon,
        "timestamp": f"2025-03-01T00:00:{i:02d}.000Z", "traits": {key: True},
        "context": {"personas": {"computation_class": "audience", "computation_key": key}},
    }  # fmt: skip


def _archive(path, messages):
    lines = [json.dumps(m).encode() for m in messages]
    (path / "part-00.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return path


@pytest.fixture(scope="module")
def cart(sample_workspace):
    return osn.load_cohort(sample_workspace / "segment-logs", audience="cart_abandoners")


def test_load_report_html_and_text_use_plain_words(cart):
    report = cart.report
    for shown in (_visible_text(report._repr_html_()), str(report), repr(report)):
        for internal in INTERNAL:
            assert internal not in shown, internal
        assert "left the audience (latest event = false)" in shown
        assert "events with no userId" in shown
        assert "people with only an anonymousId (not reachable by userId)" in shown
        assert "\u2026of whom are in the audience" in shown
        assert "identified by Segment userId" in shown
    rows = dict(re.findall(r"<td[^>]*>([^<]+)</td><td[^>]*>([\d,]+)</td>", report._repr_html_()))
    assert rows["left the audience (latest event = false)"] == f"{report['latest_false']:,}"
    assert rows["\u2026of whom are in the audience"] == f"{report['no_id_members']:,}"


def test_report_to_dict_keeps_the_machine_readable_count_names(cart):
    counts = json.loads(json.dumps(cart.report.to_dict()))["counts"]
    assert MACHINE_KEYS <= set(counts)
    assert counts["no_id_people"] > 0 and counts["latest_false"] > 0
    assert counts == cart.report.counts  # labels are display-only
    assert not any("why" in note.lower() for note in cart.report.to_dict()["notes"])


def test_labels_follow_the_id_type(sample_workspace):
    by_anon = osn.load_cohort(
        sample_workspace / "segment-logs", audience="cart_abandoners", id_type="anonymous_id"
    )
    text = str(by_anon.report)
    assert "events with no anonymousId" in text
    assert "people with only a userId (not reachable by anonymousId)" in text
    assert "identified by Segment anonymousId" in text
    auto = osn.load_cohort(sample_workspace / "segment-logs", audience="churn_risk", id_type="auto")
    text = str(auto.report)
    assert "events with neither userId nor anonymousId" in text
    assert "identified by Segment userId, else anonymousId" in text
    assert "of whom" not in text and "people with no id" not in text  # always 0 for auto
    assert auto.report.to_dict()["counts"]["no_id_people"] == 0  # ... but still in the data


def test_report_explains_why_counts_differ_by_id_type(cart, sample_workspace):
    note = cart.report.id_note
    assert note and "several anonymous ids (devices, cleared cookies)" in note
    assert f"{cart.report['no_id_people']:,} people here have only an anonymousId" in note
    assert f"{cart.report['no_id_members']:,} of them are in the audience" in note
    assert "Why the counts differ by id type" in cart.report._repr_html_()
    assert "why the counts differ by id type" in str(cart.report)
    by_anon = osn.load_cohort(
        sample_workspace / "segment-logs", audience="high_value_users", id_type="anonymous_id"
    )
    assert "several anonymous ids" in by_anon.report.id_note
    assert "usually more people than by userId" in by_anon.report.id_note


def test_no_id_type_note_when_it_would_not_help(tmp_path, sample_workspace):
    logged_in = osn.load_cohort(_archive(tmp_path, [_msg(1, "vip"), _msg(2, "vip", user="u2")]))
    assert logged_in.report.id_note is None  # everyone has a userId: nothing differs
    assert "Why the counts" not in logged_in.report._repr_html_()
    csv = osn.load_cohort(sample_workspace / "engage-csv" / "cart_abandoners-formatted.csv")
    assert csv.report.id_note is None  # a CSV has no anonymous-only people to explain
    assert "rows with no userId (dropped)" in str(csv.report)


def test_list_audiences_shows_plain_column_names(sample_workspace, sample_manifest):
    table = osn.list_audiences(sample_workspace / "segment-logs")
    raw = osn.list_audiences(sample_workspace / "segment-logs", raw_columns=True)
    for internal in INTERNAL:
        assert internal not in " ".join(table.columns) and internal not in table.to_html()
    assert list(table.columns[:3]) == [
        "audience", "members", "left the audience (latest event = false)"
    ]  # fmt: skip
    assert {
        "events with no userId",
        "people with only an anonymousId (not reachable by userId)",
        "\u2026of whom are in the audience",
    } <= set(table.columns)
    assert "events after the as_of time (ignored)" not in table.columns  # no as_of: always 0
    got = dict(zip(table["audience"], table["members"], strict=True))
    assert got == {k: len(v["by_user_id"]) for k, v in sample_manifest["audiences"].items()}
    assert MACHINE_KEYS | {"after_as_of"} <= set(raw.columns)
    pd.testing.assert_series_equal(
        table["people with only an anonymousId (not reachable by userId)"],
        raw["no_id_people"],
        check_names=False,
    )


def test_list_audiences_labels_follow_the_id_type(sample_workspace):
    table = osn.list_audiences(sample_workspace / "segment-logs", id_type="anonymous_id")
    assert "people with only a userId (not reachable by anonymousId)" in table.columns
    auto = osn.list_audiences(sample_workspace / "segment-logs", id_type="auto")
    assert "events with neither userId nor anonymousId" in auto.columns
    assert not any("of whom" in c for c in auto.columns)


def test_cohort_header_says_who_is_identified_how_and_hides_the_fingerprint(cart, tmp_path):
    page = cart._repr_html_()
    header = _visible_text(page.split("<table", 1)[0])
    assert f"{len(cart):,} people · identified by Segment userId · {len(cart.traits)} traits" in (
        header
    )
    assert "fingerprint" not in header and cart.fingerprint[:12] not in header
    assert "user_id" not in header
    assert cart.fingerprint[:12] in page  # still there on hover (title attribute)
    assert len(cart.fingerprint) == 64  # and as the property code uses
    anon = osn.load_cohort(_archive(tmp_path, [_msg(1, "vip", anon="a1")]), id_type="anonymous_id")
    assert "identified by Segment anonymousId · 0 traits" in _visible_text(anon._repr_html_())
    frame = osn.Cohort.from_frame(pd.DataFrame({"external_id": ["a"], "plan": ["pro"]}))
    assert "identified by external id · 1 trait " in _visible_text(frame._repr_html_())


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Cart_Abandoners", "cart_abandoners"),
        ("CART_ABANDONERS", "cart_abandoners"),
        ("cart-abandoners", "cart_abandoners"),
        ("cart_abandoner", "cart_abandoners"),
        ("churnrisk", "churn_risk"),
    ],
)
def test_unknown_audience_suggests_the_close_match(tmp_path, typed, meant):
    _archive(tmp_path, [_msg(1, "cart_abandoners"), _msg(2, "churn_risk")])
    with pytest.raises(AudienceNotFound) as info:
        osn.load_cohort(tmp_path, audience=typed)
    err = info.value
    assert err.suggestion == meant
    assert f"Did you mean '{meant}'?" in str(err)
    assert "case-sensitive" in str(err)
    assert err.available == ["cart_abandoners", "churn_risk"]  # the list is still there


def test_unknown_audience_without_a_close_match_suggests_nothing(tmp_path):
    _archive(tmp_path, [_msg(1, "cart_abandoners"), _msg(2, "churn_risk")])
    with pytest.raises(AudienceNotFound) as info:
        osn.load_cohort(tmp_path, audience="vip")
    assert info.value.suggestion is None
    assert "Did you mean" not in str(info.value) and "'churn_risk'" in str(info.value)


def test_unknown_csv_audience_in_a_folder_suggests_too(sample_workspace):
    with pytest.raises(AudienceNotFound, match="Did you mean 'high_value_users'"):
        osn.load_cohort(sample_workspace / "engage-csv", audience="High_Value_Users")


def test_suggest_audience_handles_odd_names():
    keys = ["cart_abandoners", "Cart_Abandoners_EU"]
    assert suggest_audience("Cart_Abandoners_EU", keys) == "Cart_Abandoners_EU"
    assert suggest_audience("cart_abandoners_eu", keys) == "Cart_Abandoners_EU"
    assert suggest_audience(42, keys) is None
    assert suggest_audience("x", []) is None
