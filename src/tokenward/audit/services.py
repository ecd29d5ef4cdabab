"""Writing audit records inside the transaction of the change they describe (A3)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tokenward.audit.chain import CHAINED_FIELDS, GENESIS_HASH, link
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
) -> list[dict[str, Any]]:
    """Append `entries`, all from one origin at one time, to the chain within the
    caller's open transaction."""
    return await append_many(session, [(entry, origin, now) for entry in entries])


async def append_many(
    session: AsyncSession, items: Sequence[tuple[AuditEntry, Origin, dt.datetime]]
) -> list[dict[str, Any]]:
    """Append records, each with its own origin and time, in the order given, within
    the session's open transaction (see `append_rows`)."""
    if not items:
        return []

    def in_session(sync: Session) -> list[dict[str, Any]]:
        # What the change added goes to the database first, as a query through the
        # session would do by itself: callers read ids and keys it fills in.
        sync.flush()
        return append_rows(sync.connection(), items)

    return await session.run_sync(in_session)


def append_rows(
    connection: Connection,
    items: Sequence[tuple[AuditEntry, Origin, dt.datetime]],
) -> list[dict[str, Any]]:
    """Append records to the chain within the connection's open transaction.

    The chain needs one writer at a time: on PostgreSQL a transaction-scoped advisory
    lock gives that; on SQLite the write transaction began IMMEDIATE and already holds
    the database's only write lock. Either way the lock lasts until the caller's
    commit, so sequence order and chain order agree.

    Blocking: the services reach it through `append_many`, the gate's audit writer
    from a thread of its own.
    """
    if not items:
        return []
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY}
        )
    newest = connection.execute(
        select(AuditRecord.seq, AuditRecord.hash)
        .order_by(AuditRecord.seq.desc())
        .limit(1)
    ).first()
    prev_seq, prev_hash = (newest[0], newest[1]) if newest else (0, GENESIS_HASH)

    rows = []
    for offset, (entry, origin, occurred_at) in enumerate(items, start=1):
        row = _row(entry, origin, occurred_at, seq=prev_seq + offset)
        row["prev_hash"] = prev_hash
        row["hash"] = prev_hash = link(prev_hash, row)
        rows.append(row)
    # One executemany on the driver: the gate's batches come through here, and
    # SQLAlchemy's per-row parameter processing cost more than the gate's whole
    # decision; so values are put in the driver's own form, exactly as the column
    # types would store them.
    sqlite = connection.dialect.name == "sqlite"
    connection.exec_driver_sql(
        _insert_statement("?" if sqlite else "%s"),
        [_driver_values(row, sqlite=sqlite) for row in rows],
    )

    return rows


_COLUMNS = (*CHAINED_FIELDS, "prev_hash", "hash")


@functools.cache
def _insert_statement(marker: str) -> str:
    columns = ", ".join(_COLUMNS)
    markers = ", ".join([marker] * len(_COLUMNS))
    # Only constant names are interpolated; every value is a bound parameter.
    table = AuditRecord.__tablename__
    return f"INSERT INTO {table} ({columns}) VALUES ({markers})"  # noqa: S608


def _driver_values(row: dict[str, Any], *, sqlite: bool) -> tuple[Any, ...]:
    values = dict(row)
    values["details"] = json.dumps(row["details"])
    if sqlite:
        # SQLAlchemy's SQLite DATETIME storage format, in UTC without a zone.
        values["occurred_at"] = (
            row["occurred_at"].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        )

    return tuple(values[name] for name in _COLUMNS)


def _row(
    entry: AuditEntry, origin: Origin, now: dt.datetime, *, seq: int
) -> dict[str, Any]:
    return {
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
