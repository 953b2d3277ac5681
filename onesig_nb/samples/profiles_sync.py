"""Segment Profiles Sync tables in the sample warehouse: merged identities and profile traits.

Profiles Sync (Unify) lands, in a schema of its own, the identity graph and each profile's traits
(segment-docs src/unify/profiles-sync/tables.md; segment-data.md section 4.2). The three
materialized tables written here, in the schema ``profiles_sync`` of ``warehouse.duckdb``:

- ``id_graph(segment_id, canonical_segment_id, timestamp)``: where each profile id points now;
- ``external_id_mapping(canonical_segment_id, external_id_type, external_id_value, timestamp)``:
  every ``user_id``, ``anonymous_id`` and ``email`` seen, mapped to its merged profile;
- ``profile_traits(canonical_segment_id, <one column per trait and audience>, merged_to)``: the
  last non-null value of each identify trait, each audience's current value (from the
  generator's membership model, as Segment's profile holds it), and, for a profile merged away,
  only ``merged_to``.

Identity model: a person's first anonymousId started their profile; each later anonymousId (a
new device) started a profile of its own that was merged into the first when the person was
recognised. Profile ids are ``use_`` + 27 base-62 characters derived from the anonymousId (no
random stream is drawn, so every other file keeps its bytes).
"""

from __future__ import annotations

from pathlib import Path

from onesig_nb.samples.ids import b62_digest
from onesig_nb.samples.membership import is_member
from onesig_nb.samples.world import ALL_KEYS, JOURNEY_KEY, TRAIT_COLUMNS

SCHEMA = "profiles_sync"
TABLES = ("id_graph", "external_id_mapping", "profile_traits")


def profile_id(anonymous_id: str) -> str:
    """The Segment profile id (``use_...``, segment-data.md section 1.5) an anonymousId started."""
    return "use_" + b62_digest(f"onesig_nb profile {anonymous_id}", 27)


def write_profiles_sync(path: Path, people: dict, timelines: list) -> None:
    """Add the Profiles Sync tables to the DuckDB warehouse at ``path``."""
    import duckdb
    import pyarrow as pa

    graph, ids, merged = [], [], []
    for p in range(people["n"]):
        anon = people["anon"][p]
        canonical = profile_id(anon[0])
        for a in anon:
            graph.append((profile_id(a), canonical, a))
            ids.append((canonical, "anonymous_id", a))
            if a != anon[0]:
                merged.append((profile_id(a), canonical))
        if people["user_ids"][p]:
            ids.append((canonical, "user_id", people["user_ids"][p]))
        ids.extend((canonical, "email", e) for e in people["emails"][p])
    values: dict[str, dict[str, object]] = {}
    for p, key, steps in timelines:
        if steps:
            value = is_member(steps)
            text = ("true" if value else "false") if key == JOURNEY_KEY else value
            values.setdefault(profile_id(people["anon"][p][0]), {})[key] = text
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        graph_t = pa.table({"segment_id": [g[0] for g in graph],  # noqa: F841 - read by SQL
                            "canonical_segment_id": [g[1] for g in graph],
                            "anonymous_id": [g[2] for g in graph]})  # fmt: skip
        ids_t = pa.table({"canonical_segment_id": [i[0] for i in ids],  # noqa: F841
                          "external_id_type": [i[1] for i in ids],
                          "external_id_value": [i[2] for i in ids]})  # fmt: skip
        key_cols = {k: [values.get(g[0], {}).get(k) for g in graph] for k in ALL_KEYS}
        keys_t = pa.table({"canonical_segment_id": [g[0] for g in graph], **{  # noqa: F841
            k: pa.array(v, pa.string() if k == JOURNEY_KEY else pa.bool_())
            for k, v in key_cols.items()}})  # fmt: skip
        merged_t = pa.table({"segment_id": [m[0] for m in merged],  # noqa: F841
                             "merged_to": [m[1] for m in merged]})  # fmt: skip
        # when each id was first seen, from the event tables
        con.execute(
            "CREATE TEMP TABLE first_seen AS SELECT t, v, min(ts) AS ts FROM ("
            + " UNION ALL ".join(
                f"SELECT 'anonymous_id' AS t, anonymous_id AS v, \"timestamp\" AS ts FROM {t} "
                f"UNION ALL SELECT 'user_id', user_id, \"timestamp\" FROM {t}"
                for t in ("identifies", "tracks", "pages")
            )
            + " UNION ALL SELECT 'email', email, \"timestamp\" FROM identifies"
            + ") WHERE v IS NOT NULL GROUP BY t, v"
        )
        con.execute(
            f"""CREATE TABLE {SCHEMA}.external_id_mapping AS
            SELECT i.canonical_segment_id, i.external_id_type, i.external_id_value,
                   f.ts AS "timestamp"
            FROM ids_t i LEFT JOIN first_seen f
              ON f.t = i.external_id_type AND f.v = i.external_id_value
            ORDER BY 1, 2, 3"""
        )
        con.execute(
            f"""CREATE TABLE {SCHEMA}.id_graph AS
            SELECT g.segment_id, g.canonical_segment_id, f.ts AS "timestamp"
            FROM graph_t g
            LEFT JOIN first_seen f ON f.t = 'anonymous_id' AND f.v = g.anonymous_id
            ORDER BY 1"""
        )
        latest = ", ".join(
            f'arg_max(d."{c}", struct_pack(t := d."timestamp", r := d.received_at)) '
            f'FILTER (WHERE d."{c}" IS NOT NULL) AS "{c}"'
            for c in TRAIT_COLUMNS
        )
        keys = ", ".join(f'k."{k}"' for k in ALL_KEYS)
        con.execute(
            f"""CREATE TABLE {SCHEMA}.profile_traits AS
            WITH owner AS (
                SELECT external_id_type AS t, external_id_value AS v, canonical_segment_id AS c
                FROM ids_t WHERE external_id_type IN ('user_id', 'anonymous_id')
            ),
            traits AS (
                SELECT o.c AS canonical_segment_id, {latest}
                FROM identifies d JOIN owner o
                  ON o.t = CASE WHEN d.user_id IS NULL THEN 'anonymous_id' ELSE 'user_id' END
                 AND o.v = COALESCE(d.user_id, d.anonymous_id)
                GROUP BY o.c
            )
            SELECT k.canonical_segment_id, {", ".join(f'tr."{c}"' for c in TRAIT_COLUMNS)},
                   {keys}, m.merged_to
            FROM keys_t k
            LEFT JOIN traits tr ON tr.canonical_segment_id = k.canonical_segment_id
            LEFT JOIN merged_t m ON m.segment_id = k.canonical_segment_id
            ORDER BY 1"""
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
