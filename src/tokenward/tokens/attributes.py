"""Validation of a token's attributes (SPEC T3, T4). Pure.

Each function returns the normalised value or raises InvalidInputError naming the
field, so the API and the CLI report the same words.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import re
from collections.abc import Iterable, Mapping

from tokenward.errors import InvalidInputError

MAX_LABEL_LENGTH = 255
MAX_LIFETIME = dt.timedelta(days=3650)
MAX_GRACE = dt.timedelta(days=30)
MAX_NETWORKS = 100
MAX_HEADER_RESTRICTIONS = 20
# RFC 9110 field names.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")
# Headers a client could not meaningfully pin, or that carry the credential itself.
_UNRESTRICTABLE = frozenset({"authorization", "proxy-authorization", "cookie", "host"})


class Scope(enum.StrEnum):
    READ_WRITE = "read-write"
    READ_ONLY = "read-only"


class Tier(enum.StrEnum):
    """How a token came to be; each way is a lifetime tier (SPEC P3)."""

    SELF = "self"
    MANAGER = "manager"
    REQUEST = "request"


def check_label(label: str) -> str:
    cleaned = label.strip()
    if not cleaned:
        raise InvalidInputError(
            "a token needs a label naming its service", field="label"
        )
    if len(cleaned) > MAX_LABEL_LENGTH or any(ord(c) < 32 for c in cleaned):
        raise InvalidInputError(
            f"a label is at most {MAX_LABEL_LENGTH} printable characters", field="label"
        )

    return cleaned


def check_networks(networks: Iterable[str]) -> list[str]:
    """Normalised CIDR strings, IPv4 or IPv6; host bits are refused, not dropped."""
    normalised: list[str] = []
    for entry in networks:
        try:
            network = ipaddress.ip_network(entry.strip(), strict=True)
        except ValueError as error:
            raise InvalidInputError(
                f"{entry!r} is not an IP range: {error}", field="allowed_networks"
            ) from None
        if str(network) not in normalised:
            normalised.append(str(network))
    if len(normalised) > MAX_NETWORKS:
        raise InvalidInputError(
            f"at most {MAX_NETWORKS} IP ranges per token", field="allowed_networks"
        )

    return normalised


def check_header_restrictions(restrictions: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased (HTTP names are case-insensitive), values kept."""
    if len(restrictions) > MAX_HEADER_RESTRICTIONS:
        raise InvalidInputError(
            f"at most {MAX_HEADER_RESTRICTIONS} header restrictions",
            field="header_restrictions",
        )
    normalised: dict[str, str] = {}
    for name, value in restrictions.items():
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidInputError(
                f"{name!r} is not an HTTP header name", field="header_restrictions"
            )
        if name.lower() in _UNRESTRICTABLE:
            raise InvalidInputError(
                f"the {name} header cannot be a restriction",
                field="header_restrictions",
            )
        if not value or len(value) > 1024 or any(ord(c) < 32 for c in value):
            raise InvalidInputError(
                f"the value for {name} must be 1-1024 printable characters",
                field="header_restrictions",
            )
        normalised[name.lower()] = value

    return normalised


def check_rate_limit(per_minute: int | None) -> int | None:
    if per_minute is not None and not 1 <= per_minute <= 1_000_000:
        raise InvalidInputError(
            "a rate limit is 1-1000000 requests per minute",
            field="rate_limit_per_minute",
        )

    return per_minute


def resolve_expiry(
    now: dt.datetime,
    *,
    expires_at: dt.datetime | None,
    expires_in_days: int | None,
    never_expires: bool,
    default_lifetime: dt.timedelta,
) -> dt.datetime | None:
    """The expiry a creation asks for; at most one way of asking is allowed."""
    asked = sum((expires_at is not None, expires_in_days is not None, never_expires))
    if asked > 1:
        raise InvalidInputError(
            "give at most one of expires_at, expires_in_days and never_expires",
            field="expires_at",
        )
    if never_expires:
        return None
    if expires_in_days is not None:
        if expires_in_days < 1:
            raise InvalidInputError(
                "expires_in_days must be at least 1", field="expires_in_days"
            )
        # Checked before adding: a huge count would overflow the datetime instead.
        if expires_in_days > MAX_LIFETIME.days:
            raise InvalidInputError(
                f"a token lives at most {MAX_LIFETIME.days} days",
                field="expires_in_days",
            )
        expires_at = now + dt.timedelta(days=expires_in_days)
    elif expires_at is None:
        return now + default_lifetime
    if expires_at.tzinfo is None:
        raise InvalidInputError(
            "expires_at needs a time zone (for example 2027-01-31T00:00:00Z)",
            field="expires_at",
        )
    if expires_at <= now:
        raise InvalidInputError("expires_at must be in the future", field="expires_at")
    if expires_at - now > MAX_LIFETIME:
        raise InvalidInputError(
            f"a token lives at most {MAX_LIFETIME.days} days", field="expires_at"
        )

    return expires_at.astimezone(dt.UTC)


def check_grace(grace: dt.timedelta | None) -> dt.timedelta | None:
    if grace is None or grace <= dt.timedelta(0):
        return None
    if grace > MAX_GRACE:
        raise InvalidInputError(
            f"a rotation grace period is at most {MAX_GRACE.days} days",
            field="grace_seconds",
        )

    return grace
