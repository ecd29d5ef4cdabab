"""Requests, token snapshots and the whole decision, for the decision tests."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

from tokenward.gate.decision import (
    Decision,
    Denied,
    GatePolicy,
    GateRequest,
    NoCredentials,
    PasswordCredential,
    TokenSnapshot,
    classify,
    decide_anonymous,
    decide_password,
    decide_token,
)
from tokenward.tokens import format

PREFIX = "tw"
TOKEN = format.generate(PREFIX)
NOW = 1_800_000_000.0


def bearer(secret: str) -> str:
    return f"Bearer {secret}"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def request(**changes: Any) -> GateRequest:
    values: dict[str, Any] = {
        "method": "GET",
        "path": "/rest/api/2/myself",
        "query": "",
        "client_ip": ipaddress.ip_address("192.0.2.10"),
        "authorization": bearer(TOKEN),
        "headers": {},
    }
    values.update(changes)

    return GateRequest(**values)


def snapshot(**changes: Any) -> TokenSnapshot:
    values: dict[str, Any] = {
        "token_id": "0123456789abcdef",
        "owner": "alice",
        "owner_active": True,
        "owner_may_use": True,
        "owner_groups": ("staff",),
        "scope": "read-write",
        "expires_at": NOW + 3600,
        "revoked": False,
    }
    values.update(changes)

    return TokenSnapshot(**values)


def networks(*texts: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(text) for text in texts)


class Limiter:
    """A rate limiter that answers as told and remembers being asked."""

    def __init__(self, *, allow: bool = True) -> None:
        self.answer = allow
        self.calls: list[tuple[str, int]] = []

    def allow(self, token_id: str, per_minute: int) -> bool:
        self.calls.append((token_id, per_minute))
        return self.answer


def decide(
    gate_request: GateRequest,
    token: TokenSnapshot | None = None,
    policy: GatePolicy | None = None,
    limiter: Limiter | None = None,
    groups: frozenset[str] = frozenset(),
) -> Decision:
    """The whole decision as the gate makes it, with `token` as the lookup's result."""
    policy = policy or GatePolicy()
    credential = classify(gate_request, PREFIX)
    if isinstance(credential, Denied):
        return credential
    if isinstance(credential, NoCredentials):
        return decide_anonymous(gate_request, policy)
    if isinstance(credential, PasswordCredential):
        return decide_password(gate_request, credential, groups, policy)

    return decide_token(
        gate_request,
        credential,
        token,
        policy,
        now=NOW,
        rate_limiter=limiter or Limiter(),
    )
