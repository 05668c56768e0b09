"""The per-item trust rows keyed by the id's 64-bit hash: `provenance_entries` and `receipts`
lose their composite primary keys of long strings (two writes per row into a B-tree of ~100-byte
keys in random order, about half of what a pull spent on them) for one index on `idh`, as the
objects table's (`accord.exchange.ingest.id_hash`). A look-up by id reads the rows of its hash
and keeps those of its id. The receipts' `(sender, added)` index, which no query used, goes.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ENTRIES = ("stix_id", "version", "originator", "hash", "marking", "provenance")
_RECEIPTS = (
    "receiver", "sender", "stix_id", "version", "hash", "level", "at", "receipt", "verified",
    "added",
)  # fmt: skip


def _idh(stix_id: str) -> int:
    # accord.exchange.ingest.id_hash, frozen here as the migration's own copy.
    return int.from_bytes(hashlib.sha256(stix_id.encode()).digest()[:8], "big", signed=True)


def _entries_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("idh", sa.BigInteger, nullable=False),
        sa.Column("stix_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("originator", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("marking", sa.String(200), nullable=False),
        sa.Column("provenance", sa.String(200), nullable=False),
    )


def _receipts_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("idh", sa.BigInteger, nullable=False),
        sa.Column("receiver", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("stix_id", sa.String(200), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("receipt", sa.String(200), nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("added", sa.BigInteger, nullable=False),
    )


def _copy(old: str, new: str, columns: tuple[str, ...]) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT {', '.join(columns)} FROM {old}")).all()
    if rows:
        cols = ("idh", *columns)
        conn.execute(
            sa.text(
                f"INSERT INTO {new} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
            ),
            [{"idh": _idh(r[2] if old == "receipts" else r[0]), **r._asdict()} for r in rows],
        )


def upgrade() -> None:
    _entries_table("provenance_entries_new")
    _copy("provenance_entries", "provenance_entries_new", _ENTRIES)
    op.drop_table("provenance_entries")
    op.rename_table("provenance_entries_new", "provenance_entries")
    op.create_index("ix_provenance_entries_idh", "provenance_entries", ["idh"])
    _receipts_table("receipts_new")
    _copy("receipts", "receipts_new", _RECEIPTS)
    op.drop_index("ix_receipts_added", "receipts")
    op.drop_table("receipts")
    op.rename_table("receipts_new", "receipts")
    op.create_index("ix_receipts_idh", "receipts", ["idh"])


def downgrade() -> None:
    op.drop_index("ix_receipts_idh", "receipts")
    op.rename_table("receipts", "receipts_new")
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
    op.execute(
        f"INSERT INTO receipts ({', '.join(_RECEIPTS)}) SELECT {', '.join(_RECEIPTS)} "
        "FROM receipts_new WHERE true ON CONFLICT DO NOTHING"
    )
    op.drop_table("receipts_new")
    op.create_index("ix_receipts_added", "receipts", ["sender", "added"])
    op.drop_index("ix_provenance_entries_idh", "provenance_entries")
    op.rename_table("provenance_entries", "provenance_entries_new")
    op.create_table(
        "provenance_entries",
        sa.Column("stix_id", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("originator", sa.String(16), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("marking", sa.String(200), nullable=False),
        sa.Column("provenance", sa.String(200), nullable=False),
    )
    op.execute(
        f"INSERT INTO provenance_entries ({', '.join(_ENTRIES)}) SELECT {', '.join(_ENTRIES)} "
        "FROM provenance_entries_new WHERE true ON CONFLICT DO NOTHING"
    )
    op.drop_table("provenance_entries_new")
