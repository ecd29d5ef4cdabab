"""Errors of the token lifecycle."""

from __future__ import annotations

from tokenward.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TokenwardError,
)


class TokenNotFoundError(NotFoundError):
    """No such token, or one the actor may not see: the two are indistinguishable."""

    def __init__(self, token_id: str) -> None:
        super().__init__("token", token_id)


class TokenNotActiveError(InvalidInputError):
    def __init__(self, token_id: str, status: str) -> None:
        super().__init__(f"token {token_id!r} is {status}", field="token_id")
        self.token_id = token_id
        self.status = status


class TokenRestrictedError(PermissionDeniedError):
    """A valid token used where its restrictions (scope, networks, headers) forbid;
    `reason` is the gate's reason code."""

    def __init__(self, reason: str) -> None:
        TokenwardError.__init__(
            self, f"this token may not make this request (refused: {reason})"
        )
        self.permission = "use_tokens"
        self.reason = reason
