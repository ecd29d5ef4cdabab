"""Whether a token conforms to the token and gate policies (SPEC P3-P6). Pure.

The same rules judge a token being created or rotated (`lifetime_problem`,
`scope_problem`, `count_problem`, `networks_problem` name what is wrong, in words
that state the limit) and the tokens that already exist when a policy is tightened
(`breaches`, `over_the_count`, `networks_outside`).
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tokenward.gate.addresses import IPNetwork
from tokenward.policies.token_policy import LifetimeRule
from tokenward.tokens.attributes import Scope, Tier


class Breach(enum.StrEnum):
    """How an existing token breaks a policy; stable names, used in reports."""

    LIFETIME = "lifetime"
    NEVER_EXPIRES = "never_expires"
    READ_WRITE = "read_write"
    COUNT = "count"
    INACTIVE = "inactive"
    NETWORKS = "networks"


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What the policies judge of one existing token."""

    id: str
    owner_id: int
    tier: Tier
    scope: Scope
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    allowed_networks: tuple[str, ...] = ()


def tier_phrase(tier: Tier, *, by_owner: bool) -> str:
    """The tokens a tier's limit is about, as the person concerned reads it."""
    if tier is Tier.SELF:
        return (
            "tokens you create for yourself"
            if by_owner
            else "tokens people create for themselves"
        )
    if tier is Tier.MANAGER:
        return "tokens a token manager creates for someone"

    return "tokens granted on request"


def _days(lifetime: dt.timedelta) -> str:
    days = lifetime / dt.timedelta(days=1)
    shown = f"{days:g}"

    return f"{shown} day" if shown == "1" else f"{shown} days"


def _whose(rule: LifetimeRule) -> str:
    if not rule.groups:
        return ""

    return f" (the limit for members of {', '.join(rule.groups)})"


def lifetime_problem(
    rule: LifetimeRule,
    *,
    created_at: dt.datetime,
    expires_at: dt.datetime | None,
    by_owner: bool,
) -> str | None:
    """What is wrong with a token living from `created_at` to `expires_at` (None:
    never expiring) under `rule`, or None."""
    tokens = tier_phrase(rule.tier, by_owner=by_owner)
    if expires_at is None and not rule.never_expires:
        if rule.max_lifetime is not None:
            return (
                f"{tokens} must expire: they live at most "
                f"{_days(rule.max_lifetime)}{_whose(rule)}"
            )
        return (
            f"{tokens} must expire{_whose(rule)}; name an expiry, or leave it out "
            f"for the default of {_days(rule.default_lifetime)}"
        )
    maximum = rule.max_lifetime
    if (
        expires_at is not None
        and maximum is not None
        and expires_at - created_at > maximum
    ):
        return f"{tokens} live at most {_days(maximum)}{_whose(rule)}"

    return None


def scope_problem(
    tier: Tier, scope: Scope, *, force_read_only_for_self: bool, by_owner: bool
) -> str | None:
    """What is wrong with `scope` for a token of `tier`, or None."""
    if force_read_only_for_self and tier is Tier.SELF and scope is Scope.READ_WRITE:
        tokens = tier_phrase(tier, by_owner=by_owner)
        return f"{tokens} must be read-only: the token policy forces it"

    return None


def count_problem(
    active: int, limit: int | None, *, owner: str, by_owner: bool
) -> str | None:
    """What is wrong with one more token for `owner`, who holds `active`, or None."""
    if limit is None or active < limit:
        return None
    holder = "you already hold" if by_owner else f"{owner} already holds"
    tokens = "token" if active == 1 else "tokens"

    return (
        f"{holder} {active} active {tokens}, the most the token policy allows one "
        f"user ({limit}); revoke one first"
    )


