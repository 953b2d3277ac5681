"""One give-up path for every request the client makes: single calls, the bulk engine, tag edits.

A request fails in one of three ways, and each becomes exactly one typed error here:

- OneSignal answered with an error status (or a 2xx that says it did nothing):
  :meth:`Failures.answer` → :func:`.dialects.error_for` (AuthError, RateLimited, APIError; the
  "unknown app id" wording comes from :func:`.dialects.is_app_not_found`, the one place that
  recognises it);
- nothing answered (timeout, refused connection): :meth:`Failures.no_answer`;
- the request could not even be built (a bad URL or header): :meth:`Failures.unsendable`.

Every error is redacted of the API key before it leaves. :class:`Attempts` is the retry loop's
bookkeeping, shared by the synchronous :class:`~.transport.Transport` and the asyncio
:class:`~.engine.Engine`: each of them only says how an attempt went, and :class:`Attempts`
answers "wait this long" or raises the error to give up with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

from onesig_nb.config import redact
from onesig_nb.errors import TransportError
from onesig_nb.onesignal.dialects import decode_body, error_for
from onesig_nb.onesignal.retry import RetryPolicy, transport_error
from onesig_nb.onesignal.secrets import Secret, scrub

__all__ = ["Attempts", "Failures"]


class Failures:
    """Turns failed requests of one app into typed errors that never show the key.

    :param app_id: the app the requests are for (named in an "unknown app id" error)
    :param secrets: strings never to show in an error text (the API key)
    """

    __slots__ = ("app_id", "_secrets")

    def __init__(self, *, app_id: str | None, secrets: tuple[str, ...] = ()):
        self.app_id = app_id
        self._secrets = tuple(Secret(s) for s in secrets if s)

    def __repr__(self) -> str:
        return f"Failures(app_id={self.app_id!r}, secrets={len(self._secrets)})"

    def _values(self) -> tuple[str, ...]:
        return tuple(s.value for s in self._secrets)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by its mask (``'…cdef'``)."""
        return redact(text, *self._values())

    def answer(self, status: int, body: Any, **where: Any) -> BaseException:
        """The error for OneSignal's error answer ``status``/``body`` (already decoded).

        ``where`` is what :func:`.dialects.error_for` takes besides: ``method``, ``path`` and,
        after retries, ``retry_after`` and ``attempts``.
        """
        return scrub(error_for(status, body, app_id=self.app_id, **where), *self._values())

    def no_answer(
        self,
        method: str,
        path: str,
        base_url: str,
        attempts: int,
        exc: BaseException | None,
        *,
        unsendable: bool = False,
    ) -> TransportError:
        """The error for a request that got no HTTP answer (see :func:`.retry.transport_error`)."""
        return transport_error(
            method, path, base_url, attempts, exc, secrets=self._values(), unsendable=unsendable
        )


@dataclass(slots=True)
class Attempts:
    """The attempts of one request: counts them and decides after each failure.

    Usage (the same in the synchronous and the asyncio loop)::

        attempts = Attempts(failures, policy, "POST", base_url, path, idempotent=True)
        while True:
            attempts.start()
            ...send...
            if ok: return
            wait = attempts.failed(status=..., raw=..., headers=...)   # raises to give up
            sleep(wait)
    """

    failures: Failures
    policy: RetryPolicy
    method: str
    base_url: str
    path: str
    _: KW_ONLY
    #: False for a request that must not be repeated (only a 429 is retried then)
    idempotent: bool
    #: attempts started so far
    number: int = 0

    def start(self) -> int:
        """Count one more attempt; return its number (1 for the first)."""
        self.number += 1
        return self.number

    def failed(
        self,
        *,
        status: int | None = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        kind: str | None = None,
        error: BaseException | None = None,
    ) -> float:
        """Seconds to wait before the next attempt; raises the typed error when giving up.

        :param status: the HTTP status of an error answer (``raw`` its body, ``headers`` its
            headers), or None when nothing answered
        :param kind: :data:`.retry.TIMEOUT` or :data:`.retry.CONNECTION` when nothing answered
        :param error: the library's exception when nothing answered (quoted, redacted)
        """
        delay, retry_after = self.policy.after_failure(
            self.number,
            status=status,
            kind=kind,
            headers=headers if status is not None and headers is not None else {},
            idempotent=self.idempotent,
        )
        if delay is not None:
            return delay
        if status is None:
            raise self.failures.no_answer(
                self.method, self.path, self.base_url, self.number, error
            ) from None
        raise self.failures.answer(
            status,
            decode_body(raw),
            method=self.method,
            path=self.path,
            retry_after=retry_after,
            attempts=self.number,
        )

    def unsendable(self, exc: BaseException) -> TransportError:
        """The error for a request that could not be built or sent (retrying won't help)."""
        return self.failures.no_answer(
            self.method, self.path, self.base_url, self.number, exc, unsendable=True
        )
