"""Peers that are not accord nodes: the table mapping their markings to release markings
(`markings`, JSON: foreign name → "ORIGINATOR LEVEL TOPIC…"), whether their content is STIX 2.0
to upgrade (`stix20`), and the record of every object version read from them
(`peer_received`), so that a peer whose `date_added` is not monotonic is read whole with `next`
and nothing is missed or stored twice.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.add_column(sa.Column("markings", sa.Text, nullable=True))
        batch.add_column(sa.Column("stix20", sa.Boolean, nullable=True))
    op.create_table(
        "peer_received",
        sa.Column("peer", sa.String(100), primary_key=True),
        sa.Column("collection", sa.String(200), primary_key=True),
        sa.Column("stix_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("peer_received")
    with op.batch_alter_table("peers") as batch:
        batch.drop_column("stix20")
        batch.drop_column("markings")