def networks_problem(networks: Iterable[str], allowed: Sequence[str]) -> str | None:
    """What is wrong with a token's own ranges under the gate's `allowed` ranges,
    or None. An empty `allowed` is anywhere, so any range lies within it."""
    parsed = [ipaddress.ip_network(value) for value in allowed]
    outside = networks_outside(networks, parsed)
    if not outside:
        return None
    ranges = ", ".join(outside)
    verb = "is" if len(outside) == 1 else "are"

    return (
        f"{ranges} {verb} not within the networks the gate policy allows "
        f"({', '.join(allowed)})"
    )


def networks_outside(
    networks: Iterable[str], allowed: Sequence[IPNetwork]
) -> list[str]:
    """The ranges of `networks` that do not lie wholly within one of `allowed`."""
    if not allowed:
        return []

    return [
        value for value in networks if not _within(ipaddress.ip_network(value), allowed)
    ]


def _within(network: IPNetwork, allowed: Sequence[IPNetwork]) -> bool:
    for outer in allowed:
        if isinstance(network, ipaddress.IPv4Network):
            if isinstance(outer, ipaddress.IPv4Network) and network.subnet_of(outer):
                return True
        elif isinstance(outer, ipaddress.IPv6Network) and network.subnet_of(outer):
            return True

    return False


def breaches(
    token: TokenFacts,
    rule: LifetimeRule,
    *,
    force_read_only_for_self: bool,
    inactivity: dt.timedelta | None,
    now: dt.datetime,
) -> set[Breach]:
    """How an active `token` breaks the token policy, apart from the count."""
    found: set[Breach] = set()
    if token.expires_at is None and not rule.never_expires:
        found.add(Breach.NEVER_EXPIRES)
    elif lifetime_problem(
        rule, created_at=token.created_at, expires_at=token.expires_at, by_owner=True
    ):
        found.add(Breach.LIFETIME)
    if scope_problem(
        token.tier,
        token.scope,
        force_read_only_for_self=force_read_only_for_self,
        by_owner=True,
    ):
        found.add(Breach.READ_WRITE)
    if inactivity is not None and inactive_since(token) <= now - inactivity:
        found.add(Breach.INACTIVE)

    return found


def inactive_since(token: TokenFacts) -> dt.datetime:
    """When the token was last used, or created if it never was."""
    return token.last_used_at or token.created_at


def over_the_count(
    tokens: Sequence[TokenFacts], limit: int | None, breaking: set[str]
) -> list[str]:
    """The ids of one owner's active `tokens` beyond `limit`.

    The tokens kept are the limit's worth of those that conform otherwise (not in
    `breaking`), the most recently used first, then the newest; the rest are over.
    So acting on the breaking tokens removes as few others as it can.
    """
    if limit is None or len(tokens) <= limit:
        return []

    def keep_first(token: TokenFacts) -> tuple[bool, bool, float, float, str]:
        used = token.last_used_at
        return (
            token.id in breaking,
            used is None,
            -used.timestamp() if used else 0.0,
            -token.created_at.timestamp(),
            token.id,
        )

    ordered = sorted(tokens, key=keep_first)

    return [token.id for token in ordered[limit:]]


def shortened_expiry(
    token: TokenFacts,
    found: Iterable[Breach],
    rule: LifetimeRule,
    *,
    now: dt.datetime,
    grace: dt.timedelta,
) -> dt.datetime | None:
    """The expiry that "shorten" gives a breaking token, or None to leave it.

    A lifetime beyond the maximum ends at creation plus the maximum; a token that
    may no longer live for ever ends at creation plus the maximum, or the default
    lifetime where there is no maximum. Any other breach (scope, count, network)
    ends the token after the grace period. An end already past becomes now plus
    the grace period. The result never lengthens a token's life.
    """
    ends: list[dt.datetime] = []
    for breach in found:
        if breach in (Breach.LIFETIME, Breach.NEVER_EXPIRES):
            lifetime = rule.max_lifetime or rule.default_lifetime
            ends.append(token.created_at + lifetime)
        elif breach is not Breach.INACTIVE:
            ends.append(now + grace)
    if not ends:
        return None
    end = min(ends)
    if end <= now:
        end = now + grace
    if token.expires_at is not None and token.expires_at <= end:
        return None

    return end
