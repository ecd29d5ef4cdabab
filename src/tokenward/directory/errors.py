"""Errors of the directory."""

from __future__ import annotations

from tokenward.errors import ConflictError, NotFoundError


class UserNotFoundError(NotFoundError):
    def __init__(self, username: str) -> None:
        super().__init__("user", username)


class GroupNotFoundError(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__("group", name)


class DuplicateNameError(ConflictError):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"a {kind} named {name!r} already exists", field="name")
        self.kind = kind
        self.name = name
