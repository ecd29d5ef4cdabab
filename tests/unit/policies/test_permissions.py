"""Resolving permissions from grants (P2)."""

from __future__ import annotations

import pytest

from tokenward.errors import PermissionDeniedError
from tokenward.policies.permissions import (
    DEFAULT_EVERYONE,
    Actor,
    Grant,
    Permission,
    require,
    resolve,
)

NOBODY = Grant(everyone=False, group_ids=frozenset())
EVERYONE = Grant(everyone=True, group_ids=frozenset())


def _grants(**given: Grant) -> dict[Permission, Grant]:
    return {permission: given.get(str(permission), NOBODY) for permission in Permission}


def test_grant_to_everyone_reaches_users_in_no_group() -> None:
    """A permission granted to everyone is held without any group."""
    held = resolve(_grants(use_tokens=EVERYONE), [])

    assert held == {Permission.USE_TOKENS}


def test_grant_to_a_group_reaches_its_members_only() -> None:
    """A permission granted to groups is held by their members and nobody else."""
    grants = _grants(manage_tokens=Grant(everyone=False, group_ids=frozenset({3, 5})))

    assert resolve(grants, [5]) == {Permission.MANAGE_TOKENS}
    assert resolve(grants, [1, 3]) == {Permission.MANAGE_TOKENS}
    assert resolve(grants, [4]) == frozenset()
    assert resolve(grants, []) == frozenset()


def test_administer_implies_every_permission() -> None:
    """Whoever may administer holds every permission, granted or not."""
    grants = _grants(administer=Grant(everyone=False, group_ids=frozenset({1})))

    assert resolve(grants, [1]) == frozenset(Permission)
    assert resolve(grants, [2]) == frozenset()


def test_no_grants_no_permissions() -> None:
    """With nothing granted, nobody holds anything."""
    assert resolve(_grants(), [1, 2, 3]) == frozenset()


def test_defaults_let_everyone_use_and_create_own_tokens() -> None:
    """Out of the box, everyone may use and create their own tokens, nothing more."""
    grants = {
        permission: Grant(everyone=everyone, group_ids=frozenset())
        for permission, everyone in DEFAULT_EVERYONE.items()
    }

    assert resolve(grants, []) == {
        Permission.USE_TOKENS,
        Permission.CREATE_OWN_TOKENS,
    }


def test_require_accepts_any_one_of_the_permissions() -> None:
    """require passes when the actor holds one of the permissions named."""
    actor = Actor("bob", 2, frozenset({Permission.MANAGE_TOKENS}))

    require(actor, Permission.ADMINISTER, Permission.MANAGE_TOKENS)


def test_require_refuses_naming_the_permission() -> None:
    """require refuses an actor without any of the permissions, naming what it needs."""
    actor = Actor("bob", 2, frozenset({Permission.USE_TOKENS}))

    with pytest.raises(PermissionDeniedError) as caught:
        require(actor, Permission.ADMINISTER, Permission.MANAGE_TOKENS)

    assert "administer" in caught.value.message


def test_operator_holds_every_permission() -> None:
    """The operator at the command line holds every permission and is no user."""
    operator = Actor.operator()

    assert operator.permissions == frozenset(Permission)
    assert operator.user_id is None
