"""The warehouse writer: Segment warehouse tables in DuckDB, from the same messages as the archive."""

from __future__ import annotations

from pathlib import Path

from onesig_nb.samples.world import ALL_KEYS, JOURNEY_KEY, TRAIT_COLUMNS

_BASE_COLS = (
    ("id", "VARCHAR"), ("anonymous_id", "VARCHAR"), ("user_id", "VARCHAR"),
    ("received_at", "TIMESTAMP"), ("sent_at", "TIMESTAMP"), ("timestamp", "TIMESTAMP"),
    ("original_timestamp", "TIMESTAMP"), ("context_library_name", "VARCHAR"),
    ("context_library_version", "VARCHAR"), ("context_ip", "VARCHAR"), ("context_locale", "VARCHAR"),
    ("context_page_path", "VARCHAR"), ("context_page_url", "VARCHAR"),
    ("context_user_agent", "VARCHAR"), ("context_traits_email", "VARCHAR"),
    ("context_personas_computation_class", "VARCHAR"), ("context_personas_computation_id", "VARCHAR"),
    ("context_personas_computation_key", "VARCHAR"), ("context_personas_namespace", "VARCHAR"),
    ("context_personas_space_id", "VARCHAR"),
)  # fmt: skip
_TRAIT_COLS = tuple((c, "DOUBLE" if c == "ltv" else "VARCHAR") for c in TRAIT_COLUMNS)
_KEY_COLS = tuple((k, "VARCHAR" if k == JOURNEY_KEY else "BOOLEAN") for k in ALL_KEYS)
_EVENT_COLS = (("event", "VARCHAR"), ("event_text", "VARCHAR"))
TABLES = {
    "identifies": _BASE_COLS + _TRAIT_COLS + _KEY_COLS,
    "tracks": _BASE_COLS + _EVENT_COLS,
    "pages": _BASE_COLS + (("name", "VARCHAR"), ("path", "VARCHAR"), ("referrer", "VARCHAR"),
                           ("search", "VARCHAR"), ("title", "VARCHAR"), ("url", "VARCHAR")),
    "audience_entered": _BASE_COLS + _EVENT_COLS + (("audience_key", "VARCHAR"),) + _KEY_COLS,
    "audience_exited": _BASE_COLS + _EVENT_COLS + (("audience_key", "VARCHAR"),) + _KEY_COLS,
}  # fmt: skip


class WarehouseWriter:
    """Collects flattened rows per table and loads them into DuckDB in chunks."""

    CHUNK = 100_000

    def __init__(self, path: Path):
        import duckdb

        self.con = duckdb.connect(str(path))
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
        for table, cols in TABLES.items():
            spec = ", ".join(f'"{c}" {t}' for c, t in cols)
            self.con.execute(f"CREATE TABLE {table} ({spec})")

    def add(self, msg: dict, times: tuple) -> None:
        """Flatten one message into its table(s); ``times`` = the four timestamp columns."""
        ctx = msg["context"]
        page, personas = ctx.get("page") or {}, ctx.get("personas") or {}
        base = (
            msg["messageId"], msg["anonymousId"], msg["userId"], *times,
            ctx["library"]["name"], ctx["library"]["version"], ctx.get("ip"), ctx.get("locale"),
            page.get("path"), page.get("url"), ctx.get("userAgent"),
            (ctx.get("traits") or {}).get("email"), personas.get("computation_class"),
            personas.get("computation_id"), personas.get("computation_key"),
            personas.get("namespace"), personas.get("space_id"),
        )  # fmt: skip
        kind = msg["type"]
        if kind == "identify":
            tr = msg["traits"]
            self._put("identifies", base + tuple(tr.get(c) for c, _ in _TRAIT_COLS + _KEY_COLS))
        elif kind == "page":
            pr = msg["properties"]
            self._put("pages", base + (msg["name"], pr["path"], pr["referrer"], pr["search"],
                                       pr["title"], pr["url"]))  # fmt: skip
        else:
            event = msg["event"]
            ev = (event.lower().replace(" ", "_"), event)
            self._put("tracks", base + ev)
            if event in ("Audience Entered", "Audience Exited"):
                pr = msg["properties"]
                row = base + ev + (pr["audience_key"],) + tuple(pr.get(k) for k in ALL_KEYS)
                self._put(
                    "audience_entered" if event == "Audience Entered" else "audience_exited", row
                )

    def _put(self, table: str, row: tuple) -> None:
        rows = self.rows[table]
        rows.append(row)
        if len(rows) >= self.CHUNK:
            self._flush(table)

    def _flush(self, table: str) -> None:
        import pyarrow as pa

        rows, cols = self.rows[table], TABLES[table]
        if not rows:
            return
        types = {"VARCHAR": pa.string(), "TIMESTAMP": pa.timestamp("ms"), "DOUBLE": pa.float64(),
                 "BOOLEAN": pa.bool_()}  # fmt: skip
        arrays = [
            pa.array(list(col), type=types[t])
            for col, (_, t) in zip(zip(*rows, strict=True), cols, strict=True)
        ]
        chunk = pa.Table.from_arrays(arrays, names=[c for c, _ in cols])  # noqa: F841
        self.con.execute(f"INSERT INTO {table} SELECT * FROM chunk")
        self.rows[table] = []

    def close(self) -> None:
        for table in TABLES:
            self._flush(table)
        # users: one row per user_id, each column = its latest non-null value (timestamp, then
        # receivedAt), like Segment's users table; anonymous-only profiles are absent.
        latest = ", ".join(
            f'arg_max("{c}", struct_pack(t := "timestamp", r := received_at)) '
            f'FILTER (WHERE "{c}" IS NOT NULL) AS "{c}"'
            for c, _ in _TRAIT_COLS + _KEY_COLS
        )
        self.con.execute(
            f"CREATE TABLE users AS SELECT user_id AS id, max(received_at) AS received_at, "
            f"{latest} FROM identifies WHERE user_id IS NOT NULL GROUP BY user_id ORDER BY id"
        )
        self.con.execute("CHECKPOINT")
        self.con.close()
