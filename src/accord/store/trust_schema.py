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
# signed and the release marking it signed with it.
provenance_entries = Table(
    "provenance_entries",
    metadata,
    Column("stix_id", String(200), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("originator", String(16), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("marking", String(200), nullable=False),
    Column("provenance", String(200), nullable=False),
)

# Receipts: what a partner signed that it stored, one row per item version and receiver; a
# node keeps those it received (for its releases) and those it made (served to the sender).
receipts = Table(
    "receipts",
    metadata,
    Column("receiver", String(16), primary_key=True),
    Column("sender", String(16), primary_key=True),
    Column("stix_id", String(200), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("level", String(32), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("receipt", String(200), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("added", BigInteger, nullable=False),
)
Index("ix_receipts_added", receipts.c.sender, receipts.c.added)

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
