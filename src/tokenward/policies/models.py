"""Policies as stored: permission grants, and named policy documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tokenward.db import Base, UTCDateTime


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


class PolicyDocument(Base):
    """One named policy (for example "gate"), stored whole as validated JSON."""

    __tablename__ = "policy_documents"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(255))
