"""REST routes for permission grants (administrators)."""

from __future__ import annotations

from fastapi import APIRouter

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
