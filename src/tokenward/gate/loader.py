"""Reading what the gate needs from storage: token snapshots, the policy state."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.directory.models import User
from tokenward.gate.decision import GatePolicy, TokenSnapshot
from tokenward.policies.permissions import Grant, Permission, resolve
from tokenward.policies.services import load_gate_policy, load_grants
from tokenward.tokens.models import Token


@dataclass(frozen=True, slots=True)
class GateState:
    """Everything but tokens that decisions read; rebuilt after each change."""

    policy: GatePolicy
    grants: dict[Permission, Grant]


async def load_state(session: AsyncSession) -> GateState:
    document = await load_gate_policy(session)

    return GateState(policy=document.compile(), grants=await load_grants(session))


async def load_token(
    session: AsyncSession, digest: bytes, state: GateState
) -> TokenSnapshot | None:
    """The snapshot of the token with `digest`, or None if there is none."""
    token = await session.scalar(select(Token).where(Token.digest == digest))
    if token is None:
        return None
    owner = token.owner
    may_use = owner.active and Permission.USE_TOKENS in resolve(
        state.grants, (group.id for group in owner.groups)
    )

    return TokenSnapshot(
        token_id=token.id,
        owner=owner.username,
        owner_active=owner.active,
        owner_may_use=may_use,
        owner_groups=tuple(sorted(group.name for group in owner.groups)),
        scope=token.scope,
        expires_at=token.expires_at.timestamp() if token.expires_at else None,
        revoked=token.revoked_at is not None,
        networks=tuple(ipaddress.ip_network(n) for n in token.allowed_networks),
        header_restrictions=tuple(sorted(token.header_restrictions.items())),
        rate_limit_per_minute=token.rate_limit_per_minute,
    )


async def load_groups(session: AsyncSession, username: str) -> frozenset[str]:
    """The groups of `username` in tokenward's directory; empty if unknown."""
    user = await session.scalar(select(User).where(User.username == username))

    return frozenset(group.name for group in user.groups) if user else frozenset()
