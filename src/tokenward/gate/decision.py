"""The gate's decision (SPEC G1-G4, T4). Pure: values in, a decision out.

The order of checks is the one SPEC G2 gives, and each refusal names its reason:
well-formed → known → active → owner → global networks → token networks → scope →
headers → rate limit. A credential that fails as a token is never retried as a
password (G3).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

from tokenward.gate.addresses import IPAddress, IPNetwork, in_networks
from tokenward.gate.paths import matches
from tokenward.gate.reasons import Reason
from tokenward.gate.scopes import ScopeRules
from tokenward.tokens import format
from tokenward.web.credentials import parse_authorization


@dataclass(frozen=True, slots=True)
class GateRequest:
    """What the gate knows of one API call."""

    method: str
    path: str  # normalised, see gate.paths
    query: str
    client_ip: IPAddress | None  # None: a trusted proxy sent an unreadable chain
    authorization: str | None
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names


@dataclass(frozen=True, slots=True)
class TokenSnapshot:
    """A token and its owner as the cache holds them; networks pre-parsed."""

    token_id: str
    owner: str
    owner_active: bool
    owner_may_use: bool
    owner_groups: tuple[str, ...]
    scope: str
    expires_at: float | None  # seconds since the epoch
    revoked: bool
    networks: tuple[IPNetwork, ...] = ()
    header_restrictions: tuple[tuple[str, str], ...] = ()
    rate_limit_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """The administrators' rules for the gate, compiled for fast checks."""

    allowed_networks: tuple[IPNetwork, ...] = ()  # empty: anywhere
    passwords_allowed: bool = True
    password_exempt_users: frozenset[str] = frozenset()
    password_exempt_groups: frozenset[str] = frozenset()
    password_exempt_paths: tuple[str, ...] = ()
    password_exempt_networks: tuple[IPNetwork, ...] = ()
    token_only_paths: tuple[str, ...] = ()
    scope_rules: ScopeRules = field(default_factory=ScopeRules)


@dataclass(frozen=True, slots=True)
class Allowed:
    reason: Reason
    token_id: str | None = None
    username: str | None = None
    groups: tuple[str, ...] = ()
    scope: str | None = None

    allowed = True


@dataclass(frozen=True, slots=True)
class Denied:
    reason: Reason
    token_id: str | None = None
    username: str | None = None
    retry_after: int | None = None

    allowed = False


Decision = Allowed | Denied


@dataclass(frozen=True, slots=True)
class NoCredentials:
    pass


@dataclass(frozen=True, slots=True)
class TokenCredential:
    secret: str = field(repr=False)
    username: str | None = None  # set for Basic: must be the owner


@dataclass(frozen=True, slots=True)
class PasswordCredential:
    username: str


Credential = NoCredentials | TokenCredential | PasswordCredential | Denied


class RateLimiter(Protocol):
    def allow(self, token_id: str, per_minute: int) -> bool: ...


def classify(request: GateRequest, prefix: str) -> Credential:
    """What the request presents; a Denied if it presents something unusable."""
    if request.query and _token_in_query(request.query, prefix):
        return Denied(Reason.TOKEN_IN_URL)
    if request.authorization is None:
        return NoCredentials()
    credential = parse_authorization(request.authorization)
    if credential is None:
        return Denied(Reason.MALFORMED_CREDENTIALS)
    if credential.username is not None and not credential.secret.startswith(
        prefix + "_"
    ):
        # Basic with something that is not one of our tokens: a password login.
        return PasswordCredential(username=credential.username)
    try:
        format.parse(credential.secret, prefix=prefix)
    except format.MalformedTokenError:
        return Denied(Reason.MALFORMED_TOKEN, username=credential.username)

    return TokenCredential(secret=credential.secret, username=credential.username)


def decide_anonymous(request: GateRequest, policy: GatePolicy) -> Decision:
    """No credentials: pass through, unless the path is token-only (G4)."""
    if any(matches(pattern, request.path) for pattern in policy.token_only_paths):
        return Denied(Reason.TOKEN_REQUIRED)

    return Allowed(Reason.NO_CREDENTIALS)


