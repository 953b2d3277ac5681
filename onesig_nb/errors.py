"""Every error onesig_nb raises, in one tree.

    OneSigNbError                    catch this to catch anything from onesig_nb
    ├── ConfigError                  missing or malformed credentials / settings
    ├── ValidationError (ValueError) bad input caught before anything is sent
    ├── SourceError (ValueError)     a cohort source that cannot be read
    │   └── AudienceNotFound         the audience is not in the source
    ├── JournalError                 the campaign journal is unusable (corrupt, newer version)
    │   └── CampaignConflict         same campaign name, different cohort or message
    ├── ConfirmationRequired         a large send that was not confirmed (or a warning
    │                                not acknowledged, or no test send of this message)
    ├── SendStopped (KeyboardInterrupt) a send stopped (Stop, Campaign.stop(), Ctrl-C): resume
    ├── SandboxError                 the local sandbox could not start or answer
    ├── TransportError               no usable HTTP answer (timeout, reset, DNS)
    └── APIError                     OneSignal answered with an error status
        ├── AuthError                401/403, or the "include a valid key" 400
        └── RateLimited              429 that outlived the retries

Every message says what happened and how to fix it. No message ever contains an API key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AudienceNotFound",
    "AuthError",
    "CampaignConflict",
    "ConfigError",
    "ConfirmationRequired",
    "JournalError",
    "NotCancellable",
    "OneSigNbError",
    "RateLimited",
    "SandboxError",
    "SendStopped",
    "SourceError",
    "TransportError",
    "ValidationError",
]


class OneSigNbError(Exception):
    """Root of every onesig_nb error."""


class ConfigError(OneSigNbError):
    """Credentials or settings are missing or malformed."""


class ValidationError(OneSigNbError, ValueError):
    """Input was rejected before anything was sent."""


class SourceError(OneSigNbError, ValueError):
    """A cohort source could not be read (missing, empty, corrupt, wrong shape)."""


class AudienceNotFound(SourceError, KeyError):
    """The requested audience is not present in the source."""

    def __init__(
        self,
        audience: str,
        available: list[str] | tuple[str, ...] = (),
        *,
        suggestion: str | None = None,
    ):
        self.audience = audience
        self.available = list(available)
        self.suggestion = suggestion
        shown = ", ".join(repr(a) for a in self.available[:20]) or "none"
        hint = (
            f"Did you mean {suggestion!r}? Audience names are case-sensitive. "
            if suggestion
            else ""
        )
        super().__init__(
            f"No audience {audience!r} in this source. {hint}Audiences present: {shown}. "
            "Pass one of these as audience=..., or call onesig_nb.list_audiences(source)."
        )

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class JournalError(OneSigNbError):
    """The campaign journal cannot be used as it is."""


class CampaignConflict(JournalError):
    """A campaign name was reused with a different cohort or message."""


class ConfirmationRequired(OneSigNbError):
    """A send above the confirmation threshold was not confirmed."""


class SendStopped(OneSigNbError, KeyboardInterrupt):
    """A send was stopped (the panel's Stop, ``Campaign.stop()``, a ``stop`` event, Ctrl-C)
    before every batch went out.

    The batches OneSignal answered are journaled; the others keep their intents, so running
    ``send()`` again resumes them with the same idempotency keys and nobody gets the push
    twice. It is a :class:`KeyboardInterrupt` too, so code (and a notebook's "Run All") that
    stops on Ctrl-C still stops; it is a :class:`OneSigNbError`, so a notebook can show its
    plain message instead of a traceback.

    :ivar sent: people in batches OneSignal answered, in this campaign so far
    :ivar left: people in batches not answered yet (the next ``send()`` sends them)
    :ivar result: the campaign's result so far (a ``CampaignResult``), or None
    """

    def __init__(self, message: str, *, sent: int = 0, left: int = 0, result: Any = None):
        super().__init__(message)
        self.sent = sent
        self.left = left
        self.result = result


class SandboxError(OneSigNbError):
    """The local OneSignal sandbox could not be started or did not answer."""


class TransportError(OneSigNbError):
    """The request got no usable HTTP answer (timeout, connection reset, refused)."""


class APIError(OneSigNbError):
    """OneSignal (or the sandbox) answered with an error status.

    :ivar status: the HTTP status code
    :ivar errors: the API's own error texts, flattened to a list of strings
    :ivar body: the decoded response body (dict, list, str or None)
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[str] | None = None,
        body: Any = None,
    ):
        super().__init__(message)
        self.status = status
        self.errors = list(errors or [])
        self.body = body


class AuthError(APIError):
    """The API key or app id was refused."""


class RateLimited(APIError):
    """OneSignal kept answering 429 after every retry.

    :ivar retry_after: seconds the server asked us to wait, when it said so
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class NotCancellable(APIError):
    """OneSignal refused to cancel a notification (HTTP 400): it was already delivered.

    Cancel works only for scheduled or still-sending messages (v11.6 cancel-message: "Stop a
    scheduled or currently outgoing message"; its 400: "Usually due to the message already
    being sent to all recipients").

    :ivar notification_id: the notification that could not be cancelled
    """

    def __init__(self, message: str, *, notification_id: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.notification_id = notification_id
