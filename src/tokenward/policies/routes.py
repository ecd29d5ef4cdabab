"""REST routes for permission grants and the gate policy (administrators)."""

from __future__ import annotations

from fastapi import APIRouter

from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.permissions import Permission
from tokenward.policies.schemas import (
    PermissionGrantIn,
    PermissionGrantOut,
    PermissionList,
)
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
