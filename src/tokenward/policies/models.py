"""Permission grants as stored: each permission to everyone, or to listed groups."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.db import Base


class PermissionSetting(Base):
    """Whether a permission is granted to everyone. A missing row means the default."""

    __tablename__ = "permission_settings"

    permission: Mapped[str] = mapped_column(String(32), primary_key=True)
    everyone: Mapped[bool]


class PermissionGroup(Base):
    """One group that holds a permission."""

    __tablename__ = "permission_groups"

    permission: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
