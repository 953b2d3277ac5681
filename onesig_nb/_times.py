"""Durations and instants given by people ("72h", "3 days", an ISO text, a datetime), checked
once, with errors that say what to write instead."""

from __future__ import annotations

from typing import Any

from onesig_nb.errors import ValidationError

__all__ = ["positive_duration", "utc_instant"]


def positive_duration(value: Any, *, name: str, example: str = "72h") -> Any:
    """``value`` as a positive :class:`pandas.Timedelta`, or a :class:`ValidationError` naming
    ``name`` with an ``example`` of what works."""
    import pandas as pd

    try:
        span = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{name} must be a duration such as {example!r} or '3 days', not {value!r} ({exc})."
        ) from None
    if pd.isna(span) or span <= pd.Timedelta(0):
        raise ValidationError(
            f"{name} must be a positive duration such as {example!r}, not {value!r}."
        )
    return span


def utc_instant(value: Any, *, name: str) -> Any:
    """``value`` as a UTC :class:`pandas.Timestamp` (a naive one is taken as UTC)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be an instant (ISO text or datetime): {exc}") from None
    if pd.isna(ts):
        raise ValidationError(f"{name} must be an instant, not {value!r}.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
