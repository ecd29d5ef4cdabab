"""Errors of upstream credentials.

    TokenwardError
    ├── NotFoundError
    │   └── UpstreamCredentialNotFoundError   the user has none stored
    ├── PermissionDeniedError
    │   └── NotYourCredentialError            only its owner (or the operator) may
    ├── InvalidInputError
    │   ├── UpstreamCredentialRejectedError   the upstream did not accept it (422)
    │   └── ConflictError
    │       └── CredentialUnreadableError     stored, but cannot be decrypted (409)
    ├── UpstreamUnavailableError              the upstream could not be asked (502)
    ├── UpstreamNotConfiguredError            no usable upstream to check (503)
    └── TooManyFailedChecksError              too many rejected checks lately (429)

Messages never contain a credential: they are shown to callers and logged.
"""

from __future__ import annotations

from tokenward.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TokenwardError,
)


class UpstreamCredentialNotFoundError(NotFoundError):
    def __init__(self, username: str) -> None:
        super().__init__("upstream credential of user", username)


class NotYourCredentialError(PermissionDeniedError):
    """Someone else's upstream credential may be set or checked only by its owner
    or by the operator at the command line; administrators may only remove it."""

    def __init__(self) -> None:
        TokenwardError.__init__(
            self,
            "only the user themselves (or the operator at the command line) may "
            "set or check their upstream credential",
        )
        self.permission = "owner"


class UpstreamCredentialRejectedError(InvalidInputError):
    """The check request did not prove the credential works; `reason` is a stable
    code (see `tokenward.upstream.check.CheckFailure`)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, field="value")
        self.reason = reason


class CredentialUnreadableError(ConflictError):
    """The stored value does not decrypt under this instance's key."""

    def __init__(self, username: str) -> None:
        super().__init__(
            f"the upstream credential of {username!r} cannot be decrypted: it was "
            "saved under another instance secret, or altered in the database; "
            "save it again"
        )
        self.username = username


class UpstreamUnavailableError(TokenwardError):
    """The check request got no answer (connection refused, timeout, TLS)."""


class UpstreamNotConfiguredError(TokenwardError):
    """The settings give no usable upstream to check a credential against."""

    def __init__(
        self,
        message: str = (
            "no upstream to check credentials against: set "
            "TOKENWARD_GATE_UPSTREAM_URL, or TOKENWARD_GATE_UPSTREAM_CHECK_PATH to "
            "a full URL"
        ),
    ) -> None:
        super().__init__(message)


class TooManyFailedChecksError(TokenwardError):
    """Rejected checks for this user came too fast; `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "too many upstream credentials were rejected for this user lately; "
            f"try again in {retry_after} seconds"
        )
        self.retry_after = retry_after
