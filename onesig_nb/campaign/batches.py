"""How a campaign is cut into batches, and the idempotency key each batch carries.

A batch is one create-notification request: one payload and at most the client's id limit of
recipients. Its key is uuid5 over the campaign name and the batch content, so planning the same
campaign again (after a restart) gives the same keys, and OneSignal replays instead of pushing
twice. Everything here is pure: no journal, no network.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

# The client package first: onesig_nb.config imports onesignal.limits, and importing config
# before the onesignal package is initialised hits a config <-> onesignal.client import cycle.
from onesig_nb import onesignal as _onesignal  # noqa: F401
from onesig_nb.config import mask
from onesig_nb.errors import ValidationError
from onesig_nb.journal import Batch
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.models import PLATFORMS

__all__ = [
    "KEY_NAMESPACE",
    "as_cohort",
    "batch_key",
    "canon",
    "check_batch_size",
    "check_platforms",
    "chunks",
    "client_secret",
    "estimate_seconds",
    "finish_payload",
    "one_or_many",
    "plan_batches",
    "sample_request",
    "send_after_text",
    "valid_ids",
]

#: Namespace of every idempotency key this toolkit derives (uuid5; fixed forever, because
#: changing it would give a resumed campaign new keys and so allow duplicates).
KEY_NAMESPACE = "6f1c2a52-6e0f-5b7a-9a51-0c3e5d1b7a10"

_PLATFORM_FLAGS = {"ios": "isIos", "android": "isAndroid", "web": "isAnyWeb"}


def canon(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): the text that fingerprints and keys hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def batch_key(
    campaign: str, kind: str, payload: dict, external_ids: Sequence[str], platforms
) -> str:
    """The idempotency key of one batch: uuid5 over the campaign name and the batch content."""
    digest = hashlib.sha256(
        canon({"p": payload, "ids": list(external_ids), "pl": platforms}).encode()
    ).hexdigest()
    return str(uuid.uuid5(uuid.UUID(KEY_NAMESPACE), f"{campaign}\x1f{kind}\x1f{digest}"))


def one_or_many(ids: Any) -> list[str]:
    """A single id string is one id (not its characters); anything else is iterated."""
    if ids is None:
        return []
    if isinstance(ids, str):
        return [ids]
    return [str(i) for i in ids]


def chunks(ids: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """``ids`` cut into tuples of at most ``size``, in order."""
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


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


def client_secret(client: Any) -> str | None:
    """The client's API key, only to mask or redact it (never to show it)."""
    for attr in ("api_key", "_api_key", "_key"):
        value = getattr(client, attr, None)
        if isinstance(value, str) and value:
            return value
    headers = getattr(client, "_headers", None)
    auth = headers.get("Authorization") if isinstance(headers, dict) else None
    if isinstance(auth, str) and " " in auth:
        return auth.split(" ", 1)[1]
    creds = getattr(client, "credentials", None)
    return getattr(creds, "api_key", None)


def valid_ids(external_ids: Sequence[Any]) -> tuple[list[str], list, int]:
    """(usable ids, each once, first occurrence kept; empty/non-string ids; duplicates)."""
    valid: list[str] = []
    invalid: list = []
    seen: set[str] = set()
    duplicates = 0
    for eid in external_ids:
        if not (isinstance(eid, str) and eid.strip()):
            invalid.append(eid)
        elif eid in seen:
            duplicates += 1
        else:
            seen.add(eid)
            valid.append(eid)
    return valid, invalid, duplicates


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
    groups: Sequence[tuple[dict, Sequence[str]]],
    *,
    batch_size: int,
    platforms: tuple[str, ...] | None,
    seq0: int,
) -> list[Batch]:
    """``(payload, ids)`` groups cut into numbered batches with their idempotency keys."""
    out: list[Batch] = []
    for payload, group in groups:
        for chunk in chunks(list(group), batch_size):
            key = batch_key(name, "send", payload, chunk, platforms)
            out.append(Batch(name, seq0 + len(out), "send", key, payload, chunk, platforms))
    return out


def estimate_seconds(requests: int, client: Any) -> float:
    """Rough duration of ``requests`` create-notification calls under the rate limits."""
    # The create-message budget (free plan 150/s) dominates; add one round trip per wave of
    # concurrent requests (~0.3 s against the real API).
    rate = limits.CREATE_NOTIFICATION_PER_SECOND_FREE
    workers = max(1, int(getattr(client, "max_workers", 32) or 32))
    return round(requests / rate + 0.3 * -(-requests // workers), 2)


def sample_request(batch: Batch, *, app_id: str, api: str, secret: str | None) -> dict:
    """The request one batch becomes (headers + body), key masked, at most 3 ids listed."""
    ids: list[str] = list(batch.external_ids[:3])
    if batch.size > 3:
        ids.append(f"... {batch.size - 3:,} more")
    body: dict[str, Any] = {"app_id": app_id}
    if api == "legacy":
        body["include_external_user_ids"] = ids
        body["external_id"] = batch.idempotency_key
    else:
        body["include_aliases"] = {"external_id": ids}
        body["target_channel"] = "push"
        body["idempotency_key"] = batch.idempotency_key
    body.update(batch.payload)
    if batch.platforms:
        body.update({flag: p in batch.platforms for p, flag in _PLATFORM_FLAGS.items()})
    scheme = "Basic" if api == "legacy" else "Key"
    return {"headers": {"Authorization": f"{scheme} {mask(secret)}"}, "body": body}


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


def check_batch_size(batch_size: int | None, client: Any) -> int:
    """The client's ids-per-request limit, refusing a ``batch_size`` outside 1..limit."""
    max_ids = int(getattr(client, "max_ids_per_request", limits.CURRENT_MAX_ALIASES))
    if batch_size is not None and not 1 <= batch_size <= max_ids:
        raise ValidationError(f"batch_size must be between 1 and {max_ids:,} for this client.")
    return max_ids
