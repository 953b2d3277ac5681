"""Batches and their idempotency keys: the one place that cuts ids into requests and keys them.

A push to any number of external ids becomes ``ceil(n / limit)`` create-notification requests
(2,000 ids legacy, 20,000 current). Each batch gets its own idempotency key, a uuid5 over an
anchor and the sha256 of the batch's canonical content (ids, payload, platforms), so a resend
with the same anchor can never deliver a batch twice, while a batch with other ids or another
payload gets a new key and is sent instead of replaying an old answer (which would silently skip
the new people).

Two callers anchor keys here, and nowhere else:

- :meth:`OneSignal.send_push <onesig_nb.onesignal.client.OneSignal.send_push>` anchors on the
  caller's key (:func:`batch_key`); its ids and platforms are sorted first, so the same set in
  any order makes the same batches and keys.
- a :class:`~onesig_nb.campaign.Campaign` anchors on its name and the batch's kind under
  :data:`KEY_NAMESPACE` (:func:`campaign_batch_key`); its batches keep the order its journal
  fixed, so the ids are hashed in that order.

Both encodings are frozen: campaign journals in the field hold their keys, and a caller may
resend a push with its key within OneSignal's 30 days. ``tests/campaign/test_batch_keys.py``
pins known values of both.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from onesig_nb.errors import ValidationError
from onesig_nb.onesignal.models import NotificationRequest, NotificationResponse

__all__ = [
    "KEY_NAMESPACE",
    "PushResult",
    "audience_key",
    "batch_key",
    "campaign_batch_key",
    "canonical_json",
    "chunks",
    "split_push",
    "unique_ids",
    "valid_ids",
]

#: Namespace of every campaign batch key (uuid5). Fixed forever: changing it would give a resumed
#: campaign new keys, and OneSignal would push its unfinished batches a second time.
KEY_NAMESPACE = "6f1c2a52-6e0f-5b7a-9a51-0c3e5d1b7a10"


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, UTF-8 kept): the text campaign keys and
    fingerprints hash. Its exact output is frozen with the keys (see the module docstring)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha256(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def valid_ids(external_ids: Iterable[Any]) -> tuple[list[str], list, int]:
    """(usable ids, each once, first occurrence kept; unusable ids; duplicates dropped).

    An id is usable when it is a string with something besides blanks in it.
    """
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


def unique_ids(external_ids: Iterable[Any]) -> list[str]:
    """External ids as strings, duplicates dropped (first occurrence kept), blanks refused."""
    if isinstance(external_ids, str):
        raise ValidationError("external_ids must be a list of ids, not one string.")
    ids, blank, _ = valid_ids(str(i) for i in external_ids if i is not None)
    if blank:
        raise ValidationError("An external id is empty; drop blank ids before sending.")
    return ids


def chunks(ids: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """``ids`` cut into tuples of at most ``size``, in order."""
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]


def batch_key(
    idempotency_key: str,
    external_ids: Sequence[str],
    payload: Mapping[str, Any],
    platforms: Sequence[str] | None = None,
) -> str:
    """The key of one batch of a push: ``uuid5(key, sha256(sorted ids, payload, platforms))``.

    Same key and same content give the same batch key (a resend is replayed, never delivered
    twice); any change of ids, payload or platforms gives a new one (it is sent, not replayed).
    A key that is not a UUID is turned into one (uuid5 of its text).
    """
    content = {
        "ids": sorted(external_ids),
        "p": payload,
        "pl": sorted(platforms) if platforms is not None else None,
    }
    return _key_under(idempotency_key, content)


def audience_key(
    idempotency_key: str,
    payload: Mapping[str, Any],
    *,
    included_segments: Sequence[str] = (),
    excluded_segments: Sequence[str] = (),
    filters: Sequence[Mapping[str, Any]] = (),
    platforms: Sequence[str] | None = None,
) -> str:
    """The key of a push to segments or filters: ``uuid5(key, sha256(audience, payload,
    platforms))``, like :func:`batch_key` with the audience in place of the ids.

    A resend with the same key, audience and payload is replayed (never delivered twice);
    another audience or payload under the same key is a new push and is sent.
    """
    content = {
        "in": sorted(included_segments),
        "ex": sorted(excluded_segments),
        "f": [dict(f) for f in filters],  # order matters: AND/OR entries join neighbours
        "p": payload,
        "pl": sorted(platforms) if platforms is not None else None,
    }
    return _key_under(idempotency_key, content)


def _key_under(idempotency_key: str, content: Mapping[str, Any]) -> str:
    """``uuid5(namespace, sha256(content))``: the namespace is the caller's key when it is a
    UUID, else a UUID derived from it. The bytes are fixed: journals hold these keys."""
    try:
        namespace = uuid.UUID(str(idempotency_key))
    except ValueError:
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"onesig_nb:{idempotency_key}")
    text = orjson.dumps(content, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return str(uuid.uuid5(namespace, _sha256(text)))


def campaign_batch_key(
    campaign: str,
    kind: str,
    payload: Mapping[str, Any],
    external_ids: Sequence[str],
    platforms: Sequence[str] | None,
) -> str:
    """The key of one batch of a campaign: uuid5 over the campaign name, the batch kind
    (``send``, ``test-0``, ...) and the sha256 of its content, ids in batch order."""
    text = canonical_json({"p": payload, "ids": list(external_ids), "pl": platforms})
    digest = _sha256(text.encode())
    return str(uuid.uuid5(uuid.UUID(KEY_NAMESPACE), f"{campaign}\x1f{kind}\x1f{digest}"))


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
    return [
        NotificationRequest(
            payload=payload,
            external_ids=chunk,
            idempotency_key=batch_key(idempotency_key, chunk, payload, platforms),
            platforms=platforms,
            ref=index,
        )
        for index, chunk in enumerate(chunks(sorted(external_ids), limit))
    ]


@dataclass(frozen=True)
class PushResult:
    """What happened to one :meth:`OneSignal.send_push`: one response per batch, in batch order.

    ``invalid_external_ids`` are ids OneSignal listed as unsubscribed, or in a batch that
    created nothing (``id: ""``). OneSignal lists an id once per unsubscribed *subscription*
    (v11.6 create-message 200 example), so in a batch that created a notification a listed
    person may still have been reached on another device: "some devices not subscribed".
    ``failed_external_ids`` are ids whose batch failed for good (``response.error`` set);
    resending the same push (same ids, payload and platforms) with the same ``idempotency_key``
    retries just those safely: the batches that were accepted are replayed, not delivered again.

    Unknown ids are not reported: OneSignal silently ignores external ids it does not know when
    the batch created a notification (it reached at least one subscribed user), so such an id
    shows as ``"sent"`` in :meth:`to_frame` - "sent" means "in an accepted request", not
    "delivered". Only a batch where nobody was reachable (``id: ""``) or ids OneSignal names as
    invalid come back in ``invalid_external_ids``. A replayed batch (same key and content as an
    earlier call) reports the earlier call's answer.

    ``recipients`` is OneSignal's own estimate of subscriptions targeted, which only the legacy
    API sends; on the current API it is None (see the property), so compare :attr:`targeted`
    with the delivery statistics (``client.view_notification``) instead.
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
    def targeted(self) -> int:
        """External ids this push was sent to (each once), whatever came back."""
        return sum(len(r.request.external_ids) for r in self.responses if r.request)

    @property
    def recipients(self) -> int | None:
        """Subscriptions OneSignal estimated it targeted, summed over the answered batches;
        None when an accepted batch did not say (always on the current API).

        The legacy API answers ``recipients`` ("estimated number of subscribers targeted",
        v1.2.2 ``CreateNotificationSuccessResponse``); the current API's create answer has no
        such field (v11.6 create-message; the official SDK 5.x model has none), so a 0 there
        would be a made-up number. A batch that created nothing counts 0; batches that failed
        for good are not counted.
        """
        answered = [r for r in self.responses if r.error is None]
        if any(r.id and r.recipients is None for r in answered):
            return None
        return sum(r.recipients or 0 for r in answered)

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
        return (
            f"PushResult({len(self.responses)} request(s), {self.targeted:,} targeted, "
            f"{len(self.notification_ids)} notification(s), "
            f"{len(self.invalid_external_ids):,} invalid, "
            f"{len(self.failed_external_ids):,} failed)"
        )
