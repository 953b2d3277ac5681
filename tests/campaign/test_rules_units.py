"""The sending rules' pure parts, without a sandbox: :class:`~onesig_nb.campaign.rules.Rules`
validation (each error says what to write), ``parse_clock``, ``load_rules`` from YAML, trait
suppression rules and suppression lists, the frequency cap's window arithmetic
(:mod:`~onesig_nb.campaign.caps`, checked against a brute force over every window), quiet hours
and local times across daylight-saving changes and half/45-minute offsets
(:mod:`~onesig_nb.campaign.timing`), and the delivery ledger's span of a request.

DST facts used (IANA tzdata): America/New_York springs forward 2026-03-08 02:00 EST -> 03:00
EDT and falls back 2026-11-01 02:00 EDT -> 01:00 EST; Europe/Berlin 2026-03-29 02:00 CET ->
03:00 CEST and 2026-10-25 03:00 CEST -> 02:00 CET; Asia/Kolkata is +05:30 all year;
Pacific/Chatham is +13:45 in (southern) summer, December.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import onesig_nb as osn
from onesig_nb.campaign import caps
from onesig_nb.campaign.caps import FOREVER, Span, allowed, capped, next_allowed
from onesig_nb.campaign.rules import (
    Rules,
    clear_rules,
    default_rules,
    load_rules,
    parse_clock,
    set_rules,
)
from onesig_nb.campaign.suppression import Suppression, parse_rule
from onesig_nb.campaign.timing import (
    LocalSchedule,
    in_quiet_hours,
    ledger_span,
    local_instant,
    parse_schedule,
    person_zones,
    plan_timing,
    quiet_end,
)
from onesig_nb.errors import ValidationError

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
CHATHAM = ZoneInfo("Pacific/Chatham")
NIGHT = (dt.time(21), dt.time(8))  # quiet hours 21:00-08:00


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# -- Rules: validation errors that say what to write ------------------------------------------
@pytest.mark.parametrize(
    ("cap", "words"),
    [
        ((0, "24h"), "count of at least 1"),
        ((-1, "24h"), "count of at least 1"),
        ((1.5, "24h"), "count of at least 1"),
        ((True, "24h"), "count of at least 1"),
        (("1", "24h"), "count of at least 1"),
        ((1,), "such as (1, '24h')"),
        (1, "such as (1, '24h')"),
        ((1, "24h", "x"), "such as (1, '24h')"),
        ((1, "soon"), "max_per_person's window must be a duration such as '24h'"),
        ((1, "-2h"), "max_per_person's window must be a positive duration"),
        ((1, "0s"), "max_per_person's window must be a positive duration"),
    ],
)
def test_a_bad_cap_is_refused_with_an_example(cap, words):
    with pytest.raises(ValidationError, match="max_per_person") as err:
        Rules(max_per_person=cap)
    assert words in str(err.value)


@pytest.mark.parametrize("window", [3600, 86_400, "500ms", 0.5])
def test_a_cap_window_under_a_second_is_refused_not_read_as_nanoseconds(window):
    """A bare number has no unit: pandas reads ``3600`` as 3600 *nanoseconds*, so ``(1, 3600)``
    would cap nothing (a window of 3.6 µs, shown as "any 0 days"). The journal keeps whole
    seconds, so a window under one second can only be a mistake: refuse it and say how to
    write the window."""
    with pytest.raises(ValidationError, match="max_per_person") as err:
        Rules(max_per_person=(1, window))
    assert "24h" in str(err.value)


@pytest.mark.parametrize(
    ("window", "seconds", "words"),
    [
        ("24h", 86_400, "in any day"),
        ("7 days", 7 * 86_400, "in any 7 days"),
        (dt.timedelta(hours=6), 6 * 3600, "in any 6 hours"),
        ("90min", 5400, "in any 90 minutes"),
    ],
)
def test_a_good_cap_is_kept_in_seconds_and_said_in_words(window, seconds, words):
    rules = Rules(max_per_person=(2, window))
    assert rules.cap == (2, dt.timedelta(seconds=seconds))
    assert rules.settings()["max_per_person"] == [2, seconds]
    assert f"at most 2 pushes per person {words}" in rules.lines()[0]
    assert not rules.empty


@pytest.mark.parametrize(
    "quiet",
    [("21:00", "21:00"), ("9:00PM", "21:00"), (dt.time(8), "08:00"), ("0:00", "12:00AM")],
)
def test_quiet_hours_that_start_when_they_end_are_refused(quiet):
    with pytest.raises(ValidationError, match="give two different times") as err:
        Rules(quiet_hours=quiet)
    assert "('21:00', '08:00')" in str(err.value)


@pytest.mark.parametrize(
    ("quiet", "words"),
    [
        ("21:00", "quiet_hours must be (start, end) local times such as ('21:00', '08:00')"),
        (("21:00",), "quiet_hours must be (start, end)"),
        (("21:00", "08:00", "09:00"), "quiet_hours must be (start, end)"),
        (5, "quiet_hours must be (start, end)"),
        (("25:00", "08:00"), "quiet_hours' start must be a local time of day such as '21:00'"),
        (("21:00", "8h"), "quiet_hours' end must be a local time of day"),
        (("21:00", 1260), "quiet_hours' end must be a local time of day"),
    ],
)
def test_bad_quiet_hours_say_what_to_write(quiet, words):
    with pytest.raises(ValidationError) as err:
        Rules(quiet_hours=quiet)
    assert words in str(err.value)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "EST5EDT ", "/etc/passwd", "../UTC", 5])
def test_an_unknown_default_zone_is_refused_with_examples(zone):
    with pytest.raises(ValidationError) as err:
        Rules(default_timezone=zone)
    text = str(err.value)
    assert "default_timezone must be an IANA time zone name such as 'UTC'" in text
    assert "'Europe/Berlin'" in text and repr(zone) in text


@pytest.mark.parametrize("trait", ["", "   ", 3])
def test_a_bad_timezone_trait_is_refused(trait):
    with pytest.raises(ValidationError, match="timezone_trait must be the name of a cohort trait"):
        Rules(timezone_trait=trait)


@pytest.mark.parametrize(
    ("suppress", "words"),
    [
        ("opt_out ==", "each part needs a trait, a comparison and a value"),
        ("opt_out == true and", "it ends with 'and'"),
        ("opt_out == true nor x == 1", "join comparisons with 'and' or 'or', not 'nor'"),
        ("== true", "each part needs a trait, a comparison and a value"),
        ("opt_out true == x", "expected 'trait == value'"),
        ("opt_out == == true", "expected 'trait == value'"),
        (42, "suppress= takes external ids, a cohort, a CSV path or a trait rule"),
        ({"opt_out": True}, "suppress= takes external ids, a cohort, a CSV path or a trait rule"),
        ([1.5, None], "suppress= takes external ids (strings), a cohort, a CSV path"),
        ("no_such_file.csv", "no such file"),
    ],
)
def test_a_bad_suppression_is_refused_with_the_form_that_works(suppress, words):
    with pytest.raises(ValidationError) as err:
        Rules(suppress=suppress)
    text = str(err.value)
    assert words in text
    assert "marketing_opt_out == true" in text


def test_rules_in_words_and_settings():
    rules = Rules(
        max_per_person=(1, "24h"),
        quiet_hours=("9:00 pm", "8:00AM"),
        default_timezone="Europe/Berlin",
        suppress="marketing_opt_out == true",
    )
    assert rules.quiet == (dt.time(21), dt.time(8))
    assert rules.zone == BERLIN
    assert rules.settings() == {
        "max_per_person": [1, 86_400],
        "quiet_hours": ["21:00", "08:00"],
        "timezone_trait": "timezone",
        "default_timezone": "Europe/Berlin",
        "suppress": "people with marketing_opt_out == true",
    }
    assert rules.lines() == [
        "at most 1 push per person in any day, across every campaign of this app in the journal",
        "quiet hours 21:00-08:00 in each person's time zone (the 'timezone' trait, else "
        "Europe/Berlin)",
        "never to people with marketing_opt_out == true",
    ]
    assert Rules().empty and Rules().lines() == ["no sending rules"] and Rules().settings() == {}
    assert osn.Rules is Rules


# -- the default rules of a notebook -------------------------------------------------------------
@pytest.fixture
def no_default_rules():
    clear_rules()
    clear_rules(app_id="app-1")
    yield
    clear_rules()
    clear_rules(app_id="app-1")


def test_set_rules_sets_the_default_for_every_app_or_one(no_default_rules):
    everywhere = set_rules(max_per_person=(1, "24h"))
    assert isinstance(everywhere, Rules) and default_rules("any-app") is everywhere
    one = set_rules(Rules(quiet_hours=("22:00", "07:00")), app_id="app-1")
    assert default_rules("app-1") is one and default_rules("app-2") is everywhere
    with pytest.raises(ValidationError, match="either a Rules or its fields, not both"):
        set_rules(one, max_per_person=(1, "24h"))
    with pytest.raises(ValidationError, match="set_rules\\(\\) takes an osn.Rules, not dict"):
        set_rules({"max_per_person": (1, "24h")})
    assert set_rules(None).empty  # removes the default for every app
    assert default_rules("app-2") is None and default_rules("app-1") is one


# -- parse_clock ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21:00", dt.time(21)),
        ("8:30", dt.time(8, 30)),
        ("08:05", dt.time(8, 5)),
        ("0:00", dt.time(0)),
        ("23:59", dt.time(23, 59)),
        ("9:00PM", dt.time(21)),
        ("9:00 pm", dt.time(21)),
        (" 9:15am ", dt.time(9, 15)),
        ("12:00AM", dt.time(0)),
        ("12:30PM", dt.time(12, 30)),
        ("12:00 am", dt.time(0)),
        (dt.time(7, 45), dt.time(7, 45)),
        (dt.time(7, 45, tzinfo=BERLIN), dt.time(7, 45)),
    ],
)
def test_parse_clock_forms(text, expected):
    got = parse_clock(text, name="quiet_hours' start")
    assert got == expected and got.tzinfo is None


@pytest.mark.parametrize(
    "text",
    [
        "24:00",
        "25:00",
        "9",
        "9:00:00",
        "13:00PM",
        "0:30AM",
        "9:60",
        "nine",
        "",
        "21h",
        "9.30",
        None,
    ],
)
def test_parse_clock_refuses_what_is_not_a_time_of_day(text):
    with pytest.raises(ValidationError) as err:
        parse_clock(text, name="quiet_hours' end")
    assert str(err.value) == (
        f"quiet_hours' end must be a local time of day such as '21:00' or '8:30', not {text!r}."
    )


# -- load_rules ----------------------------------------------------------------------------------
def test_load_rules_reads_yaml_with_unquoted_times(tmp_path):
    """YAML 1.1 reads an unquoted 21:00 as the base-60 number 1260 (and 7:15 as 435); 08:00,
    with its leading zero, stays text. All come back as times."""
    path = tmp_path / "rules.yaml"
    path.write_text(
        "max_per_person: [2, 24h]\n"
        "quiet_hours: [21:00, 08:00]\n"
        "timezone_trait: tz\n"
        "default_timezone: Europe/Berlin\n"
        'suppress: "marketing_opt_out == true"\n',
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.cap == (2, dt.timedelta(hours=24))
    assert rules.quiet == (dt.time(21), dt.time(8))
    assert (rules.timezone_trait, rules.zone) == ("tz", BERLIN)
    assert rules.suppression is not None
    assert rules.suppression.describe() == "people with marketing_opt_out == true"
    assert load_rules(str(path)) == rules


@pytest.mark.parametrize(
    ("line", "quiet"),
    [
        ("quiet_hours: [22:30, 7:15]", (dt.time(22, 30), dt.time(7, 15))),
        ("quiet_hours: ['21:00', '08:00']", (dt.time(21), dt.time(8))),
        ("quiet_hours: [9:00PM, 8:00AM]", (dt.time(21), dt.time(8))),
        ("quiet_hours:\n  - 23:00\n  - 6:00", (dt.time(23), dt.time(6))),
        ("quiet_hours: [0:30, 5:00]", (dt.time(0, 30), dt.time(5))),
    ],
)
def test_load_rules_reads_every_way_of_writing_quiet_hours(tmp_path, line, quiet):
    path = tmp_path / "rules.yaml"
    path.write_text(line + "\n", encoding="utf-8")
    assert load_rules(path).quiet == quiet


def test_load_rules_from_a_mapping_or_rules():
    rules = load_rules({"quiet_hours": ["21:00", "08:00"], "max_per_person": [1, "7 days"]})
    assert rules.quiet == NIGHT and rules.cap == (1, dt.timedelta(days=7))
    assert load_rules(rules) is rules
    assert load_rules({}).empty


def test_an_empty_rules_file_is_no_rules(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_rules(path).empty


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("quiet_hours: [21:00, 08:00\n", "is not valid YAML"),
        ("- 21:00\n- 08:00\n", "must hold a mapping such as 'max_per_person: [1, 24h]'"),
        ("max_per_person: [1, 24h]\nquiet: [21:00, 08:00]\n", "Unknown rule(s) ['quiet']"),
        ("quiet_hours: [21:00, 21:00]\n", "quiet_hours starts and ends at 21:00"),
        ("max_per_person: [0, 24h]\n", "count of at least 1"),
    ],
)
def test_load_rules_says_what_is_wrong_with_a_file(tmp_path, text, words):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        load_rules(path)
    assert words in str(err.value)


def test_load_rules_of_a_missing_file(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        load_rules(tmp_path / "nope.yaml")


# -- suppression by trait rule -------------------------------------------------------------------
def suppressed(rule: str, **traits: list) -> list[str]:
    n = len(next(iter(traits.values())))
    frame = pd.DataFrame({"external_id": [f"p{i}" for i in range(n)], **traits})
    return Suppression(rule).suppressed(frame)


def test_equal_text():
    assert suppressed("country == 'DE'", country=["DE", "FR", None, "de"]) == ["p0"]
    assert suppressed('country == "DE"', country=["DE", "FR", None, "de"]) == ["p0"]
    assert suppressed("country == DE", country=["DE", "FR", None, "de"]) == ["p0"]


def test_not_equal_suppresses_people_without_the_trait():
    """A person without the trait is never == anything, so != suppresses them (no push when
    unsure)."""
    plans = ["pro", "free", None, float("nan"), ""]
    assert suppressed("plan != 'pro'", plan=plans) == ["p1", "p2", "p3", "p4"]
    assert suppressed("plan == 'pro'", plan=plans) == ["p0"]
    assert suppressed("age != 42", age=[42, 17, None]) == ["p1", "p2"]
    assert suppressed("opt_out != true", opt_out=[True, False, None]) == ["p1", "p2"]


def test_numbers_compare_whatever_form_the_trait_holds_them_in():
    ages = ["17", 42, "42", 42.0, "42.0", None, "n/a", 18]
    assert suppressed("age == 42", age=ages) == ["p1", "p2", "p3", "p4"]
    assert suppressed("age < 18", age=ages) == ["p0"]
    assert suppressed("age >= 42", age=ages) == ["p1", "p2", "p3", "p4"]
    assert suppressed("age <= 18", age=ages) == ["p0", "p7"]
    assert suppressed("age > 17", age=ages) == ["p1", "p2", "p3", "p4", "p7"]
    nullable = pd.array([17, 42, pd.NA], dtype="Int64")
    assert suppressed("age != 42", age=nullable) == ["p0", "p2"]
    assert suppressed("age < 18", age=nullable) == ["p0"]


def test_booleans_compare_true_1_and_True_alike():
    opt = [True, "true", 1, "1", "TRUE", 1.0, "yes", False, "false", 0, None, "0"]
    truthy = ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]
    assert suppressed("opt_out == true", opt_out=opt) == truthy
    assert suppressed("opt_out == TRUE", opt_out=opt) == truthy
    assert suppressed("opt_out == false", opt_out=opt) == ["p7", "p8", "p9", "p11"]
    assert suppressed("opt_out != true", opt_out=opt) == ["p7", "p8", "p9", "p10", "p11"]
    nullable = pd.array([True, False, pd.NA], dtype="boolean")
    assert suppressed("opt_out == true", opt_out=nullable) == ["p0"]
    assert suppressed("opt_out != true", opt_out=nullable) == ["p1", "p2"]


def test_and_binds_before_or():
    traits = dict(a=[1, 0, 0, 1, 0], b=[0, 1, 1, 0, 0], c=[0, 1, 0, 1, 1])
    # a or (b and c): p0 (a), p1 (b and c), p3 (a)
    assert suppressed("a == 1 or b == 1 and c == 1", **traits) == ["p0", "p1", "p3"]
    # (b and c) or a: the same
    assert suppressed("b == 1 and c == 1 or a == 1", **traits) == ["p0", "p1", "p3"]
    assert suppressed("a == 1 AND c == 1", **traits) == ["p3"]
    groups = parse_rule("a == 1 or b == 1 and c == 1")
    assert [[str(c) for c in g] for g in groups] == [["a == 1"], ["b == 1", "c == 1"]]


def test_a_rule_reading_a_trait_the_cohort_lacks_is_refused():
    frame = pd.DataFrame({"external_id": ["p0"], "plan": ["pro"]})
    with pytest.raises(ValidationError) as err:
        Suppression("marketing_opt_out == true or plan == 'free'").suppressed(frame)
    text = str(err.value)
    assert "reads trait(s) ['marketing_opt_out'] the cohort does not have" in text
    assert "(it has ['plan'])" in text and "Nothing was sent" in text


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("opt_out < true", "Compare 'opt_out' with true/false using == or !=, not <"),
        ("country > 'DE'", "compares text by order; use == or != for text"),
    ],
)
def test_order_comparisons_of_booleans_and_text_are_refused(rule, words):
    frame = pd.DataFrame({"external_id": ["p0"], "opt_out": [True], "country": ["DE"]})
    with pytest.raises(ValidationError) as err:
        Suppression(rule).suppressed(frame)
    assert words in str(err.value)


def test_suppression_lists():
    frame = pd.DataFrame({"external_id": ["a", "b", "1", "c"]})
    assert Suppression(["b", 1]).suppressed(frame) == ["b", "1"]
    assert Suppression({"c"}).describe() == "a suppression list of 1 people"
    listed = pd.DataFrame({"external_id": ["a", None]})
    assert Suppression(listed).suppressed(frame) == ["a"]
    cohort = osn.Cohort.from_frame(pd.DataFrame({"external_id": ["c", "zz"]}))
    supp = Suppression(cohort)
    assert supp.suppressed(frame) == ["c"] and supp.describe() == "a suppression cohort of 2 people"


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("external_id,name\nu1,Ana\n u2 ,Ben\n,Empty\n", {"u1", "u2"}),
        ("name,external_id\nAna,u1\nBen,u2\n", {"u1", "u2"}),
        ("user\nu1\nu2\n", {"user", "u1", "u2"}),  # no external_id column: its first column
        ("u1\nu2\nu3\n", {"u1", "u2", "u3"}),  # no header at all: the first line is an id
        ("u1\n", {"u1"}),
        ("0042\n0007\n", {"0042", "0007"}),  # ids stay text (leading zeros kept)
    ],
)
def test_suppression_from_a_csv_with_or_without_header(tmp_path, text, ids):
    path = tmp_path / "optout.csv"
    path.write_text(text, encoding="utf-8")
    for source in (path, str(path)):
        supp = Suppression(source)
        assert supp.ids == frozenset(ids)
        assert supp.describe() == f"the {len(ids)} people listed in optout.csv"
    frame = pd.DataFrame({"external_id": ["u1", "u2", "u3", "u9", "0042", "42"]})
    assert set(Suppression(path).suppressed(frame)) == ids & set(frame["external_id"])


def test_an_empty_suppression_csv_suppresses_nobody(tmp_path):
    """An empty opt-out export (nobody opted out yet) is an empty list, not pandas'
    EmptyDataError ("No columns to parse from file")."""
    path = tmp_path / "optout.csv"
    path.write_text("", encoding="utf-8")
    supp = Suppression(path)
    assert supp.ids == frozenset()
    assert supp.suppressed(pd.DataFrame({"external_id": ["u1"]})) == []


# -- the frequency cap ---------------------------------------------------------------------------
def test_one_per_window_against_a_past_and_a_future_push():
    spans = [Span(100, 100)]
    # windows are [lo, lo + 10): a push at 100 shares a window with any time in (90, 110)
    assert allowed(spans, 90, n=1, window=10)
    assert not allowed(spans, 91, n=1, window=10)
    assert not allowed(spans, 100, n=1, window=10)
    assert not allowed(spans, 109, n=1, window=10)
    assert allowed(spans, 110, n=1, window=10)
    assert next_allowed(spans, 95, n=1, window=10) == 110
    assert next_allowed(spans, 90, n=1, window=10) == 90
    assert next_allowed(spans, 200, n=1, window=10) == 200


def test_two_per_window():
    spans = [Span(100, 100), Span(105, 105)]
    assert allowed(spans, 100, n=3, window=10)
    assert allowed(spans, 95, n=2, window=10)  # window [95, 105) holds one of them
    assert not allowed(spans, 96, n=2, window=10)  # [96, 106) holds both
    assert not allowed(spans, 109, n=2, window=10)  # [100, 110) holds both
    assert allowed(spans, 110, n=2, window=10)  # every window holding 110 starts after 100
    assert next_allowed(spans, 100, n=2, window=10) == 110
    assert allowed([Span(100, 100)], 100, n=2, window=10)


def test_a_push_spread_over_a_span_counts_in_every_window_it_may_fall_in():
    spans = [Span(100, 124)]  # delivered sometime in [100, 124] (e.g. each device's own zone)
    assert allowed(spans, 90, n=1, window=10)
    assert not allowed(spans, 120, n=1, window=10)
    assert not allowed(spans, 133, n=1, window=10)
    assert next_allowed(spans, 100, n=1, window=10) == 134


def test_an_unfinished_push_blocks_from_its_start_on_for_ever():
    spans = [Span(100, FOREVER)]
    assert allowed(spans, 90, n=1, window=10)  # before it could have gone out
    for t in (91, 100, 10**6, 10**12):
        assert not allowed(spans, t, n=1, window=10)
    assert next_allowed(spans, 95, n=1, window=10) is None
    # with n=2 the unfinished push takes one place for ever; the other frees its own
    assert next_allowed(spans + [Span(10**9, 10**9)], 10**9, n=2, window=10) == 10**9 + 10
    assert next_allowed(spans + [Span(10**9, FOREVER)], 10**9, n=2, window=10) is None
    assert capped({"a": 100, "b": 50, "c": 100}, {"a": spans, "b": spans}, n=1, window=10) == {
        "a": None
    }


def test_span_of_datetimes():
    start = utc(2026, 12, 1, 9)
    assert Span.of(start, None, "r") == Span(start.timestamp(), FOREVER, "r")
    assert Span.of(start, start - dt.timedelta(hours=1)).end == start.timestamp()
    rows = [("a", "2026-12-01T09:00:00+00:00", None, "r1"), ("a", "2026-12-01T10:00:00+00:00",
            "2026-12-02T10:00:00+00:00", "r2")]  # fmt: skip
    spans = caps.spans_of(rows)["a"]
    assert [s.run for s in spans] == ["r1", "r2"] and math.isinf(spans[0].end)
    assert spans[1].end - spans[1].start == 86_400


def brute_allowed(spans: list[Span], t: int, n: int, window: int) -> bool:
    """Every window [lo, lo + window) with lo a whole second that contains t holds fewer than
    n spans (a span [start, end] is in a window when they overlap)."""
    for lo in range(t - window + 1, t + 1):
        inside = sum(1 for s in spans if s.start < lo + window and s.end >= lo)
        if inside >= n:
            return False
    return True


def brute_next_allowed(spans: list[Span], t: int, n: int, window: int) -> int | None:
    finite = [s.end for s in spans if s.end != FOREVER]
    horizon = max([t, *(s.start for s in spans), *finite]) + window + 1
    for u in range(t, horizon + 1):
        if brute_allowed(spans, u, n, window):
            return u
    return None  # from the horizon on nothing changes any more


@st.composite
def cap_cases(draw):
    spans = draw(
        st.lists(
            st.builds(
                lambda start, length, open_: Span(start, FOREVER if open_ else start + length),
                st.integers(0, 40),
                st.integers(0, 8),
                st.sampled_from([False, False, False, False, True]),
            ),
            max_size=6,
        )
    )
    return (
        spans,
        draw(st.integers(-5, 60)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 12)),
    )


@settings(max_examples=400, deadline=None)
@given(cap_cases())
def test_allowed_matches_a_brute_force_over_every_window(case):
    spans, t, n, window = case
    assert allowed(spans, t, n=n, window=window) == brute_allowed(spans, t, n, window)


@settings(max_examples=300, deadline=None)
@given(cap_cases())
def test_next_allowed_is_the_first_allowed_second(case):
    spans, t, n, window = case
    assert next_allowed(spans, t, n=n, window=window) == brute_next_allowed(spans, t, n, window)


# -- quiet hours ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (dt.time(20, 59), False),
        (dt.time(21), True),
        (dt.time(23, 59), True),
        (dt.time(0), True),
        (dt.time(7, 59), True),
        (dt.time(8), False),
        (dt.time(12), False),
    ],
)
def test_quiet_hours_across_midnight(local, inside):
    assert in_quiet_hours(local, NIGHT) is inside


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (dt.time(12, 59), False),
        (dt.time(13), True),
        (dt.time(14, 30), True),
        (dt.time(15), False),
        (dt.time(0), False),
        (dt.time(23), False),
    ],
)
def test_quiet_hours_within_one_day(local, inside):
    assert in_quiet_hours(local, (dt.time(13), dt.time(15))) is inside


@pytest.mark.parametrize(
    ("instant", "zone", "end"),
    [
        (utc(2026, 12, 1, 12), NY, utc(2026, 12, 1, 13)),  # 07:00 EST -> 08:00 EST
        (utc(2026, 12, 1, 14), NY, None),  # 09:00 EST: outside
        # before midnight local: tomorrow's 08:00; after midnight: today's
        (utc(2026, 12, 2, 3), NY, utc(2026, 12, 2, 13)),  # 22:00 EST -> 08:00 EST
        (utc(2026, 12, 2, 6), NY, utc(2026, 12, 2, 13)),  # 01:00 EST
        (utc(2026, 12, 1, 20), BERLIN, utc(2026, 12, 2, 7)),  # 21:00 CET, the start itself
        (utc(2026, 12, 1, 19, 59), BERLIN, None),  # 20:59 CET
        # Asia/Kolkata, +05:30
        (utc(2026, 12, 1, 15, 29), KOLKATA, None),  # 20:59 IST
        (utc(2026, 12, 1, 15, 30), KOLKATA, utc(2026, 12, 2, 2, 30)),  # 21:00 IST
        (utc(2026, 12, 2, 2, 29), KOLKATA, utc(2026, 12, 2, 2, 30)),  # 07:59 IST
        (utc(2026, 12, 2, 2, 30), KOLKATA, None),  # 08:00 IST: over
        # Pacific/Chatham in December, +13:45
        (utc(2026, 12, 1, 7, 14), CHATHAM, None),  # 20:59 CHADT
        (utc(2026, 12, 1, 7, 15), CHATHAM, utc(2026, 12, 1, 18, 15)),  # 21:00 -> 08:00 CHADT
        (utc(2026, 12, 1, 18, 14), CHATHAM, utc(2026, 12, 1, 18, 15)),  # 07:59 CHADT
    ],
)
def test_quiet_end(instant, zone, end):
    assert quiet_end(instant, zone, NIGHT) == end


@pytest.mark.parametrize(
    ("instant", "zone", "end", "night_hours"),
    [
        # New York springs forward (02:00 EST -> 03:00 EDT) on 2026-03-08: 08:00 is EDT
        (utc(2026, 3, 8, 2), NY, utc(2026, 3, 8, 12), 10),  # from 21:00 EST on 03-07
        (utc(2026, 3, 8, 6, 30), NY, utc(2026, 3, 8, 12), None),  # 01:30 EST
        (utc(2026, 3, 8, 7, 30), NY, utc(2026, 3, 8, 12), None),  # 03:30 EDT
        # ... and falls back (02:00 EDT -> 01:00 EST) on 2026-11-01: 08:00 is EST
        (utc(2026, 11, 1, 1), NY, utc(2026, 11, 1, 13), 12),  # from 21:00 EDT on 10-31
        (utc(2026, 11, 1, 5, 30), NY, utc(2026, 11, 1, 13), None),  # 01:30 EDT (first)
        (utc(2026, 11, 1, 6, 30), NY, utc(2026, 11, 1, 13), None),  # 01:30 EST (again)
        # Berlin springs forward (02:00 CET -> 03:00 CEST) on 2026-03-29
        (utc(2026, 3, 28, 20), BERLIN, utc(2026, 3, 29, 6), 10),
        # ... and falls back (03:00 CEST -> 02:00 CET) on 2026-10-25
        (utc(2026, 10, 24, 19), BERLIN, utc(2026, 10, 25, 7), 12),
        (utc(2026, 10, 25, 0, 30), BERLIN, utc(2026, 10, 25, 7), None),  # 02:30 CEST
        (utc(2026, 10, 25, 1, 30), BERLIN, utc(2026, 10, 25, 7), None),  # 02:30 CET
    ],
)
def test_quiet_end_across_daylight_saving_changes(instant, zone, end, night_hours):
    got = quiet_end(instant, zone, NIGHT)
    assert got == end
    assert got.astimezone(zone).time() == dt.time(8)
    if night_hours is not None:  # from 21:00 the night before: 11 h, less or more one
        assert got - instant == dt.timedelta(hours=night_hours)


@pytest.mark.parametrize(
    ("instant", "zone", "quiet", "gap_end", "documented"),
    [
        # New York, 2026-03-08: 02:00-03:00 EST does not exist; quiet until 02:30
        (utc(2026, 3, 8, 6, 45), NY, (dt.time(23), dt.time(2, 30)),
         utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 30)),
        (utc(2026, 3, 8, 4), NY, (dt.time(22), dt.time(2)),
         utc(2026, 3, 8, 7), utc(2026, 3, 8, 7)),
        # Berlin, 2026-03-29: 02:00-03:00 CET does not exist; quiet until 02:15
        (utc(2026, 3, 29, 0, 45), BERLIN, (dt.time(22), dt.time(2, 15)),
         utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 15)),
    ],
)  # fmt: skip
def test_a_quiet_end_in_a_daylight_saving_gap_lands_later_never_earlier(
    instant, zone, quiet, gap_end, documented
):
    """The end's wall time does not exist that night: the push goes after the gap, as the same
    wall time on the earlier offset (timing's docstring), never before the gap ends."""
    got = quiet_end(instant, zone, quiet)
    assert got is not None and got > instant
    assert got >= gap_end
    assert got == documented
    assert not in_quiet_hours(got.astimezone(zone).time(), quiet)


def test_a_quiet_end_in_the_repeated_hour_is_that_night_not_the_next():
    """New York falls back on 2026-11-01: 01:00-02:00 comes twice. Quiet hours 21:00-01:30; a
    push at 01:15 EST (the second time round, 06:15 UTC) is inside them by the wall clock. They
    end at the wall clock's next 01:30 (06:30 UTC), 15 minutes on; reading it as over (None)
    would also do. What they must not do is hold the push for a whole day, to 01:30 on
    2026-11-02."""
    quiet = (dt.time(21), dt.time(1, 30))
    instant = utc(2026, 11, 1, 6, 15)
    assert instant.astimezone(NY).time() == dt.time(1, 15) and instant.astimezone(NY).fold == 1
    got = quiet_end(instant, NY, quiet)
    assert got is None or instant < got <= utc(2026, 11, 1, 6, 30), (
        f"deferred to {got} ({got.astimezone(NY)}), a day later than the quiet hours end"
    )


@pytest.mark.parametrize(
    ("day", "at", "zone", "expected"),
    [
        (dt.date(2026, 3, 7), dt.time(9), NY, utc(2026, 3, 7, 14)),  # EST
        (dt.date(2026, 3, 8), dt.time(9), NY, utc(2026, 3, 8, 13)),  # EDT
        (dt.date(2026, 3, 8), dt.time(2, 30), NY, utc(2026, 3, 8, 7, 30)),  # skipped: 03:30 EDT
        (dt.date(2026, 3, 8), dt.time(3), NY, utc(2026, 3, 8, 7)),
        (dt.date(2026, 10, 31), dt.time(9), NY, utc(2026, 10, 31, 13)),  # EDT
        (dt.date(2026, 11, 1), dt.time(9), NY, utc(2026, 11, 1, 14)),  # EST
        (dt.date(2026, 11, 1), dt.time(1, 30), NY, utc(2026, 11, 1, 5, 30)),  # first 01:30
        (dt.date(2026, 3, 28), dt.time(9), BERLIN, utc(2026, 3, 28, 8)),  # CET
        (dt.date(2026, 3, 29), dt.time(9), BERLIN, utc(2026, 3, 29, 7)),  # CEST
        (dt.date(2026, 3, 29), dt.time(2, 30), BERLIN, utc(2026, 3, 29, 1, 30)),  # 03:30 CEST
        (dt.date(2026, 10, 24), dt.time(9), BERLIN, utc(2026, 10, 24, 7)),  # CEST
        (dt.date(2026, 10, 25), dt.time(9), BERLIN, utc(2026, 10, 25, 8)),  # CET
        (dt.date(2026, 10, 25), dt.time(2, 30), BERLIN, utc(2026, 10, 25, 0, 30)),  # first
        (dt.date(2026, 12, 1), dt.time(9), KOLKATA, utc(2026, 12, 1, 3, 30)),
        (dt.date(2026, 7, 1), dt.time(9), KOLKATA, utc(2026, 7, 1, 3, 30)),
        (dt.date(2026, 12, 1), dt.time(9), CHATHAM, utc(2026, 11, 30, 19, 15)),  # +13:45
        (dt.date(2026, 7, 1), dt.time(9), CHATHAM, utc(2026, 6, 30, 20, 15)),  # +12:45
    ],
)
def test_local_instant(day, at, zone, expected):
    got = local_instant(day, at, zone)
    assert got == expected and got.tzinfo is UTC


@pytest.mark.parametrize(
    ("zone", "change", "hours"),
    [
        (NY, dt.date(2026, 3, 8), 23),
        (NY, dt.date(2026, 11, 1), 25),
        (BERLIN, dt.date(2026, 3, 29), 23),
        (BERLIN, dt.date(2026, 10, 25), 25),
        (KOLKATA, dt.date(2026, 3, 8), 24),
        (CHATHAM, dt.date(2026, 4, 5), 25),  # Chatham falls back on the first Sunday of April
        (CHATHAM, dt.date(2026, 9, 27), 23),  # ... and springs forward on the last of September
    ],
)
def test_nine_local_on_a_change_day_is_23_or_25_hours_after_the_day_before(zone, change, hours):
    before = local_instant(change - dt.timedelta(days=1), dt.time(9), zone)
    on = local_instant(change, dt.time(9), zone)
    assert on - before == dt.timedelta(hours=hours)


# -- schedules and the timing of one plan --------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 09:00 local", LocalSchedule(dt.date(2026, 12, 1), dt.time(9))),
        ("2026-12-01T9:30 LOCAL", LocalSchedule(dt.date(2026, 12, 1), dt.time(9, 30))),
        (" 2026-12-01 9:00 pm local ", LocalSchedule(dt.date(2026, 12, 1), dt.time(21))),
        ("2026-12-01T09:00:00Z", utc(2026, 12, 1, 9)),
        ("2026-12-01T10:00:00+01:00", utc(2026, 12, 1, 9)),
        (dt.datetime(2026, 12, 1, 9), utc(2026, 12, 1, 9)),
        (dt.datetime(2026, 12, 1, 10, tzinfo=BERLIN), utc(2026, 12, 1, 9)),
        (None, None),
    ],
)
def test_parse_schedule(text, expected):
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026-02-30 09:00 local", "has no such date (2026-02-30)"),
        ("2026-12-01 25:00 local", "the schedule's time of day must be a local time of day"),
        ("tomorrow 9am", "'2026-12-01 09:00 local' (09:00 in each person's time zone)"),
    ],
)
def test_a_bad_schedule_says_what_to_write(text, words):
    with pytest.raises(ValidationError) as err:
        parse_schedule(text)
    assert words in str(err.value)


