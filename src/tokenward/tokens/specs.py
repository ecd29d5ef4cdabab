"""What a token's creator asks for, and what they get back."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from tokenward.tokens import attributes
from tokenward.tokens.attributes import Scope
from tokenward.tokens.models import Token


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """What a creator asks for; validated and normalised by the service."""

    label: str
    # None: read-write, or read-only where the token policy forces it.
    scope: Scope | None = None
    expires_at: dt.datetime | None = None
    expires_in_days: int | None = None
    never_expires: bool = False
    allowed_networks: list[str] = field(default_factory=list)
    header_restrictions: dict[str, str] = field(default_factory=dict)
    rate_limit_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token record and its secret, which exists only here, once."""

    token: Token
    secret: str = field(repr=False)


def new_token_id() -> str:
    """A public, non-secret identifier: 16 hex characters."""
    return secrets.token_hex(8)


def checked_values(
    spec: TokenSpec, now: dt.datetime, default_lifetime: dt.timedelta
) -> dict[str, Any]:
    """The token's columns from `spec`, validated and normalised."""
    return {
        "label": attributes.check_label(spec.label),
        "scope": None if spec.scope is None else Scope(spec.scope),
        "expires_at": attributes.resolve_expiry(
            now,
            expires_at=spec.expires_at,
            expires_in_days=spec.expires_in_days,
            never_expires=spec.never_expires,
            default_lifetime=default_lifetime,
        ),
        "allowed_networks": attributes.check_networks(spec.allowed_networks),
        "header_restrictions": attributes.check_header_restrictions(
            spec.header_restrictions
        ),
        "rate_limit_per_minute": attributes.check_rate_limit(
            spec.rate_limit_per_minute
        ),
    }
