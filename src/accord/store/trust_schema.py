"""Tables of trust between nodes: the keys pinned per party, the signed provenance of items
(which version of which item, with which content hash and marking, its originator signed), and
the receipts partners signed for what they stored."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from accord.store.schema import metadata

# A party's keys: pinned by an operator, announced by a verified rotation, or this node's own
# retired keys. `retired_at` (µs): the key verifies only what was signed before it.
party_keys = Table(
    "party_keys",
    metadata,
    Column("party", String(16), primary_key=True),
    Column("public_key", String(64), primary_key=True),
    Column("source", String(16), nullable=False),
    Column("added_at", BigInteger, nullable=False),
    Column("retired_at", BigInteger, nullable=True),
)

# Every item version a verified provenance object vouches for: the content hash its originator
# signed and the release marking it signed with it. Looked up by the id's 64-bit hash (`idh`, as
# objects.idh), then the id compared: one small index, not a key of long strings per row.
provenance_entries = Table(
    "provenance_entries",
    metadata,
    Column("idh", BigInteger, nullable=False),
    Column("stix_id", String(200), nullable=False),
    Column("version", String(64), nullable=False),
    Column("originator", String(16), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("marking", String(200), nullable=False),
    Column("provenance", String(200), nullable=False),
)
Index("ix_provenance_entries_idh", provenance_entries.c.idh)

# Receipts: what a partner signed that it stored, one row per item version and receipt (the
# first receipt of a version by a receiver is the one shown); a node keeps those it received
# (for its releases). Looked up by the id's hash, as provenance_entries.
receipts = Table(
    "receipts",
    metadata,
    Column("idh", BigInteger, nullable=False),
    Column("receiver", String(16), nullable=False),
    Column("sender", String(16), nullable=False),
    Column("stix_id", String(200), nullable=False),
    Column("version", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("level", String(32), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("receipt", String(200), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("added", BigInteger, nullable=False),
)
Index("ix_receipts_idh", receipts.c.idh)

# The receipts this node made for what a sender delivered, as signed (served to the sender).
receipt_objects = Table(
    "receipt_objects",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("sender", String(16), nullable=False),
    Column("added", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)
Index("ix_receipt_objects_sender", receipt_objects.c.sender, receipt_objects.c.added)
