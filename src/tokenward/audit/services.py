"""Writing audit records inside the transaction of the change they describe (A3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.chain import GENESIS_HASH, link
from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.models import AuditRecord

# Any fixed 64-bit number; it names the lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x746F6B656E776172


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an action came from: the request fields of an audit record (A2)."""

    client_ip: str | None = None
    method: str | None = None
    path: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


CLI_ORIGIN = Origin()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record to append; the writer adds time, sequence and chain."""

    event: AuditEvent
    outcome: Outcome = Outcome.SUCCESS
    actor: str | None = None
    subject: str | None = None
    token_id: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


async def append(
    session: AsyncSession,
    entries: Sequence[AuditEntry],
    *,
    origin: Origin,
    now: dt.datetime,
) -> list[AuditRecord]:
    """Append `entries`, all from one origin at one time, to the chain within the
    caller's open transaction."""
    return await append_many(session, [(entry, origin, now) for entry in entries])


async def append_many(
    session: AsyncSession, items: Sequence[tuple[AuditEntry, Origin, dt.datetime]]
) -> list[AuditRecord]:
    """Append records, each with its own origin and time, in the order given.

    The chain needs one writer at a time: on PostgreSQL a transaction-scoped advisory
    lock gives that; on SQLite the write transaction began IMMEDIATE and already holds
    the database's only write lock. Either way the lock lasts until the caller's
    commit, so sequence order and chain order agree.
    """
    if not items:
        return []
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY}
        )

    last = await session.execute(
        select(AuditRecord.seq, AuditRecord.hash)
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    )
    row = last.first()
    prev_seq, prev_hash = (row[0], row[1]) if row else (0, GENESIS_HASH)

    records = []
    for offset, (entry, origin, occurred_at) in enumerate(items, start=1):
        record = _record(
            entry, origin, occurred_at, seq=prev_seq + offset, prev_hash=prev_hash
        )
        prev_hash = record.hash
        records.append(record)
    session.add_all(records)
    await session.flush()

    return records


def _record(
    entry: AuditEntry, origin: Origin, now: dt.datetime, *, seq: int, prev_hash: str
) -> AuditRecord:
    fields: dict[str, Any] = {
        "seq": seq,
        "occurred_at": now,
        "event": str(entry.event),
        "outcome": str(entry.outcome),
        "reason": entry.reason,
        "actor": entry.actor,
        "subject": entry.subject,
        "token_id": entry.token_id,
        "client_ip": origin.client_ip,
        "method": origin.method,
        "path": origin.path,
        "user_agent": origin.user_agent,
        "request_id": origin.request_id,
        "details": entry.details,
    }

    return AuditRecord(**fields, prev_hash=prev_hash, hash=link(prev_hash, fields))
