"""Single calls: one request at a time over a pooled ``requests.Session``, rate-limited and
retried, failures turned into typed errors by :mod:`.failures`.

The :class:`~.client.OneSignal` client owns one :class:`Transport` for everything that is not
bulk work; bulk work goes through :mod:`.engine`. Both share the client's retry policy, rate
limiter and :class:`~.failures.Failures`, so they retry and give up the same way.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from onesig_nb.onesignal.dialects import decode_body
from onesig_nb.onesignal.failures import Attempts, Failures
from onesig_nb.onesignal.ratelimit import RateLimiter
from onesig_nb.onesignal.retry import CONNECTION, TIMEOUT, RetryPolicy
from onesig_nb.onesignal.secrets import Headers

__all__ = ["Transport", "is_loopback", "new_session"]

log = logging.getLogger("onesig_nb.onesignal")


def is_loopback(url: str) -> bool:
    """True when ``url`` points at this machine (``localhost``, 127.0.0.0/8, ``::1``).

    A loopback base URL is a local sandbox (or a test double): nothing reaches real phones, and
    proxy settings from the environment are not wanted.
    """
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_session(base_url: str, *, pool_size: int) -> requests.Session:
    """A ``requests.Session`` with one connection pool of ``pool_size`` for ``base_url``."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Proxy/netrc lookups cost ~0.5 ms per request (perf-anchors §C); skip them on loopback
    # only, so a corporate proxy still works for the real API.
    session.trust_env = not is_loopback(base_url)
    return session


class Transport:
    """Sends one request at a time: rate limit, send, retry per the policy, typed error at the end.

    :param base_url: root URL requests go to (paths are appended)
    :param headers: headers sent with every request (auth included; never shown in a repr)
    :param timeout: seconds for one attempt
    :param policy: when to retry and how long to wait
    :param limiter: the client's rate limiter (shared with its engine), or None for no limiting
    :param failures: turns failures into typed, redacted errors
    :param sleep: ``time.sleep`` or a test's fake
    :param session: a session to use (closed by its owner); default a new pooled one, closed by
        :meth:`close`
    :param pool_size: connections kept open when this transport makes its own session
    """

    def __init__(
        self,
        *,
        base_url: str,
        headers: Headers,
        timeout: float,
        policy: RetryPolicy,
        limiter: RateLimiter | None,
        failures: Failures,
        sleep: Callable[[float], None],
        session: requests.Session | None = None,
        pool_size: int = 10,
    ):
        self.base_url = base_url
        self.headers = headers
        self.timeout = timeout
        self.policy = policy
        self.limiter = limiter
        self.failures = failures
        self.sleep = sleep
        self._own_session = session is None
        self.session = (
            session if session is not None else new_session(base_url, pool_size=pool_size)
        )

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the session, unless the caller passed it in (then it is the caller's)."""
        if self._own_session:
            self.session.close()

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        group: str,
        user: str | None = None,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> tuple[int, Any, Mapping[str, str]]:
        """Send one request; return ``(status, decoded body, headers)`` of its 2xx/3xx answer.

        :param group: the rate-limit group (:mod:`.ratelimit`)
        :param user: the external id a user update is for (per-user rate limit)
        :param idempotent: False for a request that must not be repeated (only 429 is retried)
        :param headers: headers instead of this transport's (e.g. another auth scheme)
        :param base_url: another root URL for this one request (e.g. another API host)

        Raises AuthError, RateLimited, APIError or TransportError when it fails for good.
        """
        root = base_url or self.base_url
        url = root + path
        send_headers = headers if headers is not None else self.headers
        if log.isEnabledFor(logging.DEBUG) and body is not None:
            log.debug("%s %s body=%s", method, path, body[:2000].decode("utf-8", "replace"))
        attempts = Attempts(self.failures, self.policy, method, root, path, idempotent=idempotent)
        while True:
            attempt = attempts.start()
            if self.limiter is not None:
                wait = self.limiter.user_wait(user)
                if wait > 0:
                    self.sleep(wait)
                wait = self.limiter.reserve(group, user)
                if wait > 0:
                    self.sleep(wait)
            status = raw = resp_headers = kind = error = None
            try:
                resp = self.session.request(
                    method, url, data=body, headers=send_headers, timeout=self.timeout
                )
                status, raw, resp_headers = resp.status_code, resp.content, resp.headers
            except requests.Timeout as exc:
                kind, error = TIMEOUT, exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                kind, error = CONNECTION, exc
            except (requests.RequestException, ValueError) as exc:  # bad URL/header: won't help
                raise attempts.unsendable(exc) from None
            log.debug("%s %s -> %s (attempt %d)", method, path, status or kind, attempt)
            if status is not None and status < 400:
                return status, decode_body(raw), resp_headers
            self.sleep(
                attempts.failed(
                    status=status, raw=raw, headers=resp_headers, kind=kind, error=error
                )
            )
