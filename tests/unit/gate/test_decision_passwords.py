"""Password logins (G3): the rule, its exemptions, and what comes before them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.gate.decisions import (
    TOKEN,
    basic,
    decide,
    networks,
    request,
    snapshot,
)
from tokenward.gate.decision import Allowed, Denied, GatePolicy, GateRequest
from tokenward.gate.reasons import Reason


def password_request(**changes: Any) -> GateRequest:
    return request(authorization=basic("alice", "hunter2"), **changes)


def test_password_allowed_by_default() -> None:
    """With passwords allowed, a password login passes and names the user."""
    decision = decide(password_request())

    assert decision == Allowed(Reason.PASSWORD_ALLOWED, username="alice")


def test_password_denied() -> None:
    """With passwords denied and no exemption, a password login is refused."""
    decision = decide(password_request(), policy=GatePolicy(passwords_allowed=False))

    assert decision == Denied(Reason.PASSWORD_DENIED, username="alice")


@pytest.mark.parametrize(
    ("exemption", "groups"),
    [
        ({"password_exempt_users": frozenset({"alice"})}, frozenset()),
        ({"password_exempt_groups": frozenset({"legacy"})}, frozenset({"legacy"})),
        ({"password_exempt_paths": ("/rest/api/2/*",)}, frozenset()),
        ({"password_exempt_networks": networks("192.0.2.0/24")}, frozenset()),
    ],
    ids=["user", "group", "path", "network"],
)
def test_password_exemptions(exemption: dict[str, Any], groups: frozenset[str]) -> None:
    """Each kind of exemption lets a password through when passwords are denied."""
    policy = GatePolicy(passwords_allowed=False, **exemption)

    assert decide(password_request(), policy=policy, groups=groups).reason is (
        Reason.PASSWORD_ALLOWED
    )


@pytest.mark.parametrize(
    ("exemption", "groups"),
    [
        ({"password_exempt_users": frozenset({"bob"})}, frozenset({"legacy"})),
        ({"password_exempt_groups": frozenset({"legacy"})}, frozenset({"staff"})),
        ({"password_exempt_paths": ("/rest/api/3/*",)}, frozenset()),
        ({"password_exempt_networks": networks("198.51.100.0/24")}, frozenset()),
    ],
    ids=["user", "group", "path", "network"],
)
def test_password_exemptions_that_do_not_apply(
    exemption: dict[str, Any], groups: frozenset[str]
) -> None:
    """An exemption for someone, somewhere or some path else changes nothing."""
    policy = GatePolicy(passwords_allowed=False, **exemption)

    assert decide(password_request(), policy=policy, groups=groups).reason is (
        Reason.PASSWORD_DENIED
    )


def test_network_exemption_needs_an_address() -> None:
    """Without a client address, a network exemption cannot apply."""
    policy = GatePolicy(
        passwords_allowed=False, password_exempt_networks=networks("0.0.0.0/0")
    )

    decision = decide(password_request(client_ip=None), policy=policy)

    assert decision.reason is Reason.NETWORK_NOT_ALLOWED


def test_global_networks_come_before_password_rules() -> None:
    """Global ranges apply to passwords too, exempt users included (P6)."""
    policy = GatePolicy(
        allowed_networks=networks("10.0.0.0/8"),
        password_exempt_users=frozenset({"alice"}),
    )

    decision = decide(password_request(), policy=policy)

    assert decision == Denied(Reason.NETWORK_NOT_ALLOWED, username="alice")


def test_failed_token_is_never_retried_as_a_password() -> None:
    """A Basic token that fails is refused for the token's reason, passwords or not."""
    policy = GatePolicy(passwords_allowed=True)
    gate_request = request(authorization=basic("alice", TOKEN))

    assert decide(gate_request, None, policy).reason is Reason.UNKNOWN_TOKEN
    assert decide(gate_request, snapshot(revoked=True), policy).reason is (
        Reason.TOKEN_REVOKED
    )
