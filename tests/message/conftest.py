"""Small cohorts for the message tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def people() -> pd.DataFrame:
    """Five people: a full one, missing / None / "" / NaN first names, several languages."""
    return pd.DataFrame(
        {
            "external_id": ["ana", "ben", "cho", "dee", "eva"],
            "first_name": ["Ana", None, "", np.nan, "Eva"],
            "city": ["Berlin", "Paris", None, "Rome", "Madrid"],
            "language": ["en", "es", "de", None, "es"],
            "ltv": [10.0, 2.5, np.nan, 3.0, 7.0],
            "vip": [True, False, True, False, True],
        }
    )
