"""External ids reach OneSignal as the strings it knows, whatever dtype pandas gave them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import onesig_nb as osn
from onesig_nb.errors import ValidationError


def test_integer_ids_with_a_gap_are_not_turned_into_floats():
    # one missing id makes pandas store the column as float64: 1.0, 2.0, NaN, 4.0
    frame = pd.DataFrame({"user_id": [1, 2, np.nan, 4], "plan": ["a", "b", "c", "d"]})
    cohort = osn.load_cohort(frame)
    assert cohort.external_ids == ["1", "2", "4"]
    assert cohort.report.to_dict()["counts"]["rows_without_id"] == 1


def test_cohort_constructor_normalises_numeric_ids_too():
    cohort = osn.Cohort(pd.DataFrame({"external_id": [10.0, 11.0], "plan": ["x", "y"]}))
    assert cohort.external_ids == ["10", "11"]


@pytest.mark.parametrize(
    "frame, fix",
    [
        (pd.DataFrame({"id": ["a"]}), "external_id"),
        (pd.DataFrame({"external_id": ["a", None]}), "load_cohort"),
    ],
)
def test_cohort_constructor_refuses_frames_it_cannot_use(frame, fix):
    with pytest.raises(ValidationError, match=fix):
        osn.Cohort(frame)
