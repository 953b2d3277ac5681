"""Single calls of the OneSignal client: one request at a time over the pooled
``requests.Session``, with client-side rate limiting, retries and error translation.

:class:`SingleCalls` is a base of :class:`~.client.OneSignal`; it uses the client's
``base_url``, ``timeout``, ``max_workers``, ``retry``, ``limiter``, ``app_id``, ``_session``,
``_headers``, ``_secret``, ``_sleep`` and ``_scrub``. Bulk work goes through :mod:`.engine`.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from onesig_nb.onesignal.dialects import decode_body, error_for
from onesig_nb.onesignal.retry import CONNECTION, TIMEOUT, transport_error

__all__ = ["SingleCalls"]

log = logging.getLogger("onesig_nb.onesignal")


class SingleCalls:
    """The pooled HTTP session and the retry loop of one request."""

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.max_workers)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        # Proxy/netrc lookups cost ~0.5 ms per request (perf-anchors §C); skip them on loopback
        # only, so a corporate proxy still works for the real API.
        session.trust_env = not _is_loopback(self.base_url)
        return session

    # -- one request ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        group: str,
        user: str | None = None,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Send one request with rate limiting and retries; raise the typed error on failure."""
        url = self.base_url + path
        send_headers = headers if headers is not None else self._headers
        if log.isEnabledFor(logging.DEBUG) and body is not None:
            log.debug("%s %s body=%s", method, path, body[:2000].decode("utf-8", "replace"))
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                wait = self.limiter.user_wait(user)
                if wait > 0:
                    self._sleep(wait)
                wait = self.limiter.reserve(group, user)
                if wait > 0:
                    self._sleep(wait)
            status = kind = error = None
            try:
                resp = self._session.request(
                    method, url, data=body, headers=send_headers, timeout=self.timeout
                )
                status, raw, resp_headers = resp.status_code, resp.content, resp.headers
            except requests.Timeout as exc:
                kind, error = TIMEOUT, exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                kind, error = CONNECTION, exc
            except (requests.RequestException, ValueError) as exc:  # bad URL/header: won't help
                raise transport_error(
                    method,
                    path,
                    self.base_url,
                    attempt,
                    exc,
                    secrets=(self._secret.value,),
                    unsendable=True,
                ) from None
            log.debug("%s %s -> %s (attempt %d)", method, path, status or kind, attempt)
            if status is not None and status < 400:
                return status, decode_body(raw), resp_headers
            delay, retry_after = self.retry.after_failure(
                attempt,
                status=status,
                kind=kind,
                headers=resp_headers if status is not None else {},
                idempotent=idempotent,
            )
            if delay is None:
                if status is None:
                    raise transport_error(
                        method, path, self.base_url, attempt, error, secrets=(self._secret.value,)
                    ) from None
                raise self._scrub(
                    error_for(
                        status,
                        decode_body(raw),
                        method=method,
                        path=path,
                        retry_after=retry_after,
                        attempts=attempt,
                        app_id=self.app_id,
                    )
                )
            self._sleep(delay)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
