"""Token API schemas."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from tokenward.schemas import Input, Output
from tokenward.tokens.attributes import Scope
from tokenward.tokens.models import Token
from tokenward.tokens.specs import TokenSpec


class TokenCreate(Input):
    label: str = Field(
        min_length=1, max_length=255, description="The service it is for."
    )
    scope: Scope | None = Field(
        default=None,
        description="read-write if left out, or read-only where the token policy "
        "forces it for tokens people create for themselves.",
    )
    expires_at: dt.datetime | None = Field(
        default=None, description="Expiry with a time zone; give at most one way."
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    never_expires: bool = False
    allowed_networks: list[str] = Field(
        default_factory=list, description="CIDR ranges it may be used from."
    )
    header_restrictions: dict[str, str] = Field(
        default_factory=dict, description="Headers each request must carry, by value."
    )
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)

    def spec(self) -> TokenSpec:
        return TokenSpec(**self.model_dump())


class ManagedTokenCreate(TokenCreate):
    owner: str = Field(
        min_length=1, max_length=255, description="Username of the owner."
    )

    def spec(self) -> TokenSpec:
        return TokenSpec(**self.model_dump(exclude={"owner"}))


class TokenRevoke(Input):
    reason: str = Field(default="", max_length=1000)


class MyTokensRevoke(Input):
    token_ids: list[str] = Field(default_factory=list, max_length=1000)
    all: bool = Field(default=False, description="Revoke every one of your tokens.")
    reason: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _one_selection(self) -> MyTokensRevoke:
        if bool(self.token_ids) == self.all:
            raise ValueError("give either token_ids or all=true")
        return self


class TokensRevoke(Input):
    token_ids: list[str] = Field(default_factory=list, max_length=1000)
    owner: str | None = Field(
        default=None, description="Revoke every token of this user instead."
    )
    reason: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _one_selection(self) -> TokensRevoke:
        if bool(self.token_ids) == (self.owner is not None):
            raise ValueError("give either token_ids or owner")
        return self


class TokenRotate(Input):
    grace_seconds: int = Field(
        default=0, ge=0, description="How long the old secret keeps working; 0 = not."
    )


class TokenOut(Output):
    id: str
    owner: str
    label: str
    creator: str | None
    tier: str
    scope: Scope
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    allowed_networks: list[str]
    header_restrictions: dict[str, str]
    rate_limit_per_minute: int | None
    last_used_at: dt.datetime | None
    last_used_from: list[str]
    use_count: int
    revoked_at: dt.datetime | None
    revoked_by: str | None
    revocation_reason: str | None
    rotated_from_id: str | None
    rotated_to_id: str | None

    @classmethod
    def of(cls, token: Token, now: dt.datetime) -> TokenOut:
        return cls(
            id=token.id,
            owner=token.owner.username,
            label=token.label,
            creator=token.creator.username if token.creator else None,
            tier=token.tier,
            scope=Scope(token.scope),
            status=token.status_at(now),
            created_at=token.created_at,
            expires_at=token.expires_at,
            allowed_networks=token.allowed_networks,
            header_restrictions=token.header_restrictions,
            rate_limit_per_minute=token.rate_limit_per_minute,
            last_used_at=token.last_used_at,
            last_used_from=token.last_used_from,
            use_count=token.use_count,
            revoked_at=token.revoked_at,
            revoked_by=token.revoked_by,
            revocation_reason=token.revocation_reason,
            rotated_from_id=token.rotated_from_id,
            rotated_to_id=token.rotated_to_id,
        )


class IssuedTokenOut(Output):
    token: TokenOut
    secret: str = Field(description="The token itself. Shown now and never again.")


class TokenPage(Output):
    items: list[TokenOut]
    total: int
    limit: int
    offset: int


class TokenList(Output):
    items: list[TokenOut]
