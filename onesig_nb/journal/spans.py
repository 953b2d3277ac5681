"""When a journaled request's push may reach its people: the span the delivery ledger keeps
(:mod:`.ledger`), read from the request itself, for new sends and for sends journaled before
the ledger existed (the v2 migration in :mod:`.store`)."""

from __future__ import annotations

import datetime as _dt

__all__ = ["ledger_span"]


def ledger_span(payload: dict, now: _dt.datetime) -> tuple[str, str]:
    """(first, last) moment a request's push may reach its people, ISO UTC, for the delivery
    ledger: ``now``, or its ``send_after`` (OneSignal sends a past one at once); with
    ``delayed_option`` any time in the 24 hours after that (the next such time of day in each
    device's own zone, or its last-active time of day), counted whole: the safe reading for a
    frequency cap."""
    start = now
    text = payload.get("send_after")
    if text:
        import pandas as pd

        try:
            when = pd.Timestamp(str(text))
        except (TypeError, ValueError):
            when = None
        if when is not None and not pd.isna(when):
            when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
            start = max(now, when.to_pydatetime())
    end = start
    if payload.get("delayed_option") in ("timezone", "last-active"):
        end = start + _dt.timedelta(hours=24)
    return _iso(start), _iso(end)


def _iso(when: _dt.datetime) -> str:
    return when.astimezone(_dt.UTC).isoformat(timespec="seconds")
