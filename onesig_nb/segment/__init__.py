"""The Segment side: read archives, Engage CSVs, warehouses and frames; derive audience membership.

Public entry points are :func:`onesig_nb.load_cohort` and :func:`onesig_nb.list_audiences`;
this package holds :mod:`.sources` (which reader a source needs, and running it), one reader per
source kind (archives: :mod:`.listing` local or :mod:`.s3` files, parsed by :mod:`.archive`,
kept by the :mod:`.cache`, opened by :mod:`.archive_set`; :mod:`.engage_csv`; :mod:`.warehouse`
with :mod:`.profiles_sync`; :mod:`.frames`; :mod:`.spark` for Spark), the portable membership
SQL (:mod:`.membership`) and its translation to other dialects (:mod:`.dialects`), the latest
identify traits (:mod:`.traits`), how a trait becomes a OneSignal tag (:mod:`.tags`) and the
:class:`~onesig_nb.segment.report.LoadReport`.
"""

from onesig_nb.segment.report import LoadReport, Skipped

__all__ = ["LoadReport", "Skipped"]
