"""Job leases as stored: one row per job."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.db import Base, UTCDateTime


class JobLease(Base):
    """Who runs a job now (until `expires_at`), and how its last run went."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128), default=None)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, default=None
    )
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, default=None
    )
    # "ok" or "failed".
    last_outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    # What the last run did (counts) or the error it ended with.
    last_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
