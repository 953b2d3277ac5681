"""Trait values become tag strings the way OneSignal stores them."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from onesig_nb.errors import ValidationError
from onesig_nb.segment.tags import tag_value, tags_from_traits


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Ana", "Ana"),
        ("", None),
        (None, None),
        (math.nan, None),
        (pd.NA, None),
        (pd.NaT, None),
        (True, "true"),
        (np.bool_(False), "false"),
        (42, "42"),
        (np.int64(7), "7"),
        (42.0, "42"),
        (19.99, "19.99"),
        (np.float64(3.5), "3.5"),
        (dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC), "2026-11-29T12:00:00Z"),
        (pd.Timestamp("2026-11-29 13:00", tz="Europe/Madrid"), "2026-11-29T12:00:00Z"),
        (dt.date(2026, 1, 2), "2026-01-02"),
    ],
)
def test_values_are_stringified_like_onesignal_tags(value, expected):
    assert tag_value(value) == expected


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, (1,), math.inf])
def test_values_that_cannot_be_tags_are_refused_with_the_trait_name(value):
    with pytest.raises(ValidationError, match="'plan'"):
        tag_value(value, name="plan")


def test_traits_become_tags_with_renames_and_gaps_dropped():
    row = {"firstName": "Ana", "city": "", "ltv": 120.0, "vip": True, "seen": None, "l": [1]}
    assert tags_from_traits(row, tag_map={"firstName": "first_name"}) == {
        "first_name": "Ana",
        "ltv": "120",
        "vip": "true",
    }
