"""Registry tables: meta, parties, agreements, notes, consents, facilities.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accord_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "parties",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    for name in ("agreements", "notes", "consents", "facilities"):
        op.create_table(
            name,
            sa.Column("id", sa.String(100), primary_key=True),
            sa.Column("body", sa.Text, nullable=False),
        )


def downgrade() -> None:
    for name in ("facilities", "consents", "notes", "agreements", "parties", "accord_meta"):
        op.drop_table(name)
