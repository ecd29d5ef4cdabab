"""A token's decision: each refusal, and the order of SPEC G2."""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from tests.unit.gate.decisions import (
    NOW,
    TOKEN,
    Limiter,
    basic,
    bearer,
    decide,
    networks,
    request,
    snapshot,
)
from tokenward.gate.decision import Allowed, Decision, Denied, GatePolicy
from tokenward.gate.reasons import Reason
from tokenward.gate.scopes import ScopeRules


def test_valid_token_allowed_with_its_identity() -> None:
    """A valid token is allowed and names its id, owner, groups and scope."""
    limiter = Limiter()

    decision = decide(request(), snapshot(rate_limit_per_minute=10), limiter=limiter)

    assert decision == Allowed(
        Reason.TOKEN_VALID,
        token_id="0123456789abcdef",
        username="alice",
        groups=("staff",),
        scope="read-write",
    )
    assert limiter.calls == [("0123456789abcdef", 10)]


def test_unknown_token() -> None:
    """A well-formed token that is not stored is unknown, even as Basic."""
    assert decide(request()).reason is Reason.UNKNOWN_TOKEN
    unknown = decide(request(authorization=basic("alice", TOKEN)))
    assert unknown == Denied(Reason.UNKNOWN_TOKEN, username="alice")


def test_expiry_is_exact() -> None:
    """A token is valid up to its expiry, expired from that instant on."""
    assert decide(request(), snapshot(expires_at=NOW + 0.001)).allowed
    assert decide(request(), snapshot(expires_at=NOW)).reason is Reason.TOKEN_EXPIRED
    assert decide(request(), snapshot(expires_at=None)).allowed


def test_basic_username_must_be_the_owner() -> None:
    """Basic with a username other than the token's owner is refused."""
    ok = decide(request(authorization=basic("alice", TOKEN)), snapshot())
    refused = decide(request(authorization=basic("bob", TOKEN)), snapshot())

    assert ok.allowed
    assert refused == Denied(
        Reason.USERNAME_MISMATCH, token_id="0123456789abcdef", username="alice"
    )


def test_unreadable_client_address_is_refused() -> None:
    """Without a client address (a trusted proxy sent garbage) no token passes."""
    decision = decide(request(client_ip=None), snapshot())

    assert decision.reason is Reason.NETWORK_NOT_ALLOWED


@pytest.mark.parametrize(
    ("allowed", "client", "reason"),
    [
        (("10.0.0.0/8",), "10.1.2.3", Reason.TOKEN_VALID),
        (("10.0.0.0/8",), "192.0.2.10", Reason.NETWORK_NOT_ALLOWED),
        (("10.0.0.0/8", "2001:db8::/32"), "2001:db8::7", Reason.TOKEN_VALID),
        (("2001:db8::/32",), "2001:db9::7", Reason.NETWORK_NOT_ALLOWED),
    ],
)
def test_global_networks(allowed: tuple[str, ...], client: str, reason: Reason) -> None:
    """Global ranges admit addresses within them, IPv4 and IPv6, and no others."""
    policy = GatePolicy(allowed_networks=networks(*allowed))
    gate_request = request(client_ip=ipaddress.ip_address(client))

    assert decide(gate_request, snapshot(), policy).reason is reason


@pytest.mark.parametrize(
    ("allowed", "client", "reason"),
    [
        (("192.0.2.0/24",), "192.0.2.10", Reason.TOKEN_VALID),
        (("198.51.100.0/24",), "192.0.2.10", Reason.TOKEN_NETWORK_NOT_ALLOWED),
        (("2001:db8::/64",), "2001:db8::1", Reason.TOKEN_VALID),
        (("2001:db8::/64",), "2001:db8:0:1::1", Reason.TOKEN_NETWORK_NOT_ALLOWED),
    ],
)
def test_token_networks(allowed: tuple[str, ...], client: str, reason: Reason) -> None:
    """A token's own ranges admit addresses within them and no others."""
    token = snapshot(networks=networks(*allowed))
    gate_request = request(client_ip=ipaddress.ip_address(client))

    assert decide(gate_request, token).reason is reason


@pytest.mark.parametrize(
    ("method", "path", "reason"),
    [
        ("GET", "/rest/api/2/issue/X-1", Reason.TOKEN_VALID),
        ("HEAD", "/rest/api/2/issue/X-1", Reason.TOKEN_VALID),
        ("POST", "/rest/api/2/search", Reason.TOKEN_VALID),
        ("POST", "/rest/api/2/issue", Reason.READ_ONLY_SCOPE),
        ("DELETE", "/rest/api/2/issue/X-1", Reason.READ_ONLY_SCOPE),
    ],
)
def test_read_only_scope(method: str, path: str, reason: Reason) -> None:
    """A read-only token reads (presets included) and is refused writes."""
    policy = GatePolicy(scope_rules=ScopeRules.build(["jira"]))
    token = snapshot(scope="read-only")

    assert decide(request(method=method, path=path), token, policy).reason is reason
    assert decide(request(method=method, path=path), snapshot(), policy).allowed


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"x-integration": "ci", "x-team": "a"}, Reason.TOKEN_VALID),
        ({"x-integration": "ci"}, Reason.HEADER_MISMATCH),
        ({"x-integration": "CI", "x-team": "a"}, Reason.HEADER_MISMATCH),
        ({}, Reason.HEADER_MISMATCH),
    ],
)
def test_header_restrictions(headers: dict[str, str], reason: Reason) -> None:
    """Every restricted header must be sent with exactly its value."""
    token = snapshot(header_restrictions=(("x-integration", "ci"), ("x-team", "a")))

    assert decide(request(headers=headers), token).reason is reason


