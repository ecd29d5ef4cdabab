"""REST routes for permission grants, the gate policy and the token policy
(administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.governance import DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS
from tokenward.policies.permissions import Permission
from tokenward.policies.schemas import (
    ImpactOut,
    InactivityRun,
    PermissionGrantIn,
    PermissionGrantOut,
    PermissionList,
    TokenPolicyApplied,
    TokenPolicyApply,
)
from tokenward.policies.token_policy import TokenPolicyDocument
from tokenward.web.dependencies import Caller, RequestOrigin, Services

router = APIRouter(tags=["permissions"])


@router.get("/permissions", response_model=PermissionList)
async def list_permissions(services: Services, caller: Caller) -> PermissionList:
    """Who holds each permission."""
    grants = await services.permissions.grants(caller)

    return PermissionList(
        items=[
            PermissionGrantOut(permission=permission, everyone=everyone, groups=groups)
            for permission, (everyone, groups) in grants.items()
        ]
    )


@router.put("/permissions/{permission}", response_model=PermissionGrantOut)
async def set_permission(
    permission: Permission,
    body: PermissionGrantIn,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
) -> PermissionGrantOut:
    """Grant a permission to everyone, or to exactly the listed groups."""
    await services.permissions.set(
        caller, origin, permission, everyone=body.everyone, groups=body.groups
    )
    everyone, groups = (await services.permissions.grants(caller))[permission]

    return PermissionGrantOut(permission=permission, everyone=everyone, groups=groups)


gate_policy_router = APIRouter(tags=["policies"])


@gate_policy_router.get("/policies/gate", response_model=GatePolicyDocument)
async def get_gate_policy(services: Services, caller: Caller) -> GatePolicyDocument:
    """The gate policy: networks, password rules, token-only paths, read-only rules.

    The defaults are answered until an administrator saves one.
    """
    return await services.gate_policy.get(caller)


@gate_policy_router.put("/policies/gate", response_model=GatePolicyDocument)
async def replace_gate_policy(
    body: GatePolicyDocument, services: Services, caller: Caller, origin: RequestOrigin
) -> GatePolicyDocument:
    """Replace the gate policy as a whole; fields left out take their defaults.

    Unknown fields, malformed ranges, path patterns that do not start with `/`,
    unknown presets and unknown methods are refused with 422 and nothing is saved.
    This instance enforces the new policy at once, others within their cache bound.
    """
    return await services.gate_policy.replace(caller, origin, body)


Limit = Annotated[int, Query(ge=1, le=500, description="Owners per page.")]
Offset = Annotated[int, Query(ge=0, description="Owners to skip.")]


@gate_policy_router.post("/policies/gate/impact", response_model=ImpactOut)
async def gate_policy_impact(
    body: GatePolicyDocument,
    services: Services,
    caller: Caller,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ImpactOut:
    """Dry run of a gate policy: the active tokens whose own IP ranges would not
    lie within its `allowed_networks`, by owner. Nothing is saved."""
    impact = await services.token_policy.gate_impact(caller, body)

    return ImpactOut.of(impact, limit=limit, offset=offset)


@gate_policy_router.get("/policies/tokens", response_model=TokenPolicyDocument)
async def get_token_policy(services: Services, caller: Caller) -> TokenPolicyDocument:
    """The token policy: lifetimes per tier and group, scope, count, inactivity.

    The defaults are answered until an administrator saves one.
    """
    return await services.token_policy.get(caller)


@gate_policy_router.put("/policies/tokens", response_model=TokenPolicyDocument)
async def replace_token_policy(
    body: TokenPolicyDocument, services: Services, caller: Caller, origin: RequestOrigin
) -> TokenPolicyDocument:
    """Replace the token policy as a whole; fields left out take their defaults.

    Refused with 409 if the policy would break an active token that the policy in
    force does not: look at `POST /policies/tokens/impact`, then save it with
    `POST /policies/tokens/apply` and an action.
    """
    return await services.token_policy.replace(caller, origin, body)


@gate_policy_router.post("/policies/tokens/impact", response_model=ImpactOut)
async def token_policy_impact(
    body: TokenPolicyDocument,
    services: Services,
    caller: Caller,
    limit: Limit = 100,
    offset: Offset = 0,
    grace_days: Annotated[int, Query(ge=0, le=MAX_GRACE_DAYS)] = DEFAULT_GRACE_DAYS,
) -> ImpactOut:
    """Dry run of a token policy: the active tokens it would break, how many and
    whose, each with its reasons and the expiry `shorten` would give it with
    `grace_days`. Nothing is saved."""
    impact = await services.token_policy.impact(caller, body, grace_days=grace_days)

    return ImpactOut.of(impact, limit=limit, offset=offset)


@gate_policy_router.post("/policies/tokens/apply", response_model=TokenPolicyApplied)
async def apply_token_policy(
    body: TokenPolicyApply, services: Services, caller: Caller, origin: RequestOrigin
) -> TokenPolicyApplied:
    """Save a token policy and keep, shorten or revoke the active tokens that break
    it, in one transaction; every shortening and revocation is audited."""
    applied = await services.token_policy.apply(
        caller, origin, body.policy, body.action, grace_days=body.grace_days
    )

    return TokenPolicyApplied.of(applied)


@gate_policy_router.post(
    "/policies/tokens/expire-inactive", response_model=InactivityRun
)
async def expire_inactive_tokens(
    services: Services, caller: Caller, origin: RequestOrigin
) -> InactivityRun:
    """Expire now the tokens unused for the policy's `inactivity_days`, as the
    scheduled job does; nothing happens while inactivity is off."""
    expired = await services.token_policy.expire_inactive(actor=caller, origin=origin)

    return InactivityRun(expired=expired)
