"""The one schema, for SQLite and PostgreSQL alike (SQLAlchemy Core).

Registry records are stored as canonical JSON bodies (sorted keys) keyed by their identifier: the
registry is small (tens of parties, hundreds of agreements) and is always read whole into an
in-memory world, so a document per record keeps export → import byte-exact. Alembic migrations in
`accord.store.migrations` create and evolve these tables; this module is their single description.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, Text

metadata = MetaData()

meta = Table(
    "accord_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

parties = Table(
    "parties",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("body", Text, nullable=False),
)

agreements = Table(
    "agreements",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("body", Text, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("body", Text, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("body", Text, nullable=False),
)

facilities = Table(
    "facilities",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("body", Text, nullable=False),
)

REGISTRY_TABLES = {
    "parties": parties,
    "agreements": agreements,
    "notes": notes,
    "consents": consents,
    "facilities": facilities,
}
