"""Permission and policy API schemas."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from tokenward.policies.governance import (
    DEFAULT_GRACE_DAYS,
    MAX_GRACE_DAYS,
    Action,
    Applied,
)
from tokenward.policies.impact import BreakingToken, Impact
from tokenward.policies.permissions import Permission
from tokenward.policies.token_policy import TokenPolicyDocument
from tokenward.schemas import Input, Output


class PermissionGrantIn(Input):
    everyone: bool = False
    groups: list[str] = Field(default_factory=list, max_length=1000)


class PermissionGrantOut(Output):
    permission: Permission
    everyone: bool
    groups: list[str]


class PermissionList(Output):
    items: list[PermissionGrantOut]


class BreakingTokenOut(Output):
    """An active token that breaks a candidate policy, and how."""

    id: str
    label: str
    tier: str
    scope: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    reasons: list[str] = Field(
        description="lifetime, never_expires, read_write, count, inactive, networks"
    )
    shortened_expiry: dt.datetime | None = Field(
        default=None,
        description="The expiry the shorten action would give it; null: unchanged.",
    )
    allowed_networks: list[str]
    outside_networks: list[str] = Field(
        description="Its own ranges outside the gate's allowed networks."
    )
    stranded: bool = Field(description="None of its own ranges is left inside.")

    @classmethod
    def of(cls, token: BreakingToken) -> BreakingTokenOut:
        facts = token.facts
        return cls(
            id=facts.id,
            label=token.label,
            tier=str(facts.tier),
            scope=str(facts.scope),
            created_at=facts.created_at,
            expires_at=facts.expires_at,
            last_used_at=facts.last_used_at,
            reasons=[str(reason) for reason in token.reasons],
            shortened_expiry=token.shortened_expiry,
            allowed_networks=list(facts.allowed_networks),
            outside_networks=list(token.outside_networks),
            stranded=token.stranded,
        )


class OwnerImpactOut(Output):
    owner: str
    tokens: int = Field(description="How many of this owner's tokens break it.")
    items: list[BreakingTokenOut]


class ImpactOut(Output):
    """The dry run: breaking tokens in all, and a page of their owners."""

    tokens: int = Field(description="Active tokens that break the policy.")
    owners: int = Field(description="Users who own them.")
    by_reason: dict[str, int] = Field(
        description="Breaking tokens per reason; a token may have several."
    )
    items: list[OwnerImpactOut] = Field(description="Owners by username, paged.")
    limit: int
    offset: int

    @classmethod
    def of(cls, impact: Impact, *, limit: int, offset: int) -> ImpactOut:
        owners = impact.by_owner()
        return cls(
            tokens=len(impact.tokens),
            owners=len(owners),
            by_reason=impact.by_reason(),
            items=[
                OwnerImpactOut(
                    owner=owner,
                    tokens=len(tokens),
                    items=[BreakingTokenOut.of(token) for token in tokens],
                )
                for owner, tokens in owners[offset : offset + limit]
            ],
            limit=limit,
            offset=offset,
        )


class TokenPolicyApply(Input):
    policy: TokenPolicyDocument
    action: Action = Field(
        description="keep: leave the breaking tokens as they are; shorten: end "
        "them at the new limit; revoke: revoke them now."
    )
    grace_days: int = Field(
        default=DEFAULT_GRACE_DAYS,
        ge=0,
        le=MAX_GRACE_DAYS,
        description="shorten: a token whose new end is already past, or that "
        "breaks the scope or count, ends this many days from now.",
    )


class TokenPolicyApplied(Output):
    policy: TokenPolicyDocument
    action: Action
    tokens: int = Field(description="Active tokens that broke the policy.")
    owners: int
    by_reason: dict[str, int]
    shortened: list[str] = Field(description="Ids of the tokens shortened.")
    revoked: list[str] = Field(description="Ids of the tokens revoked.")

    @classmethod
    def of(cls, applied: Applied) -> TokenPolicyApplied:
        return cls(
            policy=applied.policy,
            action=applied.action,
            tokens=len(applied.impact.tokens),
            owners=len(applied.impact.by_owner()),
            by_reason=applied.impact.by_reason(),
            shortened=applied.shortened,
            revoked=applied.revoked,
        )


class InactivityRun(Output):
    expired: list[str] = Field(description="Ids of the tokens expired by this run.")
