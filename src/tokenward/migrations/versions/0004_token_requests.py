"""token requests: asked for, decided, generated once, expired (P7)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:27:11.168255
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tokenward.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_requests",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("lifetime_days", sa.Integer(), nullable=True),
        sa.Column("allowed_networks", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", tokenward.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("approved_scope", sa.String(length=16), nullable=True),
        sa.Column("approved_lifetime_days", sa.Integer(), nullable=True),
        sa.Column("approved_networks", sa.JSON(), nullable=True),
        sa.Column("closed_at", tokenward.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("token_id", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["users.id"],
            name=op.f("fk_token_requests_requester_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_requests")),
    )
    with op.batch_alter_table("token_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_token_requests_requester_id_created_at",
            ["requester_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_token_requests_status_expires_at",
            ["status", "expires_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("token_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_token_requests_status_expires_at")
        batch_op.drop_index("ix_token_requests_requester_id_created_at")

    op.drop_table("token_requests")
