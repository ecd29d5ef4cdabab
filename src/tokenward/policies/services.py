"""Reading and changing permission grants; turning a user into an actor."""

from __future__ import annotations

import ipaddress

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import Group, User
from tokenward.directory.services import find_group
from tokenward.errors import InvalidInputError
from tokenward.gate.addresses import in_networks, parse_address
from tokenward.gate.changes import bump
from tokenward.policies.documents import GatePolicyDocument
from tokenward.policies.models import PermissionGroup, PermissionSetting, PolicyDocument
from tokenward.policies.permissions import (
    DEFAULT_EVERYONE,
    Actor,
    Grant,
    Permission,
    require,
    resolve,
)
from tokenward.policies.stored import save_policy_document


async def load_grants(session: AsyncSession) -> dict[Permission, Grant]:
    """Every permission's grant, with defaults for permissions never changed."""
    everyone = dict(DEFAULT_EVERYONE)
    for setting in await session.scalars(select(PermissionSetting)):
        everyone[Permission(setting.permission)] = setting.everyone
    groups: dict[Permission, set[int]] = {
        permission: set() for permission in Permission
    }
    for row in await session.scalars(select(PermissionGroup)):
        groups[Permission(row.permission)].add(row.group_id)

    return {
        permission: Grant(
            everyone=everyone[permission], group_ids=frozenset(groups[permission])
        )
        for permission in Permission
    }


async def actor_for(session: AsyncSession, user: User) -> Actor:
    """The actor `user` is right now; an inactive user holds no permission."""
    if not user.active:
        return Actor(name=user.username, user_id=user.id, permissions=frozenset())
    grants = await load_grants(session)

    return Actor(
        name=user.username,
        user_id=user.id,
        permissions=resolve(grants, (group.id for group in user.groups)),
    )


async def write_grant(
    session: AsyncSession,
    permission: Permission,
    *,
    everyone: bool,
    group_ids: set[int],
) -> None:
    """Replace the grant of `permission` within the caller's transaction."""
    setting = await session.get(PermissionSetting, str(permission))
    if setting is None:
        session.add(PermissionSetting(permission=str(permission), everyone=everyone))
    else:
        setting.everyone = everyone
    await session.execute(
        delete(PermissionGroup).where(PermissionGroup.permission == str(permission))
    )
    session.add_all(
        PermissionGroup(permission=str(permission), group_id=group_id)
        for group_id in sorted(group_ids)
    )
    await session.flush()


class PermissionService:
    """Who holds which permission (SPEC P2)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def grants(self, actor: Actor) -> dict[Permission, tuple[bool, list[str]]]:
        """Each permission: granted to everyone?, and the names of its groups."""
        require(actor, Permission.ADMINISTER)

        async with self._db.read() as session:
            grants = await load_grants(session)
            names = dict((await session.execute(select(Group.id, Group.name))).all())

        return {
            permission: (grant.everyone, sorted(names[i] for i in grant.group_ids))
            for permission, grant in grants.items()
        }

    async def set(
        self,
        actor: Actor,
        origin: Origin,
        permission: Permission,
        *,
        everyone: bool,
        groups: list[str],
    ) -> None:
        """Grant `permission` to everyone, or to exactly `groups`."""
        require(actor, Permission.ADMINISTER)

        async with self._db.write() as session:
            before = (await load_grants(session))[permission]
            group_ids = {(await find_group(session, name)).id for name in groups}
            if permission is Permission.ADMINISTER and not everyone and not group_ids:
                # Without this, one request could lock every administrator out.
                raise InvalidInputError(
                    "the administer permission must be granted to at least one group",
                    field="groups",
                )
            await write_grant(
                session, permission, everyone=everyone, group_ids=group_ids
            )
            await bump(session)
            entry = AuditEntry(
                AuditEvent.PERMISSION_CHANGED,
                actor=actor.name,
                details={
                    "permission": str(permission),
                    "everyone": everyone,
                    "groups": sorted(groups),
                    "before_everyone": before.everyone,
                    "before_group_ids": sorted(before.group_ids),
                },
            )
            await append(session, [entry], origin=origin, now=self._clock.now())


GATE_POLICY = "gate"


async def load_gate_policy(session: AsyncSession) -> GatePolicyDocument:
    """The stored gate policy, or the defaults if none was ever saved."""
    stored = await session.get(PolicyDocument, GATE_POLICY)

    return (
        GatePolicyDocument()
        if stored is None
        else GatePolicyDocument(**stored.document)
    )


class GatePolicyService:
    """The gate policy document (SPEC G3-G5, P6, T4): read and replaced whole."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, actor: Actor) -> GatePolicyDocument:
        require(actor, Permission.ADMINISTER)

        async with self._db.read() as session:
            return await load_gate_policy(session)

    async def replace(
        self, actor: Actor, origin: Origin, document: GatePolicyDocument
    ) -> GatePolicyDocument:
        """Save `document`; every gate enforces it within the cache bound.

        A policy whose allowed networks exclude the address the change comes from
        is refused: saving it would lock the administrator out of the API.
        """
        require(actor, Permission.ADMINISTER)
        _check_not_locking_out(document, origin)
        now = self._clock.now()

        async with self._db.write() as session:
            before = await load_gate_policy(session)
            after = document.model_dump(mode="json")
            await save_policy_document(
                session,
                GATE_POLICY,
                after,
                actor=actor,
                origin=origin,
                now=now,
                details={"before": before.model_dump(mode="json"), "after": after},
            )

        return document


def _check_not_locking_out(document: GatePolicyDocument, origin: Origin) -> None:
    if not document.allowed_networks or origin.client_ip is None:
        return
    address = parse_address(origin.client_ip)
    networks = [ipaddress.ip_network(value) for value in document.allowed_networks]
    if address is None or not in_networks(address, networks):
        raise InvalidInputError(
            f"allowed_networks would refuse your own address {origin.client_ip}; "
            "include it, or change the policy from the command line",
            field="allowed_networks",
        )
