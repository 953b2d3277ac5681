"""The SQLite journal: the ledger that makes sends exactly-once across restarts.

:mod:`.store` opens the file and owns its schema; :mod:`.runs` records campaigns, batches and
recipients; :mod:`.tags` remembers the tag values a TagSync last wrote. :class:`Journal` is the
one object callers hold.
"""

from onesig_nb.journal.journal import Batch, Journal, open_journal
from onesig_nb.journal.store import BUSY_TIMEOUT_SECONDS, SCHEMA_VERSION

__all__ = ["BUSY_TIMEOUT_SECONDS", "SCHEMA_VERSION", "Batch", "Journal", "open_journal"]