def frame_of(zones: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"external_id": list(zones), "timezone": list(zones.values())})


def test_person_zones_fall_back_to_the_default_and_say_for_how_many():
    zones = {"a": "Asia/Kolkata", "b": None, "c": "", "d": "Mars/Olympus", "e": "mars/olympus",
             "f": float("nan"), "g": " Europe/Berlin "}  # fmt: skip
    rules = Rules(default_timezone="America/Sao_Paulo")
    got, notes = person_zones(frame_of(zones), list(zones), rules=rules)
    sao = ZoneInfo("America/Sao_Paulo")
    assert got == {"a": KOLKATA, "b": sao, "c": sao, "d": sao, "e": sao, "f": sao, "g": BERLIN}
    assert notes == [
        "3 people have no 'timezone' trait: America/Sao_Paulo is used for them",
        "2 people have a 'timezone' that is not a time zone name ('Mars/Olympus', "
        "'mars/olympus'): America/Sao_Paulo is used for them",
    ]


def test_a_missing_zone_held_as_pandas_NA_is_counted_as_missing():
    """Nullable string columns (``string`` dtype, e.g. from Parquet or a warehouse) hold a
    missing trait as ``pd.NA``: that is "no trait", not a time zone named '<NA>'."""
    frame = pd.DataFrame(
        {"external_id": ["a", "b"], "timezone": pd.array(["Asia/Kolkata", pd.NA], "string")}
    )
    got, notes = person_zones(frame, ["a", "b"], rules=Rules())
    assert got == {"a": KOLKATA, "b": ZoneInfo("UTC")}
    assert notes == ["1 person has no 'timezone' trait: UTC is used for them"]


