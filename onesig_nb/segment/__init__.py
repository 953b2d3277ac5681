"""The Segment side: read archives, Engage CSVs, warehouses and frames; derive audience membership.

Public entry points are :func:`onesig_nb.load_cohort` and :func:`onesig_nb.list_audiences`;
this package holds one reader per source kind (:mod:`.archive`, :mod:`.engage_csv`,
:mod:`.warehouse`, :mod:`.frames`), the portable membership SQL (:mod:`.membership`) and the
:class:`~onesig_nb.segment.report.LoadReport`.
"""

from onesig_nb.segment.report import LoadReport, Skipped

__all__ = ["LoadReport", "Skipped"]
