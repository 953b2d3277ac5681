"""Notebook UIs: thin ipywidgets over the pure functions of onesig_nb.

    from onesig_nb.widgets import MessagePreview, MessageComposer, SendPanel

Never imported by ``onesig_nb`` itself, so scripts and the CLI do not need a frontend.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ExperimentPanel", "MessageComposer", "MessagePreview", "SendPanel"]

_LAZY = {
    "ExperimentPanel": "onesig_nb.widgets.experiment",
    "MessagePreview": "onesig_nb.widgets.preview",
    "MessageComposer": "onesig_nb.widgets.composer",
    "SendPanel": "onesig_nb.widgets.send_panel",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'onesig_nb.widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