def test_person_zones_without_the_trait_column():
    frame = pd.DataFrame({"external_id": ["a"]})
    got, notes = person_zones(frame, ["a"], rules=Rules(default_timezone="Asia/Kolkata"))
    assert got == {"a": KOLKATA}
    assert notes == ["the cohort has no 'timezone' trait, so everyone's local time is Asia/Kolkata"]


def test_quiet_hours_without_a_zone_trait_use_the_default_zone():
    frame = frame_of({"a": "Asia/Kolkata"})
    rules = Rules(quiet_hours=NIGHT, timezone_trait=None, default_timezone="Europe/Berlin")
    got, notes = person_zones(frame, ["a"], rules=rules)
    assert got == {"a": BERLIN}
    assert notes == ["quiet hours use Europe/Berlin (timezone_trait=None)"]


def test_plan_timing_defers_people_in_quiet_hours_and_groups_by_instant():
    zones = {"ny": "America/New_York", "ber": "Europe/Berlin", "kol": "Asia/Kolkata",
             "cha": "Pacific/Chatham", "none": None}  # fmt: skip
    now = utc(2026, 12, 1, 3)  # NY 22:00, Berlin 04:00, Kolkata 08:30, Chatham 16:45, UTC 03:00
    timing = plan_timing(
        list(zones), frame=frame_of(zones), rules=Rules(quiet_hours=NIGHT), schedule=None, now=now
    )
    assert timing.at == {
        "ny": utc(2026, 12, 1, 13), "ber": utc(2026, 12, 1, 7), "kol": now, "cha": now,
        "none": utc(2026, 12, 1, 8),
    }  # fmt: skip
    assert timing.send_after == {
        "ny": "2026-12-01T13:00:00+00:00",
        "ber": "2026-12-01T07:00:00+00:00",
        "none": "2026-12-01T08:00:00+00:00",
    }
    assert timing.deferred["ny"] == (
        "deferred by quiet hours to 08:00 local (America/New_York), 2026-12-01 13:00 UTC"
    )
    assert set(timing.deferred) == {"ny", "ber", "none"}
    assert timing.notes == ["1 person has no 'timezone' trait: UTC is used for them"]
    table = timing.table()
    assert table.groupby("utc")["people"].sum().to_dict() == {
        pd.Timestamp("2026-12-01 03:00", tz="UTC"): 2,
        pd.Timestamp("2026-12-01 07:00", tz="UTC"): 1,
        pd.Timestamp("2026-12-01 08:00", tz="UTC"): 1,
        pd.Timestamp("2026-12-01 13:00", tz="UTC"): 1,
    }
    assert set(table.loc[table["why"] == "quiet hours", "local_time"]) == {"2026-12-01 08:00"}


