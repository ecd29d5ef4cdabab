"""tokens: an index for the Token Manager's default order (created_at, id)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tokens_created_at_id", ["created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_tokens_created_at_id")
