"""onesig_nb: from a Segment cohort to a OneSignal push, safely, inside a notebook.

    import onesig_nb as osn
    cohort = osn.load_cohort("workspace/segment-logs", audience="cart_abandoners")
    msg = osn.Message(contents="Hi {{ first_name | default: 'there' }}")
    camp = osn.Campaign("cart-nudge", cohort, msg, osn.connect())
    camp.plan(); camp.send_test(["qa-1"]); camp.send(confirm=True)

Names are imported on first use (PEP 562), so ``import onesig_nb`` stays cheap in scripts and
the CLI. Widgets live in :mod:`onesig_nb.widgets` and are never imported from here.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AuthError",
    "Campaign",
    "CampaignResult",
    "Cohort",
    "ConfigError",
    "Experiment",
    "Message",
    "OneSigNbError",
    "OneSignal",
    "RateLimited",
    "Rules",
    "Sandbox",
    "TagSync",
    "TransportError",
    "ValidationError",
    "campaigns",
    "connect",
    "list_audiences",
    "load_cohort",
    "set_rules",
]

# name -> module that defines it
_LAZY = {
    "APIError": "onesig_nb.errors",
    "AuthError": "onesig_nb.errors",
    "ConfigError": "onesig_nb.errors",
    "OneSigNbError": "onesig_nb.errors",
    "RateLimited": "onesig_nb.errors",
    "TransportError": "onesig_nb.errors",
    "ValidationError": "onesig_nb.errors",
    "Sandbox": "onesig_nb.sandbox",
    "OneSignal": "onesig_nb.onesignal",
    "Cohort": "onesig_nb.cohort",
    "load_cohort": "onesig_nb.cohort",
    "list_audiences": "onesig_nb.cohort",
    "Message": "onesig_nb.message",
    "Campaign": "onesig_nb.campaign",
    "CampaignResult": "onesig_nb.campaign",
    "Experiment": "onesig_nb.campaign",
    "TagSync": "onesig_nb.campaign",
    "campaigns": "onesig_nb.campaign",
    "Rules": "onesig_nb.campaign",
    "set_rules": "onesig_nb.campaign",
}

logging.getLogger(__name__).addHandler(logging.NullHandler())

# In a notebook, our errors show as their plain message, not under our internal frames.
from onesig_nb._display import register as _register_display  # noqa: E402

_register_display()

# Imported now, not lazily: the module ``onesig_nb.connect`` and the function ``osn.connect``
# share a name, and whichever binding comes last wins. Importing here (the module only needs
# the standard library at import time) leaves ``osn.connect`` the function for good.
from onesig_nb.connect import connect  # noqa: E402


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'onesig_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for editors and type checkers only
    from onesig_nb.campaign import (
        Campaign,
        CampaignResult,
        Experiment,
        Rules,
        TagSync,
        campaigns,
        set_rules,
    )
    from onesig_nb.cohort import Cohort, list_audiences, load_cohort
    from onesig_nb.errors import (
        APIError,
        AuthError,
        ConfigError,
        OneSigNbError,
        RateLimited,
        TransportError,
        ValidationError,
    )
    from onesig_nb.message import Message
    from onesig_nb.onesignal import OneSignal
    from onesig_nb.sandbox import Sandbox
