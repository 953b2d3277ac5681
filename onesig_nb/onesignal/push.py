"""Splitting one push into per-request batches, and the result of the whole push.

A push to any number of external ids becomes ``ceil(n / limit)`` create-notification requests
(2,000 ids legacy, 20,000 current). The ids are sorted first, so the same set of ids in any order
makes the same batches. Each batch gets its own idempotency key, derived from the push's key AND
the batch's content (its sorted ids, the payload, the platforms): resending the same push with the
same key can never deliver a batch twice, and a call that reuses a key with different ids or a
different payload gets new batch keys, so OneSignal sends it instead of replaying an old answer
(which would silently skip the new people).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from onesig_nb.errors import ValidationError
from onesig_nb.onesignal.models import NotificationRequest, NotificationResponse

__all__ = ["PushResult", "batch_key", "split_push", "unique_ids"]


def unique_ids(external_ids: Iterable[Any]) -> list[str]:
    """External ids as strings, duplicates dropped (first occurrence kept), blanks refused."""
    if isinstance(external_ids, str):
        raise ValidationError("external_ids must be a list of ids, not one string.")
    ids = list(dict.fromkeys(str(i) for i in external_ids if i is not None))
    if "" in ids:
        raise ValidationError("An external id is empty; drop blank ids before sending.")
    return ids


def batch_key(
    idempotency_key: str,
    external_ids: Sequence[str],
    payload: Mapping[str, Any],
    platforms: Sequence[str] | None = None,
) -> str:
    """The idempotency key of one batch: ``uuid5(key, sha256(sorted ids, payload, platforms))``.

    Same key and same content give the same batch key (a resend is replayed, never delivered
    twice); any change of ids, payload or platforms gives a new one (it is sent, not replayed).
    """
    try:
        namespace = uuid.UUID(str(idempotency_key))
    except ValueError:
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"onesig_nb:{idempotency_key}")
    content = {
        "ids": sorted(external_ids),
        "p": payload,
        "pl": sorted(platforms) if platforms is not None else None,
    }
    canon = orjson.dumps(
        content, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str
    )
    return str(uuid.uuid5(namespace, hashlib.sha256(canon).hexdigest()))


def split_push(
    external_ids: list[str],
    payload: Mapping[str, Any],
    *,
    limit: int,
    idempotency_key: str,
    platforms: tuple[str, ...] | None = None,
) -> list[NotificationRequest]:
    """One :class:`NotificationRequest` per ``limit`` ids (sorted), keyed by :func:`batch_key`."""
    payload = dict(payload)
    ids = sorted(external_ids)
    reqs = []
    for index, start in enumerate(range(0, len(ids), limit)):
        chunk = tuple(ids[start : start + limit])
        reqs.append(
            NotificationRequest(
                payload=payload,
                external_ids=chunk,
                idempotency_key=batch_key(idempotency_key, chunk, payload, platforms),
                platforms=platforms,
                ref=index,
            )
        )
    return reqs


@dataclass(frozen=True)
class PushResult:
    """What happened to one :meth:`OneSignal.send_push`: one response per batch, in batch order.

    ``invalid_external_ids`` are ids OneSignal did not deliver to although the request went
    through: reported invalid/unsubscribed, or in a batch that created nothing (``id: ""``).
    ``failed_external_ids`` are ids whose batch failed for good (``response.error`` set);
    resending the same push (same ids, payload and platforms) with the same ``idempotency_key``
    retries just those safely: the batches that were accepted are replayed, not delivered again.

    Unknown ids are not reported: OneSignal silently ignores external ids it does not know when
    the batch created a notification (it reached at least one subscribed user), so such an id
    shows as ``"sent"`` in :meth:`to_frame` - "sent" means "in an accepted request", not
    "delivered". Only a batch where nobody was reachable (``id: ""``) or ids OneSignal names as
    invalid come back in ``invalid_external_ids``. Compare ``recipients`` with the number
    targeted to see the gap. A replayed batch (same key and content as an earlier call) reports
    the earlier call's answer.
    """

    responses: tuple[NotificationResponse, ...]
    idempotency_key: str

    @property
    def notification_ids(self) -> list[str]:
        return [r.id for r in self.responses if r.id]

    @property
    def invalid_external_ids(self) -> list[str]:
        out: list[str] = []
        for r in self.responses:
            if r.error is not None:
                continue
            if r.id:
                out.extend(r.invalid_external_ids)
            elif r.request is not None:
                out.extend(r.request.external_ids)
        return list(dict.fromkeys(out))

    @property
    def failed_external_ids(self) -> list[str]:
        return [
            i
            for r in self.responses
            if r.error is not None and r.request is not None
            for i in r.request.external_ids
        ]

    @property
    def recipients(self) -> int:
        return sum(r.recipients or 0 for r in self.responses)

    @property
    def errors(self) -> list[str]:
        return [str(r.error) for r in self.responses if r.error is not None]

    @property
    def ok(self) -> bool:
        """True when every batch got an answer (whether or not everyone was subscribed)."""
        return all(r.error is None for r in self.responses)

    def to_frame(self):
        """One row per external id: external_id, status (sent/invalid/not_sent/failed),
        notification_id, error.

        ``sent`` = in an accepted request; an id unknown to OneSignal is "sent" too (see the
        class docstring: OneSignal does not report unknown ids)."""
        import pandas as pd

        rows: list[tuple[str, str, str, str | None]] = []
        for r in self.responses:
            if r.request is None:
                continue
            invalid = set(r.invalid_external_ids)
            error = str(r.error) if r.error is not None else None
            for ext in r.request.external_ids:
                if error is not None:
                    status = "failed"
                elif ext in invalid:
                    status = "invalid"
                elif not r.id:
                    status = "not_sent"
                else:
                    status = "sent"
                rows.append((ext, status, r.id, error))
        return pd.DataFrame(rows, columns=["external_id", "status", "notification_id", "error"])

    def __repr__(self) -> str:
        targeted = sum(len(r.request.external_ids) for r in self.responses if r.request)
        return (
            f"PushResult({len(self.responses)} request(s), {targeted:,} targeted, "
            f"{len(self.notification_ids)} notification(s), "
            f"{len(self.invalid_external_ids):,} invalid, "
            f"{len(self.failed_external_ids):,} failed)"
        )
