"""upstream credentials: one encrypted credential per user, for injection (G6)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 16:08:25.112161
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tokenward.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("encrypted_value", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.Column(
            "last_checked_at", tokenward.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("checked_as", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_upstream_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_credentials")),
        sa.UniqueConstraint("user_id", name=op.f("uq_upstream_credentials_user_id")),
    )


def downgrade() -> None:
    op.drop_table("upstream_credentials")
