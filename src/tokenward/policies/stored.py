"""Saving a named policy document, versioned and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.gate.changes import bump
from tokenward.policies.models import PolicyDocument
from tokenward.policies.permissions import Actor


async def save_policy_document(
    session: AsyncSession,
    name: str,
    document: dict[str, Any],
    *,
    actor: Actor,
    origin: Origin,
    now: dt.datetime,
    details: dict[str, Any],
    gate_relevant: bool = True,
) -> int:
    """Replace the stored document `name` within the caller's transaction, and
    record `policy_changed` with `details` (never a secret) and the new version.

    `gate_relevant` bumps the change counter, so every gate forgets what it cached
    under the old document. Returns the new version.
    """
    stored = await session.get(PolicyDocument, name)
    if stored is None:
        stored = PolicyDocument(name=name, version=0)
        session.add(stored)
    stored.document = document
    stored.version += 1
    stored.updated_at = now
    stored.updated_by = actor.name
    if gate_relevant:
        await bump(session)
    entry = AuditEntry(
        AuditEvent.POLICY_CHANGED,
        actor=actor.name,
        details={"policy": name, "version": stored.version, **details},
    )
    await append(session, [entry], origin=origin, now=now)

    return stored.version
