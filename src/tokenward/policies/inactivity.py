"""Inactivity expiry (SPEC P4): tokens unused for the policy's number of days
expire, in bounded batches that several instances may run at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.gate.changes import bump
from tokenward.tokens.models import Token

# Tokens expired per transaction: bounded, so one run over a million idle tokens
# never holds one huge transaction.
INACTIVITY_BATCH = 500
INACTIVITY_REASON = "inactivity"


@dataclass(frozen=True, slots=True)
class InactivityRun:
    """One run: its time, the policy's days, who ran it (None: the job runner)."""

    now: dt.datetime
    days: int
    actor: str | None
    origin: Origin


async def expire_batch(
    db: Database, run: InactivityRun, *, limit: int = INACTIVITY_BATCH
) -> list[str]:
    """Expire up to `limit` inactive tokens in one transaction, audited; return
    their ids (fewer than `limit`: there are no more)."""
    now = run.now
    cutoff = now - dt.timedelta(days=run.days)

    async with db.write() as session:
        rows = (
            await session.execute(
                select(Token.id, User.username, Token.last_used_at)
                .join(User, User.id == Token.owner_id)
                .where(
                    Token.revoked_at.is_(None),
                    or_(Token.expires_at.is_(None), Token.expires_at > now),
                    or_(
                        Token.last_used_at <= cutoff,
                        and_(
                            Token.last_used_at.is_(None),
                            Token.created_at <= cutoff,
                        ),
                    ),
                )
                .order_by(Token.id)
                .limit(limit)
                .with_for_update(of=Token, skip_locked=True)
            )
        ).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        await session.execute(
            update(Token)
            .where(Token.id.in_(ids))
            # Its `token_expired` record is this run's: the expiry job must not
            # write a second one.
            .values(expires_at=now, expiry_recorded_at=now)
        )
        await bump(session)
        entries = [
            AuditEntry(
                AuditEvent.TOKEN_EXPIRED,
                actor=run.actor,
                subject=row.username,
                token_id=row.id,
                reason=INACTIVITY_REASON,
                details={
                    "reason": INACTIVITY_REASON,
                    "inactivity_days": run.days,
                    "last_used_at": _iso(row.last_used_at),
                },
            )
            for row in rows
        ]
        await append(session, entries, origin=run.origin, now=now)

    return ids


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
