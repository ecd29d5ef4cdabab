"""Storage the gate relies on: the change counter that invalidates caches."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.db import Base


class ChangeCounter(Base):
    """Bumped, in the same transaction, by every change that can turn an allow into
    a refusal: revocation, user or group change, permission or policy change.

    Every instance polls it, so a lost notification delays enforcement by at most
    the poll interval.
    """

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
