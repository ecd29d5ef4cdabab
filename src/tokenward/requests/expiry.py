"""The expiry of token requests (SPEC P7): one pending too long, or approved and
not generated in time, becomes `expired` with one `token_request_expired` record.

The UPDATE only touches requests still open and past their expiry, and the audit
records are written for the rows it returned, in the same transaction: two runs,
on one instance or several, never expire one request twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select, update

from tokenward.audit.events import AuditEvent
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.directory.models import User
from tokenward.requests.models import OPEN, RequestStatus, TokenRequest

# Records written by the expiry job carry no request; nobody acted but time.
JOB_ORIGIN = Origin()


async def expire_requests(
    db: Database,
    clock: Clock,
    *,
    batch: int = 500,
    between_batches: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Mark every open request past its expiry as expired, with one audit record
    each, exactly once however many runs overlap; returns how many."""
    total = 0
    while True:
        async with db.write() as session:
            now = clock.now()
            due = await session.execute(
                select(TokenRequest.id, TokenRequest.status, User.username)
                .join(User, User.id == TokenRequest.requester_id)
                .where(
                    TokenRequest.status.in_([str(s) for s in OPEN]),
                    TokenRequest.expires_at <= now,
                )
                .order_by(TokenRequest.expires_at, TokenRequest.id)
                .limit(batch)
            )
            candidates = {row.id: row for row in due}
            won = set(
                await session.scalars(
                    update(TokenRequest)
                    .where(
                        TokenRequest.id.in_(list(candidates)),
                        TokenRequest.status.in_([str(s) for s in OPEN]),
                        TokenRequest.expires_at <= now,
                    )
                    .values(status=str(RequestStatus.EXPIRED), closed_at=now)
                    .returning(TokenRequest.id)
                    .execution_options(synchronize_session=False)
                )
            )
            entries = [
                AuditEntry(
                    AuditEvent.TOKEN_REQUEST_EXPIRED,
                    subject=row.username,
                    details={"request_id": row.id, "was": row.status},
                )
                for request_id, row in candidates.items()
                if request_id in won
            ]
            await append(session, entries, origin=JOB_ORIGIN, now=now)
        total += len(entries)
        if len(candidates) < batch:
            return total
        if between_batches is not None:
            await between_batches()
