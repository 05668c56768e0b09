"""Federation: peers and sync cursors.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("api_root", sa.String(64), nullable=False),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("push", sa.Boolean, nullable=False),
        sa.Column("pull", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("peer", sa.String(100), primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("collection", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_cursors")
    op.drop_table("peers")
