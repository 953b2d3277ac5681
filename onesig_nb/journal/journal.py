"""The SQLite journal that makes campaign sends exactly-once across restarts.

Every batch of a campaign is written here with its deterministic idempotency key *before* its
request goes out (state ``intent``) and its outcome *after* the answer came back (``done`` or
``failed``, plus one row per recipient). A kernel that dies between the two leaves an ``intent``
row; the next ``send()`` re-sends exactly that batch with exactly that key, and OneSignal (or the
sandbox) answers with the original result instead of pushing twice.

The journal also remembers, per app and user, the tag values a :class:`~onesig_nb.TagSync` last
wrote, so an unchanged re-run sends nothing.

Schema versions are stored in ``PRAGMA user_version``; a file written by a newer onesig_nb, or a
file that is not a journal at all, is refused with a :class:`~onesig_nb.errors.JournalError`
that says what to do. The API key is never written here: callers redact error texts first.

The file's schema, opening and error translation live in :mod:`.journal_store`, the campaign
records (runs, batches, recipients) in :mod:`.journal_runs` and the tag-sync state in
:mod:`.journal_tags`; :class:`Journal` combines them, and every name is importable from here.
"""

from __future__ import annotations

import logging
import os

from onesig_nb.journal.runs import Batch, RunRecords
from onesig_nb.journal.store import BUSY_TIMEOUT_SECONDS, SCHEMA_VERSION
from onesig_nb.journal.tags import TagSyncState

__all__ = ["BUSY_TIMEOUT_SECONDS", "SCHEMA_VERSION", "Batch", "Journal", "open_journal"]

log = logging.getLogger("onesig_nb.journal.journal")


class Journal(RunRecords, TagSyncState):
    """A campaign journal in one SQLite file (WAL mode, safe against a killed process).

    :param path: the file; created with its folder when missing
    :param timeout: seconds a write waits while another process holds the journal

    >>> with Journal("campaigns.sqlite") as j:  # doctest: +SKIP
    ...     j.runs()
    """


def open_journal(journal: Journal | str | os.PathLike) -> Journal:
    """Return ``journal`` itself when it is already open, else open the file it names."""
    return journal if isinstance(journal, Journal) else Journal(journal)
