"""Bounded cost of hostile input: statuses are purged by age and per principal, and TAXII writes
are counted per principal against a quota.

`ix_statuses_created` and `ix_statuses_principal` make the purge that runs with every status
write (`accord.taxii.statuses`) an index range instead of a scan; `write_quotas` holds, per
principal, the objects and bytes it POSTed in the current window (`accord.taxii.quota`), so the
quota holds across worker processes.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_statuses_created", "statuses", ["created"])
    op.create_index("ix_statuses_principal", "statuses", ["principal", "created"])
    op.create_table(
        "write_quotas",
        sa.Column("principal", sa.String(100), primary_key=True),
        sa.Column("started", sa.BigInteger, nullable=False),
        sa.Column("objects", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("write_quotas")
    op.drop_index("ix_statuses_principal", "statuses")
    op.drop_index("ix_statuses_created", "statuses")
