"""Tables of federation: peers and their durable sync cursors."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, String, Table, Text

from accord.store.schema import metadata

peers = Table(
    "peers",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("party", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("api_root", String(64), nullable=False),
    Column("user", String(100), nullable=False),
    # The secret this node presents to the peer: it must be usable, so it cannot be hashed.
    Column("secret", Text, nullable=False),
    Column("push", Boolean, nullable=False),
    Column("pull", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # As TAXII discovery found the peer (accord.federation.discovery); NULL: accord's collections.
    Column("kind", String(16), nullable=True),
    Column("pull_from", Text, nullable=True),
    Column("push_to", Text, nullable=True),
    # For a peer that is not an accord node: its marking table (JSON) and STIX 2.0 opt-in.
    Column("markings", Text, nullable=True),
    Column("stix20", Boolean, nullable=True),
    # Mutual TLS with the peer (migration 0016): paths of the client certificate and key this node
    # presents, and of the CA its server certificate must chain to; never the files' contents.
    Column("client_cert", Text, nullable=True),
    Column("client_key", Text, nullable=True),
    Column("ca", Text, nullable=True),
)

# Every object version read from a peer that is not an accord node, by collection: such a peer
# is read whole (its date_added need not be monotonic) and what was stored is not stored again.
peer_received = Table(
    "peer_received",
    metadata,
    Column("peer", String(100), primary_key=True),
    Column("collection", String(200), primary_key=True),
    Column("stix_id", String(200), primary_key=True),
    Column("version", String(64), primary_key=True),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("peer", String(100), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("collection", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# The newest signed checkpoint of each peer's audit chain this node holds
# (accord.federation.chains): the peer's chain must still pass through it at the next sync.
# `public_key` is the key it verified with (trust on first use unless the peer's key is
# pinned); `fork` is the fork last reported, recorded once in this node's audit trail.
peer_checkpoints = Table(
    "peer_checkpoints",
    metadata,
    Column("peer", String(100), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("fork", Text, nullable=True),
)
