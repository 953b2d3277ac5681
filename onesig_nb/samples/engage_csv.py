"""The Engage CSV writer: "Download CSV" audience snapshots, formatted and unformatted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from onesig_nb.samples.formats import JSON_OPTS, csv_bytes
from onesig_nb.samples.world import CSV_AUDIENCES, TRAIT_COLUMNS


def _cell(v: Any) -> str:
    return "" if v is None else (repr(v) if isinstance(v, float) else str(v))


def write_engage_csvs(ws: Path, people, members: dict[str, list[int]]) -> None:
    """Engage "Download CSV" snapshots (final membership) in the formatted and unformatted styles."""
    (ws / "engage-csv").mkdir()
    traits_cols = [c for c in TRAIT_COLUMNS if c != "email"]
    for key in CSV_AUDIENCES:
        profiles = members[key]
        n_anon = max((len(people["anon"][p]) for p in profiles), default=1)
        n_mail = max((len(people["emails"][p]) for p in profiles), default=1)
        idx = lambda name, k: [name] + [f"{name}_{i}" for i in range(1, k)]  # noqa: E731
        header = ["key", "user_id", *idx("anonymous_id", n_anon), *idx("email", n_mail)]
        formatted, unformatted = [], []
        for p in profiles:
            anon, mails, tr = people["anon"][p], people["emails"][p], people["traits"][p]
            uid = people["user_ids"][p]
            row = [f"segment_id_{p + 1}", uid or ""]
            row += [anon[i] if i < len(anon) else "" for i in range(n_anon)]
            row += [mails[i] if i < len(mails) else "" for i in range(n_mail)]
            formatted.append(row + [_cell(tr.get(c)) for c in traits_cols])
            ext = {"anonymous_id": anon, "email": mails, "user_id": [uid] if uid else []}
            ext = {k: v for k, v in ext.items() if v}
            unformatted.append([f"segment_id_{p + 1}", orjson.dumps(ext, option=JSON_OPTS).decode(),
                                orjson.dumps(tr, option=JSON_OPTS).decode()])  # fmt: skip
        out = ws / "engage-csv"
        (out / f"{key}-formatted.csv").write_bytes(csv_bytes(header + traits_cols, formatted))
        (out / f"{key}-unformatted.csv").write_bytes(
            csv_bytes(["key", "external_ids", "traits"], unformatted)
        )