def test_plan_timing_of_a_local_schedule():
    zones = {"ny": "America/New_York", "kol": "Asia/Kolkata", "cha": "Pacific/Chatham"}
    now = utc(2026, 12, 1, 12)  # 09:00 has passed in Kolkata and Chatham, not in New York
    timing = plan_timing(list(zones), frame=frame_of(zones), rules=Rules(),
                         schedule="2026-12-01 09:00 local", now=now)  # fmt: skip
    assert timing.at == {"ny": utc(2026, 12, 1, 14), "kol": now, "cha": now}
    assert timing.send_after["ny"] == "2026-12-01T14:00:00+00:00"
    assert timing.notes == [
        "2026-12-01 09:00 local: that time has already passed for 2 people, who get it at once"
    ]
    tomorrow = plan_timing(list(zones), frame=frame_of(zones), rules=Rules(),
                           schedule="2026-12-02 09:00 local", now=now)  # fmt: skip
    assert tomorrow.at == {
        "ny": utc(2026, 12, 2, 14), "kol": utc(2026, 12, 2, 3, 30), "cha": utc(2026, 12, 1, 19, 15)
    }  # fmt: skip
    assert not tomorrow.deferred and not tomorrow.notes


def test_a_local_schedule_inside_the_quiet_hours_is_refused():
    with pytest.raises(ValidationError) as err:
        plan_timing(["a"], frame=frame_of({"a": "UTC"}), rules=Rules(quiet_hours=NIGHT),
                    schedule="2026-12-02 07:30 local", now=utc(2026, 12, 1))  # fmt: skip
    assert "is inside the quiet hours 21:00-08:00: nobody could get it then" in str(err.value)


