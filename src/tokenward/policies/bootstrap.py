"""The first administrator of a new installation."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.errors import DuplicateNameError
from tokenward.directory.models import Group, User
from tokenward.directory.passwords import generate_password, hash_password
from tokenward.directory.services import check_name
from tokenward.policies.permissions import Permission
from tokenward.policies.services import load_grants, write_grant

ADMIN_GROUP = "tokenward-admins"


@dataclass(frozen=True, slots=True)
class BootstrappedAdmin:
    username: str
    group: str
    # Set only when tokenward generated the password; shown once.
    generated_password: str | None = field(repr=False)


class BootstrapService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def has_administrator(self) -> bool:
        """True once some active user holds `administer` through a group."""
        async with self._db.read() as session:
            grant = (await load_grants(session))[Permission.ADMINISTER]
            if grant.everyone:
                return bool(await session.scalar(select(User.id).limit(1)))
            users = await session.scalars(select(User).where(User.active.is_(True)))
            return any(
                {group.id for group in user.groups} & grant.group_ids for user in users
            )

    async def create_admin(
        self, origin: Origin, *, username: str, password: str | None = None
    ) -> BootstrappedAdmin:
        """Create `username` in the admin group, which is granted `administer`.

        Run from the command line by whoever holds the database. Refuses an existing
        username rather than promoting it silently.
        """
        check_name("user", username)
        generated = None if password is not None else generate_password()
        password_hash = hash_password(password or generated or "")
        now = self._clock.now()

        async with self._db.write() as session:
            if await session.scalar(select(User.id).where(User.username == username)):
                raise DuplicateNameError("user", username)
            group = await session.scalar(select(Group).where(Group.name == ADMIN_GROUP))
            if group is None:
                group = Group(
                    name=ADMIN_GROUP,
                    description="Administrators of tokenward",
                    created_at=now,
                    members=[],
                )
                session.add(group)
                await session.flush()
            grant = (await load_grants(session))[Permission.ADMINISTER]
            await write_grant(
                session,
                Permission.ADMINISTER,
                everyone=grant.everyone,
                group_ids=set(grant.group_ids) | {group.id},
            )
            user = User(
                username=username,
                display_name="Administrator",
                password_hash=password_hash,
                created_at=now,
                groups=[group],
            )
            session.add(user)
            entry = AuditEntry(
                AuditEvent.ADMIN_BOOTSTRAPPED,
                actor="cli",
                subject=username,
                details={"group": ADMIN_GROUP},
            )
            await append(session, [entry], origin=origin, now=now)

        return BootstrappedAdmin(
            username=username, group=ADMIN_GROUP, generated_password=generated
        )
