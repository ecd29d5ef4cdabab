"""The case table of the reason tests: for each reason code, how to make the gate
give it, through whichever face a Gatekeeper asks.

A case arranges what it needs (tokens, users, the policy through the REST API),
may check what leads up to the decision, and returns the answer to judge.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import text

from tests.functional.gate.faces import Gatekeeper
from tests.support import OPERATOR, ORIGIN, Setup
from tokenward.container import Container
from tokenward.gate.reasons import Reason
from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.permissions import Permission
from tokenward.tokens import format

Case = Callable[[Gatekeeper], httpx.Response]
CASES: dict[Reason, Case] = {}
# Settings a case needs besides those of every case.
SETTINGS: dict[Reason, dict[str, object]] = {
    Reason.UPSTREAM_CREDENTIAL_MISSING: {"gate_identity": "inject"},
}


def case(reason: Reason) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[reason] = function
        return function

    return register


def bearer(secret: str) -> str:
    return f"Bearer {secret}"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def altered(secret: str) -> str:
    """`secret` with its last character changed: the checksum no longer holds."""
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


# Allowed.


@case(Reason.TOKEN_VALID)
def valid_token(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")

    answer = gate.ask(authorization=bearer(secret))

    identity = gate.identity(answer)
    assert identity["x-tokenward-user"] == "alice"
    assert identity["x-tokenward-scope"] == "read-write"
    return answer


@case(Reason.PASSWORD_ALLOWED)
def password_allowed(gate: Gatekeeper) -> httpx.Response:
    answer = gate.ask(authorization=basic("alice", "hunter2"))

    assert gate.identity(answer) == {}
    return answer


@case(Reason.NO_CREDENTIALS)
def no_credentials(gate: Gatekeeper) -> httpx.Response:
    return gate.ask("GET", "/secure/Dashboard.jspa")


# Refused: the credential itself.


@case(Reason.TOKEN_REQUIRED)
def token_required(gate: Gatekeeper) -> httpx.Response:
    gate.policy(token_only_paths=["/rest/**"])

    return gate.ask("GET", "/rest/api/2/myself")


@case(Reason.MALFORMED_CREDENTIALS)
def malformed_credentials(gate: Gatekeeper) -> httpx.Response:
    return gate.ask(authorization='Digest username="alice", nonce="x"')


@case(Reason.MALFORMED_TOKEN)
def malformed_token(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")

    return gate.ask(authorization=bearer(altered(secret)))


@case(Reason.TOKEN_IN_URL)
def token_in_url(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")

    return gate.ask("GET", f"/rest/api/2/myself?access_token={secret}")


@case(Reason.UNKNOWN_TOKEN)
def unknown_token(gate: Gatekeeper) -> httpx.Response:
    return gate.ask(authorization=bearer(format.generate("tw")))


@case(Reason.TOKEN_REVOKED)
def token_revoked(gate: Gatekeeper) -> httpx.Response:
    issued = gate.setup.issue("alice", label="jira")
    assert gate.ask(authorization=bearer(issued.secret)).status_code == 200
    gate.admin("POST", "/manage/tokens/revoke", {"token_ids": [issued.token.id]})

    return gate.ask(authorization=bearer(issued.secret))


@case(Reason.TOKEN_EXPIRED)
def token_expired(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira", expires_in_days=1)
    assert gate.ask(authorization=bearer(secret)).status_code == 200
    gate.setup.clock.advance(dt.timedelta(days=1))

    return gate.ask(authorization=bearer(secret))


@case(Reason.USERNAME_MISMATCH)
def username_mismatch(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")

    return gate.ask(authorization=basic("admin", secret))


@case(Reason.PASSWORD_DENIED)
def password_denied(gate: Gatekeeper) -> httpx.Response:
    gate.policy(passwords="deny")

    return gate.ask(authorization=basic("alice", "hunter2"))


# Refused: who, where and what.


@case(Reason.OWNER_DISABLED)
def owner_disabled(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")
    gate.admin("PATCH", "/users/alice", {"active": False})

    return gate.ask(authorization=bearer(secret))


@case(Reason.OWNER_NOT_PERMITTED)
def owner_not_permitted(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")
    gate.admin("PUT", "/permissions/use_tokens", {"groups": ["tokenward-admins"]})

    return gate.ask(authorization=bearer(secret))


@case(Reason.NETWORK_NOT_ALLOWED)
def network_not_allowed(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")
    # Saved as from the command line: over the API, a policy that shuts out the
    # administrator's own address (loopback here) is refused.
    fenced = GatePolicyDocument(allowed_networks=["192.0.2.0/24"])
    gate.setup.run(lambda c: c.gate_policy.replace(OPERATOR, ORIGIN, fenced))

    return gate.ask(authorization=bearer(secret))


@case(Reason.TOKEN_NETWORK_NOT_ALLOWED)
def token_network_not_allowed(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira", allowed_networks=["192.0.2.0/24"])

    return gate.ask(authorization=bearer(secret))


@case(Reason.READ_ONLY_SCOPE)
def read_only_scope(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira", scope="read-only")
    assert gate.ask(
        "POST", "/rest/api/2/search", authorization=bearer(secret)
    ).is_success

    return gate.ask("POST", "/rest/api/2/issue", authorization=bearer(secret))


@case(Reason.HEADER_MISMATCH)
def header_mismatch(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token(
        "alice", label="ci", header_restrictions={"X-Integration": "build-42"}
    )
    right = {"X-Integration": "build-42"}
    assert gate.ask(authorization=bearer(secret), headers=right).is_success

    return gate.ask(authorization=bearer(secret), headers={"X-Integration": "build-43"})


@case(Reason.UPSTREAM_CREDENTIAL_MISSING)
def upstream_credential_missing(gate: Gatekeeper) -> httpx.Response:
    """With credential injection, a valid token whose owner stored no credential
    for the upstream is refused; nothing is injected."""
    secret = gate.setup.token("alice", label="jira")

    answer = gate.ask(authorization=bearer(secret))

    assert "X-Tokenward-Authorization" not in answer.headers
    return answer


# Refused: the request cannot be judged as sent.


@case(Reason.INVALID_REQUEST)
def invalid_request(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira")

    return gate.ask(
        "GET", "/rest/%2e%2e/%2e%2e/etc/passwd", authorization=bearer(secret)
    )


# Refused: too much, or cannot decide.


@case(Reason.RATE_LIMITED)
def rate_limited(gate: Gatekeeper) -> httpx.Response:
    secret = gate.setup.token("alice", label="jira", rate_limit_per_minute=2)
    for _ in range(2):
        assert gate.ask(authorization=bearer(secret)).status_code == 200

    answer = gate.ask(authorization=bearer(secret))

    assert answer.headers["Retry-After"] == "60"
    return answer


@case(Reason.THROTTLED)
def throttled(gate: Gatekeeper) -> httpx.Response:
    limit = gate.settings.gate_failure_limit
    for _ in range(limit):
        unknown = gate.ask(authorization=bearer(format.generate("tw")))
        assert unknown.headers["X-Tokenward-Reason"] == "unknown_token"

    return gate.ask(authorization=bearer(format.generate("tw")))


@case(Reason.UNAVAILABLE)
def unavailable(gate: Gatekeeper) -> httpx.Response:
    """Storage fails the decision's read: the gate refuses with 503, and the
    refusal is still recorded (the audit table is unharmed)."""
    secret = gate.setup.token("alice", label="jira")
    with storage_failing(gate.setup):
        # A committed change makes the gate reload its policy, and that read fails.
        gate.setup.grant(Permission.USE_TOKENS, groups=[], everyone=True)
        answer = poll_until(gate, secret, Reason.UNAVAILABLE)
        # Recorded while storage is failing, since the refusal is answered first.
        gate.audit_of(answer)
    recovered = poll_until(gate, secret, Reason.TOKEN_VALID)
    assert recovered.status_code == 200

    return answer


@contextmanager
def storage_failing(setup: Setup) -> Iterator[None]:
    """The policy table unreadable (renamed away) meanwhile, and put back whatever
    happens. Reads of the gate's state fail; the audit table is unharmed."""
    rename_table(setup, "policy_documents", "policy_documents_away")
    try:
        yield
    finally:
        rename_table(setup, "policy_documents_away", "policy_documents")


def rename_table(setup: Setup, old: str, new: str) -> None:
    async def work(container: Container) -> None:
        async with container.db.write() as session:
            await session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    setup.run(work)


def poll_until(gate: Gatekeeper, secret: str, reason: Reason) -> httpx.Response:
    """Ask until the gate gives `reason` (it hears of changes within its poll
    interval); fail after a bounded number of tries."""
    for _ in range(200):
        answer = gate.ask(authorization=bearer(secret))
        if gate.reason_of(answer) == str(reason):
            return answer
        time.sleep(0.05)
    raise AssertionError(f"the gate never answered {reason}")
