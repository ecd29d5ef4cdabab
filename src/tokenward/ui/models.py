"""Web UI sessions as stored.

The browser holds a random secret in a cookie; the table holds only its HMAC under
the instance secret, as for tokens, so a copy of the database opens no session.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tokenward.db import Base, UTCDateTime
from tokenward.directory.models import User


class UiSession(Base):
    __tablename__ = "ui_sessions"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The absolute end; idleness ends a session earlier (settings).
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), default=None)

    user: Mapped[User] = relationship(lazy="joined")
