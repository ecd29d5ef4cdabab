"""The token and gate policies applied to a token being created or rotated
(SPEC P3, P5, P6), inside the token service's transaction.

A token that would break a policy is refused with `InvalidInputError` (422) in
words that state the limit; nothing is adjusted silently except what the creator
left to the default: the lifetime, and the scope where read-only is forced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.directory.models import User
from tokenward.errors import InvalidInputError
from tokenward.policies.conformance import (
    count_problem,
    lifetime_problem,
    networks_problem,
    scope_problem,
)
from tokenward.policies.models import PolicyDocument
from tokenward.policies.services import load_gate_policy
from tokenward.policies.token_policy import TokenPolicyDocument
from tokenward.tokens.attributes import Scope, Tier
from tokenward.tokens.models import Token

TOKEN_POLICY = "tokens"  # noqa: S105 - the policy document's name, not a secret


async def load_token_policy(session: AsyncSession) -> TokenPolicyDocument:
    """The stored token policy, or the defaults if none was ever saved."""
    stored = await session.get(PolicyDocument, TOKEN_POLICY)

    return (
        TokenPolicyDocument()
        if stored is None
        else TokenPolicyDocument.model_validate(stored.document)
    )


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token about to be created, as its creator asked for it.

    `expiry_field` names the input that set `expires_at` (`expires_at`,
    `expires_in_days` or `never_expires`), or is None when the creator left the
    expiry to the default. `scope` is None when the creator left it to the default.
    """

    owner: User
    tier: Tier
    by_owner: bool
    created_at: dt.datetime
    expires_at: dt.datetime | None
    expiry_field: str | None
    scope: Scope | None
    allowed_networks: list[str]


def expiry_field(
    expires_at: dt.datetime | None, expires_in_days: int | None, never_expires: bool
) -> str | None:
    """The input that named a new token's expiry, or None if none did."""
    if never_expires:
        return "never_expires"
    if expires_in_days is not None:
        return "expires_in_days"

    return None if expires_at is None else "expires_at"


async def conform_new_token(
    session: AsyncSession, token: NewToken, *, instance_default: dt.timedelta
) -> tuple[dt.datetime | None, Scope]:
    """The expiry and scope the new token gets, or InvalidInputError if it would
    break the token policy or the gate policy's networks."""
    policy = await load_token_policy(session)
    groups = [group.name for group in token.owner.groups]
    rule = policy.rule_for(token.tier, groups, instance_default)

    expires_at = token.expires_at
    if token.expiry_field is None:
        expires_at = token.created_at + rule.default_lifetime
    problem = lifetime_problem(
        rule,
        created_at=token.created_at,
        expires_at=expires_at,
        by_owner=token.by_owner,
    )
    if problem:
        raise InvalidInputError(problem, field=token.expiry_field or "expires_at")

    forced = policy.force_read_only_for_self and token.tier is Tier.SELF
    scope = token.scope or (Scope.READ_ONLY if forced else Scope.READ_WRITE)
    problem = scope_problem(
        token.tier,
        scope,
        force_read_only_for_self=policy.force_read_only_for_self,
        by_owner=token.by_owner,
    )
    if problem:
        raise InvalidInputError(problem, field="scope")

    await _check_networks(session, token.allowed_networks)
    limit = policy.max_active_tokens_per_user
    if limit is not None:
        active = await _active_count(session, token.owner, token.created_at)
        problem = count_problem(
            active, limit, owner=token.owner.username, by_owner=token.by_owner
        )
        if problem:
            raise InvalidInputError(problem, field="owner")

    return expires_at, scope


async def conform_rotation(
    session: AsyncSession,
    token: Token,
    *,
    now: dt.datetime,
    by_owner: bool,
    instance_default: dt.timedelta,
) -> None:
    """Refuse to rotate `token` if its successor, created `now` with the same
    attributes, would break the policies in force. The per-user count is not
    checked: the successor replaces the token."""
    policy = await load_token_policy(session)
    groups = [group.name for group in token.owner.groups]
    tier = Tier(token.tier)
    rule = policy.rule_for(tier, groups, instance_default)
    problems = [
        lifetime_problem(
            rule, created_at=now, expires_at=token.expires_at, by_owner=by_owner
        ),
        scope_problem(
            tier,
            Scope(token.scope),
            force_read_only_for_self=policy.force_read_only_for_self,
            by_owner=by_owner,
        ),
        networks_problem(
            token.allowed_networks, (await load_gate_policy(session)).allowed_networks
        ),
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise InvalidInputError(
            f"token {token.id!r} cannot be rotated as it is: {'; '.join(found)}. "
            "Create a new token instead",
            field="token_id",
        )


async def _check_networks(session: AsyncSession, networks: list[str]) -> None:
    if not networks:
        return
    gate_policy = await load_gate_policy(session)
    problem = networks_problem(networks, gate_policy.allowed_networks)
    if problem:
        raise InvalidInputError(problem, field="allowed_networks")


async def _active_count(session: AsyncSession, owner: User, now: dt.datetime) -> int:
    if session.get_bind().dialect.name == "postgresql":
        # Two creations for one owner at once would both see room for one more;
        # the owner's row lock makes the second wait for the first's commit.
        await session.execute(
            select(User.id).where(User.id == owner.id).with_for_update()
        )
    count = await session.scalar(
        select(func.count())
        .select_from(Token)
        .where(
            Token.owner_id == owner.id,
            Token.revoked_at.is_(None),
            or_(Token.expires_at.is_(None), Token.expires_at > now),
        )
    )

    return count or 0
