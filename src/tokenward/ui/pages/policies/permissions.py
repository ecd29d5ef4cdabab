"""Permissions by group as a form: one row per permission, a box for everyone
and one per group (SPEC P2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenward.policies.permissions import Permission
from tokenward.ui.pages.base import Visit
from tokenward.ui.pages.policies.forms import YES, FormInvalidError, Part, Values


@dataclass(frozen=True, slots=True)
class Grant:
    everyone: bool
    groups: tuple[str, ...]


class Permissions(Part[dict[Permission, Grant]]):
    slug = "permissions"
    title = "Permissions by group"
    summary = "Who may use tokens, create their own, manage others', administer."

    async def current(self, visit: Visit) -> Values:
        grants = await visit.services.permissions.grants(visit.person.actor)
        values: Values = {}
        for permission, (everyone, groups) in grants.items():
            if everyone:
                values[f"{permission}.everyone"] = YES
            values.update({f"{permission}:{group}": YES for group in groups})

        return values

    async def form_context(self, visit: Visit) -> dict[str, Any]:
        groups = await visit.services.directory.list_groups(visit.person.actor)

        return {"groups": [group.name for group in groups], "permissions": Permission}

    def parse(self, values: Values) -> dict[Permission, Grant]:
        grants = {
            permission: Grant(
                everyone=values.get(f"{permission}.everyone") == YES,
                groups=tuple(
                    sorted(
                        name.partition(":")[2]
                        for name, value in values.items()
                        if name.startswith(f"{permission}:") and value == YES
                    )
                ),
            )
            for permission in Permission
        }
        administer = grants[Permission.ADMINISTER]
        if not administer.everyone and not administer.groups:
            # The service refuses it too; here it is refused before anything else
            # in the same form is saved.
            raise FormInvalidError(
                {
                    f"{Permission.ADMINISTER}.everyone": "administer must be held "
                    "by everyone or by at least one group"
                }
            )

        return grants

    async def preview(
        self, visit: Visit, change: dict[Permission, Grant]
    ) -> dict[str, Any]:
        actor = visit.person.actor
        before = await visit.services.permissions.grants(actor)
        groups = await visit.services.directory.list_groups(actor)
        members = {g.name: {user.username for user in g.members} for g in groups}
        rows = []
        for permission, grant in change.items():
            old = Grant(before[permission][0], tuple(before[permission][1]))
            if old == grant:
                continue
            either = old.everyone or grant.everyone
            held_before = _holders(old, members)
            held_after = _holders(grant, members)
            rows.append(
                {
                    "permission": permission,
                    "before": old,
                    "after": grant,
                    "everyone": _everyone_change(old, grant),
                    # With "everyone" on either side, the sentence above says it.
                    "gain": [] if either else sorted(held_after - held_before),
                    "lose": [] if either else sorted(held_before - held_after),
                }
            )

        return {"permission_rows": rows, "settings": [], "impact": None}

    async def save(
        self, visit: Visit, change: dict[Permission, Grant], choice: str
    ) -> str:
        actor = visit.person.actor
        before = await visit.services.permissions.grants(actor)
        # Administer last: if anything before it fails, no one lost it meanwhile.
        for permission in sorted(change, key=lambda p: p is Permission.ADMINISTER):
            grant = change[permission]
            if before[permission] == (grant.everyone, list(grant.groups)):
                continue
            await visit.services.permissions.set(
                actor,
                visit.origin,
                permission,
                everyone=grant.everyone,
                groups=list(grant.groups),
            )

        return "saved"


def _holders(grant: Grant, members: Mapping[str, set[str]]) -> set[str]:
    """The users a group grant reaches (everyone is told apart by the caller)."""
    return {user for group in grant.groups for user in members.get(group, set())}


def _everyone_change(before: Grant, after: Grant) -> str:
    if after.everyone and not before.everyone:
        return "gained by everyone"
    if before.everyone and not after.everyone:
        return "lost by everyone outside the groups listed"

    return ""
