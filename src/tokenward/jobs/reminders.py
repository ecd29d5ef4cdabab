"""The reminder job: tell owners (and optionally an admin group) that a token
expires soon, once for each lead time (SPEC P8).

With lead times of 30, 7 and 1 days, a token is due for the 30-day reminder while
it has between 7 and 30 days left, for the 7-day one between 1 and 7, and for the
1-day one in its last day. A token that enters a window late (its job was down, or
it was created with 5 days to live) gets only that window's reminder, never a pile
of the ones it missed. A token created inside a lead time already gets no reminder
for it: its creator chose the short life.

The `expiry_reminders` primary key (token, lead time) is the once-only guarantee:
the reminder is enqueued only by the run whose insert of that row lands, in the
same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import exists, select, true, tuple_

from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.notify.events import NotificationEvent
from tokenward.notify.models import ExpiryReminder
from tokenward.notify.outbox import (
    enqueue,
    insert_ignoring_duplicates,
    load_notification_settings,
)
from tokenward.notify.producers import DAY, expiry_reminder, group_emails
from tokenward.tokens.models import Token


async def send_reminders(
    db: Database,
    clock: Clock,
    *,
    batch: int = 500,
    between_batches: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, int]:
    """Enqueue the reminders that are due; returns counts of reminders issued and
    of notifications enqueued."""
    async with db.read() as session:
        settings = await load_notification_settings(session)
    counts = {"reminders": 0, "notifications": 0}
    if not settings.reminder_days or not settings.sends(
        NotificationEvent.TOKEN_EXPIRING
    ):
        # Slots are not used up while nothing could carry the message.
        return counts
    leads = sorted(settings.reminder_days)
    for lower, lead in zip([0, *leads], leads, strict=False):
        after: _Key | None = None
        while True:
            issued, enqueued, after = await _window(
                db, clock, lower=lower, lead=lead, batch=batch, after=after
            )
            counts["reminders"] += issued
            counts["notifications"] += enqueued
            if after is None:
                break
            if between_batches is not None:
                await between_batches()

    return counts


# Where a batch ended: (expires_at, token id), the order the window is walked in.
_Key = tuple[dt.datetime, str]


async def _window(
    db: Database,
    clock: Clock,
    *,
    lower: int,
    lead: int,
    batch: int,
    after: _Key | None,
) -> tuple[int, int, _Key | None]:
    """Issue one batch of the window's reminders, from just past `after`; returns
    the counts and where the batch ended (None: the window is done). Walking on
    from there, rather than from the start, keeps each batch from wading through
    the tokens the batches before it reminded."""
    async with db.write() as session:
        settings = await load_notification_settings(session)
        now = clock.now()
        reminded = exists().where(
            ExpiryReminder.token_id == Token.id, ExpiryReminder.lead_days == lead
        )
        tokens = list(
            await session.scalars(
                select(Token)
                .where(
                    Token.expiry_recorded_at.is_(None),
                    Token.revoked_at.is_(None),
                    # The old token of a rotation lives on only for its grace.
                    Token.rotated_to_id.is_(None),
                    Token.expires_at > now + lower * DAY,
                    Token.expires_at <= now + lead * DAY,
                    ~reminded,
                    true()
                    if after is None
                    else tuple_(Token.expires_at, Token.id) > tuple_(*after),
                )
                .order_by(Token.expires_at, Token.id)
                .limit(batch)
            )
        )
        if not tokens:
            return 0, 0, None
        wanted = {token.id: _worth_telling(token, lead) for token in tokens}
        reminders = ExpiryReminder.__table__
        won = set(
            await session.scalars(
                insert_ignoring_duplicates(session, reminders).returning(
                    reminders.c.token_id
                ),
                [
                    {
                        "token_id": token_id,
                        "lead_days": lead,
                        "issued_at": now,
                        "notified": notify,
                    }
                    for token_id, notify in wanted.items()
                ],
            )
        )
        admins = await group_emails(session, settings.reminder_group)
        outgoing = [
            row
            for token in tokens
            if token.id in won and wanted[token.id]
            for row in expiry_reminder(settings, token, lead, now, admins)
        ]
        enqueued = await enqueue(session, outgoing, now=now)

    last = tokens[-1]
    assert last.expires_at is not None  # noqa: S101 - selected by expires_at
    issued = sum(1 for token_id in won if wanted[token_id])

    return (
        issued,
        enqueued,
        (last.expires_at, last.id) if len(tokens) == batch else None,
    )


def _worth_telling(token: Token, lead: int) -> bool:
    assert token.expires_at is not None  # noqa: S101 - selected by expires_at
    created_inside = token.created_at >= token.expires_at - dt.timedelta(days=lead)

    return token.owner.active and not created_inside
