"""Announcing changes that the gate's caches must not outlive (SPEC S2).

A service that revokes a token, disables a user or changes a policy calls `bump`
inside its transaction. After the commit:
- this process's caches are cleared at once (a hook run by `Database.write`);
- on PostgreSQL, other instances hear a NOTIFY, sent by the same transaction so it
  is delivered only if the change committed;
- every instance also polls the counter, the bound when a message is lost.
"""

from __future__ import annotations

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.db import CHANGED_FLAG
from tokenward.gate.models import ChangeCounter

COUNTER = "gate"
CHANNEL = "tokenward_gate_changes"


async def bump(session: AsyncSession) -> None:
    """Count one change within the caller's transaction."""
    result = await session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.name == COUNTER)
        .values(value=ChangeCounter.value + 1)
    )
    if getattr(result, "rowcount", 0) == 0:
        session.add(ChangeCounter(name=COUNTER, value=1))
        await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {CHANNEL}"))
    session.info[CHANGED_FLAG] = True


async def current(session: AsyncSession) -> int:
    value = await session.scalar(
        select(ChangeCounter.value).where(ChangeCounter.name == COUNTER)
    )

    return value or 0
