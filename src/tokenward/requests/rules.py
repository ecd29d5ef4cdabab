"""What a request may ask for, and how far an approval may narrow it. Pure.

An approval narrows or keeps each attribute, never widens it: read-write may
become read-only, a lifetime may shorten (or "never" become a number of days),
and the ranges may be narrowed, or added where the request named none.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field

from tokenward.errors import InvalidInputError
from tokenward.tokens import attributes
from tokenward.tokens.attributes import Scope

MAX_LIFETIME_DAYS = attributes.MAX_LIFETIME.days
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What a user asks for. Give `lifetime_days` or `never_expires`, not both."""

    label: str
    reason: str
    scope: Scope = Scope.READ_WRITE
    lifetime_days: int | None = None
    never_expires: bool = False
    allowed_networks: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Approval:
    """A token manager's approval; each None keeps what the request asked for."""

    scope: Scope | None = None
    lifetime_days: int | None = None
    never_expires: bool = False
    allowed_networks: list[str] | None = None
    reason: str = ""


def check_reason(reason: str, *, required: str) -> str:
    """A stripped reason of at most MAX_REASON characters; `required` is the
    message when it is empty."""
    cleaned = reason.strip()
    if not cleaned:
        raise InvalidInputError(required, field="reason")
    if len(cleaned) > MAX_REASON:
        raise InvalidInputError(
            f"a reason is at most {MAX_REASON} characters", field="reason"
        )

    return cleaned


def check_lifetime(lifetime_days: int | None, never_expires: bool) -> int | None:
    """The lifetime in days, None meaning never expires; exactly one way given."""
    if never_expires and lifetime_days is not None:
        raise InvalidInputError(
            "give lifetime_days or never_expires, not both", field="lifetime_days"
        )
    if never_expires:
        return None
    if lifetime_days is None:
        raise InvalidInputError(
            "say how long the token should live: lifetime_days, or never_expires",
            field="lifetime_days",
        )
    if not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        raise InvalidInputError(
            f"lifetime_days is 1-{MAX_LIFETIME_DAYS}", field="lifetime_days"
        )

    return lifetime_days


def expiry_of(created_at: dt.datetime, lifetime_days: int | None) -> dt.datetime | None:
    return None if lifetime_days is None else created_at + dt.timedelta(lifetime_days)


def narrowed_scope(asked: Scope, approved: Scope | None) -> Scope:
    if approved is None:
        return asked
    if asked is Scope.READ_ONLY and approved is Scope.READ_WRITE:
        raise InvalidInputError(
            "the request asked for a read-only token; an approval cannot widen it "
            "to read-write",
            field="scope",
        )

    return approved


def narrowed_lifetime(asked: int | None, approval: Approval) -> int | None:
    if approval.lifetime_days is None and not approval.never_expires:
        return asked
    approved = check_lifetime(approval.lifetime_days, approval.never_expires)
    if asked is not None and (approved is None or approved > asked):
        given = "never expires" if approved is None else f"{approved} days"
        raise InvalidInputError(
            f"the request asked for {asked} days; an approval may shorten the "
            f"lifetime, not lengthen it ({given})",
            field="never_expires" if approved is None else "lifetime_days",
        )

    return approved


def narrowed_networks(asked: list[str], approved: list[str] | None) -> list[str]:
    """The approved ranges, each within one of the ranges asked for (if any)."""
    if approved is None:
        return list(asked)
    ranges = attributes.check_networks(approved)
    if not asked:
        return ranges
    if not ranges:
        raise InvalidInputError(
            "the request limits the token to "
            f"{', '.join(asked)}; an approval cannot lift that limit",
            field="allowed_networks",
        )
    allowed = [ipaddress.ip_network(network) for network in asked]
    for text in ranges:
        network = ipaddress.ip_network(text)
        if not any(_within(network, outer) for outer in allowed):
            raise InvalidInputError(
                f"{text} is not within the ranges asked for ({', '.join(asked)})",
                field="allowed_networks",
            )

    return ranges


def _within(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
    outer: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> bool:
    """`network` lies inside `outer`; ranges of different IP versions never do."""
    if isinstance(network, ipaddress.IPv4Network) and isinstance(
        outer, ipaddress.IPv4Network
    ):
        return network.subnet_of(outer)
    if isinstance(network, ipaddress.IPv6Network) and isinstance(
        outer, ipaddress.IPv6Network
    ):
        return network.subnet_of(outer)

    return False
