"""Client certificates (mutual TLS): a partner credential may be bound to the SHA-256 fingerprint
or the subject of the certificate its node presents (`principals.cert_sha256`,
`principals.cert_subject`; such a credential has no secret, its `secret_hash` is empty), and a
peer may be reached with a client certificate and a CA of its own (`peers.client_cert`,
`peers.client_key`, `peers.ca`: paths of files on the node's host, never their contents).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("principals") as batch:
        batch.add_column(sa.Column("cert_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("cert_subject", sa.Text, nullable=True))
    op.create_index("ix_principals_cert_sha256", "principals", ["cert_sha256"])
    with op.batch_alter_table("peers") as batch:
        batch.add_column(sa.Column("client_cert", sa.Text, nullable=True))
        batch.add_column(sa.Column("client_key", sa.Text, nullable=True))
        batch.add_column(sa.Column("ca", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peers") as batch:
        batch.drop_column("ca")
        batch.drop_column("client_key")
        batch.drop_column("client_cert")
    op.drop_index("ix_principals_cert_sha256", "principals")
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("cert_subject")
        batch.drop_column("cert_sha256")
