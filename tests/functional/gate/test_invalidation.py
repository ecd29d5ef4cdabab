"""A cached allow never outlives the change that ends it (DESIGN, "The hot path";
SPEC P1, S2), on SQLite and PostgreSQL.

Changes made through this server's API are enforced by the very next request.
Changes made by another process (another instance, the CLI: here a second
Container with its own engine) are enforced within the watcher's bound, which the
tests wait for with a deadline rather than time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest

from tests.functional.gate.faces import NGINX, Gatekeeper, forward_auth_gate
from tests.support import ORIGIN, LiveServer, Setup
from tokenward.container import Container
from tokenward.policies.documents import GatePolicyDocument, ScopeRuleDocument
from tokenward.policies.permissions import Actor, Permission

OPERATOR = Actor.operator("other-instance")
# The watcher polls every second by default; NOTIFY is sooner on PostgreSQL.
ENFORCED_WITHIN_SECONDS = 5.0
REPORT = "/rest/reports/7/run"


@pytest.fixture
def gate(server: LiveServer, setup: Setup) -> Iterator[Gatekeeper]:
    """An administrator, alice, and a gate asked as nginx would."""
    keeper = forward_auth_gate(server, setup, NGINX, setup.admin())
    setup.user("alice")
    try:
        yield keeper
    finally:
        keeper.close()


def reason_of(answer: httpx.Response) -> str:
    return answer.headers["X-Tokenward-Reason"]


def eventually(ask: Callable[[], httpx.Response], reason: str) -> httpx.Response:
    """Ask until the gate answers `reason`; fail once the bound has passed."""
    deadline = time.monotonic() + ENFORCED_WITHIN_SECONDS
    while True:
        answer = ask()
        if reason_of(answer) == reason:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(
                f"still {reason_of(answer)} after {ENFORCED_WITHIN_SECONDS}s, "
                f"expected {reason}"
            )
        time.sleep(0.02)


def elsewhere(
    setup: Setup, work: Callable[[Container], Coroutine[Any, Any, object]]
) -> None:
    """Make a change through a second Container, as another instance would."""

    async def run(container: Container) -> None:
        await work(container)

    setup.run(run)


# Changes through this server's API: enforced by the next request.


def test_revocation(gate: Gatekeeper, setup: Setup) -> None:
    """A cached token is refused on the next request after its revocation."""
    issued = setup.issue("alice", label="jira")
    bearer = f"Bearer {issued.secret}"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"

    gate.admin("POST", "/manage/tokens/revoke", {"token_ids": [issued.token.id]})

    assert reason_of(gate.ask(authorization=bearer)) == "token_revoked"


def test_disabling_the_owner(gate: Gatekeeper, setup: Setup) -> None:
    """Disabling the owner refuses their cached token at once, enabling restores."""
    bearer = f"Bearer {setup.token('alice', label='jira')}"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"

    gate.admin("PATCH", "/users/alice", {"active": False})
    refused = gate.ask(authorization=bearer)
    gate.admin("PATCH", "/users/alice", {"active": True})

    assert reason_of(refused) == "owner_disabled"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"


def test_withdrawing_use_tokens(gate: Gatekeeper, setup: Setup) -> None:
    """Withdrawing use_tokens refuses a cached token at once, granting restores."""
    bearer = f"Bearer {setup.token('alice', label='jira')}"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"

    gate.admin("PUT", "/permissions/use_tokens", {"groups": ["tokenward-admins"]})
    refused = gate.ask(authorization=bearer)
    gate.admin("PUT", "/permissions/use_tokens", {"everyone": True})

    assert reason_of(refused) == "owner_not_permitted"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"


def test_policy_read_only_rule(gate: Gatekeeper, setup: Setup) -> None:
    """Removing a custom read rule refuses the write it allowed, at once."""
    bearer = f"Bearer {setup.token('alice', label='jira', scope='read-only')}"
    rule = {"methods": ["POST"], "path": "/rest/reports/*/run"}
    gate.policy(read_only_rules=[rule])
    assert reason_of(gate.ask("POST", REPORT, authorization=bearer)) == "token_valid"

    gate.policy(read_only_rules=[])

    refused = gate.ask("POST", REPORT, authorization=bearer)
    assert reason_of(refused) == "read_only_scope"


def test_policy_networks(gate: Gatekeeper, setup: Setup) -> None:
    """A network policy that would shut out the administrator's own address is
    refused unsaved; narrowing that keeps it takes effect with the token allowed.
    (Narrowing that refuses the token is in test_policy_elsewhere.)"""
    bearer = f"Bearer {setup.token('alice', label='jira')}"
    gate.policy(allowed_networks=["127.0.0.0/8", "::1/128"])
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"

    with httpx.Client(
        base_url=f"{gate.api_url}/api/v1",
        headers={"Authorization": f"Bearer {gate.admin_token}"},
        timeout=10,
    ) as api:
        refused = api.put("/policies/gate", json={"allowed_networks": ["192.0.2.0/24"]})
        kept = api.get("/policies/gate").json()["allowed_networks"]
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "allowed_networks"
    assert kept == ["127.0.0.0/8", "::1/128"]

    gate.policy(allowed_networks=["127.0.0.1/32"])
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"
    gate.policy(allowed_networks=["127.0.0.1/32", "192.0.2.0/24"])
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"


# Changes made by another instance: enforced within the bound.


def test_revocation_elsewhere(gate: Gatekeeper, setup: Setup) -> None:
    """A revocation committed by another instance is enforced here."""
    issued = setup.issue("alice", label="jira")
    bearer = f"Bearer {issued.secret}"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"

    elsewhere(
        setup,
        lambda c: c.tokens.revoke(OPERATOR, ORIGIN, [issued.token.id], managed=True),
    )

    eventually(lambda: gate.ask(authorization=bearer), "token_revoked")


def test_disabling_the_owner_elsewhere(gate: Gatekeeper, setup: Setup) -> None:
    """An owner disabled by another instance is refused here."""
    bearer = f"Bearer {setup.token('alice', label='jira')}"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"

    elsewhere(
        setup,
        lambda c: c.directory.update_user(OPERATOR, ORIGIN, "alice", active=False),
    )

    eventually(lambda: gate.ask(authorization=bearer), "owner_disabled")


def test_withdrawing_use_tokens_elsewhere(gate: Gatekeeper, setup: Setup) -> None:
    """use_tokens withdrawn by another instance is enforced here."""
    bearer = f"Bearer {setup.token('alice', label='jira')}"
    assert reason_of(gate.ask(authorization=bearer)) == "token_valid"

    setup.grant(Permission.USE_TOKENS, groups=["tokenward-admins"])

    eventually(lambda: gate.ask(authorization=bearer), "owner_not_permitted")


def test_policy_elsewhere(gate: Gatekeeper, setup: Setup) -> None:
    """A policy replaced by another instance is enforced here: networks and a
    read-only rule."""
    bearer = f"Bearer {setup.token('alice', label='jira', scope='read-only')}"
    rule = ScopeRuleDocument(methods=["POST"], path="/rest/reports/*/run")
    gate.policy(read_only_rules=[rule.model_dump(mode="json")])
    assert reason_of(gate.ask("POST", REPORT, authorization=bearer)) == "token_valid"

    narrowed = GatePolicyDocument(read_only_rules=[])
    elsewhere(setup, lambda c: c.gate_policy.replace(OPERATOR, ORIGIN, narrowed))
    eventually(
        lambda: gate.ask("POST", REPORT, authorization=bearer), "read_only_scope"
    )

    fenced = GatePolicyDocument(allowed_networks=["192.0.2.0/24"])
    elsewhere(setup, lambda c: c.gate_policy.replace(OPERATOR, ORIGIN, fenced))
    eventually(lambda: gate.ask(authorization=bearer), "network_not_allowed")

    widened = GatePolicyDocument(allowed_networks=["127.0.0.0/8", "::1/128"])
    elsewhere(setup, lambda c: c.gate_policy.replace(OPERATOR, ORIGIN, widened))
    eventually(lambda: gate.ask(authorization=bearer), "token_valid")
