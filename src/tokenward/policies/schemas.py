"""Permission API schemas."""

from __future__ import annotations

from pydantic import Field

from tokenward.policies.permissions import Permission
from tokenward.schemas import Input, Output


class PermissionGrantIn(Input):
    everyone: bool = False
    groups: list[str] = Field(default_factory=list, max_length=1000)


class PermissionGrantOut(Output):
    permission: Permission
    everyone: bool
    groups: list[str]


class PermissionList(Output):
    items: list[PermissionGrantOut]
