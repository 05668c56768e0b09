"""Logistics ledger: orders, order_lines, order_transitions, order_documents,
order_amounts, order_postings.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _order_fk() -> sa.Column[str]:
    return sa.Column("order_id", sa.String(64), sa.ForeignKey("orders.id"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("requester", sa.String(16), nullable=False),
        sa.Column("supplier", sa.String(16), nullable=False),
        sa.Column("agreement", sa.String(100), nullable=False),
        sa.Column("arrangement", sa.String(100)),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("exercise", sa.String(200)),
        sa.Column("facility", sa.String(100)),
        sa.Column("fund", sa.String(64)),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("last_date", sa.Date, nullable=False),
    )
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_pair", "orders", ["requester", "supplier"])
    op.create_index("ix_orders_date", "orders", ["order_date"])
    op.create_table(
        "order_lines",
        _order_fk(),
        sa.Column("no", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("unit_price", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("received", sa.String(40)),
    )
    op.create_table(
        "order_transitions",
        _order_fk(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "order_documents",
        _order_fk(),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "order_amounts",
        _order_fk(),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("requester", sa.String(16), nullable=False),
        sa.Column("supplier", sa.String(16), nullable=False),
        sa.Column("agreement", sa.String(100), nullable=False),
        sa.Column("fund", sa.String(64)),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("order_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("ordered_minor", sa.BigInteger, nullable=False),
        sa.Column("delivered_minor", sa.BigInteger, nullable=False),
        sa.Column("due_minor", sa.BigInteger, nullable=False),
        sa.Column("settled_minor", sa.BigInteger, nullable=False),
        sa.Column("open_minor", sa.BigInteger, nullable=False),
    )
    where = sa.text("open_minor > 0")
    op.create_index(
        "ix_amounts_open_pair",
        "order_amounts",
        ["requester", "supplier", "currency", "open_minor"],
        sqlite_where=where,
        postgresql_where=where,
    )
    op.create_index(
        "ix_amounts_open_deadline",
        "order_amounts",
        ["deadline", "requester", "supplier", "currency", "open_minor"],
        sqlite_where=where,
        postgresql_where=where,
    )
    op.create_index("ix_amounts_date", "order_amounts", ["order_date"])
    op.create_table(
        "order_postings",
        _order_fk(),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("requester", sa.String(16), nullable=False),
        sa.Column("supplier", sa.String(16), nullable=False),
        sa.Column("due_delta", sa.BigInteger, nullable=False),
        sa.Column("settled_delta", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_postings_date",
        "order_postings",
        ["date", "requester", "supplier", "currency", "due_delta", "settled_delta"],
    )


def downgrade() -> None:
    for name in (
        "order_postings",
        "order_amounts",
        "order_documents",
        "order_transitions",
        "order_lines",
        "orders",
    ):
        op.drop_table(name)
