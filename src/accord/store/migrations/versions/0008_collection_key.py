"""Objects name their collection by a small integer key, not its 36-character id.

Every object version has two index entries that start with its collection: the unique
(collection, id, version) and the (collection, date_added) used by every paged read. With the
collection's UUID they were ~125 and ~50 bytes; with an integer key ~90 and ~15. Ingest writes
one entry of each per object and the unique one lands at a random place, so the pages SQLite
rewrites per envelope shrink with it (a bare insert of 1,000-row transactions measured ~20 %
faster; docs/deployment.md). `collections.key` numbers the collections in (api_root, kind, id)
order; `objects.coll` replaces `objects.collection_id`.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_COLUMNS = ("seq", "stix_id", "type", "version", "version_key", "spec_version", "date_added",
            "marking", "deleted", "multi", "published_by", "body")  # fmt: skip


def _objects_table(coll: str) -> list[sa.schema.SchemaItem]:
    # The objects table as of this revision, with the collection column `coll` named.
    return [
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column(coll, sa.Integer if coll == "coll" else sa.String(36), nullable=False),
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
        # SQLite keeps a constraint's name in the table's text: the final name from the start.
        sa.UniqueConstraint(coll, "stix_id", "version_key", name="uq_objects_version"),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("collections", sa.Column("key", sa.Integer, nullable=True))
    op.execute(
        "UPDATE collections SET key = (SELECT COUNT(*) FROM collections AS c2 WHERE"
        " c2.api_root < collections.api_root OR (c2.api_root = collections.api_root AND"
        " (c2.kind < collections.kind OR (c2.kind = collections.kind AND c2.id <= collections.id))))"
    )
    if bind.dialect.name == "postgresql":
        op.alter_column("collections", "key", nullable=False)
        op.create_unique_constraint("uq_collections_key", "collections", ["key"])
        # In place: the identity of `seq` and the rows stay where they are.
        op.add_column("objects", sa.Column("coll", sa.Integer, nullable=True))
        op.execute(
            "UPDATE objects SET coll = collections.key FROM collections"
            " WHERE collections.id = objects.collection_id"
        )
        op.alter_column("objects", "coll", nullable=False)
        op.drop_constraint("uq_objects_version", "objects", type_="unique")
        op.drop_index("ix_objects_added", "objects")
        op.drop_column("objects", "collection_id")
        op.create_unique_constraint(
            "uq_objects_version", "objects", ["coll", "stix_id", "version_key"]
        )
    else:
        op.create_index("uq_collections_key", "collections", ["key"], unique=True)
        # SQLite cannot drop a column that a constraint names: the table is rebuilt, rows copied
        # with their seq (an object without a collection row would fail NOT NULL and stop the
        # migration, which then changes nothing).
        op.create_table("objects_new", *_objects_table("coll"))
        cols = ", ".join(_COLUMNS)
        op.execute(
            f"INSERT INTO objects_new (coll, {cols}) SELECT (SELECT key FROM collections"
            f" WHERE collections.id = objects.collection_id), {cols} FROM objects ORDER BY seq"
        )
        op.drop_index("ix_objects_added", "objects")
        op.drop_table("objects")
        op.rename_table("objects_new", "objects")
    op.create_index("ix_objects_added", "objects", ["coll", "date_added"])


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_objects_added", "objects")
    if bind.dialect.name == "postgresql":
        op.add_column("objects", sa.Column("collection_id", sa.String(36), nullable=True))
        op.execute(
            "UPDATE objects SET collection_id = collections.id FROM collections"
            " WHERE collections.key = objects.coll"
        )
        op.alter_column("objects", "collection_id", nullable=False)
        op.drop_constraint("uq_objects_version", "objects", type_="unique")
        op.drop_column("objects", "coll")
        op.create_unique_constraint(
            "uq_objects_version", "objects", ["collection_id", "stix_id", "version_key"]
        )
        op.drop_constraint("uq_collections_key", "collections", type_="unique")
    else:
        op.create_table("objects_old", *_objects_table("collection_id"))
        cols = ", ".join(_COLUMNS)
        op.execute(
            f"INSERT INTO objects_old (collection_id, {cols}) SELECT (SELECT id FROM collections"
            f" WHERE collections.key = objects.coll), {cols} FROM objects ORDER BY seq"
        )
        op.drop_table("objects")
        op.rename_table("objects_old", "objects")
        op.drop_index("uq_collections_key", "collections")
    op.drop_column("collections", "key")
    op.create_index("ix_objects_added", "objects", ["collection_id", "date_added"])
