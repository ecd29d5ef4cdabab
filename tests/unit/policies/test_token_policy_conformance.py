"""Judging one token against the token and gate policies (SPEC P3-P6)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import replace
from typing import Any

import pytest

from tokenward.policies.conformance import (
    Breach,
    TokenFacts,
    breaches,
    count_problem,
    lifetime_problem,
    networks_outside,
    networks_problem,
    over_the_count,
    scope_problem,
    shortened_expiry,
)
from tokenward.policies.token_policy import LifetimeRule
from tokenward.tokens.attributes import Scope, Tier

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
GRACE = 7 * DAY
SELF_90 = LifetimeRule(
    tier=Tier.SELF,
    max_lifetime=90 * DAY,
    default_lifetime=30 * DAY,
    never_expires=False,
)
OPEN = LifetimeRule(
    tier=Tier.SELF, max_lifetime=None, default_lifetime=30 * DAY, never_expires=True
)


def token(**changes: Any) -> TokenFacts:
    facts = TokenFacts(
        id="t",
        owner_id=1,
        tier=Tier.SELF,
        scope=Scope.READ_ONLY,
        created_at=NOW - 10 * DAY,
        expires_at=NOW + 10 * DAY,
        last_used_at=None,
    )

    return replace(facts, **changes)


def judge(facts: TokenFacts) -> set[Breach]:
    """Breaches under SELF_90 with read-only forced and 30 days of inactivity."""
    return breaches(
        facts, SELF_90, force_read_only_for_self=True, inactivity=30 * DAY, now=NOW
    )


def shorten(
    facts: TokenFacts,
    found: list[Breach],
    rule: LifetimeRule = SELF_90,
    grace: dt.timedelta = GRACE,
) -> dt.datetime | None:
    return shortened_expiry(facts, found, rule, now=NOW, grace=grace)


def test_lifetime_within_and_beyond_the_maximum() -> None:
    """Up to the maximum is fine; a second more is refused, stating the limit."""
    end = NOW + 90 * DAY
    assert (
        lifetime_problem(SELF_90, created_at=NOW, expires_at=end, by_owner=True) is None
    )
    assert lifetime_problem(
        SELF_90, created_at=NOW, expires_at=end + dt.timedelta(seconds=1), by_owner=True
    ) == ("tokens you create for yourself live at most 90 days")


@pytest.mark.parametrize(
    ("tier", "by_owner", "words"),
    [
        (Tier.SELF, True, "tokens you create for yourself"),
        (Tier.SELF, False, "tokens people create for themselves"),
        (Tier.MANAGER, False, "tokens a token manager creates for someone"),
        (Tier.REQUEST, True, "tokens granted on request"),
    ],
)
def test_the_message_names_the_tier(tier: Tier, by_owner: bool, words: str) -> None:
    """The refusal says whose tokens the limit is about."""
    rule = replace(SELF_90, tier=tier, max_lifetime=DAY)

    message = lifetime_problem(
        rule, created_at=NOW, expires_at=NOW + 2 * DAY, by_owner=by_owner
    )

    assert message == f"{words} live at most 1 day"


def test_the_message_names_the_overriding_groups() -> None:
    """A limit that comes from group overrides names those groups."""
    rule = replace(SELF_90, groups=("ops", "sre"))

    message = lifetime_problem(
        rule, created_at=NOW, expires_at=NOW + 91 * DAY, by_owner=True
    )

    assert message == (
        "tokens you create for yourself live at most 90 days "
        "(the limit for members of ops, sre)"
    )


def test_never_expiring() -> None:
    """Never-expiring is refused where not allowed, with or without a maximum."""
    no_max = replace(SELF_90, max_lifetime=None)

    assert (
        lifetime_problem(OPEN, created_at=NOW, expires_at=None, by_owner=True) is None
    )
    assert lifetime_problem(
        SELF_90, created_at=NOW, expires_at=None, by_owner=True
    ) == ("tokens you create for yourself must expire: they live at most 90 days")
    assert lifetime_problem(no_max, created_at=NOW, expires_at=None, by_owner=True) == (
        "tokens you create for yourself must expire; name an expiry, or leave it "
        "out for the default of 30 days"
    )


def test_scope() -> None:
    """Forced read-only refuses read-write tokens of the self tier only."""
    assert scope_problem(
        Tier.SELF, Scope.READ_WRITE, force_read_only_for_self=True, by_owner=True
    ) == (
        "tokens you create for yourself must be read-only: the token policy forces it"
    )
    assert not scope_problem(
        Tier.SELF, Scope.READ_ONLY, force_read_only_for_self=True, by_owner=True
    )
    assert not scope_problem(
        Tier.MANAGER, Scope.READ_WRITE, force_read_only_for_self=True, by_owner=False
    )
    assert not scope_problem(
        Tier.SELF, Scope.READ_WRITE, force_read_only_for_self=False, by_owner=True
    )


def test_count() -> None:
    """One more token is refused once the owner holds the limit."""
    assert count_problem(4, 5, owner="alice", by_owner=True) is None
    assert count_problem(9, None, owner="alice", by_owner=True) is None
    assert count_problem(1, 1, owner="alice", by_owner=False) == (
        "alice already holds 1 active token, the most the token policy allows one "
        "user (1); revoke one first"
    )


def test_networks() -> None:
    """Ranges must lie wholly within one allowed range of the same IP version."""
    allowed = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "2001:db8::/32")]

    assert networks_outside(["10.1.0.0/16", "2001:db8:5::/48"], allowed) == []
    assert networks_outside(["10.0.0.0/7", "11.0.0.0/8"], allowed) == [
        "10.0.0.0/7",
        "11.0.0.0/8",
    ]
    assert networks_outside(["::ffff:10.0.0.0/104"], allowed) == ["::ffff:10.0.0.0/104"]
    assert networks_outside(["0.0.0.0/0"], []) == []
    assert networks_problem(["10.1.0.0/16", "192.0.2.0/24"], ["10.0.0.0/8"]) == (
        "192.0.2.0/24 is not within the networks the gate policy allows (10.0.0.0/8)"
    )
    assert networks_problem(["192.0.2.0/24"], []) is None


def test_breaches() -> None:
    """Each way an existing token breaks the policy is named."""
    assert judge(token()) == set()
    assert judge(token(expires_at=NOW + 81 * DAY)) == {Breach.LIFETIME}
    assert judge(token(expires_at=None)) == {Breach.NEVER_EXPIRES}
    assert judge(token(scope=Scope.READ_WRITE)) == {Breach.READ_WRITE}
    assert judge(token(created_at=NOW - 30 * DAY, expires_at=NOW + DAY)) == {
        Breach.INACTIVE
    }
    assert judge(token(created_at=NOW - 60 * DAY, last_used_at=NOW - 29 * DAY)) == set()


def test_over_the_count_keeps_conforming_then_recent() -> None:
    """Kept first: tokens that break nothing else, then the most recently used,
    then the newest; the rest are over."""
    tokens = [
        token(id="old-used", created_at=NOW - 9 * DAY, last_used_at=NOW - DAY),
        token(id="new-unused", created_at=NOW - DAY),
        token(id="old-unused", created_at=NOW - 8 * DAY),
        token(id="recent-breaking", created_at=NOW, last_used_at=NOW),
        token(id="used-long-ago", created_at=NOW - 9 * DAY, last_used_at=NOW - 5 * DAY),
    ]

    over = over_the_count(tokens, 3, {"recent-breaking"})

    assert over == ["old-unused", "recent-breaking"]
    assert over_the_count(tokens, 5, set()) == []
    assert over_the_count(tokens, None, set()) == []


def test_shortening() -> None:
    """Shorten ends a token at creation plus the maximum, or after the grace
    period when that is past or the breach is not the lifetime; never later."""
    long = token(created_at=NOW - 10 * DAY, expires_at=NOW + 200 * DAY)
    past = token(created_at=NOW - 100 * DAY, expires_at=NOW + 200 * DAY)
    no_max = replace(SELF_90, max_lifetime=None)

    assert shorten(long, [Breach.LIFETIME]) == NOW + 80 * DAY
    assert shorten(past, [Breach.LIFETIME]) == NOW + GRACE
    assert shorten(long, [Breach.LIFETIME, Breach.READ_WRITE]) == NOW + GRACE
    assert shorten(token(expires_at=None), [Breach.NEVER_EXPIRES], no_max) == (
        NOW + 20 * DAY
    )
    assert shorten(token(expires_at=NOW + DAY), [Breach.COUNT]) is None
    assert shorten(long, [Breach.INACTIVE]) is None
    assert shorten(past, [Breach.LIFETIME], grace=0 * DAY) == NOW
