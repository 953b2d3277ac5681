"""Targeting beyond id lists: segments and tag filters, checked before anything is sent.

A cohort that a TagSync has marked with a tag can be reached with one request instead of id
batches::

    from onesig_nb.onesignal.targeting import OR, tag_filter
    client.send_to_segments(msg, filters=[tag_filter("vip", "=", "1"), OR,
                                          tag_filter("ltv", ">", "500")])

Filters follow OneSignal's documented shape (v1.2.2 ``Filter``/``Operator``, v11.6
``filters``): ``{"field": "tag", "key": ..., "relation": ..., "value": ...}`` entries, with
``{"operator": "OR"}`` between groups (entries without an operator between them are ANDed),
at most :data:`~onesig_nb.onesignal.limits.MAX_FILTERS` entries in all. The same field names
exist in both API generations, so the dialects send them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from onesig_nb.errors import ValidationError
from onesig_nb.onesignal import limits

__all__ = [
    "AND",
    "OR",
    "check_filters",
    "check_segments",
    "tag_filter",
]

#: The operator entries (v1.2.2 ``Operator``: "Strictly, this must be either "OR", or "AND"").
OR: dict[str, str] = {"operator": "OR"}
AND: dict[str, str] = {"operator": "AND"}

#: Relations that compare with no value (v1.2.2 ``Filter.value``: "required when the relation
#: operator is a binary operator").
_UNARY = frozenset({"exists", "not_exists"})
#: Relations whose value is a number: ``>``/``<`` compare numeric tag strings (reference §6:
#: "numeric strings enable >/< filters"); ``time_elapsed_*`` take seconds since a Unix-time tag.
_NUMERIC = frozenset({">", "<", "time_elapsed_gt", "time_elapsed_lt"})
#: Keys a tag filter entry may carry (v1.2.2 ``Filter`` properties).
_TAG_KEYS = frozenset({"field", "key", "relation", "value"})


def tag_filter(key: str, relation: str, value: Any = None) -> dict[str, str]:
    """One tag filter entry, e.g. ``tag_filter("plan", "=", "pro")`` or
    ``tag_filter("cart", "exists")``; numbers are sent as text (tags are strings)."""
    entry: dict[str, Any] = {"field": "tag", "key": key, "relation": relation}
    if value is not None:
        entry["value"] = value
    return _check_tag(entry, 0)


def _text_value(value: Any, where: str, relation: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(
            f"{where}: value {value!r} is not text or a number; tag filters compare strings, "
            "e.g. 'value': 'pro' or 'value': '500'."
        )
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if relation in _NUMERIC:
        try:
            float(text)
        except ValueError:
            raise ValidationError(
                f"{where}: relation {relation!r} compares numbers, but value is {text!r}; "
                "give a number such as '500' (time_elapsed_* take seconds)."
            ) from None
    return text


def _check_tag(entry: Mapping[str, Any], index: int) -> dict[str, str]:
    where = f"filters[{index}]"
    extra = sorted(set(entry) - _TAG_KEYS)
    if extra:
        raise ValidationError(
            f"{where} has unknown key(s) {extra}; a tag filter has field, key, relation and value."
        )
    key = entry.get("key")
    if not isinstance(key, str) or not key.strip():
        raise ValidationError(
            f"{where} needs the tag's name as 'key', e.g. "
            "{'field': 'tag', 'key': 'plan', 'relation': '=', 'value': 'pro'}."
        )
    relation = entry.get("relation")
    if relation not in limits.TAG_FILTER_RELATIONS:
        allowed = ", ".join(sorted(limits.TAG_FILTER_RELATIONS))
        raise ValidationError(
            f"{where} has relation {relation!r}; a tag filter takes one of {allowed}."
        )
    out = {"field": "tag", "key": key, "relation": relation}
    value = entry.get("value")
    if relation in _UNARY:
        if value is not None:
            raise ValidationError(f"{where}: relation {relation!r} takes no value; remove 'value'.")
        return out
    if value is None:
        raise ValidationError(
            f"{where}: relation {relation!r} needs a 'value' to compare the tag with."
        )
    out["value"] = _text_value(value, where, relation)
    return out


def check_filters(filters: Any) -> tuple[dict[str, str], ...]:
    """The filters as OneSignal takes them, or a :class:`ValidationError` saying what to fix.

    Tag filters only (``field: "tag"``), relations of
    :data:`~onesig_nb.onesignal.limits.TAG_FILTER_RELATIONS`, ``AND``/``OR`` operator entries
    only between filters (v11.6: "Never end your filters object with an operator"; one at the
    start or two in a row would join nothing, so they are refused too), at most
    :data:`~onesig_nb.onesignal.limits.MAX_FILTERS` entries.
    """
    if isinstance(filters, str | bytes | Mapping) or not isinstance(filters, Iterable):
        raise ValidationError(
            "filters must be a list of filter entries, e.g. [tag_filter('plan', '=', 'pro')]."
        )
    entries = list(filters)
    if not entries:
        raise ValidationError("filters is empty, so it would select nobody; add a tag filter.")
    if len(entries) > limits.MAX_FILTERS:
        raise ValidationError(
            f"{len(entries)} filter entries; OneSignal allows at most {limits.MAX_FILTERS} "
            "(operators count too). Tag the cohort with one tag (TagSync) and filter on it."
        )
    out: list[dict[str, str]] = []
    previous_operator = True  # an operator may not come first
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ValidationError(
                f"filters[{i}] is a {type(entry).__name__}; each entry is a dict such as "
                "{'field': 'tag', 'key': 'plan', 'relation': '=', 'value': 'pro'} or "
                "{'operator': 'OR'}."
            )
        if "operator" in entry:
            op = entry.get("operator")
            if set(entry) != {"operator"} or op not in ("AND", "OR"):
                raise ValidationError(
                    f"filters[{i}] is an operator entry; it must be exactly "
                    "{'operator': 'OR'} or {'operator': 'AND'}."
                )
            if previous_operator:
                raise ValidationError(
                    f"filters[{i}]: an operator must stand between two filters, not at the "
                    "start or after another operator."
                )
            out.append({"operator": op})
            previous_operator = True
            continue
        if entry.get("field") != "tag":
            raise ValidationError(
                f"filters[{i}] has field {entry.get('field')!r}; the toolkit sends tag filters "
                "(field 'tag'). Tag the cohort (TagSync) and filter on the tag, or use a "
                "dashboard segment (included_segments=)."
            )
        out.append(_check_tag(entry, i))
        previous_operator = False
    if previous_operator:
        raise ValidationError(
            "filters end with an operator; OneSignal refuses that (v11.6: 'Never end your "
            "filters object with an operator'). Remove the last entry."
        )
    return tuple(out)


def check_segments(name: str, segments: Any) -> tuple[str, ...]:
    """Segment names as a tuple of non-blank strings (``name`` is the argument's name)."""
    if segments is None:
        return ()
    if isinstance(segments, str):
        segments = [segments]
    if isinstance(segments, bytes | Mapping) or not isinstance(segments, Iterable):
        raise ValidationError(f"{name} must be a list of segment names, e.g. ['Active Users'].")
    out = tuple(segments)
    bad = [s for s in out if not isinstance(s, str) or not s.strip()]
    if bad:
        raise ValidationError(
            f"{name} holds {bad[0]!r}; segment names are the non-empty texts shown in the "
            "OneSignal dashboard (Audience > Segments), e.g. 'Active Users'."
        )
    return tuple(dict.fromkeys(out))
