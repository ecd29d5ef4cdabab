"""Users and groups as stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tokenward.db import Base, UTCDateTime

memberships = Table(
    "memberships",
    Base.metadata,
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "group_id",
        Integer,
        ForeignKey("groups.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # "local" or the name of a directory source; only local users have a password.
    source: Mapped[str] = mapped_column(String(32), default="local")
    # argon2id, for the web UI only: the gate never checks passwords.
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    disabled_by: Mapped[str | None] = mapped_column(String(255), default=None)

    groups: Mapped[list[Group]] = relationship(
        secondary=memberships, back_populates="members", lazy="selectin"
    )


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    members: Mapped[list[User]] = relationship(
        secondary=memberships, back_populates="groups", lazy="raise"
    )
