"""``filters`` targeting: check a filter list and evaluate it per subscription.

Sources: v11.6 create-message ``filters`` (entries ``{field, relation, key, value}`` and
``{operator: "AND" | "OR"}``, at most 200 entries, "Never end your filters object with an
operator", implicit AND between filters, OR splits groups); v1.2.2 ``Filter.relation``.
Only ``tag`` and ``language`` filters are evaluated (the sandbox has no sessions or
locations); anything else is refused with a 400 that says so.

Undocumented details, chosen narrow (a filter never reaches someone it might not mean):
``!=`` matches only users who have the tag with another value; ``>``/``<`` compare numbers
and match nothing when either side is not a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onesig_nb.sandbox import limits
from onesig_nb.sandbox.responses import Rejected

UNARY = frozenset({"exists", "not_exists"})


def check(filters: Any) -> list[dict[str, Any]]:
    """The filter list if OneSignal would accept it (and the sandbox can evaluate it)."""
    if not isinstance(filters, list) or not filters:
        raise Rejected("filters must be a non-empty array of filter objects")
    if len(filters) > limits.MAX_FILTERS:
        raise Rejected(f"filters: at most {limits.MAX_FILTERS} entries, operators included")
    for i, entry in enumerate(filters):
        if not isinstance(entry, dict):
            raise Rejected(f"filters[{i}] must be an object")
        if "operator" in entry:
            if entry["operator"] not in ("AND", "OR") or len(entry) != 1:
                raise Rejected(f'filters[{i}]: an operator entry is {{"operator": "AND"|"OR"}}')
            if i in (0, len(filters) - 1):
                raise Rejected("filters may not begin or end with an operator")
            continue
        field, relation = entry.get("field"), entry.get("relation")
        if field not in limits.SANDBOX_FILTER_FIELDS:
            raise Rejected(
                f"filters[{i}]: the sandbox evaluates 'tag' and 'language' filters, not {field!r}"
            )
        if field == "tag":
            if not isinstance(entry.get("key"), str) or not entry["key"]:
                raise Rejected(f"filters[{i}]: a tag filter needs its key")
            if relation not in limits.TAG_FILTER_RELATIONS:
                raise Rejected(
                    f"filters[{i}]: relation {relation!r} is not one of "
                    + ", ".join(sorted(limits.TAG_FILTER_RELATIONS))
                )
        elif relation not in ("=", "!="):
            raise Rejected(f"filters[{i}]: a language filter takes '=' or '!='")
        if relation not in UNARY and not isinstance(entry.get("value"), str):
            raise Rejected(f"filters[{i}]: relation {relation!r} needs a string value")
    return filters


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _tag_matches(entry: Mapping[str, Any], tags: Mapping[str, str], now: float) -> bool:
    relation, have = entry["relation"], tags.get(entry["key"])
    if relation == "exists":
        return have is not None
    if relation == "not_exists":
        return have is None
    if have is None:
        return False
    want = entry["value"]
    if relation == "=":
        return have == want
    if relation == "!=":
        return have != want
    a, b = _number(have), _number(want)
    if a is None or b is None:
        return False
    if relation == ">":
        return a > b
    if relation == "<":
        return a < b
    elapsed = now - a  # time_elapsed_*: the tag is a Unix time, the value seconds
    return elapsed > b if relation == "time_elapsed_gt" else elapsed < b


def matches(
    filters: list[Mapping[str, Any]], tags: Mapping[str, str], language: str, now: float
) -> bool:
    """Whether one subscription (its user's tags, its language) is in the audience."""
    group_ok = True
    for entry in filters:
        if entry.get("operator") == "OR":
            if group_ok:
                return True
            group_ok = True
            continue
        if "operator" in entry or not group_ok:
            continue
        if entry["field"] == "language":
            hit = (language == entry["value"]) == (entry["relation"] == "=")
        else:
            hit = _tag_matches(entry, tags, now)
        group_ok = hit
    return group_ok
