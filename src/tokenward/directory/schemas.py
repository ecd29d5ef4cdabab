"""Directory API schemas."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from tokenward.directory.models import Group, User
from tokenward.schemas import Input, Output


class UserCreate(Input):
    username: str = Field(min_length=1, max_length=255)
    display_name: str = Field(default="", max_length=255)
    email: str = Field(default="", max_length=320)
    password: str | None = Field(
        default=None, min_length=12, max_length=1024, description="For the web UI only."
    )


class UserUpdate(Input):
    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=320)
    active: bool | None = Field(default=None, description="false disables the user.")


class PasswordSet(Input):
    password: str = Field(min_length=12, max_length=1024)


class UserOut(Output):
    username: str
    display_name: str
    email: str
    active: bool
    source: str
    groups: list[str]
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    disabled_by: str | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            active=user.active,
            source=user.source,
            groups=sorted(group.name for group in user.groups),
            created_at=user.created_at,
            disabled_at=user.disabled_at,
            disabled_by=user.disabled_by,
        )


class UserPage(Output):
    items: list[UserOut]
    total: int
    limit: int
    offset: int


class GroupCreate(Input):
    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=2000)


class GroupOut(Output):
    name: str
    description: str
    members: list[str]
    created_at: dt.datetime

    @classmethod
    def of(cls, group: Group) -> GroupOut:
        return cls(
            name=group.name,
            description=group.description,
            members=sorted(user.username for user in group.members),
            created_at=group.created_at,
        )


class GroupList(Output):
    items: list[GroupOut]
