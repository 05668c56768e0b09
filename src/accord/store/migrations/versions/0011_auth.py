"""Sign-in protection: failed attempts per account and address, server-side web sessions.

`auth_failures` lets every process serving the store refuse guesses during back-off and after a
lockout; `web_sessions` lets sign-out end a session in every process (accord.store.auth_schema).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure", sa.BigInteger, nullable=False),
        sa.Column("locked_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_web_sessions_created", "web_sessions", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_created", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("auth_failures")
