"""The one schema, for SQLite and PostgreSQL alike (SQLAlchemy Core).

Registry records are stored as canonical JSON bodies (sorted keys) keyed by their identifier: the
registry is small (tens of parties, hundreds of agreements) and is always read whole into an
in-memory world, so a document per record keeps export → import byte-exact. Alembic migrations in
`accord.store.migrations` create and evolve these tables; this module is their single description.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

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

# ---- Logistics: orders, their transitions, documents and derived amounts ----------
# An order is its transitions (`order_transitions`, canonical JSON bodies). `orders`,
# `order_lines`, `order_amounts` and `order_postings` are derived from them, written in the same
# transaction as each transition, and indexed for the ledger's SQL aggregates.

orders = Table(
    "orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("requester", String(16), nullable=False),
    Column("supplier", String(16), nullable=False),
    Column("agreement", String(100), nullable=False),
    Column("arrangement", String(100)),
    Column("purpose", String(32), nullable=False),
    Column("exercise", String(200)),
    Column("facility", String(100)),
    Column("fund", String(64)),
    Column("order_date", Date, nullable=False),
    Column("method", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("deadline", Date),
    Column("last_seq", Integer, nullable=False),
    Column("last_date", Date, nullable=False),
    Index("ix_orders_status", "status"),
    Index("ix_orders_pair", "requester", "supplier"),
    Index("ix_orders_date", "order_date"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(64), ForeignKey("orders.id"), primary_key=True),
    Column("no", Integer, primary_key=True),
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("quantity", String(40), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("received", String(40)),
)

order_transitions = Table(
    "order_transitions",
    metadata,
    Column("order_id", String(64), ForeignKey("orders.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("date", Date, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("body", Text, nullable=False),
)

order_documents = Table(
    "order_documents",
    metadata,
    Column("order_id", String(64), ForeignKey("orders.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# One row per order and currency: amounts in minor units as the transitions leave them.
order_amounts = Table(
    "order_amounts",
    metadata,
    Column("order_id", String(64), ForeignKey("orders.id"), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("requester", String(16), nullable=False),
    Column("supplier", String(16), nullable=False),
    Column("agreement", String(100), nullable=False),
    Column("fund", String(64)),
    Column("method", String(32), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("deadline", Date),
    Column("ordered_minor", BigInteger, nullable=False),
    Column("delivered_minor", BigInteger, nullable=False),
    Column("due_minor", BigInteger, nullable=False),
    Column("settled_minor", BigInteger, nullable=False),
    Column("open_minor", BigInteger, nullable=False),
    Index(
        "ix_amounts_open_pair",
        "requester",
        "supplier",
        "currency",
        "open_minor",
        sqlite_where=text("open_minor > 0"),
        postgresql_where=text("open_minor > 0"),
    ),
    Index(
        "ix_amounts_open_deadline",
        "deadline",
        "requester",
        "supplier",
        "currency",
        "open_minor",
        sqlite_where=text("open_minor > 0"),
        postgresql_where=text("open_minor > 0"),
    ),
    Index("ix_amounts_date", "order_date"),
)

# The journal: what each transition changed in what is due and what is settled, per currency.
# Their sum over an order equals its open amount, so a balance on a past date is the balance now
# minus the postings dated after that date.
order_postings = Table(
    "order_postings",
    metadata,
    Column("order_id", String(64), ForeignKey("orders.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("date", Date, nullable=False),
    Column("requester", String(16), nullable=False),
    Column("supplier", String(16), nullable=False),
    Column("due_delta", BigInteger, nullable=False),
    Column("settled_delta", BigInteger, nullable=False),
    # Covering: a balance on a past date is today's balance minus the postings dated after it.
    Index(
        "ix_postings_date",
        "date",
        "requester",
        "supplier",
        "currency",
        "due_delta",
        "settled_delta",
    ),
)

LOGISTICS_TABLES = (
    orders,
    order_lines,
    order_transitions,
    order_documents,
    order_amounts,
    order_postings,
)
