"""How a campaign is cut into batches, and what each batch becomes on the wire.

A batch is one create-notification request: one payload and at most the client's id limit of
recipients. Its key is uuid5 over the campaign name and the batch content
(:func:`onesig_nb.onesignal.push.campaign_batch_key`, the one place batch keys are derived), so
planning the same campaign again (after a restart) gives the same keys, and OneSignal replays
instead of pushing twice. The plan's sample request is encoded by the same dialect code as the
real request (:func:`sample_request`). Everything here is pure: no journal, no network.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from onesig_nb.errors import ValidationError
from onesig_nb.journal import Batch
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.dialects import dialect_for
from onesig_nb.onesignal.models import PLATFORMS, NotificationRequest
from onesig_nb.onesignal.push import campaign_batch_key, chunks

__all__ = [
    "SAMPLE_IDS",
    "as_cohort",
    "as_request",
    "check_batch_size",
    "check_platforms",
    "estimate_seconds",
    "finish_payload",
    "one_or_many",
    "plan_batches",
    "sample_request",
    "send_after_text",
]

#: How many of a batch's ids the plan's sample request lists (the rest are counted).
SAMPLE_IDS = 3


def one_or_many(ids: Any) -> list[str]:
    """A single id string is one id (not its characters); anything else is iterated."""
    if ids is None:
        return []
    if isinstance(ids, str):
        return [ids]
    return [str(i) for i in ids]


def as_cohort(cohort: Any) -> Any:
    """A Cohort as is; a DataFrame with ``external_id`` turned into one."""
    if hasattr(cohort, "external_ids") and hasattr(cohort, "fingerprint"):
        return cohort
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(cohort, pd.DataFrame):
        from onesig_nb.cohort import Cohort

        return Cohort.from_frame(cohort)
    raise ValidationError(
        f"cohort must be a Cohort (onesig_nb.load_cohort(...)) or a DataFrame with an "
        f"external_id column, not {type(cohort).__name__}."
    )


def send_after_text(schedule: Any) -> str | None:
    """``send_after`` as OneSignal takes it: a naive datetime is read as UTC."""
    if schedule is None:
        return None
    if isinstance(schedule, _dt.datetime):
        when = schedule if schedule.tzinfo is not None else schedule.replace(tzinfo=_dt.UTC)
        return when.isoformat()
    return str(schedule)


def finish_payload(payload: dict, *, name: str, send_after: str | None) -> dict:
    """The payload with the campaign name (OneSignal's dashboard label) and the schedule."""
    payload = dict(payload)
    payload.setdefault("name", name[: limits.MAX_NAME_CHARS])
    if send_after:
        payload["send_after"] = send_after
    return payload


def plan_batches(
    name: str,
    groups: Sequence[tuple[dict, Sequence[str]] | tuple[dict, Sequence[str], str | None]],
    *,
    batch_size: int,
    platforms: tuple[str, ...] | None,
    seq0: int,
    key_kind: str = "send",
) -> list[Batch]:
    """``(payload, ids)`` or ``(payload, ids, hold)`` groups cut into numbered batches with
    their idempotency keys (``hold``: why the group waits, e.g. quiet hours).

    :param key_kind: what the keys are made under: ``send``, or a new word for batches that
        repeat the content of cancelled ones (their keys must differ, or OneSignal would
        replay the cancelled notification instead of sending)
    """
    out: list[Batch] = []
    for payload, group, *rest in groups:
        hold = rest[0] if rest else None
        for chunk in chunks(list(group), batch_size):
            key = campaign_batch_key(name, key_kind, payload, chunk, platforms)
            out.append(
                Batch(name, seq0 + len(out), "send", key, payload, chunk, platforms, hold=hold)
            )
    return out


def estimate_seconds(requests: int, *, max_workers: int) -> float:
    """Rough duration of ``requests`` create-notification calls under the rate limits."""
    # The create-message budget (free plan 150/s) dominates; add one round trip per wave of
    # concurrent requests (~0.3 s against the real API).
    rate = limits.CREATE_NOTIFICATION_PER_SECOND_FREE
    workers = max(1, int(max_workers or 1))
    return round(requests / rate + 0.3 * -(-requests // workers), 2)


def as_request(batch: Batch) -> NotificationRequest:
    """The create-notification request of one journaled batch (``ref`` = its number)."""
    return NotificationRequest(
        payload=batch.payload,
        external_ids=batch.external_ids,
        idempotency_key=batch.idempotency_key,
        platforms=batch.platforms,
        ref=batch.seq,
    )


def sample_request(batch: Batch, *, app_id: str, api: str, key_hint: str) -> dict:
    """The request one batch becomes (headers + body), at most 3 ids listed.

    :param key_hint: the client's API key masked (:attr:`PushClient.key_hint
        <onesig_nb.campaign.protocols.PushClient.key_hint>`): the key itself never reaches here

    The body comes from the dialect that encodes the real request
    (:meth:`~onesig_nb.onesignal.dialects.Dialect.notification_body`), so the plan shows every
    field that goes out: targeting, idempotency key and platform flags of either API generation.
    """
    ids = list(batch.external_ids[:SAMPLE_IDS])
    if batch.size > SAMPLE_IDS:
        ids.append(f"... {batch.size - SAMPLE_IDS:,} more")
    dialect = dialect_for(api)
    shown = NotificationRequest(
        payload=batch.payload,
        external_ids=tuple(ids),
        idempotency_key=batch.idempotency_key,
        platforms=batch.platforms,
    )
    return {
        "headers": {"Authorization": dialect.auth_header(key_hint)},
        "body": dialect.notification_body(app_id, shown),
    }


def check_platforms(exclude_platforms: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(excluded platforms, sorted; the platforms sent to), refusing unknown or all platforms.

    A plain string is one platform: ``exclude_platforms="ios"`` means ``("ios",)``.
    """
    excluded = tuple(sorted({p.strip().lower() for p in one_or_many(exclude_platforms)}))
    unknown = [p for p in excluded if p not in PLATFORMS]
    if unknown:
        raise ValidationError(
            f"exclude_platforms has unknown platforms {unknown}; use some of {PLATFORMS}."
        )
    platforms = tuple(p for p in PLATFORMS if p not in excluded)
    if not platforms:
        raise ValidationError("exclude_platforms excludes every platform; nothing could be sent.")
    return excluded, platforms


def check_batch_size(batch_size: int | None, *, max_ids: int) -> int:
    """The client's ids-per-request limit ``max_ids``, refusing a ``batch_size`` outside it."""
    if batch_size is not None and not 1 <= batch_size <= max_ids:
        raise ValidationError(f"batch_size must be between 1 and {max_ids:,} for this client.")
    return max_ids
