"""Tokens as stored (SPEC T2, T3). The secret itself is never stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tokenward.db import Base, UTCDateTime
from tokenward.directory.models import User

_UNRECORDED = "expiry_recorded_at IS NULL AND revoked_at IS NULL"


class Token(Base):
    __tablename__ = "tokens"
    __table_args__ = (
        Index("ix_tokens_owner_id_created_at", "owner_id", "created_at"),
        # The Token Manager's default order, newest first, paged.
        Index("ix_tokens_created_at_id", "created_at", "id"),
        Index("ix_tokens_expires_at", "expires_at"),
        Index("ix_tokens_last_used_at", "last_used_at"),
        # The scheduled jobs (expiry, reminders) look only at tokens still live.
        Index(
            "ix_tokens_expires_at_unrecorded",
            "expires_at",
            sqlite_where=text(_UNRECORDED),
            postgresql_where=text(_UNRECORDED),
        ),
    )

    # The public token id: not secret, shown in the UI, the API, audit and headers.
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    owner_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(255))
    creator_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # How the token came to be, which is its lifetime tier: self, manager, request.
    tier: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    scope: Mapped[str] = mapped_column(String(16))
    # CIDR strings; empty means "wherever the global ranges allow".
    allowed_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Header name -> required value; empty means no restriction.
    header_restrictions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    # Usage is coalesced by the gate and written in batches.
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_from: Mapped[list[str]] = mapped_column(JSON, default=list)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(255), default=None)
    revocation_reason: Mapped[str | None] = mapped_column(Text, default=None)
    rotated_from_id: Mapped[str | None] = mapped_column(String(24), default=None)
    rotated_to_id: Mapped[str | None] = mapped_column(String(24), default=None)
    # When the expiry job wrote this token's `token_expired` audit record: once.
    expiry_recorded_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, default=None
    )

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    creator: Mapped[User | None] = relationship(
        foreign_keys=[creator_id], lazy="joined"
    )

    def status_at(self, now: dt.datetime) -> str:
        """`revoked`, `expired` or `active` at `now`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"

        return "active"

    def __repr__(self) -> str:
        # The digest stays out of reprs: it is a lookup key for the secret.
        return (
            f"Token(id={self.id!r}, owner_id={self.owner_id!r}, label={self.label!r})"
        )
