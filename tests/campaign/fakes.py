"""Small in-memory stand-ins for the client (Contract 4) and a Cohort (Contract 2).

:class:`FakeClient` provides the client protocols a campaign and a tag sync use
(:class:`~onesig_nb.campaign.protocols.PushClient`, :class:`~onesig_nb.campaign.protocols.TagClient`),
including ``redact`` and ``key_hint``, which the campaign uses instead of ever seeing the key.
The fake client honours idempotency keys like OneSignal does (a repeated key replays the first
answer and pushes nothing), logs every request, and can be told to fail some batches, so the
campaign layer's exactly-once logic is tested in milliseconds.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid

import pandas as pd

from onesig_nb.campaign.protocols import PushClient, TagClient
from onesig_nb.config import mask, redact
from onesig_nb.errors import APIError, TransportError
from onesig_nb.onesignal.models import (
    NotificationResponse,
    NotificationStats,
    TagEditResult,
)

FAKE_KEY = "os_v2_app_fakefakefakefakefakefakefake1234"


class FakeCohort:
    def __init__(self, df: pd.DataFrame):
        self.df = df.reset_index(drop=True)
        self.external_ids = [str(x) for x in self.df["external_id"]]
        self.audience = None

    @classmethod
    def of(cls, n: int, *, start: int = 0, **traits) -> FakeCohort:
        ids = [f"u{i:06d}" for i in range(start, start + n)]
        data = {"external_id": ids}
        for k, v in traits.items():
            data[k] = v if isinstance(v, list) else [v] * n
        return cls(pd.DataFrame(data))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.df.to_json().encode()).hexdigest()

    def __len__(self) -> int:
        return len(self.df)

    def subset(self, ids):
        wanted = set(ids)
        return FakeCohort(self.df[self.df["external_id"].isin(wanted)])


class FakeClient(PushClient, TagClient):
    """Implements the client protocols the campaign layer uses (subclassing them declares it,
    so a type checker flags a missing member)."""

    def __init__(self, *, max_ids=20_000, api="current", unsubscribed=(), app_id="app-1"):
        self.app_id = app_id
        self.api = api
        self.max_ids = max_ids
        self.max_workers = 4
        self.key_hint = mask(FAKE_KEY)
        self.unsubscribed = set(unsubscribed)
        self.requests: list[dict] = []  # every HTTP request "made"
        self.replies: dict[str, NotificationResponse] = {}
        self.deliveries: list[tuple[str, str]] = []  # (notification_id, external_id)
        self.fail_next = 0  # the next N new notifications fail for good
        self.crash_after = None  # raise KeyboardInterrupt after N responses
        self.tags: dict[str, dict[str, str]] = {}
        self.fail_tags_for: set[str] = set()
        self.missing_users: set[str] = set()  # tag edits answer 404 user-not-found
        self.raise_after = None  # (n, exception): raise it after n responses (AuthError, ...)
        self._ids = itertools.count(1)

    @property
    def max_ids_per_request(self) -> int:
        return self.max_ids

    def redact(self, text: str) -> str:
        return redact(text, FAKE_KEY)

    def iter_notifications(self, reqs):
        for n, req in enumerate(reqs):
            if self.crash_after is not None and n >= self.crash_after:
                raise KeyboardInterrupt("simulated kill")
            if self.raise_after is not None and n >= self.raise_after[0]:
                raise self.raise_after[1]
            self.requests.append({"kind": "notification", "key": req.idempotency_key})
            if req.idempotency_key in self.replies:
                old = self.replies[req.idempotency_key]
                yield NotificationResponse(
                    request=req, id=old.id, status=200,
                    invalid_external_ids=old.invalid_external_ids, replayed=True,
                )  # fmt: skip
                continue
            if self.fail_next:
                self.fail_next -= 1
                yield NotificationResponse(
                    request=req, error=TransportError(f"reset (key {FAKE_KEY} leaked?)")
                )
                continue
            live = [i for i in req.external_ids if i not in self.unsubscribed]
            bad = tuple(i for i in req.external_ids if i in self.unsubscribed)
            if not live:
                resp = NotificationResponse(
                    request=req, id="", status=200,
                    errors=("All included players are not subscribed",),
                )  # fmt: skip
            else:
                nid = str(uuid.UUID(int=next(self._ids)))
                self.deliveries += [(nid, i) for i in live]
                resp = NotificationResponse(
                    request=req, id=nid, status=200, recipients=len(live),
                    invalid_external_ids=bad,
                )  # fmt: skip
            self.replies[req.idempotency_key] = resp
            yield resp

    def iter_tag_edits(self, edits):
        for edit in edits:
            self.requests.append({"kind": "tags", "external_id": edit.external_id})
            assert len(edit.tags) <= 100
            if edit.external_id in self.missing_users:
                body = {"errors": [{"code": "user-not-found", "title": "User not found"}]}
                err = APIError("HTTP 404: User not found", status=404, body=body)
                yield TagEditResult(edit=edit, ok=False, status=404, error=err)
                continue
            if edit.external_id in self.fail_tags_for:
                yield TagEditResult(edit=edit, ok=False, status=503, error=TransportError("503"))
                continue
            user = self.tags.setdefault(edit.external_id, {})
            for k, v in edit.tags.items():
                if v == "":
                    user.pop(k, None)
                else:
                    user[k] = v
            yield TagEditResult(edit=edit, ok=True, status=200)

    def view_notification(self, nid):
        self.requests.append({"kind": "view", "id": nid})
        views = sum(1 for r in self.requests if r.get("id") == nid)
        n = sum(1 for d in self.deliveries if d[0] == nid)
        done = views >= 2  # "still processing" on the first look
        return NotificationStats(
            id=nid, successful=n if done else 0, converted=n // 10 if done else 0,
            remaining=0 if done else n,
            platform_delivery_stats={"ios": {"successful": n if done else 0}},
        )  # fmt: skip

    def count(self, kind="notification") -> int:
        return sum(1 for r in self.requests if r["kind"] == kind)
