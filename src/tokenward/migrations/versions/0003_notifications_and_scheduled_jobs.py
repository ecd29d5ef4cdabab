"""notifications and scheduled jobs: the outbox, reminders issued, job leases (P8)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 17:00:28.831525
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tokenward.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UNSETTLED = sa.text("sent_at IS NULL AND failed_at IS NULL")
_UNRECORDED = sa.text("expiry_recorded_at IS NULL AND revoked_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column(
            "expires_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_started_at", tokenward.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_finished_at", tokenward.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("last_summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column(
            "claimed_until", tokenward.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("sent_at", tokenward.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", tokenward.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])
    op.create_index(
        "ix_notifications_next_attempt_at",
        "notifications",
        ["next_attempt_at"],
        sqlite_where=_UNSETTLED,
        postgresql_where=_UNSETTLED,
    )
    op.create_table(
        "expiry_reminders",
        sa.Column("token_id", sa.String(length=24), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("issued_at", tokenward.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["tokens.id"],
            name=op.f("fk_expiry_reminders_token_id_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "token_id", "lead_days", name=op.f("pk_expiry_reminders")
        ),
    )
    op.add_column(
        "tokens",
        sa.Column(
            "expiry_recorded_at", tokenward.db.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.create_index(
        "ix_tokens_expires_at_unrecorded",
        "tokens",
        ["expires_at"],
        sqlite_where=_UNRECORDED,
        postgresql_where=_UNRECORDED,
    )


def downgrade() -> None:
    op.drop_index("ix_tokens_expires_at_unrecorded", table_name="tokens")
    with op.batch_alter_table("tokens") as batch_op:
        batch_op.drop_column("expiry_recorded_at")
    op.drop_table("expiry_reminders")
    op.drop_index("ix_notifications_next_attempt_at", table_name="notifications")
    op.drop_index("ix_notifications_created_at", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("job_leases")
