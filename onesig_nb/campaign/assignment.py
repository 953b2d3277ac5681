"""Who is in which arm of an experiment: a deterministic rule, and the journal's memory of it.

The rule hashes the experiment's name with a person's external id (SHA-256, so the same on every
machine and Python, unlike ``hash()``) into two independent uniform numbers: the first picks the
holdout or a variant by the weights, the second whether the person is in phase one (the test) or
waits for the winner (``rest``). A person's arm depends on nothing else, so re-running gives the
same split and a grown cohort keeps everyone where they were.

The journal records each person's arm the first time they are planned, in the experiment's own
tables next to the campaign tables (same SQLite file, created here with ``CREATE TABLE IF NOT
EXISTS``, written through the journal's public :class:`~onesig_nb.journal.store.JournalStore`).
What is recorded wins over the rule: once phase one has gone out, newcomers the rule would put
in a variant join ``rest`` instead, so phase one's arms stay exactly the people measured.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from onesig_nb.journal import Journal
from onesig_nb.journal.store import dumps_json, utc_now

__all__ = [
    "HOLDOUT",
    "REST",
    "RESERVED_ARMS",
    "ExperimentRecords",
    "assign",
    "unit_draws",
]

#: The arm that is journaled as held out and never sent.
HOLDOUT = "holdout"
#: The people who wait for the winner (phase two) when ``test_fraction`` is set.
REST = "rest"
RESERVED_ARMS = (HOLDOUT, REST)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    name TEXT PRIMARY KEY,
    settings TEXT NOT NULL,              -- variants, weights, holdout, test_fraction (JSON)
    winner TEXT,                         -- the arm send_winner() sends to the rest, once chosen
    winner_reason TEXT,
    winner_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS experiment_people (
    experiment TEXT NOT NULL,
    external_id TEXT NOT NULL,
    arm TEXT NOT NULL,                   -- a variant, 'holdout' or 'rest'
    assigned_at TEXT NOT NULL,
    held_at TEXT,                        -- holdout only: when their arms went out without them
    PRIMARY KEY (experiment, external_id)
);
"""

_SCALE = float(2**64)


def unit_draws(name: str, external_id: str) -> tuple[float, float]:
    """Two independent numbers in [0, 1) for this person in this experiment: (arm, phase)."""
    digest = hashlib.sha256(f"{name}\x1f{external_id}".encode()).digest()
    return (
        int.from_bytes(digest[:8], "big") / _SCALE,
        int.from_bytes(digest[8:16], "big") / _SCALE,
    )


def assign(
    name: str,
    ids: Iterable[str],
    *,
    weights: Mapping[str, float],
    holdout: float,
    test_fraction: float | None,
    phase_one_open: bool = True,
) -> dict[str, str]:
    """``{external_id: arm}`` by the rule (``weights``: variant -> share, summing to 1).

    :param phase_one_open: False once phase one was sent: newcomers then never join a variant
        arm (they are in ``rest`` with ``test_fraction``, or still in their variant without it,
        where there is no phase two and sending again extends their arm)
    """
    arms = list(weights)
    edges, total = [], 0.0
    for arm in arms:
        total += float(weights[arm])
        edges.append(total)
    out: dict[str, str] = {}
    for eid in ids:
        u, v = unit_draws(name, eid)
        if u < holdout:
            out[eid] = HOLDOUT
            continue
        if test_fraction is not None and (v >= test_fraction or not phase_one_open):
            out[eid] = REST
            continue
        x = (u - holdout) / (1 - holdout) * total
        out[eid] = next((a for a, e in zip(arms, edges, strict=True) if x < e), arms[-1])
    return out


@dataclass(frozen=True)
class ExperimentRecords:
    """An experiment's rows in the journal file: its settings, winner and people's arms."""

    journal: Journal
    name: str

    def __post_init__(self) -> None:
        with self.journal.store.transaction() as c:
            for statement in _statements():
                c.execute(statement)

    # -- the experiment ---------------------------------------------------------------------
    def settings(self) -> dict | None:
        rows = self.journal.store.query(
            "SELECT settings FROM experiments WHERE name=?", (self.name,)
        )
        return json.loads(rows[0]["settings"]) if rows else None

    def save_settings(self, settings: dict) -> None:
        with self.journal.store.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO experiments(name, settings, created_at) VALUES (?,?,?)",
                (self.name, dumps_json(settings), utc_now()),
            )

    def winner(self) -> tuple[str, str] | None:
        """(arm, why) once send_winner() chose one, else None."""
        rows = self.journal.store.query(
            "SELECT winner, winner_reason FROM experiments WHERE name=?", (self.name,)
        )
        if not rows or rows[0]["winner"] is None:
            return None
        return rows[0]["winner"], rows[0]["winner_reason"] or ""

    def choose_winner(self, arm: str, reason: str) -> tuple[str, str]:
        """Record ``arm`` as the winner unless one is recorded already; return the recorded one."""
        with self.journal.store.transaction() as c:
            c.execute(
                "UPDATE experiments SET winner=?, winner_reason=?, winner_at=? "
                "WHERE name=? AND winner IS NULL",
                (arm, reason, utc_now(), self.name),
            )
        recorded = self.winner()
        assert recorded is not None  # the row exists: save_settings ran first
        return recorded

    # -- people -----------------------------------------------------------------------------
    def arms(self) -> dict[str, str]:
        """``{external_id: arm}`` as recorded."""
        rows = self.journal.store.rows(
            "SELECT external_id, arm FROM experiment_people WHERE experiment=?", (self.name,)
        )
        return dict(rows)

    def assigned_at(self) -> dict[str, str]:
        """``{external_id: when their arm was recorded}`` (ISO, UTC)."""
        rows = self.journal.store.rows(
            "SELECT external_id, assigned_at FROM experiment_people WHERE experiment=?",
            (self.name,),
        )
        return dict(rows)

    def record(self, arms: Mapping[str, str]) -> None:
        """Record newcomers' arms; people already recorded keep theirs."""
        now = utc_now()
        with self.journal.store.transaction() as c:
            c.executemany(
                "INSERT OR IGNORE INTO experiment_people(experiment, external_id, arm, "
                "assigned_at) VALUES (?,?,?,?)",
                [(self.name, eid, arm, now) for eid, arm in arms.items()],
            )

    def hold(self, ids: Iterable[str]) -> None:
        """Journal these holdout people as held out now (once: the first time counts)."""
        now = utc_now()
        with self.journal.store.transaction() as c:
            c.executemany(
                "UPDATE experiment_people SET held_at=? WHERE experiment=? AND external_id=? "
                "AND arm=? AND held_at IS NULL",
                [(now, self.name, eid, HOLDOUT) for eid in ids],
            )

    def held(self) -> dict[str, str]:
        """``{external_id: held_at}`` of the holdout people journaled as held out."""
        rows = self.journal.store.rows(
            "SELECT external_id, held_at FROM experiment_people WHERE experiment=? AND arm=? "
            "AND held_at IS NOT NULL",
            (self.name, HOLDOUT),
        )
        return dict(rows)


def _statements() -> list[str]:
    return [s.strip() for s in _SCHEMA.split(";") if s.strip()]
