"""``connect()``: a ready client from the environment, or a local sandbox when there is no key.

Credentials come from ``ONESIGNAL_APP_ID`` / ``ONESIGNAL_REST_API_KEY`` / ``ONESIGNAL_API_BASE`` /
``ONESIGNAL_API`` in the environment or a ``.env`` file (:func:`onesig_nb.config.load_credentials`).
With no key, a :class:`~onesig_nb.sandbox.Sandbox` is started (seeded from the sample workspace
when one is configured) and the client points at it; one line says so. When the configured base
URL is a sandbox already running on this machine, ``client.sandbox`` is a handle to it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import requests

from ..config import ENV_KEY, ENV_WORKSPACE, load_credentials
from .client import OneSignal, _is_loopback

__all__ = ["connect"]

log = logging.getLogger("onesig_nb.onesignal")

#: Admin route every sandbox answers (with its key); used to recognise one at a base URL.
SANDBOX_INFO_ROUTE = "/_sandbox/info"


def connect(
    *, api: str | None = None, workspace: str | os.PathLike | None = None, **options: Any
) -> OneSignal:
    """A client from the environment / ``.env``, or one bound to a fresh local sandbox.

    :param api: ``"current"`` or ``"legacy"`` (default: ``$ONESIGNAL_API``, else current)
    :param workspace: sample workspace whose OneSignal roster seeds a new sandbox
        (default ``$ONESIG_NB_WORKSPACE``; ignored when it does not exist)
    :param options: passed on to :class:`OneSignal` (``timeout``, ``max_workers``, ...)
    """
    creds = load_credentials()
    if creds is None:
        return _sandbox_client(
            api=api or os.environ.get("ONESIGNAL_API") or "current",
            workspace=workspace,
            options=options,
        )
    client = OneSignal(
        creds.app_id,
        creds.api_key,
        base_url=creds.base_url,
        api=api or creds.api,
        **options,
    )
    if creds.base_url and _is_loopback(creds.base_url):
        client.sandbox = _attach(creds.base_url, creds.app_id, creds.api_key)
    return client


def _sandbox_client(*, api: str, workspace: Any, options: dict[str, Any]) -> OneSignal:
    from ..sandbox import Sandbox

    sandbox = Sandbox()
    seeded = ""
    ws = workspace or os.environ.get(ENV_WORKSPACE)
    if ws and Path(ws).is_dir():
        from ..samples import load_roster

        count = sandbox.add_users(load_roster(ws))
        seeded = f", seeded with {count:,} users from {ws}"
    client = OneSignal(sandbox.app_id, sandbox.api_key, base_url=sandbox.url, api=api, **options)
    client.sandbox = sandbox
    client._owned_sandbox = sandbox
    line = (
        f"No {ENV_KEY} set: using a local OneSignal sandbox at {sandbox.url}{seeded}. "
        "Nothing reaches real users."
    )
    log.info(line)
    print(line)  # the one line a notebook user sees; connect() is a notebook entry point
    return client


def _attach(url: str, app_id: str, api_key: str) -> Any:
    """A handle to the sandbox at ``url``, or None when no sandbox answers there."""
    try:
        resp = requests.get(
            url.rstrip("/") + SANDBOX_INFO_ROUTE,
            headers={"Authorization": f"Key {api_key}"},
            timeout=2,
        )
        info = resp.json() if resp.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None
    if not isinstance(info, dict) or info.get("app_id") != app_id:
        return None
    from ..sandbox import Sandbox

    log.info("Attached to the running sandbox at %s", url)
    return Sandbox.attach(url, app_id, api_key)
