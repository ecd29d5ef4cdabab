"""Permissions (SPEC P2) and the actor that holds them. Pure.

Each permission is granted to everyone or to listed groups. `administer` implies
every other permission.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tokenward.errors import PermissionDeniedError


class Permission(enum.StrEnum):
    USE_TOKENS = "use_tokens"
    CREATE_OWN_TOKENS = "create_own_tokens"
    MANAGE_TOKENS = "manage_tokens"
    ADMINISTER = "administer"


# Out of the box everyone may hold and create tokens for themselves; managing others'
# tokens and administering are granted to groups (bootstrap creates the admin group).
DEFAULT_EVERYONE = {
    Permission.USE_TOKENS: True,
    Permission.CREATE_OWN_TOKENS: True,
    Permission.MANAGE_TOKENS: False,
    Permission.ADMINISTER: False,
}


@dataclass(frozen=True, slots=True)
class Grant:
    """Who holds one permission."""

    everyone: bool
    group_ids: frozenset[int]


def resolve(
    grants: Mapping[Permission, Grant], group_ids: Iterable[int]
) -> frozenset[Permission]:
    """The permissions held by a member of `group_ids` under `grants`."""
    member_of = frozenset(group_ids)
    held = {
        permission
        for permission, grant in grants.items()
        if grant.everyone or grant.group_ids & member_of
    }
    if Permission.ADMINISTER in held:
        return frozenset(Permission)

    return frozenset(held)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs an operation, with the permissions they hold right now.

    `user_id` is None for the operator at the command line, who already holds the
    database and the instance secret and so is given every permission.
    """

    name: str
    user_id: int | None
    permissions: frozenset[Permission]

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        return cls(name=name, user_id=None, permissions=frozenset(Permission))

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


def require(actor: Actor, *permissions: Permission) -> None:
    """Raise PermissionDeniedError unless `actor` holds one of `permissions`."""
    if not any(actor.may(permission) for permission in permissions):
        raise PermissionDeniedError(" or ".join(permissions))