def decide_token(
    request: GateRequest,
    credential: TokenCredential,
    token: TokenSnapshot | None,
    policy: GatePolicy,
    *,
    now: float,
    rate_limiter: RateLimiter,
) -> Decision:
    """A token's decision, in the order of SPEC G2."""
    if token is None:
        return Denied(Reason.UNKNOWN_TOKEN, username=credential.username)
    refusal = _refuse_token(request, credential, token, policy, now=now)
    if refusal is not None:
        return Denied(refusal, token_id=token.token_id, username=token.owner)
    limit = token.rate_limit_per_minute
    if limit is not None and not rate_limiter.allow(token.token_id, limit):
        return Denied(
            Reason.RATE_LIMITED,
            token_id=token.token_id,
            username=token.owner,
            retry_after=60,
        )

    return Allowed(
        Reason.TOKEN_VALID,
        token_id=token.token_id,
        username=token.owner,
        groups=token.owner_groups,
        scope=token.scope,
    )


def decide_password(
    request: GateRequest,
    credential: PasswordCredential,
    groups: frozenset[str],
    policy: GatePolicy,
) -> Decision:
    """A password login (G3): global networks, then the rule and its exemptions.

    `groups` are the user's groups in tokenward's directory (empty if unknown).
    The upstream checks the password itself; we never see whether it is right.
    """
    username = credential.username
    if not _network_allowed(request.client_ip, policy.allowed_networks):
        return Denied(Reason.NETWORK_NOT_ALLOWED, username=username)
    if policy.passwords_allowed or _password_exempt(request, username, groups, policy):
        return Allowed(Reason.PASSWORD_ALLOWED, username=username)

    return Denied(Reason.PASSWORD_DENIED, username=username)


def _refuse_token(
    request: GateRequest,
    credential: TokenCredential,
    token: TokenSnapshot,
    policy: GatePolicy,
    *,
    now: float,
) -> Reason | None:
    checks = (
        (token.revoked, Reason.TOKEN_REVOKED),
        (
            token.expires_at is not None and token.expires_at <= now,
            Reason.TOKEN_EXPIRED,
        ),
        (
            credential.username is not None and credential.username != token.owner,
            Reason.USERNAME_MISMATCH,
        ),
        (not token.owner_active, Reason.OWNER_DISABLED),
        (not token.owner_may_use, Reason.OWNER_NOT_PERMITTED),
    )
    for failed, reason in checks:
        if failed:
            return reason
    if not _network_allowed(request.client_ip, policy.allowed_networks):
        return Reason.NETWORK_NOT_ALLOWED
    if token.networks and not _network_allowed(request.client_ip, token.networks):
        return Reason.TOKEN_NETWORK_NOT_ALLOWED
    if token.scope == "read-only" and not policy.scope_rules.is_read(
        request.method, request.path, request.query
    ):
        return Reason.READ_ONLY_SCOPE
    for name, value in token.header_restrictions:
        presented = request.headers.get(name, "")
        if not hmac.compare_digest(presented.encode(), value.encode()):
            return Reason.HEADER_MISMATCH

    return None


def _network_allowed(
    address: IPAddress | None, networks: tuple[IPNetwork, ...]
) -> bool:
    if not networks:
        return address is not None

    return address is not None and in_networks(address, networks)


def _password_exempt(
    request: GateRequest, username: str, groups: frozenset[str], policy: GatePolicy
) -> bool:
    return (
        username in policy.password_exempt_users
        or bool(groups & policy.password_exempt_groups)
        or any(
            matches(pattern, request.path) for pattern in policy.password_exempt_paths
        )
        or (
            request.client_ip is not None
            and in_networks(request.client_ip, policy.password_exempt_networks)
        )
    )


def _token_in_query(query: str, prefix: str) -> bool:
    marker = prefix + "_"
    if marker not in query and marker not in unquote(query):
        return False
    for pair in query.split("&"):
        for part in unquote(pair).split("="):
            if part.startswith(marker) and format.looks_like_token(part, prefix=prefix):
                return True

    return False