def test_a_local_schedule_without_a_zone_trait_is_left_to_each_device():
    timing = plan_timing(["a", "b"], frame=frame_of({"a": "UTC", "b": None}),
                         rules=Rules(timezone_trait=None), schedule="2026-12-02 09:00 local",
                         now=utc(2026, 12, 1))  # fmt: skip
    assert timing.extra == {"delayed_option": "timezone", "delivery_time_of_day": "09:00"}
    assert len(set(timing.send_after.values())) == 1  # one request for everyone
    assert "each device gets it at 09:00 in its own time zone" in timing.notes[0]


@pytest.mark.parametrize(
    "hours", [-9.5, -9, -8, -5, -3.5, -1, 0, 1, 5.5, 5.75, 9.5, 12, 12.75, 13, 13.75, 14]
)
def test_a_device_time_zone_schedule_starts_so_each_device_gets_that_days_nine(hours):
    """OneSignal delivers a ``delayed_option="timezone"`` push at the first
    ``delivery_time_of_day`` in the device's zone at or after ``send_after``. So for
    "2026-12-02 09:00 local" the single ``send_after`` must fall after 2026-12-01 09:00 and
    no later than 2026-12-02 09:00 on the device's clock, from UTC-09:30 (Marquesas) to
    UTC+14:00 (Line Islands). (The 09:00s of one day span 26 h from UTC+14 to UTC-12, so
    UTC-10 and below cannot also be served by one request.)"""
    offset = dt.timedelta(hours=hours)
    timing = plan_timing(["a"], frame=frame_of({"a": None}), rules=Rules(timezone_trait=None),
                         schedule="2026-12-02 09:00 local", now=utc(2026, 11, 25))  # fmt: skip
    start = dt.datetime.fromisoformat(timing.send_after["a"]).astimezone(dt.timezone(offset))
    nine = dt.datetime.combine(start.date(), dt.time(9), start.tzinfo)
    first_nine = nine if nine >= start else nine + dt.timedelta(days=1)
    assert first_nine.date() == dt.date(2026, 12, 2), (
        f"a device at UTC{offset} gets it at {first_nine} (send_after {timing.send_after['a']})"
    )


