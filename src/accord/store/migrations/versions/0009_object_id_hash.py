"""Objects are found by a 64-bit hash of their id; the unique (coll, stix_id, version_key) goes.

Ids are random, so the entries an envelope adds to an index keyed by id land all over it, and
SQLite writes every page they touch again at commit (and once more at checkpoint). The unique
index's entries were ~90 bytes; `objects.idh` (the first 8 bytes of the id's SHA-256, signed)
makes the index every lookup by id uses, (coll, idh), ~20 bytes an entry. A bare insert of
100,000 objects in transactions of 1,000 ran 1.9x faster with it (docs/deployment.md).
Uniqueness of (coll, stix_id, version_key) is kept by `add_objects`, the only writer of
objects, which looks up the stored versions under its collection's lock before inserting.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_COLUMNS = ("seq", "coll", "stix_id", "type", "version", "version_key", "spec_version",
            "date_added", "marking", "deleted", "multi", "published_by", "body")  # fmt: skip

# The hash in SQL (PostgreSQL): the first 16 hex digits of the SHA-256 as a signed bigint.
_PG_HASH = "('x' || left(encode(sha256(convert_to(stix_id, 'UTF8')), 'hex'), 16))::bit(64)::bigint"


def _id_hash(stix_id: str) -> int:
    # As accord.exchange.ingest.id_hash computes it today (a migration is a frozen
    # snapshot and imports no application code; a test holds the two equal).
    return int.from_bytes(hashlib.sha256(stix_id.encode()).digest()[:8], "big", signed=True)


def _objects_table(name: str, hashed: bool) -> None:
    # The objects table as of revision 0009 (hashed) or 0008.
    op.create_table(
        name,
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("coll", sa.Integer, nullable=False),
        sa.Column("stix_id", sa.String(160), nullable=False),
        *([sa.Column("idh", sa.BigInteger, nullable=False)] if hashed else []),
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
        *(
            []
            if hashed
            else [sa.UniqueConstraint("coll", "stix_id", "version_key", name="uq_objects_version")]
        ),
    )


def _sqlite_copy(hashed: bool) -> None:
    # SQLite cannot drop a constraint: the table is rebuilt and the rows copied with their seq.
    cols = ", ".join(_COLUMNS)
    _objects_table("objects_next", hashed)
    if hashed:
        raw: Any = op.get_bind().connection.driver_connection  # sqlite3.Connection
        raw.create_function("accord_id_hash", 1, _id_hash, deterministic=True)
        op.execute(
            f"INSERT INTO objects_next ({cols}, idh) SELECT {cols}, accord_id_hash(stix_id)"
            " FROM objects ORDER BY seq"
        )
    else:
        op.execute(f"INSERT INTO objects_next ({cols}) SELECT {cols} FROM objects ORDER BY seq")
    op.drop_index("ix_objects_added", "objects")
    op.drop_table("objects")
    op.rename_table("objects_next", "objects")
    op.create_index("ix_objects_added", "objects", ["coll", "date_added"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("objects", sa.Column("idh", sa.BigInteger, nullable=True))
        op.execute(f"UPDATE objects SET idh = {_PG_HASH}")
        op.alter_column("objects", "idh", nullable=False)
        op.drop_constraint("uq_objects_version", "objects", type_="unique")
    else:
        _sqlite_copy(hashed=True)
    op.create_index("ix_objects_id", "objects", ["coll", "idh"])


def downgrade() -> None:
    op.drop_index("ix_objects_id", "objects")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("objects", "idh")
        op.create_unique_constraint(
            "uq_objects_version", "objects", ["coll", "stix_id", "version_key"]
        )
    else:
        _sqlite_copy(hashed=False)
