"""Exchange tables: collections, markings, objects, principals, statuses.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("api_root", sa.String(64), nullable=False),
        sa.Column("alias", sa.String(64), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("last_added", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "markings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("stix_id", sa.String(100), nullable=False, unique=True),
        sa.Column("originator", sa.String(16), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "objects",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("collection_id", sa.String(36), nullable=False),
        sa.Column("stix_id", sa.String(160), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("version_key", sa.String(32), nullable=False),
        sa.Column("spec_version", sa.String(8), nullable=False),
        sa.Column("date_added", sa.BigInteger, nullable=False),
        sa.Column("marking", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("multi", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("collection_id", "stix_id", "version_key", name="uq_objects_version"),
    )
    op.create_index("ix_objects_added", "objects", ["collection_id", "date_added"])
    op.create_index("ix_objects_marking", "objects", ["marking"])
    op.create_table(
        "principals",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("clearance", sa.String(16), nullable=True),
        sa.Column("groups", sa.Text, nullable=False, server_default="[]"),
        sa.Column("roles", sa.Text, nullable=False, server_default="[]"),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "statuses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("api_root", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(100), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("statuses")
    op.drop_table("principals")
    op.drop_index("ix_objects_marking", "objects")
    op.drop_index("ix_objects_added", "objects")
    op.drop_table("objects")
    op.drop_table("markings")
    op.drop_table("collections")
