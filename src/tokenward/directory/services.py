"""Users and groups: every change checked against the actor's permissions and
audited in its own transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.errors import (
    DuplicateNameError,
    GroupNotFoundError,
    UserNotFoundError,
)
from tokenward.directory.models import Group, User
from tokenward.directory.passwords import hash_password
from tokenward.errors import InvalidInputError
from tokenward.gate.changes import bump
from tokenward.policies.models import PermissionGroup, PermissionSetting
from tokenward.policies.permissions import Actor, Permission, require
from tokenward.ui.models import UiSession

# No whitespace and no colon: a username travels in HTTP Basic credentials.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,254}")


def check_name(kind: str, name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInputError(
            f"a {kind} name is 1-255 letters, digits or . _ @ + -, "
            "starting with a letter or digit",
            field="name",
        )

    return name


async def find_user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFoundError(username)

    return user


async def find_group(session: AsyncSession, name: str) -> Group:
    group = await session.scalar(
        select(Group).where(Group.name == name).options(selectinload(Group.members))
    )
    if group is None:
        raise GroupNotFoundError(name)

    return group


class DirectoryService:
    """The local directory of users and groups."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create_user(
        self,
        actor: Actor,
        origin: Origin,
        *,
        username: str,
        display_name: str = "",
        email: str = "",
        password: str | None = None,
    ) -> User:
        require(actor, Permission.ADMINISTER)
        check_name("user", username)
        password_hash = None if password is None else hash_password(password)

        async with self._db.write() as session:
            if await session.scalar(select(User.id).where(User.username == username)):
                raise DuplicateNameError("user", username)
            user = User(
                username=username,
                display_name=display_name,
                email=email,
                password_hash=password_hash,
                created_at=self._clock.now(),
                groups=[],
            )
            session.add(user)
            await append(
                session,
                [
                    AuditEntry(
                        AuditEvent.USER_CREATED, actor=actor.name, subject=username
                    )
                ],
                origin=origin,
                now=self._clock.now(),
            )

        return user

    async def list_users(
        self,
        actor: Actor,
        *,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[Sequence[User], int]:
        """Users ordered by name, and how many match in all."""
        require(actor, Permission.ADMINISTER, Permission.MANAGE_TOKENS)
        query = select(User)
        if search:
            pattern = f"%{_escape_like(search.lower())}%"
            query = query.where(func.lower(User.username).like(pattern, escape="\\"))

        async with self._db.read() as session:
            total = await session.scalar(
                select(func.count()).select_from(query.subquery())
            )
            users = await session.scalars(
                query.order_by(User.username).limit(limit).offset(offset)
            )

            return users.all(), total or 0

    async def get_user(self, actor: Actor, username: str) -> User:
        if actor.name != username:
            require(actor, Permission.ADMINISTER, Permission.MANAGE_TOKENS)

        async with self._db.read() as session:
            return await find_user(session, username)

    async def update_user(
        self,
        actor: Actor,
        origin: Origin,
        username: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        active: bool | None = None,
    ) -> User:
        """Change a user's details; deactivating stops their tokens at once (P1)."""
        require(actor, Permission.ADMINISTER)
        now = self._clock.now()

        async with self._db.write() as session:
            user = await find_user(session, username)
            entries = []
            changed = {}
            if display_name is not None and display_name != user.display_name:
                changed["display_name"] = display_name
                user.display_name = display_name
            if email is not None and email != user.email:
                changed["email"] = email
                user.email = email
            if changed:
                entries.append(
                    _user_entry(AuditEvent.USER_UPDATED, actor, user, changed)
                )
            if active is not None and active != user.active:
                if not active and actor.user_id == user.id:
                    raise InvalidInputError(
                        "you cannot disable yourself", field="active"
                    )
                user.active = active
                user.disabled_at = None if active else now
                user.disabled_by = None if active else actor.name
                event = AuditEvent.USER_ENABLED if active else AuditEvent.USER_DISABLED
                entries.append(_user_entry(event, actor, user, {}))
                await bump(session)
            await append(session, entries, origin=origin, now=now)

        return user

    async def set_password(
        self, actor: Actor, origin: Origin, username: str, password: str
    ) -> None:
        require(actor, Permission.ADMINISTER)
        password_hash = hash_password(password)

        async with self._db.write() as session:
            user = await find_user(session, username)
            user.password_hash = password_hash
            # A new password ends every web UI session opened with the old one.
            await session.execute(delete(UiSession).where(UiSession.user_id == user.id))
            entry = _user_entry(AuditEvent.USER_PASSWORD_SET, actor, user, {})
            await append(session, [entry], origin=origin, now=self._clock.now())

    async def create_group(
        self, actor: Actor, origin: Origin, *, name: str, description: str = ""
    ) -> Group:
        require(actor, Permission.ADMINISTER)
        check_name("group", name)

        async with self._db.write() as session:
            group = await self._add_group(session, name, description)
            entry = AuditEntry(
                AuditEvent.GROUP_CREATED, actor=actor.name, details={"group": name}
            )
            await append(session, [entry], origin=origin, now=self._clock.now())

        return group

    async def list_groups(self, actor: Actor) -> Sequence[Group]:
        require(actor, Permission.ADMINISTER, Permission.MANAGE_TOKENS)

        async with self._db.read() as session:
            groups = await session.scalars(
                select(Group).options(selectinload(Group.members)).order_by(Group.name)
            )

            return groups.all()

    async def get_group(self, actor: Actor, name: str) -> Group:
        require(actor, Permission.ADMINISTER, Permission.MANAGE_TOKENS)

        async with self._db.read() as session:
            return await find_group(session, name)

    async def delete_group(self, actor: Actor, origin: Origin, name: str) -> None:
        require(actor, Permission.ADMINISTER)

        async with self._db.write() as session:
            group = await find_group(session, name)
            granted = list(
                await session.scalars(
                    select(PermissionGroup.permission).where(
                        PermissionGroup.group_id == group.id
                    )
                )
            )
            await _keep_an_administrator(session, group, granted)
            details: dict[str, object] = {
                "group": name,
                "members": len(group.members),
                "permissions_dropped": sorted(granted),
            }
            await session.delete(group)
            await bump(session)
            entry = AuditEntry(
                AuditEvent.GROUP_DELETED, actor=actor.name, details=details
            )
            await append(session, [entry], origin=origin, now=self._clock.now())

    async def add_member(
        self, actor: Actor, origin: Origin, group_name: str, username: str
    ) -> Group:
        require(actor, Permission.ADMINISTER)

        async with self._db.write() as session:
            group = await find_group(session, group_name)
            user = await find_user(session, username)
            if user not in group.members:
                group.members.append(user)
                await bump(session)
                entry = AuditEntry(
                    AuditEvent.GROUP_MEMBER_ADDED,
                    actor=actor.name,
                    subject=username,
                    details={"group": group_name},
                )
                await append(session, [entry], origin=origin, now=self._clock.now())

        return group

    async def remove_member(
        self, actor: Actor, origin: Origin, group_name: str, username: str
    ) -> Group:
        require(actor, Permission.ADMINISTER)

        async with self._db.write() as session:
            group = await find_group(session, group_name)
            user = await find_user(session, username)
            if user in group.members:
                group.members.remove(user)
                await bump(session)
                entry = AuditEntry(
                    AuditEvent.GROUP_MEMBER_REMOVED,
                    actor=actor.name,
                    subject=username,
                    details={"group": group_name},
                )
                await append(session, [entry], origin=origin, now=self._clock.now())

        return group

    async def _add_group(
        self, session: AsyncSession, name: str, description: str
    ) -> Group:
        if await session.scalar(select(Group.id).where(Group.name == name)):
            raise DuplicateNameError("group", name)
        group = Group(
            name=name, description=description, created_at=self._clock.now(), members=[]
        )
        session.add(group)
        await session.flush()

        return group


async def _keep_an_administrator(
    session: AsyncSession, group: Group, granted: list[str]
) -> None:
    """Refuse to delete the last group that holds `administer` (unless everyone
    does): the cascade would lock every administrator out."""
    if Permission.ADMINISTER not in granted:
        return
    everyone = await session.scalar(
        select(PermissionSetting.everyone).where(
            PermissionSetting.permission == Permission.ADMINISTER
        )
    )
    others = await session.scalar(
        select(func.count()).where(
            PermissionGroup.permission == Permission.ADMINISTER,
            PermissionGroup.group_id != group.id,
        )
    )
    if not everyone and not others:
        raise InvalidInputError(
            f"group {group.name!r} is the only one holding the administer permission; "
            "grant it to another group first",
            field="name",
        )


def _user_entry(
    event: AuditEvent, actor: Actor, user: User, details: dict[str, str]
) -> AuditEntry:
    return AuditEntry(event, actor=actor.name, subject=user.username, details=details)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
