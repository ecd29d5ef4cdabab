"""Which existing tokens a candidate policy would break, read from the database.

`token_policy_impact` judges every active token against a token policy (lifetime,
never expiring, forced read-only, inactivity, the per-user count);
`gate_policy_impact` judges the tokens' own IP ranges against a gate policy's
allowed networks. Both only read: saving and acting on the tokens is the caller's.
The judging itself is `policies.conformance`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.directory.models import Group, User, memberships
from tokenward.policies.conformance import (
    Breach,
    TokenFacts,
    breaches,
    networks_outside,
    over_the_count,
    shortened_expiry,
)
from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.token_policy import LifetimeRule, TokenPolicyDocument
from tokenward.tokens.attributes import Scope, Tier
from tokenward.tokens.models import Token

# Rows fetched from the database at a time while judging every active token.
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class BreakingToken:
    """One active token that breaks the candidate policy, and how.

    `shortened_expiry` is the expiry the "shorten" action would give it (None: it
    would be left as it is); `outside_networks` are its own ranges outside the
    gate's, and `stranded` says that none of its ranges is left inside.
    """

    facts: TokenFacts
    owner: str
    label: str
    reasons: tuple[Breach, ...]
    shortened_expiry: dt.datetime | None = None
    outside_networks: tuple[str, ...] = ()
    stranded: bool = False


@dataclass(frozen=True, slots=True)
class Impact:
    """The breaking tokens, ordered by owner, then creation."""

    tokens: list[BreakingToken] = field(default_factory=list)

    def by_reason(self) -> dict[str, int]:
        counts = Counter(reason for token in self.tokens for reason in token.reasons)

        return {str(reason): counts[reason] for reason in Breach if counts[reason]}

    def by_owner(self) -> list[tuple[str, list[BreakingToken]]]:
        owners: dict[str, list[BreakingToken]] = defaultdict(list)
        for token in self.tokens:
            owners[token.owner].append(token)

        return list(owners.items())

    def acted_on(self) -> list[BreakingToken]:
        """The tokens "shorten" and "revoke" act on: an inactive token is left to
        the inactivity run, which expires it anyway."""
        return [
            token
            for token in self.tokens
            if any(reason is not Breach.INACTIVE for reason in token.reasons)
        ]


def active_tokens_query(now: dt.datetime) -> Select[*tuple[Any, ...]]:
    """The columns the policies judge, of every token active at `now`."""
    return (
        select(
            Token.id,
            Token.owner_id,
            User.username,
            Token.label,
            Token.tier,
            Token.scope,
            Token.created_at,
            Token.expires_at,
            Token.last_used_at,
            Token.allowed_networks,
        )
        .join(User, User.id == Token.owner_id)
        .where(
            Token.revoked_at.is_(None),
            or_(Token.expires_at.is_(None), Token.expires_at > now),
        )
        .order_by(User.username, Token.created_at, Token.id)
    )


async def _active_tokens(
    session: AsyncSession, now: dt.datetime
) -> AsyncIterator[tuple[TokenFacts, str, str]]:
    """Each active token's facts, owner's username and label, without loading all
    of them at once."""
    result = await session.stream(
        active_tokens_query(now).execution_options(yield_per=_BATCH)
    )
    async for row in result:
        facts = TokenFacts(
            id=row.id,
            owner_id=row.owner_id,
            tier=Tier(row.tier),
            scope=Scope(row.scope),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            allowed_networks=tuple(row.allowed_networks or ()),
        )
        yield facts, row.username, row.label


async def group_names_of_members(
    session: AsyncSession, groups: Iterable[str]
) -> dict[int, frozenset[str]]:
    """User id -> the names among `groups` of the groups that user belongs to."""
    names = sorted(set(groups))
    if not names:
        return {}
    rows = await session.execute(
        select(memberships.c.user_id, Group.name)
        .join(Group, Group.id == memberships.c.group_id)
        .where(Group.name.in_(names))
    )
    members: dict[int, set[str]] = defaultdict(set)
    for user_id, name in rows:
        members[user_id].add(name)

    return {user_id: frozenset(found) for user_id, found in members.items()}


async def _owners_over(
    session: AsyncSession, limit: int | None, now: dt.datetime
) -> set[int]:
    """The owners holding more than `limit` active tokens."""
    if limit is None:
        return set()
    counted = active_tokens_query(now).order_by(None).subquery()
    rows = await session.scalars(
        select(counted.c.owner_id)
        .group_by(counted.c.owner_id)
        .having(func.count() > limit)
    )

    return set(rows)


async def token_policy_impact(
    session: AsyncSession,
    policy: TokenPolicyDocument,
    *,
    now: dt.datetime,
    instance_default: dt.timedelta,
    grace: dt.timedelta,
) -> Impact:
    """The active tokens that break `policy` at `now`, each with its reasons and
    the expiry "shorten" would give it with `grace`."""
    members = await group_names_of_members(session, policy.overridden_groups())
    crowded = await _owners_over(session, policy.max_active_tokens_per_user, now)
    inactivity = (
        None
        if policy.inactivity_days is None
        else dt.timedelta(days=policy.inactivity_days)
    )
    rules: dict[tuple[Tier, frozenset[str]], LifetimeRule] = {}
    judged: list[tuple[TokenFacts, str, str, set[Breach], LifetimeRule]] = []
    crowds: dict[int, list[TokenFacts]] = defaultdict(list)

    async for facts, owner, label in _active_tokens(session, now):
        groups = members.get(facts.owner_id, frozenset())
        key = (facts.tier, groups)
        if key not in rules:
            rules[key] = policy.rule_for(facts.tier, groups, instance_default)
        found = breaches(
            facts,
            rules[key],
            force_read_only_for_self=policy.force_read_only_for_self,
            inactivity=inactivity,
            now=now,
        )
        if facts.owner_id in crowded:
            crowds[facts.owner_id].append(facts)
        if found or facts.owner_id in crowded:
            judged.append((facts, owner, label, found, rules[key]))

    breaking_ids = {facts.id for facts, *_, found, _rule in judged if found}
    over = {
        token_id
        for tokens in crowds.values()
        for token_id in over_the_count(
            tokens, policy.max_active_tokens_per_user, breaking_ids
        )
    }
    impact = Impact()
    for facts, owner, label, found, rule in judged:
        if facts.id in over:
            found.add(Breach.COUNT)
        if not found:
            continue
        impact.tokens.append(
            BreakingToken(
                facts=facts,
                owner=owner,
                label=label,
                reasons=tuple(reason for reason in Breach if reason in found),
                shortened_expiry=shortened_expiry(
                    facts, found, rule, now=now, grace=grace
                ),
            )
        )

    return impact


async def gate_policy_impact(
    session: AsyncSession, policy: GatePolicyDocument, *, now: dt.datetime
) -> Impact:
    """The active tokens whose own IP ranges are not all within `policy`'s allowed
    networks (SPEC P6). Tokens without ranges follow the gate's and never break."""
    allowed = [ipaddress.ip_network(value) for value in policy.allowed_networks]
    impact = Impact()
    if not allowed:
        return impact

    async for facts, owner, label in _active_tokens(session, now):
        outside = networks_outside(facts.allowed_networks, allowed)
        if not outside:
            continue
        impact.tokens.append(
            BreakingToken(
                facts=facts,
                owner=owner,
                label=label,
                reasons=(Breach.NETWORKS,),
                outside_networks=tuple(outside),
                stranded=len(outside) == len(facts.allowed_networks),
            )
        )

    return impact
