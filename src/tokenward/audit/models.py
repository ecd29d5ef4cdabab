"""The audit table, shaped for SPEC A1-A5.

`seq` orders the chain; `prev_hash` and `hash` link each record to the one before
(A4). The indexes serve the filters of A5: time, user, token, address, event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.db import Base, UTCDateTime


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_occurred_at", "occurred_at"),
        Index("ix_audit_records_subject_occurred_at", "subject", "occurred_at"),
        # Gate decisions leave `actor` empty (the subject acted), so only state
        # changes enter this index and the hot path pays nothing for it.
        Index(
            "ix_audit_records_actor_occurred_at",
            "actor",
            "occurred_at",
            sqlite_where=text("actor IS NOT NULL"),
            postgresql_where=text("actor IS NOT NULL"),
        ),
        Index("ix_audit_records_token_id_occurred_at", "token_id", "occurred_at"),
        Index("ix_audit_records_client_ip_occurred_at", "client_ip", "occurred_at"),
        Index("ix_audit_records_event_occurred_at", "event", "occurred_at"),
    )

    # Assigned by the chain writer under its lock, so sequence and chain agree.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64), default=None)
    actor: Mapped[str | None] = mapped_column(String(255), default=None)
    subject: Mapped[str | None] = mapped_column(String(255), default=None)
    token_id: Mapped[str | None] = mapped_column(String(24), default=None)
    client_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    method: Mapped[str | None] = mapped_column(String(16), default=None)
    path: Mapped[str | None] = mapped_column(Text, default=None)
    user_agent: Mapped[str | None] = mapped_column(Text, default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # Event-specific facts (changed fields, counts); never a secret.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    # Not indexed: verification walks the chain in `seq` order, and every index
    # costs each of the gate's inserts.
    hash: Mapped[str] = mapped_column(String(64))
