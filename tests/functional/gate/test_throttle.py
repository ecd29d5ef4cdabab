"""Failed attempts throttled per client address, without locking out a token's
owner (SPEC G8), through the forward-auth endpoint on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest

from tests.functional.gate.faces import (
    NGINX,
    Gatekeeper,
    assert_answer,
    forward_auth_gate,
)
from tests.support import LiveServer, Setup
from tokenward.config import Settings
from tokenward.gate.reasons import Reason
from tokenward.tokens import format

FAILURE_LIMIT = 3
# Long enough for a test's failures to fall in one window on a slow machine.
WINDOW_SECONDS = 3
# Addresses as the trusted proxy in front reports them.
OFFICE_NAT = "198.51.100.7"
ELSEWHERE = "192.0.2.20"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small failure limit and window; the test client is a trusted proxy, so
    X-Forwarded-For sets the client address."""
    return settings.model_copy(
        update={
            "gate_failure_limit": FAILURE_LIMIT,
            "gate_failure_window_seconds": WINDOW_SECONDS,
            "gate_trusted_proxies": ["127.0.0.1/32", "::1/128"],
        }
    )


@pytest.fixture
def gate(server: LiveServer, setup: Setup) -> Iterator[Gatekeeper]:
    keeper = forward_auth_gate(server, setup, NGINX, setup.admin())
    try:
        yield keeper
    finally:
        keeper.close()


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def fail_until_throttled(gate: Gatekeeper, address: str) -> None:
    """Send failures from `address` until its limit is reached; they are refused
    for their own reason until then."""
    for _ in range(FAILURE_LIMIT):
        answer = gate.ask(
            authorization=f"Bearer {format.generate('tw')}",
            headers=from_address(address),
        )
        assert answer.headers["X-Tokenward-Reason"] == "unknown_token"


def test_too_many_failures_are_throttled(gate: Gatekeeper) -> None:
    """Past the limit, the address gets 429 with Retry-After, audited as throttled,
    for tokens and passwords alike; another address is unaffected."""
    fail_until_throttled(gate, OFFICE_NAT)

    throttled = gate.ask(
        authorization=f"Bearer {format.generate('tw')}",
        headers=from_address(OFFICE_NAT),
    )
    password = gate.ask(
        authorization="Basic " + base64.b64encode(b"alice:hunter2").decode(),
        headers=from_address(OFFICE_NAT),
    )
    elsewhere = gate.ask(
        authorization=f"Bearer {format.generate('tw')}",
        headers=from_address(ELSEWHERE),
    )

    assert_answer(NGINX, throttled, Reason.THROTTLED)
    assert 1 <= int(throttled.headers["Retry-After"]) <= WINDOW_SECONDS
    assert password.headers["X-Tokenward-Reason"] == "throttled"
    assert elsewhere.headers["X-Tokenward-Reason"] == "unknown_token"
    record = gate.audit_of(throttled)
    assert (record.reason, record.client_ip) == ("throttled", OFFICE_NAT)


def test_cached_owner_is_not_locked_out(gate: Gatekeeper, setup: Setup) -> None:
    """While an address is throttled, an owner whose token the gate already knows
    passes from that same address; a token it does not know yet waits."""
    setup.user("alice")
    setup.user("bob")
    alice = setup.token("alice", label="jira")
    bob = setup.token("bob", label="jira")
    first = gate.ask(authorization=f"Bearer {alice}", headers=from_address(OFFICE_NAT))
    assert first.status_code == 200
    fail_until_throttled(gate, OFFICE_NAT)

    owner = gate.ask(authorization=f"Bearer {alice}", headers=from_address(OFFICE_NAT))
    newcomer = gate.ask(authorization=f"Bearer {bob}", headers=from_address(OFFICE_NAT))

    assert_answer(NGINX, owner, Reason.TOKEN_VALID)
    assert owner.headers["X-Tokenward-User"] == "alice"
    assert gate.audit_of(owner).client_ip == OFFICE_NAT
    assert newcomer.headers["X-Tokenward-Reason"] == "throttled"


def test_throttle_ends_with_its_window(gate: Gatekeeper, setup: Setup) -> None:
    """Once the window has passed, the address is judged normally again."""
    setup.user("bob")
    bob = setup.token("bob", label="jira")
    fail_until_throttled(gate, OFFICE_NAT)
    refused = gate.ask(authorization=f"Bearer {bob}", headers=from_address(OFFICE_NAT))
    assert refused.headers["X-Tokenward-Reason"] == "throttled"

    time.sleep(int(refused.headers["Retry-After"]) + 0.2)
    answer = gate.ask(authorization=f"Bearer {bob}", headers=from_address(OFFICE_NAT))

    assert answer.headers["X-Tokenward-Reason"] == "token_valid"


def test_allowed_requests_do_not_count(gate: Gatekeeper, setup: Setup) -> None:
    """Only failures count: any number of allowed requests never throttles."""
    setup.user("alice")
    alice = setup.token("alice", label="jira")

    answers = [
        gate.ask(authorization=f"Bearer {alice}", headers=from_address(OFFICE_NAT))
        for _ in range(FAILURE_LIMIT * 3)
    ]

    assert {answer.status_code for answer in answers} == {200}
