"""The token policy document and the lifetime rule it gives a token (SPEC P3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from tokenward.policies.token_policy import LifetimeRule, TierRule, TokenPolicyDocument
from tokenward.tokens.attributes import Tier

DAY = dt.timedelta(days=1)
INSTANCE = 90 * DAY


def rule(policy: dict[str, Any], tier: Tier, *groups: str) -> LifetimeRule:
    return TokenPolicyDocument.model_validate(policy).rule_for(tier, groups, INSTANCE)


@pytest.mark.parametrize("tier", list(Tier))
def test_defaults_limit_nothing(tier: Tier) -> None:
    """The default policy: no maximum, the instance's default, never-expiring
    tokens allowed, in every tier."""
    assert TokenPolicyDocument().rule_for(tier, (), INSTANCE) == LifetimeRule(
        tier=tier, max_lifetime=None, default_lifetime=INSTANCE, never_expires=True
    )


def test_never_expires_follows_the_maximum_unless_given() -> None:
    """Left out (null), never-expiring is allowed exactly when there is no maximum,
    and stays null so that a later maximum still forbids it."""
    assert TierRule().allows_never_expiring() is True
    assert TierRule(max_days=30).allows_never_expiring() is False
    assert TierRule(max_days=30, never_expires=True).allows_never_expiring() is True
    assert TierRule(never_expires=False).allows_never_expiring() is False
    assert TierRule(max_days=30).never_expires is None


def test_every_tier_is_present() -> None:
    """Tiers left out of a document take the default rule."""
    document = TokenPolicyDocument.model_validate({"tiers": {"self": {"max_days": 5}}})

    assert set(document.tiers) == set(Tier)
    assert document.tiers[Tier.MANAGER] == TierRule()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"tiers": {"self": {"max_days": 5, "default_days": 6}}}, "exceeds"),
        ({"tiers": {"everyone": {}}}, "self"),
        ({"tiers": {"self": {"max_days": 3651}}}, "3650"),
        ({"tiers": {"self": {"maximum": 5}}}, "Extra inputs"),
        ({"group_overrides": {"": {"self": {}}}}, "cannot be empty"),
        ({"group_overrides": {"ops": {}}}, "overrides no tier"),
        ({"max_active_tokens_per_user": 0}, "greater than or equal to 1"),
        ({"inactivity_days": 0}, "greater than or equal to 1"),
    ],
)
def test_invalid_documents(data: dict[str, Any], words: str) -> None:
    """Inconsistent or unknown values are refused with a message that says why."""
    with pytest.raises(ValidationError, match=words):
        TokenPolicyDocument.model_validate(data)


def test_tier_rule() -> None:
    """Without overrides, a token gets its tier's maximum, default and
    never-expiring rule."""
    policy = {"tiers": {"manager": {"max_days": 365, "default_days": 30}}}

    assert rule(policy, Tier.MANAGER, "ops") == LifetimeRule(
        tier=Tier.MANAGER,
        max_lifetime=365 * DAY,
        default_lifetime=30 * DAY,
        never_expires=False,
    )
    assert rule(policy, Tier.SELF).max_lifetime is None


def test_default_is_the_instance_default_capped_at_the_maximum() -> None:
    """With no default of its own a rule takes the instance's, but never beyond its
    maximum."""
    assert rule({"tiers": {"self": {"max_days": 7}}}, Tier.SELF).default_lifetime == (
        7 * DAY
    )
    assert rule({"tiers": {"self": {"max_days": 700}}}, Tier.SELF).default_lifetime == (
        INSTANCE
    )


def test_an_override_replaces_the_tier_rule_for_members() -> None:
    """A member of an overriding group gets the override, even a stricter one;
    others keep the tier's rule."""
    policy = {
        "tiers": {"self": {"max_days": 90}},
        "group_overrides": {"contractors": {"self": {"max_days": 7}}},
    }

    assert rule(policy, Tier.SELF, "contractors", "staff").max_lifetime == 7 * DAY
    assert rule(policy, Tier.SELF, "contractors").groups == ("contractors",)
    assert rule(policy, Tier.SELF, "staff").max_lifetime == 90 * DAY
    assert rule(policy, Tier.SELF, "staff").groups == ()
    assert rule(policy, Tier.MANAGER, "contractors").max_lifetime is None


def test_the_most_generous_override_applies() -> None:
    """Of several overriding groups: the longest maximum, the longest default, and
    never-expiring if any allows it."""
    policy = {
        "tiers": {"self": {"max_days": 1}},
        "group_overrides": {
            "a": {"self": {"max_days": 30, "default_days": 25}},
            "b": {"self": {"max_days": 60, "default_days": 10}},
            "c": {"self": {"max_days": 20, "never_expires": True}},
            "d": {"manager": {}},
        },
    }

    assert rule(policy, Tier.SELF, "d", "c", "b", "a") == LifetimeRule(
        tier=Tier.SELF,
        max_lifetime=60 * DAY,
        default_lifetime=25 * DAY,
        never_expires=True,
        groups=("a", "b", "c"),
    )


def test_no_maximum_is_the_most_generous() -> None:
    """An override without a maximum beats any number of days."""
    policy = {
        "group_overrides": {
            "a": {"request": {"max_days": 3000}},
            "b": {"request": {"never_expires": False}},
        },
    }

    assert rule(policy, Tier.REQUEST, "a", "b").max_lifetime is None
    assert rule(policy, Tier.REQUEST, "a", "b").never_expires is False


def test_round_trip_through_json() -> None:
    """A document dumped as JSON and read back is the same document."""
    document = TokenPolicyDocument.model_validate(
        {
            "tiers": {"self": {"max_days": 90}},
            "group_overrides": {"ops": {"manager": {"max_days": 365}}},
            "force_read_only_for_self": True,
            "max_active_tokens_per_user": 5,
            "inactivity_days": 60,
        }
    )

    dumped = document.model_dump(mode="json")

    assert TokenPolicyDocument.model_validate(dumped) == document
    assert dumped["tiers"]["self"]["never_expires"] is None
