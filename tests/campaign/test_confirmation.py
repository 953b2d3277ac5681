"""A confirmed count is a promise about who gets the push: always checked."""

from __future__ import annotations

import pytest

from onesig_nb.errors import ConfirmationRequired

from .conftest import make


def test_a_confirmed_count_that_no_longer_matches_is_refused_even_below_confirm_above(journal):
    camp = make(journal, n=30, confirm_above=1_000)
    with pytest.raises(ConfirmationRequired, match="confirmed for 3 people"):
        camp.send(confirm=3, progress=False)
    assert camp.client.count() == 0
    assert camp.send(confirm=30, progress=False).summary["accepted_unconfirmed"] == 30
