"""The expiry job: a `token_expired` audit record for each token past its expiry,
exactly once (SPEC A1, T5).

The gate refuses an expired token by its `expires_at` alone; this job only makes
the expiry visible in the audit trail. The token's `expiry_recorded_at` is set in
the same transaction as its record, by an UPDATE that only touches tokens not yet
recorded, so two runs can never both record one token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select, update

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.tokens.models import Token

# Records written by a job carry no request; nobody acted but time.
JOB_ORIGIN = Origin()


async def record_expiries(
    db: Database,
    clock: Clock,
    *,
    batch: int = 500,
    between_batches: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Record every token that has expired and was not recorded; returns how many."""
    total = 0
    while True:
        async with db.write() as session:
            now = clock.now()
            due = (
                select(Token.id)
                .where(
                    Token.expiry_recorded_at.is_(None),
                    Token.revoked_at.is_(None),
                    Token.expires_at <= now,
                )
                .order_by(Token.expires_at)
                .limit(batch)
            )
            candidates = list(await session.scalars(due))
            won = set(
                await session.scalars(
                    update(Token)
                    .where(Token.id.in_(candidates), Token.expiry_recorded_at.is_(None))
                    .values(expiry_recorded_at=now)
                    .returning(Token.id)
                )
            )
            rows = await session.execute(
                select(Token.id, Token.expires_at, User.username)
                .join(User, User.id == Token.owner_id)
                .where(Token.id.in_(won))
                .order_by(Token.expires_at, Token.id)
            )
            entries = [
                AuditEntry(
                    AuditEvent.TOKEN_EXPIRED,
                    subject=username,
                    token_id=token_id,
                    details={
                        "expires_at": expires_at.isoformat() if expires_at else None
                    },
                )
                for token_id, expires_at, username in rows
            ]
            await append(session, entries, origin=JOB_ORIGIN, now=now)
        total += len(entries)
        if len(candidates) < batch:
            return total
        if between_batches is not None:
            await between_batches()
