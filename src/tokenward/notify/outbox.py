"""The outbox: adding notifications inside a producer's transaction, and claiming
and settling them for delivery.

Claims make delivery safe on several instances: a run marks the rows it will send
with its own claim id in one UPDATE that only touches unclaimed (or lapsed) rows,
so no two runs send the same row. On PostgreSQL the candidate rows are also locked
with SKIP LOCKED, so concurrent runs pick different rows instead of waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Insert

from tokenward.db import Database
from tokenward.notify.documents import NotificationSettings
from tokenward.notify.events import Channel, NotificationEvent
from tokenward.notify.models import Notification
from tokenward.policies.models import PolicyDocument

NOTIFICATIONS_POLICY = "notifications"
# The longest wait between two attempts, however many failed before.
MAX_RETRY_DELAY = dt.timedelta(hours=6)


async def load_notification_settings(session: AsyncSession) -> NotificationSettings:
    """The stored settings, or the defaults (nothing sent) if none were saved."""
    stored = await session.get(PolicyDocument, NOTIFICATIONS_POLICY)

    return (
        NotificationSettings()
        if stored is None
        else NotificationSettings.from_stored(stored.document)
    )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification a producer wants sent."""

    event: NotificationEvent
    channel: Channel
    target: str
    recipients: tuple[str, ...]
    payload: dict[str, Any]
    dedupe_key: str


def insert_ignoring_duplicates(session: AsyncSession, table: Any) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()

    return sqlite.insert(table).on_conflict_do_nothing()


async def enqueue(
    session: AsyncSession, outgoing: Sequence[Outgoing], *, now: dt.datetime
) -> int:
    """Add `outgoing` within the caller's transaction; a row whose dedupe key is
    stored already is skipped. Returns how many rows were added."""
    if not outgoing:
        return 0
    rows = [
        {
            "event": str(item.event),
            "channel": str(item.channel),
            "target": item.target,
            "recipients": list(item.recipients),
            "payload": item.payload,
            "dedupe_key": item.dedupe_key,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for item in outgoing
    ]
    # One statement executed for many rows: compiled once and cached, where a
    # statement with every row's values in it would be compiled afresh each time.
    statement = insert_ignoring_duplicates(session, Notification.__table__).returning(
        Notification.__table__.c.id
    )
    added = await session.scalars(statement, rows)

    return len(added.all())


def _claimable(now: dt.datetime) -> Any:
    return (
        Notification.sent_at.is_(None),
        Notification.failed_at.is_(None),
        Notification.next_attempt_at <= now,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until <= now),
    )


async def claim(
    db: Database,
    claim_id: str,
    *,
    now: dt.datetime,
    limit: int,
    hold: dt.timedelta,
) -> list[Notification]:
    """Claim up to `limit` notifications that are due, for `hold`; oldest first."""
    async with db.write() as session:
        due = (
            select(Notification.id)
            .where(*_claimable(now))
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(await session.scalars(due))
        if not ids:
            return []
        # The WHERE is repeated: a row another run claimed meanwhile is left alone.
        await session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), *_claimable(now))
            .values(claimed_by=claim_id, claimed_until=now + hold)
        )
        claimed = await session.scalars(
            select(Notification)
            .where(Notification.id.in_(ids), Notification.claimed_by == claim_id)
            .order_by(Notification.id)
        )

        return list(claimed)


async def mark_sent(
    db: Database, notification: Notification, claim_id: str, *, now: dt.datetime
) -> None:
    async with db.write() as session:
        await session.execute(
            update(Notification)
            .where(
                Notification.id == notification.id,
                Notification.claimed_by == claim_id,
            )
            .values(
                sent_at=now,
                attempts=Notification.attempts + 1,
                claimed_by=None,
                claimed_until=None,
                last_error=None,
            )
        )


def retry_delay(attempts: int, first: dt.timedelta) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: doubling, capped."""
    delay: dt.timedelta = first * 2 ** (attempts - 1)

    return min(delay, MAX_RETRY_DELAY)


async def mark_failed_attempt(
    db: Database,
    notification: Notification,
    claim_id: str,
    *,
    now: dt.datetime,
    error: str,
    give_up: bool,
    first_delay: dt.timedelta,
) -> dt.datetime | None:
    """Record a failed attempt. Returns when the next attempt is due, or None if the
    notification is now failed for good."""
    attempts = notification.attempts + 1
    next_at = None if give_up else now + retry_delay(attempts, first_delay)
    async with db.write() as session:
        await session.execute(
            update(Notification)
            .where(
                Notification.id == notification.id,
                Notification.claimed_by == claim_id,
            )
            .values(
                attempts=attempts,
                last_error=error[:2000],
                failed_at=now if give_up else None,
                next_attempt_at=next_at or notification.next_attempt_at,
                claimed_by=None,
                claimed_until=None,
            )
        )

    return next_at


async def purge(db: Database, *, before: dt.datetime) -> int:
    """Delete sent and failed notifications created before `before`."""
    async with db.write() as session:
        result = await session.execute(
            delete(Notification).where(
                Notification.created_at < before,
                or_(
                    Notification.sent_at.is_not(None),
                    Notification.failed_at.is_not(None),
                ),
            )
        )

    return int(getattr(result, "rowcount", 0) or 0)


async def retry(
    session: AsyncSession, notification_id: int, *, now: dt.datetime
) -> int:
    """Put a failed notification back in the queue, due now; returns rows changed."""
    result = await session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.failed_at.is_not(None))
        .values(failed_at=None, attempts=0, next_attempt_at=now, last_error=None)
    )

    return int(getattr(result, "rowcount", 0) or 0)
