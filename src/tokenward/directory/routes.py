"""REST routes for users and groups (administrators; token managers may read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from tokenward.directory.schemas import (
    GroupCreate,
    GroupList,
    GroupOut,
    PasswordSet,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)
from tokenward.web.dependencies import Caller, RequestOrigin, Services

router = APIRouter(tags=["directory"])


@router.get("/me", response_model=UserOut)
async def whoami(services: Services, caller: Caller) -> UserOut:
    """The user the presented token belongs to."""
    return UserOut.of(await services.directory.get_user(caller, caller.name))


@router.get("/users", response_model=UserPage)
async def list_users(
    services: Services,
    caller: Caller,
    search: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UserPage:
    """Users by name; `search` matches part of a username."""
    users, total = await services.directory.list_users(
        caller, search=search, limit=limit, offset=offset
    )

    return UserPage(
        items=[UserOut.of(user) for user in users],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/users", status_code=201, response_model=UserOut)
async def create_user(
    body: UserCreate, services: Services, caller: Caller, origin: RequestOrigin
) -> UserOut:
    """Create a local user."""
    user = await services.directory.create_user(caller, origin, **body.model_dump())

    return UserOut.of(user)


@router.get("/users/{username}", response_model=UserOut)
async def get_user(username: str, services: Services, caller: Caller) -> UserOut:
    return UserOut.of(await services.directory.get_user(caller, username))


@router.patch("/users/{username}", response_model=UserOut)
async def update_user(
    username: str,
    body: UserUpdate,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
) -> UserOut:
    """Change details; `"active": false` disables the user and stops their tokens."""
    user = await services.directory.update_user(
        caller, origin, username, **body.model_dump()
    )

    return UserOut.of(user)


@router.put("/users/{username}/password", status_code=204)
async def set_password(
    username: str,
    body: PasswordSet,
    services: Services,
    caller: Caller,
    origin: RequestOrigin,
) -> Response:
    """Set a local user's web UI password."""
    await services.directory.set_password(caller, origin, username, body.password)

    return Response(status_code=204)


@router.get("/groups", response_model=GroupList)
async def list_groups(services: Services, caller: Caller) -> GroupList:
    groups = await services.directory.list_groups(caller)

    return GroupList(items=[GroupOut.of(group) for group in groups])


@router.post("/groups", status_code=201, response_model=GroupOut)
async def create_group(
    body: GroupCreate, services: Services, caller: Caller, origin: RequestOrigin
) -> GroupOut:
    group = await services.directory.create_group(caller, origin, **body.model_dump())

    return GroupOut.of(group)


@router.get("/groups/{name}", response_model=GroupOut)
async def get_group(name: str, services: Services, caller: Caller) -> GroupOut:
    return GroupOut.of(await services.directory.get_group(caller, name))


@router.delete("/groups/{name}", status_code=204)
async def delete_group(
    name: str, services: Services, caller: Caller, origin: RequestOrigin
) -> Response:
    await services.directory.delete_group(caller, origin, name)

    return Response(status_code=204)


@router.put("/groups/{name}/members/{username}", response_model=GroupOut)
async def add_member(
    name: str, username: str, services: Services, caller: Caller, origin: RequestOrigin
) -> GroupOut:
    group = await services.directory.add_member(caller, origin, name, username)

    return GroupOut.of(group)


@router.delete("/groups/{name}/members/{username}", response_model=GroupOut)
async def remove_member(
    name: str, username: str, services: Services, caller: Caller, origin: RequestOrigin
) -> GroupOut:
    group = await services.directory.remove_member(caller, origin, name, username)

    return GroupOut.of(group)
