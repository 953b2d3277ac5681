"""Segment Profiles Sync tables as a cohort source: merged identities and profile traits.

Profiles Sync (Unify) lands the identity graph and each profile's traits in a warehouse schema
of its own (segment-docs src/unify/profiles-sync/tables.md; segment-data.md section 4.2):

- ``profile_traits``: one row per profile (``canonical_segment_id``), one column per trait,
  audiences included (their current value, as Segment's profile holds it); a profile merged
  away keeps only ``merged_to``;
- ``external_id_mapping``: each external id (``external_id_type``/``external_id_value``: user_id,
  anonymous_id, email ...) and the merged profile it belongs to now.

Here identity resolution is Segment's: a member is a current (not merged-away) profile whose
audience column is true, reached by its ``user_id`` (or each ``anonymous_id``, or ``auto``:
user ids, else the anonymous ids of profiles that have none). The audience columns are the
boolean columns, and text columns holding only ``true``/``false`` (journeys v1 send strings).
The tables are a snapshot, so ``as_of`` does not apply. Everything is portable SQL, run where
the tables live like the Engage tables (:mod:`onesig_nb.segment.warehouse`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from onesig_nb.segment.membership import quote_ident, quote_literal, value_case

__all__ = ["PROFILE_TABLES", "ProfilesSync"]

#: The tables a Profiles Sync schema needs for cohorts (both materialized by Segment).
PROFILE_TABLES = ("profile_traits", "external_id_mapping")
#: profile_traits columns that are never traits.
NOT_TRAITS = {
    "canonical_segment_id", "segment_id", "merged_to", "seq", "received_at", "uuid_ts",
    "timestamp", "loaded_at",
}  # fmt: skip
_BOOLEAN_TYPES = {"boolean", "bool"}
_TEXT_TYPES = ("char", "text", "string", "varchar")


def _persons(ids: str, id_type: str) -> str:
    """SQL of (pid, person) pairs: who each profile is, for ``id_type``."""
    base = f"SELECT canonical_segment_id AS pid, external_id_value AS person FROM {ids}"
    if id_type in ("user_id", "anonymous_id"):
        return f"{base} WHERE external_id_type = {quote_literal(id_type)}"
    return (
        f"{base} WHERE external_id_type = 'user_id' UNION ALL {base} "
        "WHERE external_id_type = 'anonymous_id' AND canonical_segment_id NOT IN ("
        f"SELECT canonical_segment_id FROM {ids} WHERE external_id_type = 'user_id')"
    )


@dataclass
class ProfilesSync:
    """The Profiles Sync tables of one schema (``table`` quotes a table name with its schema)."""

    table: Callable[[str], str]
    columns: dict[str, str]  # profile_traits column -> data type
    keys: list[str] = field(default_factory=list)

    def discover_keys(self, frame: Callable[[str], Any]) -> list[str]:
        """Audience columns: booleans, and text columns whose values are all true/false."""
        keys = [c for c, t in self.columns.items() if t.lower() in _BOOLEAN_TYPES]
        text = [
            c for c, t in self.columns.items()
            if any(w in t.lower() for w in _TEXT_TYPES) and c not in NOT_TRAITS
        ]  # fmt: skip
        if text:
            checks = ", ".join(
                f"SUM(CASE WHEN {quote_ident(c)} IS NOT NULL AND CAST({quote_ident(c)} AS VARCHAR)"
                f" NOT IN ('true', 'false') THEN 1 ELSE 0 END) AS bad_{i}, "
                f"COUNT({quote_ident(c)}) AS n_{i}"
                for i, c in enumerate(text)
            )
            row = frame(f"SELECT {checks} FROM {self.table('profile_traits')}").iloc[0]
            keys += [c for i, c in enumerate(text) if row[f"n_{i}"] and not row[f"bad_{i}"]]
        self.keys = sorted(keys)
        return self.keys

    def trait_columns(self, traits: Sequence[str] | None) -> list[str]:
        if traits is not None:
            return [t for t in dict.fromkeys(traits) if t in self.columns]
        return [c for c in self.columns if c not in NOT_TRAITS and c not in self.keys]

    def _ctes(self, keys: Sequence[str], id_type: str) -> str:
        vals = "\n    UNION ALL\n    ".join(
            f"SELECT CAST({quote_literal(k)} AS VARCHAR) AS computation_key, "
            f"canonical_segment_id AS pid, "
            f"{value_case(f'CAST({quote_ident(k)} AS VARCHAR)')} AS value "
            f"FROM {self.table('profile_traits')} "
            f"WHERE merged_to IS NULL AND {quote_ident(k)} IS NOT NULL"
            for k in keys
        )
        return f"""WITH vals AS (
    {vals}
),
persons AS (
    {_persons(self.table("external_id_mapping"), id_type)}
)"""

    def summary_sql(self, keys: Sequence[str], *, id_type: str) -> str:
        """Per audience: members (people) and the counts the load report shows."""
        return f"""{self._ctes(keys, id_type)},
