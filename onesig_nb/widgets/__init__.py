"""Notebook UIs: thin ipywidgets over the pure functions of onesig_nb.

    from onesig_nb.widgets import MessagePreview, MessageComposer, SendPanel

Never imported by ``onesig_nb`` itself, so scripts and the CLI do not need a frontend; importing
this package means you want the panels, so it imports them all.
"""

from __future__ import annotations

from onesig_nb.widgets.composer import MessageComposer
from onesig_nb.widgets.experiment import ExperimentPanel
from onesig_nb.widgets.preview import MessagePreview
from onesig_nb.widgets.send_panel import SendPanel

__all__ = ["ExperimentPanel", "MessageComposer", "MessagePreview", "SendPanel"]
