"""Fixtures for token requests: a token manager and two users who may hold tokens
but not create them."""

from __future__ import annotations

import pytest

from tests.functional.requests.helpers import People
from tests.support import Setup
from tokenward.policies.permissions import Permission


@pytest.fixture
def people(setup: Setup) -> People:
    """A token manager (who may also create tokens), and alice and bob, who may
    hold tokens but not create them."""
    manager = setup.user("manager", groups=("token-managers",))
    alice = setup.user("alice")
    bob = setup.user("bob")
    setup.grant(Permission.MANAGE_TOKENS, groups=["token-managers"])
    setup.grant(Permission.CREATE_OWN_TOKENS, groups=["token-managers"])

    return People(manager=manager, alice=alice, bob=bob)
