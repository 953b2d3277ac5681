"""The SQLite journal that makes campaign sends exactly-once across restarts.

Every batch of a campaign is written here with its deterministic idempotency key *before* its
request goes out (state ``intent``) and its outcome *after* the answer came back (``done`` or
``failed``, plus one row per recipient). A kernel that dies between the two leaves an ``intent``
row; the next ``send()`` re-sends exactly that batch with exactly that key, and OneSignal (or the
sandbox) answers with the original result instead of pushing twice.

The journal also remembers, per app and user, the tag values a :class:`~onesig_nb.TagSync` last
wrote, so an unchanged re-run sends nothing, and who OneSignal can reach (:mod:`.reach`), so a
campaign's plan knows it before anything goes out.

Schema versions are stored in ``PRAGMA user_version``; a file written by a newer onesig_nb, or a
file that is not a journal at all, is refused with a :class:`~onesig_nb.errors.JournalError`
that says what to do. The API key is never written here: callers redact error texts first.

The journal of an app is also the ledger of its sending rules (:mod:`.ledger`): every push
planned for a person, from any campaign, with when it may reach them.

:class:`Journal` owns one :class:`~.store.JournalStore` (the file) and gives it to its two parts,
:class:`~.runs.RunRecords` (campaigns, batches, recipients) and :class:`~.tags.TagSyncState`
(tag-sync state); each public method of the journal is one of theirs, listed below.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from onesig_nb.journal.ledger import DeliveryLedger
from onesig_nb.journal.reach import ReachabilityCache
from onesig_nb.journal.runs import Batch, RunRecords
from onesig_nb.journal.store import BUSY_TIMEOUT_SECONDS, SCHEMA_VERSION, JournalStore
from onesig_nb.journal.tags import TagSyncState

__all__ = ["BUSY_TIMEOUT_SECONDS", "SCHEMA_VERSION", "Batch", "Journal", "open_journal"]


def _of(part: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """A :class:`Journal` method that runs ``method`` on the journal's ``part``.

    It keeps the name, docstring and signature of ``method`` (``help(journal.run)`` shows them),
    so each method is written and documented once, in the part that owns its tables.
    """
    name = method.__name__

    @functools.wraps(method)
    def delegate(self: Journal, *args: Any, **kwargs: Any) -> Any:
        return getattr(getattr(self, part), name)(*args, **kwargs)

    return delegate


class Journal:
    """A campaign journal in one SQLite file (WAL mode, safe against a killed process).

    :param path: the file; created with its folder when missing
    :param timeout: seconds a write waits while another process holds the journal

    >>> with Journal("campaigns.sqlite") as j:  # doctest: +SKIP
    ...     j.runs()
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = BUSY_TIMEOUT_SECONDS):
        #: the open file (schema, transactions, queries)
        self.store = JournalStore(path, timeout=timeout)
        self._records = RunRecords(self.store)
        self._tags = TagSyncState(self.store)
        self._reach = ReachabilityCache(self.store)
        self._ledger = DeliveryLedger(self.store)

    @property
    def path(self) -> Path:
        """The journal file."""
        return self.store.path

    @property
    def timeout(self) -> float:
        """Seconds a write waits while another process holds the journal."""
        return self.store.timeout

    def close(self) -> None:
        """Close the file (an open journal keeps a SQLite connection)."""
        self.store.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- campaigns and tag syncs: runs, batches, recipients (.runs) -----------------------------
    run = _of("_records", RunRecords.run)
    create_run = _of("_records", RunRecords.create_run)
    update_run = _of("_records", RunRecords.update_run)
    runs = _of("_records", RunRecords.runs)
    add_batches = _of("_records", RunRecords.add_batches)
    next_seq = _of("_records", RunRecords.next_seq)
    batches = _of("_records", RunRecords.batches)
    mark_attempt = _of("_records", RunRecords.mark_attempt)
    record_outcome = _of("_records", RunRecords.record_outcome)
    recipients = _of("_records", RunRecords.recipients)
    targeted_ids = _of("_records", RunRecords.targeted_ids)
    cancel_batches = _of("_records", RunRecords.cancel_batches)
    drop_unsent = _of("_records", RunRecords.drop_unsent)

    # -- every push planned per person, for the frequency cap (.ledger) ------------------------
    deliveries = _of("_ledger", DeliveryLedger.deliveries)

    # -- tag syncs: last written values, tag-edit intents and outcomes (.tags) ------------------
    tag_state = _of("_tags", TagSyncState.tag_state)
    tag_writes = _of("_tags", TagSyncState.tag_writes)
    tag_state_version = _of("_tags", TagSyncState.tag_state_version)
    add_tag_intents = _of("_tags", TagSyncState.add_tag_intents)
    record_tag_results = _of("_tags", TagSyncState.record_tag_results)
    tag_edits = _of("_tags", TagSyncState.tag_edits)

    # -- who OneSignal can reach, per app, with when it was checked (.reach) --------------------
    save_reach_export = _of("_reach", ReachabilityCache.save_reach_export)
    save_reach_lookups = _of("_reach", ReachabilityCache.save_reach_lookups)
    reach_export = _of("_reach", ReachabilityCache.reach_export)
    reach_records = _of("_reach", ReachabilityCache.reach_records)
    reach_hints = _of("_reach", ReachabilityCache.reach_hints)
    reach_version = _of("_reach", ReachabilityCache.reach_version)


def open_journal(journal: Journal | str | os.PathLike) -> Journal:
    """Return ``journal`` itself when it is already open, else open the file it names."""
    return journal if isinstance(journal, Journal) else Journal(journal)
