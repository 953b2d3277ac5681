"""Keeping the API key out of reprs and error texts, and refusing keys that would leak.

A key read from a file often ends in a newline; HTTP libraries then quote the whole header value
(key included) in their exception text. :func:`clean_credentials` strips and checks the key and
app id before any request is built; :func:`scrub` redacts an error that quotes a secret anyway
(a proxy echoing the header, say); :class:`Headers` and :class:`Secret` keep ``repr``/``vars``
output free of the key.
"""

from __future__ import annotations

import re
from typing import Any

from onesig_nb.config import ENV_APP_ID, ENV_KEY, mask, redact
from onesig_nb.errors import APIError, ConfigError

__all__ = ["Headers", "Secret", "clean_credentials", "scrub"]

#: Printable ASCII without space: what an HTTP header token (and a OneSignal key) is made of.
_KEY_OK = re.compile(r"[!-~]+")
#: An app id goes into URL paths: no URL delimiters on top of that.
_APP_ID_BAD = set("/?#%\\")


class Headers(dict):
    """Request headers whose repr never shows the Authorization value."""

    def __repr__(self) -> str:
        return repr({k: ("<redacted>" if k == "Authorization" else v) for k, v in self.items()})


class Secret:
    """A secret string whose repr is its mask (``'…9f2c'``); the value is ``.value``."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return f"Secret({mask(self.value)!r})"


def _describe(value: str) -> str:
    bad = sorted({c for c in value if not ("!" <= c <= "~")})
    names = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", " ": "a space"}
    shown = [names.get(c, f"U+{ord(c):04X}") for c in bad[:4]]
    return ", ".join(shown)


def clean_credentials(app_id: Any, api_key: Any) -> tuple[str, str]:
    """``(app_id, api_key)`` stripped of surrounding whitespace; ConfigError if still malformed."""
    if not isinstance(api_key, str) or not api_key.strip():
        raise ConfigError(f"No OneSignal API key given. Set {ENV_KEY} (in .env) or pass api_key=.")
    if app_id is None or not str(app_id).strip():
        raise ConfigError(f"No OneSignal app id given. Set {ENV_APP_ID} or pass app_id=.")
    key = api_key.strip()
    if not _KEY_OK.fullmatch(key):
        raise ConfigError(
            f"The OneSignal API key ({ENV_KEY} or api_key=) contains whitespace or control or "
            f"non-ASCII characters ({_describe(key)}) inside it, so it cannot be sent in a "
            "header. Copy the key again from the OneSignal dashboard (Settings > Keys & IDs) "
            "without line breaks or spaces."
        )
    app = str(app_id).strip()
    if not _KEY_OK.fullmatch(app) or _APP_ID_BAD & set(app):
        raise ConfigError(
            f"The OneSignal app id ({ENV_APP_ID} or app_id=) {app!r} contains whitespace, "
            "control characters or URL delimiters (/ ? # %). Copy the app id (a UUID) again "
            "from the OneSignal dashboard (Settings > Keys & IDs)."
        )
    return app, key


def _redact_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, *secrets)
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, secrets) for v in value)
    if isinstance(value, dict):
        return {_redact_value(k, secrets): _redact_value(v, secrets) for k, v in value.items()}
    return value


def scrub(exc: BaseException, *secrets: str | None) -> BaseException:
    """Redact every secret from ``exc``'s message (and an APIError's errors and body); return it."""
    live = tuple(s for s in secrets if s and len(s) >= 4)
    if not live:
        return exc
    if any(isinstance(a, str) and any(s in a for s in live) for a in exc.args):
        exc.args = tuple(_redact_value(a, live) for a in exc.args)
    if isinstance(exc, APIError):
        exc.errors = _redact_value(exc.errors, live)
        if any(s in repr(exc.body) for s in live):
            exc.body = _redact_value(exc.body, live)
    return exc
