"""How far an approval may narrow a token request, and what a request may ask."""

from __future__ import annotations

import pytest

from tokenward.errors import InvalidInputError
from tokenward.requests.rules import (
    Approval,
    check_lifetime,
    narrowed_lifetime,
    narrowed_networks,
    narrowed_scope,
)
from tokenward.tokens.attributes import Scope


def test_lifetime_is_given_exactly_one_way() -> None:
    """Days or never, not both and not neither; days within 1-3650."""
    assert check_lifetime(30, never_expires=False) == 30
    assert check_lifetime(None, never_expires=True) is None
    for days, never in ((None, False), (30, True), (0, False), (3651, False)):
        with pytest.raises(InvalidInputError):
            check_lifetime(days, never_expires=never)


def test_scope_narrows_only() -> None:
    """Read-write may become read-only; read-only stays read-only."""
    assert narrowed_scope(Scope.READ_WRITE, None) is Scope.READ_WRITE
    assert narrowed_scope(Scope.READ_WRITE, Scope.READ_ONLY) is Scope.READ_ONLY
    assert narrowed_scope(Scope.READ_ONLY, Scope.READ_ONLY) is Scope.READ_ONLY
    with pytest.raises(InvalidInputError, match="cannot widen"):
        narrowed_scope(Scope.READ_ONLY, Scope.READ_WRITE)


@pytest.mark.parametrize(
    ("asked", "approval", "expected"),
    [
        (30, Approval(), 30),
        (30, Approval(lifetime_days=7), 7),
        (30, Approval(lifetime_days=30), 30),
        (None, Approval(), None),
        (None, Approval(lifetime_days=365), 365),
        (None, Approval(never_expires=True), None),
    ],
)
def test_lifetime_shortens_only(
    asked: int | None, approval: Approval, expected: int | None
) -> None:
    """An approval keeps or shortens the lifetime; "never" may become days."""
    assert narrowed_lifetime(asked, approval) == expected


@pytest.mark.parametrize(
    "approval", [Approval(lifetime_days=31), Approval(never_expires=True)]
)
def test_lifetime_never_lengthens(approval: Approval) -> None:
    """Longer than asked, or never expiring where days were asked, is refused."""
    with pytest.raises(InvalidInputError, match="not lengthen"):
        narrowed_lifetime(30, approval)


def test_networks_narrow_or_are_added() -> None:
    """Approved ranges lie within those asked for; where none were, any may be
    added; the limit cannot be lifted, nor an IPv6 range slip under IPv4."""
    asked = ["10.0.0.0/8", "2001:db8::/32"]
    assert narrowed_networks(asked, None) == asked
    assert narrowed_networks(asked, ["10.1.0.0/16", "2001:db8:1::/48"]) == [
        "10.1.0.0/16",
        "2001:db8:1::/48",
    ]
    assert narrowed_networks([], ["192.168.0.0/24"]) == ["192.168.0.0/24"]
    assert narrowed_networks([], []) == []
    for approved in ([], ["11.0.0.0/8"], ["0.0.0.0/0"], ["::/0"], ["10.0.0.0/7"]):
        with pytest.raises(InvalidInputError):
            narrowed_networks(asked, approved)
