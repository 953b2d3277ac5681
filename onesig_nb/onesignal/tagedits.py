"""Tag edits of the OneSignal client: cleaning tag values, splitting edits at the API's
per-request limit, and editing tags of one user or of many users concurrently.

:class:`TagEdits` is a base of :class:`~.client.OneSignal`; it uses the client's ``dialect``,
``app_id``, ``engine``, ``_call``, ``_user_headers`` and ``_scrub``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from onesig_nb.errors import AuthError, OneSigNbError, ValidationError
from onesig_nb.onesignal import limits
from onesig_nb.onesignal.dialects import error_for
from onesig_nb.onesignal.models import TagEdit, TagEditResult
from onesig_nb.onesignal.ratelimit import USERS, VIEW
from onesig_nb.segment.tags import tag_value

__all__ = ["TagEdits", "clean_tags"]


class TagEdits:
    """Viewing users and editing their tags by external id."""

    def view_user(self, external_id: str) -> dict[str, Any]:
        """The user as OneSignal holds it (``properties.tags``, ``identity``, ``subscriptions``)."""
        # View user exists only in the User Model API, which takes the key as "Key <key>".
        path = self.dialect.user_path(self.app_id, external_id)
        _, data, _ = self._call("GET", path, group=VIEW, headers=self._user_headers)
        return data if isinstance(data, dict) else {}

    def edit_tags(self, external_id: str, tags: Mapping[str, Any]) -> TagEditResult:
        """Set tags of one user (``""`` or None deletes a tag); raise on failure.

        More than 100 tags go out as several requests (the API's limit per request).
        """
        edit = TagEdit(external_id=str(external_id), tags=clean_tags(tags))
        chunks = _tag_chunks(edit)
        method = self.dialect.tag_method
        path = self.dialect.tags_path(self.app_id, edit.external_id)
        status = None
        for chunk in chunks:
            body = orjson.dumps(self.dialect.tags_body(chunk))
            status, data, _ = self._call(method, path, body, group=USERS, user=edit.external_id)
            if not self.dialect.tag_edit_ok(status, data):
                raise self._scrub(
                    error_for(status, data, method=method, path=path, app_id=self.app_id)
                )
        return TagEditResult(edit=edit, ok=True, status=status)

    def iter_tag_edits(self, edits: Iterable[TagEdit]) -> Iterator[TagEditResult]:
        """Edit tags of many users concurrently; yield one result per edit as they finish.

        An edit that fails for good is yielded with ``ok=False`` and ``.error`` set; an auth
        failure raises :class:`AuthError` and stops everything after one request.
        """
        engine = self.engine
        dialect, app_id = self.dialect, self.app_id
        method = dialect.tag_method

        async def edit_one(edit: TagEdit) -> TagEditResult:
            status = None
            try:
                if not isinstance(edit, TagEdit):
                    ext, tags = edit
                    edit = TagEdit(external_id=str(ext), tags=tags)
                path = dialect.tags_path(app_id, edit.external_id)
                for chunk in _tag_chunks(edit):
                    tags = clean_tags(chunk)
                    body = orjson.dumps(dialect.tags_body(tags))
                    status, data, _ = await engine.perform(
                        method, path, body, group=USERS, user=edit.external_id
                    )
                    if not dialect.tag_edit_ok(status, data):
                        raise self._scrub(
                            error_for(status, data, method=method, path=path, app_id=app_id)
                        )
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

    def edit_tags_bulk(self, edits: Iterable[TagEdit]) -> list[TagEditResult]:
        """:meth:`iter_tag_edits`, collected into a list (in completion order)."""
        return list(self.iter_tag_edits(edits))


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


def _tag_chunks(edit: TagEdit) -> list[dict[str, Any]]:
    items = list(edit.tags.items())
    if not items:
        raise ValidationError(f"No tags to edit for {edit.external_id!r}.")
    size = limits.MAX_TAGS_PER_REQUEST
    return [dict(items[i : i + size]) for i in range(0, len(items), size)]
