"""Upstream credentials as stored (SPEC G6): one per user, encrypted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tokenward.db import Base, UTCDateTime
from tokenward.directory.models import User


class UpstreamCredential(Base):
    """The credential the gate injects for one user, sealed by
    `tokenward.upstream.crypto`; the plaintext is never stored."""

    __tablename__ = "upstream_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    scheme: Mapped[str] = mapped_column(String(16))
    # nonce || ciphertext || tag; bound to user_id and scheme.
    encrypted_value: Mapped[bytes] = mapped_column(LargeBinary)
    # Which key sealed it (derived from the instance secret) and by which recipe.
    key_id: Mapped[str] = mapped_column(String(32))
    key_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(255))
    # When it last passed a check, and the upstream user it authenticated as.
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, default=None
    )
    checked_as: Mapped[str | None] = mapped_column(String(255), default=None)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        # Even sealed, the value stays out of reprs.
        return (
            f"UpstreamCredential(user_id={self.user_id!r}, scheme={self.scheme!r}, "
            f"checked_as={self.checked_as!r})"
        )