# -- the delivery ledger's span of one request ---------------------------------------------------
NOW = utc(2026, 12, 1, 9)


@pytest.mark.parametrize(
    ("payload", "span"),
    [
        ({}, ("2026-12-01T09:00:00+00:00", "2026-12-01T09:00:00+00:00")),
        ({"send_after": None}, ("2026-12-01T09:00:00+00:00", "2026-12-01T09:00:00+00:00")),
        ({"send_after": "2026-12-01T13:00:00+00:00"},
         ("2026-12-01T13:00:00+00:00", "2026-12-01T13:00:00+00:00")),
        ({"send_after": "2026-12-01T14:00:00+01:00"},
         ("2026-12-01T13:00:00+00:00", "2026-12-01T13:00:00+00:00")),
        ({"send_after": "2026-12-01T13:00:00"},  # no offset: UTC, as OneSignal reads it
         ("2026-12-01T13:00:00+00:00", "2026-12-01T13:00:00+00:00")),
        ({"send_after": "2026-12-01T08:00:00Z"},  # past: OneSignal sends it at once
         ("2026-12-01T09:00:00+00:00", "2026-12-01T09:00:00+00:00")),
        ({"send_after": "not a time"}, ("2026-12-01T09:00:00+00:00", "2026-12-01T09:00:00+00:00")),
        ({"delayed_option": "timezone", "delivery_time_of_day": "9:00AM"},
         ("2026-12-01T09:00:00+00:00", "2026-12-02T09:00:00+00:00")),
        ({"delayed_option": "timezone", "delivery_time_of_day": "9:00AM",
          "send_after": "2026-12-03T00:00:00Z"},
         ("2026-12-03T00:00:00+00:00", "2026-12-04T00:00:00+00:00")),
        ({"delayed_option": "last-active", "send_after": "2026-12-01T08:00:00Z"},
         ("2026-12-01T09:00:00+00:00", "2026-12-02T09:00:00+00:00")),
    ],
)  # fmt: skip
def test_ledger_span(payload, span):
    assert ledger_span(payload, NOW) == span


def test_rules_compare_by_what_they_do_and_a_suppression_list_by_its_ids():
    """Rules are compared by their settings (a cohort, a frame or a list of the same ids is
    the same suppression), never elementwise on a DataFrame."""
    frame = pd.DataFrame({"external_id": ["a", "b"]})
    same = Rules(max_per_person=(1, "24h"), suppress=frame)
    assert same == Rules(max_per_person=(1, "24h"), suppress=["b", "a"])
    assert hash(same) == hash(Rules(max_per_person=(1, "24h"), suppress=["a", "b"]))
    assert same != Rules(max_per_person=(1, "24h"), suppress=["a", "c"])
    assert Rules(quiet_hours=("21:00", "8:00")) == Rules(quiet_hours=("9:00PM", "08:00"))
    assert Rules() != Rules(skip_missing=True)
