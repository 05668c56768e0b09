"""Tables of the exchange: collections, release markings, STIX objects, principals and status
resources (the TAXII node). Same `metadata` as the registry tables. Releases are records of
the audit log (`accord.audit`).

- `objects.date_added` is an integer count of microseconds since the epoch, strictly increasing
  within a collection (`collections.last_added` is bumped under the writer's lock), so
  `added_after` paging can neither lose nor repeat an object (taxii-stix.md §1.5).
- `objects.version_key` is the object's version (`modified`, else `created`) normalised to
  microseconds so that versions compare as text; `version` keeps the original string.
- `objects.coll` is the collection's `key`, a small integer: both indexes of `objects` start with
  it, and a 36-character id there made every entry ~35 bytes larger (migration 0008).
- `objects.marking` is the release class (`markings.id`): visibility is a set-membership test on
  it (docs/architecture.md, "Markings are release classes").
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from accord.store.schema import metadata

# SQLite's rowid alias must be INTEGER; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

collections = Table(
    "collections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("api_root", String(64), nullable=False),
    Column("alias", String(64), nullable=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("kind", String(16), nullable=False),
    Column("last_added", BigInteger, nullable=False, server_default="0"),
    # The small number objects name their collection by (migration 0008).
    Column("key", Integer, nullable=False, unique=True),
)

markings = Table(
    "markings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stix_id", String(100), nullable=False, unique=True),
    Column("originator", String(16), nullable=False),
    Column("spec", Text, nullable=False),
    Column("body", Text, nullable=False),
)

objects = Table(
    "objects",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("coll", Integer, nullable=False),  # collections.key
    Column("stix_id", String(160), nullable=False),
    # A 64-bit hash of stix_id (`accord.exchange.ingest.id_hash`): every lookup by id goes
    # through (coll, idh), an index entry of ~20 bytes where (coll, stix_id, version_key) took
    # ~90. Ids are random, so each envelope's entries land all over that index and every page
    # they touch is written again at commit (migration 0009; docs/deployment.md has the
    # figures). Uniqueness of (coll, stix_id, version_key) is kept by `add_objects`, the only
    # writer of objects, under its collection's lock.
    Column("idh", BigInteger, nullable=False),
    Column("type", String(64), nullable=False),
    Column("version", String(40), nullable=False),
    Column("version_key", String(32), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("date_added", BigInteger, nullable=False),
    Column("marking", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False, server_default=sa.false()),
    Column("multi", Boolean, nullable=False, server_default=sa.false()),
    Column("published_by", String(100), nullable=False),
    Column("body", Text, nullable=False),
    # The party with authority over the id, fixed when the node first stores it (migration 0010).
    Column("owner", String(16), nullable=False, server_default=""),
    # "" for the owner's instance; a principal's name for its own instance of the id
    # (polyinstantiation: docs/security.md, "Ownership").
    Column("instance", String(100), nullable=False, server_default=""),
)
Index("ix_objects_id", objects.c.coll, objects.c.idh)
Index("ix_objects_added", objects.c.coll, objects.c.date_added)

principals = Table(
    "principals",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("party", String(16), nullable=False),
    Column("clearance", String(16), nullable=True),
    Column("groups", Text, nullable=False, server_default="[]"),
    Column("roles", Text, nullable=False, server_default="[]"),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    # A partner credential bound to its node's client certificate (accord.principals.certificates,
    # migration 0016): by SHA-256 fingerprint (hex) or by subject (RFC 4514); its secret_hash is "".
    Column("cert_sha256", String(64), nullable=True),
    Column("cert_subject", Text, nullable=True),
)
Index("ix_principals_cert_sha256", principals.c.cert_sha256)

statuses = Table(
    "statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("api_root", String(64), nullable=False),
    Column("principal", String(100), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)
# Retention purges the oldest statuses, of every principal and of one (migration 0012).
Index("ix_statuses_created", statuses.c.created)
Index("ix_statuses_principal", statuses.c.principal, statuses.c.created)

# One row per principal: what it has POSTed to TAXII in the current quota window
# (`accord.taxii.quota`); `started` is the second its window began.
write_quotas = Table(
    "write_quotas",
    metadata,
    Column("principal", String(100), primary_key=True),
    Column("started", BigInteger, nullable=False),
    Column("objects", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
)


def id_hash(stix_id: str) -> int:
    """Returns the 64-bit hash of an object id kept in `objects.idh` (the first 8 bytes of its
    SHA-256, signed): lookups by id go through the index (coll, idh) and then compare the id."""
    return int.from_bytes(hashlib.sha256(stix_id.encode()).digest()[:8], "big", signed=True)
