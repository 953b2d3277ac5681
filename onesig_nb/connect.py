"""``connect()``: a ready client from the environment, or a local sandbox when there is no key.

Credentials come from ``ONESIGNAL_APP_ID`` / ``ONESIGNAL_REST_API_KEY`` / ``ONESIGNAL_API_BASE`` /
``ONESIGNAL_API`` in the environment or a ``.env`` file (:func:`onesig_nb.config.load_credentials`).
With no key, a :class:`~onesig_nb.sandbox.Sandbox` is started (seeded by :func:`seed_sandbox`:
the sample workspace's roster when one is configured, plus the QA phone ``"qa-you"``) and the
client points at it; one line says so. When the configured base
URL is a sandbox already running on this machine, ``client.sandbox`` is a handle to it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onesig_nb.config import ENV_KEY, ENV_WORKSPACE, load_credentials

if TYPE_CHECKING:  # the client (aiohttp, requests) loads on the first connect(), not on import
    from onesig_nb.onesignal import OneSignal

__all__ = ["SANDBOX_TEST_USER", "connect", "seed_sandbox"]

log = logging.getLogger("onesig_nb.onesignal")

#: External id of the pretend QA phone (iOS, subscribed) every seeded sandbox has, so
#: ``campaign.send_test([SANDBOX_TEST_USER])`` works out of the box in a rehearsal.
#: It is not in the sample roster, so it never shows up in a cohort.
SANDBOX_TEST_USER = "qa-you"

#: Admin route every sandbox answers (with its key); used to recognise one at a base URL.
SANDBOX_INFO_ROUTE = "/_sandbox/info"

#: The pretend QA phone :func:`seed_sandbox` registers (one iOS push subscription, no tags).
SANDBOX_TEST_DEVICE = {
    "external_id": SANDBOX_TEST_USER,
    "platform": "ios",
    "subscribed": True,
    "tags": {},
}


def connect(
    *, api: str | None = None, workspace: str | os.PathLike | None = None, **options: Any
) -> OneSignal:
    """A client from the environment / ``.env``, or one bound to a fresh local sandbox.

    :param api: ``"current"`` or ``"legacy"`` (default: ``$ONESIGNAL_API``, else current)
    :param workspace: sample workspace whose OneSignal roster seeds a new sandbox
        (default ``$ONESIG_NB_WORKSPACE``; ignored when it does not exist)
    :param options: passed on to :class:`OneSignal` (``timeout``, ``max_workers``, ...)
    """
    from onesig_nb.onesignal.client import OneSignal
    from onesig_nb.onesignal.transport import is_loopback

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
    if creds.base_url and is_loopback(creds.base_url):
        client.sandbox = _attach(creds.base_url, creds.app_id, creds.api_key)
    return client


def seed_sandbox(sandbox: Any, workspace: str | os.PathLike | None = None) -> dict[str, int]:
    """Make a sandbox ready for rehearsals; safe to call again (it adds nothing twice).

    Adds the workspace's OneSignal roster when the sandbox has no users yet (besides the QA
    phone) and ``workspace`` is an existing folder, and the QA phone
    :data:`SANDBOX_TEST_USER` (iOS, subscribed) when it is missing, so
    ``campaign.send_test([SANDBOX_TEST_USER])`` works. Returns the records added:
    ``{"roster": n, "test_user": 0 or 1}``. Used by :func:`connect` and ``onesig-nb lab``.
    """
    ids = set(sandbox.users()["external_id"])
    added = {"roster": 0, "test_user": 0}
    if workspace is not None and Path(workspace).is_dir() and not ids - {SANDBOX_TEST_USER}:
        from onesig_nb.samples import load_roster

        added["roster"] = sandbox.add_users(load_roster(workspace))
        log.info("sandbox seeded with %s users from %s", added["roster"], workspace)
    if SANDBOX_TEST_USER not in ids:
        added["test_user"] = sandbox.add_users([SANDBOX_TEST_DEVICE])
    return added


def _sandbox_client(*, api: str, workspace: Any, options: dict[str, Any]) -> OneSignal:
    from onesig_nb.onesignal.client import OneSignal
    from onesig_nb.sandbox import Sandbox

    sandbox = Sandbox()
    try:
        ws = workspace or os.environ.get(ENV_WORKSPACE)
        added = seed_sandbox(sandbox, ws)
        client = OneSignal(
            sandbox.app_id, sandbox.api_key, base_url=sandbox.url, api=api, **options
        )
    except BaseException:
        sandbox.stop()
        raise
    client.adopt_sandbox(sandbox)
    seeded = f", seeded with {added['roster']:,} users from {ws}" if added["roster"] else ""
    line = (
        f"No {ENV_KEY} set: using a local OneSignal sandbox at {sandbox.url}{seeded} and a "
        f"test phone {SANDBOX_TEST_USER!r} for send_test(). Nothing reaches real users."
    )
    log.info(line)
    print(line)  # the one line a notebook user sees; connect() is a notebook entry point
    return client


def _attach(url: str, app_id: str, api_key: str) -> Any:
    """A handle to the sandbox at ``url``, or None when no sandbox answers there."""
    import requests

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
    from onesig_nb.sandbox import Sandbox

    log.info("Attached to the running sandbox at %s", url)
    return Sandbox.attach(url, app_id, api_key)