def test_rate_limit() -> None:
    """Past its rate limit a token is refused with a minute to wait."""
    decision = decide(
        request(), snapshot(rate_limit_per_minute=5), limiter=Limiter(allow=False)
    )

    assert decision == Denied(
        Reason.RATE_LIMITED,
        token_id="0123456789abcdef",
        username="alice",
        retry_after=60,
    )


def test_no_rate_limit_asks_no_limiter() -> None:
    """A token without a rate limit never consults the limiter."""
    limiter = Limiter(allow=False)

    assert decide(request(), snapshot(), limiter=limiter).allowed
    assert limiter.calls == []


# The order of SPEC G2: when two checks fail, the earlier one is reported.


@dataclass(frozen=True)
class Fault:
    """What makes exactly one check fail."""

    request: dict[str, Any] = field(default_factory=dict)
    token: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    limited: bool = False


FAULTS: dict[Reason, Fault] = {
    Reason.TOKEN_REVOKED: Fault(token={"revoked": True}),
    Reason.TOKEN_EXPIRED: Fault(token={"expires_at": NOW - 1}),
    Reason.USERNAME_MISMATCH: Fault(request={"authorization": basic("bob", TOKEN)}),
    Reason.OWNER_DISABLED: Fault(token={"owner_active": False, "owner_may_use": False}),
    Reason.OWNER_NOT_PERMITTED: Fault(token={"owner_may_use": False}),
    Reason.NETWORK_NOT_ALLOWED: Fault(
        policy={"allowed_networks": networks("10.0.0.0/8")}
    ),
    Reason.TOKEN_NETWORK_NOT_ALLOWED: Fault(
        token={"networks": networks("198.51.100.0/24")}
    ),
    Reason.READ_ONLY_SCOPE: Fault(
        request={"method": "POST", "path": "/rest/api/2/issue"},
        token={"scope": "read-only"},
    ),
    Reason.HEADER_MISMATCH: Fault(token={"header_restrictions": (("x-ci", "1"),)}),
    Reason.RATE_LIMITED: Fault(token={"rate_limit_per_minute": 1}, limited=True),
}
ORDER = list(FAULTS)


def decide_with(*faults: Fault) -> tuple[Decision, Limiter]:
    request_changes: dict[str, Any] = {}
    token_changes: dict[str, Any] = {}
    policy_changes: dict[str, Any] = {}
    for fault in faults:
        request_changes |= fault.request
        token_changes |= fault.token
        policy_changes |= fault.policy
    limiter = Limiter(allow=not any(fault.limited for fault in faults))
    decision = decide(
        request(**request_changes),
        snapshot(**token_changes),
        replace(GatePolicy(), **policy_changes),
        limiter,
    )

    return decision, limiter


@pytest.mark.parametrize("reason", ORDER)
def test_each_fault_alone(reason: Reason) -> None:
    """Each fault on its own is refused for its own reason, with its status."""
    decision, _ = decide_with(FAULTS[reason])

    assert decision.reason is reason
    assert isinstance(decision, Denied)
    assert decision.token_id == "0123456789abcdef"
    assert decision.username == "alice"


@pytest.mark.parametrize(
    ("earlier", "later"),
    list(itertools.combinations(ORDER, 2)),
    ids=str,
)
def test_earlier_check_is_reported(earlier: Reason, later: Reason) -> None:
    """With two faults, the one SPEC G2 checks first is the reason given, and a
    refused request does not count against the rate limit."""
    decision, limiter = decide_with(FAULTS[later], FAULTS[earlier])

    assert decision.reason is earlier
    if earlier is not Reason.RATE_LIMITED:
        assert limiter.calls == []


@pytest.mark.parametrize("reason", ORDER)
def test_unknown_comes_before_every_token_check(reason: Reason) -> None:
    """A token that is not stored is unknown, whatever else would fail."""
    fault = FAULTS[reason]
    decision = decide(
        request(**fault.request), None, replace(GatePolicy(), **fault.policy)
    )

    assert decision.reason is Reason.UNKNOWN_TOKEN


def test_malformed_comes_before_lookup() -> None:
    """A malformed token is refused as malformed; no lookup result is consulted."""
    bad = bearer(TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B"))

    assert decide(request(authorization=bad), snapshot()).reason is (
        Reason.MALFORMED_TOKEN
    )
