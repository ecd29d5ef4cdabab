"""The root of tokenward's exception tree.

    TokenwardError
    ├── ConfigurationError        settings that cannot work (start-up refuses)
    ├── NotFoundError             an object that does not exist or is not yours
    ├── PermissionDeniedError     the actor lacks a permission
    ├── InvalidInputError         input that breaks a domain rule
    │   └── ConflictError         input that collides with existing state
    └── AuthenticationError       no valid credential was presented

Domain packages subclass these; the web layer maps each branch to one HTTP status in
`tokenward.web.errors`, and the CLI prints the message on one line.
"""

from __future__ import annotations


class TokenwardError(Exception):
    """Base of every error tokenward raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(TokenwardError):
    """The settings cannot work as given."""


class NotFoundError(TokenwardError):
    """The object does not exist, or the actor may not know that it exists."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class PermissionDeniedError(TokenwardError):
    """The actor lacks the permission the operation needs."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"this needs the {permission} permission")
        self.permission = permission


class InvalidInputError(TokenwardError):
    """The input breaks a domain rule; `field` names the offending input if known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConflictError(InvalidInputError):
    """The input collides with existing state (a duplicate name, for example)."""


class AuthenticationError(TokenwardError):
    """No valid credential was presented."""
