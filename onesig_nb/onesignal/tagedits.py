"""Tag edits by external id: cleaning tag values, splitting edits at the API's per-request limit,
and editing the tags of one user (a single call) or of many users concurrently (the engine).

:class:`TagEditor` is given everything it uses: the app, the wire dialect, the single-call
:class:`~.transport.Transport` and the :class:`~.failures.Failures` that turn a refused edit
into a typed error; the bulk engine is passed to :meth:`TagEditor.edit_many` (the client starts
it on first use).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from onesig_nb.errors import AuthError, OneSigNbError, ValidationError
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.dialects import Dialect
from onesig_nb.onesignal.failures import Failures
from onesig_nb.onesignal.models import TagEdit, TagEditResult
from onesig_nb.onesignal.ratelimit import USERS
from onesig_nb.onesignal.transport import Transport
from onesig_nb.segment.tags import tag_value

if TYPE_CHECKING:  # pragma: no cover
    from onesig_nb.onesignal.engine import Engine

__all__ = ["TagEditor", "clean_tags", "tag_chunks"]


class TagEditor:
    """Edits tags of one app's users by external id, one at a time or many at once.

    :param app_id: the app whose users are edited
    :param dialect: the API generation's paths and bodies
    :param transport: sends single edits
    :param failures: turns an edit OneSignal did not store into a typed, redacted error
    """

    def __init__(self, *, app_id: str, dialect: Dialect, transport: Transport, failures: Failures):
        self.app_id = app_id
        self.dialect = dialect
        self.transport = transport
        self.failures = failures

    def __repr__(self) -> str:
        return f"TagEditor(app_id={self.app_id!r}, api={self.dialect.name!r})"

    def _check(self, status: int, data: Any, path: str) -> None:
        """Raise the typed error when a 2xx answer says the tags were not stored."""
        if not self.dialect.tag_edit_ok(status, data):
            raise self.failures.answer(status, data, method=self.dialect.tag_method, path=path)

    def edit(self, external_id: str, tags: Mapping[str, Any]) -> TagEditResult:
        """Set tags of one user (``""`` or None deletes a tag); raise on failure.

        More than 100 tags go out as several requests (the API's limit per request).
        """
        edit = TagEdit(external_id=str(external_id), tags=clean_tags(tags))
        method = self.dialect.tag_method
        path = self.dialect.tags_path(self.app_id, edit.external_id)
        status = None
        for chunk in tag_chunks(edit):
            body = orjson.dumps(self.dialect.tags_body(chunk))
            status, data, _ = self.transport.call(
                method, path, body, group=USERS, user=edit.external_id
            )
            self._check(status, data, path)
        return TagEditResult(edit=edit, ok=True, status=status)

    def edit_many(self, engine: Engine, edits: Iterable[TagEdit]) -> Iterator[TagEditResult]:
        """Edit tags of many users concurrently on ``engine``; yield results as they finish.

        An edit that fails for good is yielded with ``ok=False`` and ``.error`` set; an auth
        failure raises :class:`AuthError` and stops everything after one request. An item may
        also be an ``(external_id, tags)`` pair.
        """
        dialect, app_id = self.dialect, self.app_id
        method = dialect.tag_method

        async def edit_one(edit: TagEdit) -> TagEditResult:
            status = None
            try:
                if not isinstance(edit, TagEdit):
                    ext, tags = edit
                    edit = TagEdit(external_id=str(ext), tags=tags)
                path = dialect.tags_path(app_id, edit.external_id)
                for chunk in tag_chunks(edit):
                    body = orjson.dumps(dialect.tags_body(clean_tags(chunk)))
                    status, data, _ = await engine.perform(
                        method, path, body, group=USERS, user=edit.external_id
                    )
                    self._check(status, data, path)
            except AuthError:
                raise
            except OneSigNbError as exc:
                if not isinstance(edit, TagEdit):
                    edit = TagEdit(external_id=str(edit), tags={})
                return TagEditResult(
                    edit=edit, ok=False, status=getattr(exc, "status", status), error=exc
                )
            return TagEditResult(edit=edit, ok=True, status=status)

        return engine.map(edit_one, edits)


def clean_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """Tags as OneSignal stores them: string values, ``""`` for "delete this tag"."""
    if not isinstance(tags, Mapping):
        raise ValidationError(f"tags must be a dict of name -> value, not {type(tags).__name__}.")
    out: dict[str, str] = {}
    for name, value in tags.items():
        if not name or not isinstance(name, str):
            raise ValidationError(f"Tag names must be non-empty strings, not {name!r}.")
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            out[name] = ""
        elif isinstance(value, str):
            out[name] = value
        else:
            out[name] = tag_value(value, name=name) or ""
    return out


def tag_chunks(edit: TagEdit) -> list[dict[str, Any]]:
    """The edit's tags in requests of at most :data:`.limits.MAX_TAGS_PER_REQUEST` each."""
    items = list(edit.tags.items())
    if not items:
        raise ValidationError(f"No tags to edit for {edit.external_id!r}.")
    size = limits.MAX_TAGS_PER_REQUEST
    return [dict(items[i : i + size]) for i in range(0, len(items), size)]