per_person AS (
    SELECT v.computation_key, p.person,
           MAX(CASE WHEN v.value THEN 1 ELSE 0 END) AS member
    FROM vals v JOIN persons p ON p.pid = v.pid
    WHERE v.value IS NOT NULL
    GROUP BY v.computation_key, p.person
),
profile_stats AS (
    SELECT computation_key, COUNT(*) AS audience_messages,
           SUM(CASE WHEN value IS NULL THEN 1 ELSE 0 END) AS unknown_values
    FROM vals GROUP BY computation_key
),
orphan_stats AS (
    SELECT computation_key, COUNT(*) AS no_id_people,
           SUM(CASE WHEN value THEN 1 ELSE 0 END) AS no_id_members
    FROM vals
    WHERE value IS NOT NULL AND pid NOT IN (SELECT pid FROM persons)
    GROUP BY computation_key
),
person_stats AS (
    SELECT computation_key, SUM(member) AS members, SUM(1 - member) AS latest_false
    FROM per_person GROUP BY computation_key
)
SELECT s.computation_key AS audience,
       CAST(COALESCE(m.members, 0) AS BIGINT) AS members,
       CAST(COALESCE(m.latest_false, 0) AS BIGINT) AS latest_false,
       CAST(s.audience_messages AS BIGINT) AS audience_messages,
       CAST(0 AS BIGINT) AS duplicates_dropped,
       CAST(s.unknown_values AS BIGINT) AS unknown_values,
       CAST(0 AS BIGINT) AS after_as_of,
       CAST(0 AS BIGINT) AS no_id_messages,
       CAST(COALESCE(o.no_id_people, 0) AS BIGINT) AS no_id_people,
       CAST(COALESCE(o.no_id_members, 0) AS BIGINT) AS no_id_members
FROM profile_stats s
LEFT JOIN person_stats m ON m.computation_key = s.computation_key
LEFT JOIN orphan_stats o ON o.computation_key = s.computation_key
ORDER BY s.computation_key"""

    def cohort_sql(self, key: str, *, id_type: str, traits: Sequence[str]) -> str:
        """Members of ``key`` with their profile's traits, one row per person."""
        picks = "".join(f", tr.{quote_ident(c)}" for c in traits)
        return f"""{self._ctes([key], id_type)},
chosen AS (
    SELECT p.person AS external_id, v.pid,
           ROW_NUMBER() OVER (PARTITION BY p.person ORDER BY v.pid) AS rn
    FROM vals v JOIN persons p ON p.pid = v.pid
    WHERE v.value
)
SELECT c.external_id{picks}
FROM chosen c LEFT JOIN {self.table("profile_traits")} tr ON tr.canonical_segment_id = c.pid
WHERE c.rn = 1
ORDER BY c.external_id"""
