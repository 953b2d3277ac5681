"""One exception tree: catch OneSigNbError to catch everything."""

from __future__ import annotations

import pytest

from onesig_nb import errors


def test_every_error_derives_from_the_root():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.OneSigNbError), name


def test_input_errors_are_also_value_errors():
    assert issubclass(errors.ValidationError, ValueError)
    assert issubclass(errors.SourceError, ValueError)


def test_audience_not_found_lists_what_exists():
    err = errors.AudienceNotFound("vip", ["cart_abandoners", "churn_risk"])
    assert "'cart_abandoners'" in str(err) and "list_audiences" in str(err)
    with pytest.raises(KeyError):
        raise err


def test_api_errors_carry_status_and_texts():
    err = errors.RateLimited("slow down", retry_after=2.0, status=429, errors=["API rate limit"])
    assert isinstance(err, errors.APIError)
    assert (err.status, err.errors, err.retry_after) == (429, ["API rate limit"], 2.0)
