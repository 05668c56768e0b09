"""Peers resolved through TAXII discovery: what kind of server a peer is (`accord`, any other
`taxii` server, or NULL when it did not answer when added) and which of its collections are read
(`pull_from`, ids or aliases separated by spaces) and written (`push_to`). NULL keeps accord's
collections (`items` and `inbox` read, `inbox` written), as every peer recorded before.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("pull_from", sa.Text, nullable=True))
        batch.add_column(sa.Column("push_to", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.drop_column("push_to")
        batch.drop_column("pull_from")
        batch.drop_column("kind")
