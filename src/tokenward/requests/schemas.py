"""Token request API schemas."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from tokenward.requests.models import RequestStatus, TokenRequest
from tokenward.requests.rules import (
    MAX_LIFETIME_DAYS,
    MAX_REASON,
    Approval,
    RequestSpec,
)
from tokenward.schemas import Input, Output
from tokenward.tokens.attributes import Scope


class TokenRequestCreate(Input):
    label: str = Field(
        min_length=1, max_length=255, description="The service it is for."
    )
    reason: str = Field(
        min_length=1, max_length=MAX_REASON, description="Why you need it."
    )
    scope: Scope = Scope.READ_WRITE
    lifetime_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_LIFETIME_DAYS,
        description="How long it should live once generated; or never_expires.",
    )
    never_expires: bool = False
    allowed_networks: list[str] = Field(
        default_factory=list, description="CIDR ranges it may be used from."
    )

    def spec(self) -> RequestSpec:
        return RequestSpec(**self.model_dump())


class TokenRequestApprove(Input):
    """Each attribute left out is approved as asked; one given may only narrow it."""

    scope: Scope | None = Field(
        default=None, description="read-only narrows a read-write request."
    )
    lifetime_days: int | None = Field(
        default=None, ge=1, le=MAX_LIFETIME_DAYS, description="At most as asked."
    )
    never_expires: bool = Field(
        default=False, description="Only if the request asked for it."
    )
    allowed_networks: list[str] | None = Field(
        default=None, description="Each within a range asked for, if any were."
    )
    reason: str = Field(default="", max_length=MAX_REASON)

    def approval(self) -> Approval:
        return Approval(**self.model_dump())


class TokenRequestReject(Input):
    reason: str = Field(
        min_length=1, max_length=MAX_REASON, description="Told to the requester."
    )


class ApprovedOut(Output):
    scope: Scope
    lifetime_days: int | None
    allowed_networks: list[str]


class TokenRequestOut(Output):
    id: str
    requester: str
    label: str
    reason: str
    scope: Scope
    lifetime_days: int | None = Field(description="None: never expires.")
    allowed_networks: list[str]
    status: RequestStatus
    created_at: dt.datetime
    expires_at: dt.datetime = Field(
        description="When it lapses if still pending, or approved and not generated."
    )
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str | None
    approved: ApprovedOut | None
    closed_at: dt.datetime | None
    token_id: str | None

    @classmethod
    def of(cls, request: TokenRequest, now: dt.datetime) -> TokenRequestOut:
        approved = None
        if request.approved_scope is not None:
            approved = ApprovedOut(
                scope=Scope(request.approved_scope),
                lifetime_days=request.approved_lifetime_days,
                allowed_networks=request.approved_networks or [],
            )

        return cls(
            id=request.id,
            requester=request.requester.username,
            label=request.label,
            reason=request.reason,
            scope=Scope(request.scope),
            lifetime_days=request.lifetime_days,
            allowed_networks=request.allowed_networks,
            status=request.status_at(now),
            created_at=request.created_at,
            expires_at=request.expires_at,
            decided_by=request.decided_by,
            decided_at=request.decided_at,
            decision_reason=request.decision_reason,
            approved=approved,
            closed_at=request.closed_at,
            token_id=request.token_id,
        )


class TokenRequestList(Output):
    items: list[TokenRequestOut]
