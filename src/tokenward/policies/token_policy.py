"""The token policy as administrators write it (SPEC P3-P5), and the rule one token
gets from it. Pure.

The document holds a lifetime rule per tier (how a token came to be: created by its
owner, by a token manager, or granted on request), per-group overrides of those
rules, and the scope, count and inactivity limits. `TokenPolicyDocument.rule_for`
resolves the one `LifetimeRule` that applies to a token of a tier owned by a member
of some groups.

The defaults are today's behaviour before any policy existed: no maximum beyond the
hard bound of `tokens.attributes.MAX_LIFETIME`, the instance's
`default_token_lifetime_days` as the default, "never expires" allowed in every tier,
no forced scope, no count limit, no inactivity expiry. An upgrade must not refuse
what worked the day before, and tightening is meant to go through the dry run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import Field, field_validator, model_validator

from tokenward.schemas import Input
from tokenward.tokens.attributes import MAX_LIFETIME, Tier

MAX_DAYS = MAX_LIFETIME.days
MAX_OVERRIDDEN_GROUPS = 1000
MAX_ACTIVE_TOKENS = 100_000


class TierRule(Input):
    """How long tokens of one tier may live, and whether they may never expire."""

    max_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DAYS,
        description="The longest lifetime a token may be given; null: no maximum.",
    )
    default_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DAYS,
        description=(
            "The lifetime of a token whose creator names none; null: the instance's "
            "default_token_lifetime_days, shortened to max_days if that is less."
        ),
    )
    never_expires: bool | None = Field(
        default=None,
        description=(
            "Whether a token may be created to never expire; null: allowed exactly "
            "when there is no max_days."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> TierRule:
        if (
            self.max_days is not None
            and self.default_days is not None
            and self.default_days > self.max_days
        ):
            raise ValueError(
                f"default_days ({self.default_days}) exceeds max_days ({self.max_days})"
            )

        return self

    def allows_never_expiring(self) -> bool:
        """`never_expires`, or when it is null, whether there is no maximum.

        Null is kept as null rather than resolved when saved, so that a document
        read, given a maximum and saved again stops allowing never-expiring tokens
        unless it says so.
        """
        if self.never_expires is None:
            return self.max_days is None

        return self.never_expires


def _all_tiers() -> dict[Tier, TierRule]:
    return {tier: TierRule() for tier in Tier}


class TokenPolicyDocument(Input):
    """Lifetimes per tier and group, the scope and count limits, inactivity."""

    tiers: dict[Tier, TierRule] = Field(
        default_factory=_all_tiers,
        description="The rule of each tier: self, manager, request. A tier left out "
        "takes the default rule.",
    )
    group_overrides: dict[str, dict[Tier, TierRule]] = Field(
        default_factory=dict,
        description="Group name -> tier -> rule, for members of that group. Of a "
        "user's groups, the most generous override applies.",
    )
    force_read_only_for_self: bool = Field(
        default=False,
        description="Tokens people create for themselves must be read-only.",
    )
    max_active_tokens_per_user: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ACTIVE_TOKENS,
        description="The most active tokens one user may hold; null: no limit.",
    )
    inactivity_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DAYS,
        description="Tokens unused for this many days expire; null: never.",
    )

    @field_validator("tiers")
    @classmethod
    def _every_tier(cls, tiers: dict[Tier, TierRule]) -> dict[Tier, TierRule]:
        return {tier: tiers.get(tier, TierRule()) for tier in Tier}

    @field_validator("group_overrides")
    @classmethod
    def _named_groups(
        cls, overrides: dict[str, dict[Tier, TierRule]]
    ) -> dict[str, dict[Tier, TierRule]]:
        if len(overrides) > MAX_OVERRIDDEN_GROUPS:
            raise ValueError(f"at most {MAX_OVERRIDDEN_GROUPS} groups")
        for name, rules in overrides.items():
            if not name.strip():
                raise ValueError("a group name cannot be empty")
            if not rules:
                raise ValueError(f"group {name!r} overrides no tier")

        return {name: dict(sorted(rules.items())) for name, rules in overrides.items()}

    def rule_for(
        self, tier: Tier, groups: Iterable[str], instance_default: dt.timedelta
    ) -> LifetimeRule:
        """The lifetime rule for a token of `tier` owned by a member of `groups`.

        If any of the groups overrides the tier, the most generous of those
        overrides applies (the longest maximum, the longest default, "never
        expires" if any allows it) and the tier's own rule does not: an override
        can be stricter than the tier as well as more generous.
        """
        overriding = sorted(
            name for name in set(groups) if tier in self.group_overrides.get(name, {})
        )
        if not overriding:
            return _resolve(self.tiers[tier], tier, instance_default, ())
        rules = [
            _resolve(self.group_overrides[name][tier], tier, instance_default, (name,))
            for name in overriding
        ]

        return LifetimeRule(
            tier=tier,
            max_lifetime=_longest([rule.max_lifetime for rule in rules]),
            default_lifetime=max(rule.default_lifetime for rule in rules),
            never_expires=any(rule.never_expires for rule in rules),
            groups=tuple(overriding),
        )

    def overridden_groups(self) -> set[str]:
        return set(self.group_overrides)


@dataclass(frozen=True, slots=True)
class LifetimeRule:
    """The lifetime limits one token is held to.

    `groups` names the overriding groups the rule comes from; empty when it is the
    tier's own rule.
    """

    tier: Tier
    max_lifetime: dt.timedelta | None
    default_lifetime: dt.timedelta
    never_expires: bool
    groups: tuple[str, ...] = ()


def _resolve(
    rule: TierRule,
    tier: Tier,
    instance_default: dt.timedelta,
    groups: tuple[str, ...],
) -> LifetimeRule:
    maximum = None if rule.max_days is None else dt.timedelta(days=rule.max_days)
    default = (
        instance_default
        if rule.default_days is None
        else dt.timedelta(days=rule.default_days)
    )
    if maximum is not None:
        default = min(default, maximum)

    return LifetimeRule(
        tier=tier,
        max_lifetime=maximum,
        default_lifetime=default,
        never_expires=rule.allows_never_expiring(),
        groups=groups,
    )


def _longest(maximums: list[dt.timedelta | None]) -> dt.timedelta | None:
    if any(maximum is None for maximum in maximums):
        return None

    return max(maximum for maximum in maximums if maximum is not None)
