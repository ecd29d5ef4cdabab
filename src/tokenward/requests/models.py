"""Token requests as stored (SPEC P7)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tokenward.db import Base, UTCDateTime
from tokenward.directory.models import User


class RequestStatus(enum.StrEnum):
    """Where a request stands. Only `pending` and `approved` can still change."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FULFILLED = "fulfilled"


OPEN = (RequestStatus.PENDING, RequestStatus.APPROVED)


class TokenRequest(Base):
    __tablename__ = "token_requests"
    __table_args__ = (
        Index(
            "ix_token_requests_requester_id_created_at", "requester_id", "created_at"
        ),
        # The queue and the expiry job look by status, oldest first.
        Index("ix_token_requests_status_expires_at", "status", "expires_at"),
    )

    # Public and random, like a token id; never a sequence others could walk.
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    requester_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(16))
    # None: never expires.
    lifetime_days: Mapped[int | None] = mapped_column(Integer, default=None)
    allowed_networks: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # A pending request lapses then; once approved, the approval lapses then.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(255), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # What was approved, possibly narrower than what was asked; set on approval
    # (then a None lifetime means "never expires", as for the one asked for).
    approved_scope: Mapped[str | None] = mapped_column(String(16), default=None)
    approved_lifetime_days: Mapped[int | None] = mapped_column(Integer, default=None)
    approved_networks: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # When it became final: fulfilled, rejected, cancelled or expired.
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    token_id: Mapped[str | None] = mapped_column(String(24), default=None)

    requester: Mapped[User] = relationship(lazy="joined")

    def status_at(self, now: dt.datetime) -> RequestStatus:
        """The status, counting an open request past its expiry as expired even
        before the job has recorded it."""
        status = RequestStatus(self.status)
        if status in OPEN and self.expires_at <= now:
            return RequestStatus.EXPIRED

        return status
