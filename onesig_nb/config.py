"""Credentials: where they come from, how they are hidden, which host they point at.

The API key lives in the environment or a ``.env`` file, never in a notebook. Everything that
prints or logs a key goes through :func:`mask` first.

Environment variables:

``ONESIGNAL_APP_ID``         the app's id (a UUID)
``ONESIGNAL_REST_API_KEY``   the app's REST API key
``ONESIGNAL_API_BASE``       optional base URL (the sandbox's URL, or a proxy); default: real host
``ONESIGNAL_API``            optional ``current`` (default) or ``legacy``
``ONESIG_NB_WORKSPACE``      optional folder of the sample Segment workspace (seeds the sandbox)
``ONESIG_NB_DOTENV``         optional path of the .env file to read (default ``./.env``)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from onesig_nb.errors import ConfigError

__all__ = [
    "APIS",
    "CURRENT_HOST",
    "LEGACY_HOST",
    "Credentials",
    "ENV_API",
    "ENV_APP_ID",
    "ENV_BASE",
    "ENV_DOTENV",
    "ENV_KEY",
    "ENV_WORKSPACE",
    "default_base_url",
    "load_credentials",
    "mask",
    "redact",
]

ENV_APP_ID = "ONESIGNAL_APP_ID"
ENV_KEY = "ONESIGNAL_REST_API_KEY"
ENV_BASE = "ONESIGNAL_API_BASE"
ENV_API = "ONESIGNAL_API"
ENV_WORKSPACE = "ONESIG_NB_WORKSPACE"
ENV_DOTENV = "ONESIG_NB_DOTENV"

APIS = ("current", "legacy")

#: Hosts of the two API generations (onesignal-api.md section 1). Legacy paths start with
#: ``/api/v1``; current ones do not. The sandbox serves both families at its root.
LEGACY_HOST = "https://onesignal.com"
CURRENT_HOST = "https://api.onesignal.com"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def mask(secret: str | None) -> str:
    """Show that a secret is set without showing it: ``'…9f2c'`` (last 4 characters only)."""
    if not secret:
        return "<not set>"
    return "…" + secret[-4:] if len(secret) >= 12 else "…"


def redact(text: str, *secrets: str | None) -> str:
    """Replace every occurrence of each secret in ``text`` with its mask."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, mask(secret))
    return text


def default_base_url(api: str) -> str:
    """The real OneSignal host for an API generation."""
    if api not in APIS:
        raise ConfigError(f"api must be 'current' or 'legacy', not {api!r}.")
    return CURRENT_HOST if api == "current" else LEGACY_HOST


@dataclass(frozen=True)
class Credentials:
    """An app id, its key and where to send requests. The key never shows in ``repr``."""

    app_id: str
    api_key: str = field(repr=False)
    base_url: str | None = None
    api: str = "current"

    def __post_init__(self) -> None:
        if not self.app_id:
            raise ConfigError(f"No OneSignal app id. Set {ENV_APP_ID} in the environment or .env.")
        if not self.api_key:
            raise ConfigError(
                f"No OneSignal API key. Set {ENV_KEY} in the environment or a .env file "
                "(never in a notebook)."
            )
        if self.api not in APIS:
            raise ConfigError(f"{ENV_API} must be 'current' or 'legacy', not {self.api!r}.")

    @property
    def is_real_host(self) -> bool:
        return self.base_url is None or self.base_url.rstrip("/") in (CURRENT_HOST, LEGACY_HOST)

    def __repr__(self) -> str:
        return (
            f"Credentials(app_id={self.app_id!r}, api_key={mask(self.api_key)!r}, "
            f"base_url={self.base_url!r}, api={self.api!r})"
        )


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        from dotenv import dotenv_values
    except ImportError:  # pragma: no cover - python-dotenv is a dependency
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_credentials(
    env: Mapping[str, str] | None = None, *, dotenv: str | os.PathLike | None = None
) -> Credentials | None:
    """Read credentials from ``env`` (default: ``os.environ``) and a ``.env`` file
    (``dotenv``, else ``$ONESIG_NB_DOTENV``, else ``./.env``).

    The environment wins over the file. Returns None when neither a key nor an app id is set
    (the caller then uses the sandbox); raises :class:`ConfigError` when only one of the two is
    set, or the app id is not a UUID.
    """
    environ = os.environ if env is None else env
    if dotenv is None:
        dotenv = environ.get(ENV_DOTENV) or ".env"
    values: dict[str, str] = dict(_read_dotenv(Path(dotenv)))
    values.update({k: v for k, v in environ.items() if v})
    key = values.get(ENV_KEY, "").strip()
    app_id = values.get(ENV_APP_ID, "").strip()
    if not key:
        if app_id:
            raise ConfigError(
                f"{ENV_APP_ID} is set but {ENV_KEY} is not, so nothing could reach real phones. "
                f"Add {ENV_KEY} to the environment or .env to go live, or unset {ENV_APP_ID} to "
                "rehearse against the local sandbox."
            )
        return None
    if not app_id:
        raise ConfigError(
            f"{ENV_KEY} is set but {ENV_APP_ID} is not. Add the app id (Settings > Keys & IDs in "
            "the OneSignal dashboard) to the environment or .env."
        )
    if not _UUID.match(app_id):
        raise ConfigError(
            f"{ENV_APP_ID}={app_id!r} is not a UUID. Copy the App ID from Settings > Keys & IDs."
        )
    return Credentials(
        app_id=app_id,
        api_key=key,
        base_url=values.get(ENV_BASE) or None,
        api=values.get(ENV_API, "current").strip() or "current",
    )
