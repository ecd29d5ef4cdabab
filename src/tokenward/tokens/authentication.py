"""Authenticating the callers of tokenward's own API by token.

The gate's own decision (SPEC G2) is applied, so a read-only, network- or
header-restricted token is exactly as restricted on tokenward's API as in front of
the upstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.services import find_user
from tokenward.errors import AuthenticationError
from tokenward.gate.addresses import IPAddress
from tokenward.gate.decision import Denied, GateRequest, TokenCredential, decide_token
from tokenward.gate.loader import load_state, load_token
from tokenward.gate.reasons import Reason
from tokenward.policies.permissions import Actor, Permission
from tokenward.policies.services import actor_for
from tokenward.tokens import format
from tokenward.tokens.digest import token_digest
from tokenward.tokens.errors import TokenRestrictedError

# Refusals of a good credential used where it may not be; any other is a bad one.
_RESTRICTIONS = frozenset(
    {
        Reason.NETWORK_NOT_ALLOWED,
        Reason.TOKEN_NETWORK_NOT_ALLOWED,
        Reason.READ_ONLY_SCOPE,
        Reason.HEADER_MISMATCH,
    }
)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """A call to tokenward's own API, as the token checks need to see it."""

    method: str
    path: str
    client_ip: IPAddress | None
    headers: Mapping[str, str] = field(default_factory=dict)


class _Unlimited:
    """Per-token rate limits are the gate's; tokenward's own API does not count."""

    def allow(self, token_id: str, per_minute: int) -> bool:
        return True


_UNLIMITED = _Unlimited()


async def authenticate(
    db: Database,
    clock: Clock,
    key: bytes,
    prefix: str,
    secret: str,
    *,
    username: str | None = None,
    call: ApiCall | None = None,
) -> Actor:
    """The actor `secret` speaks for.

    `call` describes the request for the scope, network and header checks; without
    it only the credential is checked (for tooling). With `username` (HTTP Basic)
    it must be the token's owner. A bad credential is always the same
    AuthenticationError, so a caller learns nothing about why; a good one used
    where it may not be is refused with TokenRestrictedError naming the reason.
    """
    try:
        format.parse(secret, prefix=prefix)
    except format.MalformedTokenError:
        raise AuthenticationError("invalid token") from None
    digest = token_digest(key, secret)
    request = GateRequest(
        method=call.method if call else "GET",
        path=call.path if call else "/",
        query="",
        client_ip=call.client_ip if call else None,
        authorization=None,
        headers=call.headers if call else {},
    )

    async with db.read() as session:
        state = await load_state(session)
        snapshot = await load_token(session, digest, state)
        decision = decide_token(
            request,
            TokenCredential(secret=secret, username=username),
            snapshot,
            state.policy,
            now=clock.now().timestamp(),
            rate_limiter=_UNLIMITED,
        )
        if isinstance(decision, Denied):
            if decision.reason not in _RESTRICTIONS:
                raise AuthenticationError("invalid token")
            if call is not None:
                raise TokenRestrictedError(decision.reason)
        if snapshot is None:  # refused above; spelled out for the type checker
            raise AuthenticationError("invalid token")
        actor = await actor_for(session, await find_user(session, snapshot.owner))
    if not actor.may(Permission.USE_TOKENS):
        raise AuthenticationError("invalid token")

    return actor
