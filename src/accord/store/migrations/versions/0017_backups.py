"""The newest signed audit checkpoint held of each peer (`peer_checkpoints`), so that a sync
notices when a peer's chain no longer passes through a record it signed (a restore from an
older backup, or a rewritten history).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_checkpoints",
        sa.Column("peer", sa.String(100), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("fork", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("peer_checkpoints")
