"""Notifications as stored: the outbox, and the record of reminders issued."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.db import Base, UTCDateTime

_UNSETTLED = "sent_at IS NULL AND failed_at IS NULL"


class Notification(Base):
    """One message to deliver on one channel: an e-mail to one audience, or one
    webhook call. Written by producers in their own transaction; sent later."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The delivery job looks only at rows still to send; sent rows stay out.
        Index(
            "ix_notifications_next_attempt_at",
            "next_attempt_at",
            sqlite_where=text(_UNSETTLED),
            postgresql_where=text(_UNSETTLED),
        ),
        Index("ix_notifications_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    # "owner" or "admins" for e-mail, the webhook's name for a webhook.
    target: Mapped[str] = mapped_column(String(64))
    # E-mail addresses; empty for a webhook, whose URL is read when it is sent.
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The facts of the event (token id, label, owner, times); never a secret.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Unique: a producer that runs twice, or on two instances, adds nothing twice.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Which delivery run holds the row, and until when; see `notify.outbox.claim`.
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def status(self) -> str:
        """`sent`, `failed` or `pending`."""
        if self.sent_at is not None:
            return "sent"
        if self.failed_at is not None:
            return "failed"

        return "pending"

    def __repr__(self) -> str:
        return (
            f"Notification(id={self.id!r}, event={self.event!r}, "
            f"channel={self.channel!r}, target={self.target!r})"
        )


class ExpiryReminder(Base):
    """That the reminder at `lead_days` before a token's expiry was issued.

    The primary key is what makes each reminder happen once, however many job runs
    or instances race for it: only the run whose insert lands enqueues it.
    """

    __tablename__ = "expiry_reminders"

    token_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("tokens.id", ondelete="CASCADE"), primary_key=True
    )
    lead_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # False when the slot passed without a message: the token was created inside
    # the lead time already, or its owner is disabled.
    notified: Mapped[bool] = mapped_column(default=True)
