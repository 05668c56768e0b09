"""Every stored object version names the id's owner and the instance it belongs to.

`objects.owner` is the party with authority over the id, fixed when the node first stores it (its
originator: PRODUCT.md §7 "Ownership"); later versions copy it. `objects.instance` is "" for the
owner's instance and, for a write by a principal that may not read the id's current version, that
principal's name: the write is kept as its own instance (polyinstantiation, docs/security.md), seen
by it alone and harmless to every other reader. Existing rows are the owners' instances, owned by
their release marking's originator.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.add_column(sa.Column("owner", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("instance", sa.String(100), nullable=False, server_default=""))
    op.execute(
        "UPDATE objects SET owner = (SELECT markings.originator FROM markings "
        "WHERE markings.id = objects.marking) "
        "WHERE EXISTS (SELECT 1 FROM markings WHERE markings.id = objects.marking)"
    )


def downgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.drop_column("instance")
        batch.drop_column("owner")
