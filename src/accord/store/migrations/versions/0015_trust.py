"""Trust between nodes: keys pinned per party (`party_keys`), the signed provenance of item
versions (`provenance_entries`) and signed receipts (`receipts`, one row per item version;
`receipt_objects`, the receipts this node made, served to their senders).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "party_keys",
        sa.Column("party", sa.String(16), primary_key=True),
        sa.Column("public_key", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
        sa.Column("retired_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "provenance_entries",
        sa.Column("stix_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("originator", sa.String(16), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("marking", sa.String(200), nullable=False),
        sa.Column("provenance", sa.String(200), nullable=False),
    )
    op.create_table(
        "receipts",
        sa.Column("receiver", sa.String(16), primary_key=True),
        sa.Column("sender", sa.String(16), primary_key=True),
        sa.Column("stix_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("receipt", sa.String(200), nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("added", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_receipts_added", "receipts", ["sender", "added"])
    op.create_table(
        "receipt_objects",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("added", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_receipt_objects_sender", "receipt_objects", ["sender", "added"])


def downgrade() -> None:
    op.drop_index("ix_receipt_objects_sender", "receipt_objects")
    op.drop_table("receipt_objects")
    op.drop_index("ix_receipts_added", "receipts")
    op.drop_table("receipts")
    op.drop_table("provenance_entries")
    op.drop_table("party_keys")
