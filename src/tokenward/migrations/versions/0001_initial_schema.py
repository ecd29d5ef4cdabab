"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-03 15:57:02.978479
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tokenward.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column(
            "occurred_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("token_id", sa.String(length=24), nullable=True),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_records_actor_occurred_at",
            ["actor", "occurred_at"],
            unique=False,
            sqlite_where=sa.text("actor IS NOT NULL"),
            postgresql_where=sa.text("actor IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_audit_records_client_ip_occurred_at",
            ["client_ip", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_audit_records_event_occurred_at", ["event", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_records_occurred_at", ["occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_records_subject_occurred_at",
            ["subject", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_audit_records_token_id_occurred_at",
            ["token_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "value",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counters")),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "created_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
    )
    op.create_table(
        "permission_settings",
        sa.Column("permission", sa.String(length=32), nullable=False),
        sa.Column("everyone", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("permission", name=op.f("pk_permission_settings")),
    )
    op.create_table(
        "policy_documents",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_by", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_policy_documents")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column(
            "created_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "disabled_at", tokenward.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("disabled_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_memberships_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_memberships")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "permission_groups",
        sa.Column("permission", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_permission_groups_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "permission", "group_id", name=op.f("pk_permission_groups")
        ),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", tokenward.db.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("expires_at", tokenward.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("allowed_networks", sa.JSON(), nullable=False),
        sa.Column("header_restrictions", sa.JSON(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column(
            "last_used_at", tokenward.db.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_used_from", sa.JSON(), nullable=False),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("revoked_at", tokenward.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=255), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("rotated_from_id", sa.String(length=24), nullable=True),
        sa.Column("rotated_to_id", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_tokens_creator_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_tokens_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_tokens_digest")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index("ix_tokens_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_tokens_last_used_at", ["last_used_at"], unique=False)
        batch_op.create_index(
            "ix_tokens_owner_id_created_at", ["owner_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_tokens_owner_id_created_at")
        batch_op.drop_index("ix_tokens_last_used_at")
        batch_op.drop_index("ix_tokens_expires_at")

    op.drop_table("tokens")
    op.drop_table("permission_groups")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_group_id"))

    op.drop_table("memberships")
    op.drop_table("users")
    op.drop_table("policy_documents")
    op.drop_table("permission_settings")
    op.drop_table("groups")
    op.drop_table("change_counters")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_token_id_occurred_at")
        batch_op.drop_index("ix_audit_records_subject_occurred_at")
        batch_op.drop_index("ix_audit_records_occurred_at")
        batch_op.drop_index("ix_audit_records_event_occurred_at")
        batch_op.drop_index("ix_audit_records_client_ip_occurred_at")
        batch_op.drop_index("ix_audit_records_actor_occurred_at")

    op.drop_table("audit_records")
