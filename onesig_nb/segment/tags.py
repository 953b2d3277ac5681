"""How a trait value becomes a OneSignal data tag value.

OneSignal stores tags as flat strings: numbers and booleans are stringified, arrays and objects
are refused, and ``""`` deletes a tag. This module is the one place those rules live, so the
preview (which renders from traits), TagSync (which writes tags) and the sandbox (which renders
from stored tags) can never disagree.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

from onesig_nb.errors import ValidationError

__all__ = ["external_id_strings", "tag_value", "tags_from_traits"]


def tag_value(value: Any, *, name: str = "value") -> str | None:
    """Return the string OneSignal would store for ``value``, or None for "no such tag".

    None, NaN, pandas' NA/NaT and ``""`` all mean "no tag" (``""`` is how a tag is deleted).
    Booleans become ``"true"``/``"false"``; integral floats lose their ``.0`` (pandas turns an
    integer column with gaps into floats); datetimes become ISO 8601 in UTC.

    >>> tag_value(42.0), tag_value(True), tag_value(""), tag_value("Ana")
    ('42', 'true', None, 'Ana')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    type_name = type(value).__name__
    if type_name in ("NAType", "NaTType"):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, tuple)):
        try:  # numpy scalars -> Python scalars
            value = value.item()
        except (ValueError, TypeError, AttributeError):
            pass
        if isinstance(value, bool):
            return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValidationError(f"Tag {name!r} is infinite; OneSignal tags must be finite.")
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, _dt.date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return tag_value(value.to_pydatetime(), name=name)
    if isinstance(value, (list, tuple, set, dict)):
        raise ValidationError(
            f"Tag {name!r} holds a {type(value).__name__}; OneSignal tags are flat strings. "
            "Turn it into a string first (for example ', '.join(values)) or leave it out of tags=."
        )
    return str(value)


def tags_from_traits(
    traits: Mapping[str, Any], *, tag_map: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Turn one person's traits into the tags OneSignal would hold for them.

    ``tag_map`` renames traits to tag names (``{"firstName": "first_name"}``); traits not in it
    keep their own name. Traits whose value means "no tag" are left out. Lists and dicts are
    skipped here (they can never be tags), so a preview shows what OneSignal would render.
    """
    out: dict[str, str] = {}
    tag_map = tag_map or {}
    for key, raw in traits.items():
        name = tag_map.get(key, key)
        try:
            value = tag_value(raw, name=name)
        except ValidationError:
            continue
        if value is not None:
            out[str(name)] = value
    return out


def external_id_strings(values: Any) -> Any:
    """External ids as the strings OneSignal matches on, for a pandas Series.

    The same rules as tag values, so an integer id column that pandas turned into floats
    (because one value was missing) gives ``"1"``, not ``"1.0"``, which OneSignal would not
    recognise. Missing ids become None; the caller decides whether to drop or refuse them.
    """
    out = values.map(lambda v: tag_value(v, name="external_id"))
    return out.where(out.notna(), None).astype(object)
