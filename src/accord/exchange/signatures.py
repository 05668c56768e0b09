"""Originator signatures inside ingest: signing what this node originates, verifying what peers
deliver (`accord.trust.provenance` for the format and what it proves).

- **Signing.** When the node's own people or host store new versions of items this node
  originates, ingest adds, in the same transaction, one provenance object per release marking of
  the envelope, signed with the node's key, dated just before the items it vouches for: a partner
  paging the collection reads the signature before the items.
- **Verifying.** Objects a peer delivers (a partner's TAXII post, this node's pull from an accord
  peer) are checked against the provenance their originator signed — carried in the same
  envelope or stored earlier — with the originator's pinned key: a version nobody signed, one
  whose content differs from what was signed, one under another marking than the signed one, and
  a provenance object whose signature does not verify are each refused with the reason, and the
  refusal is in the audit trail with the other refusals. An originator with no pinned key is
  verified only when the node's `signatures` setting is `required` (then refused); by default
  (`pinned`) such content is stored as unverified provenance. A peer declared not an accord node
  is never verified: its content is unverified provenance (docs/interop.md).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.set_params import member, set_param
from accord.policy.marking import Marking
from accord.store.trust_schema import party_keys, provenance_entries, receipt_objects
from accord.trust import provenance as pv
from accord.trust import receipts as rc
from accord.trust.keys import PartyKey

# Writer.provenance: how a writer's deliveries are checked.
SIGN = ""  # the node's own people and host: what they originate is signed
PINNED = "pinned"  # a peer: verified where the originator's key is pinned
REQUIRED = "required"  # a peer: every item verified, an originator without a pinned key refused
UNVERIFIED = "unverified"  # a peer that is not an accord node: nothing to verify
OFF = "off"  # a peer, with verification and receipts switched off (to measure their cost)


def _originator(obj: dict[str, Any]) -> str:
    ext = obj.get("extensions", {}).get(pv.PROVENANCE_EXTENSION, {})
    return str(ext.get("originator", "")) if isinstance(ext, dict) else ""


def keys_by_party(conn: sa.Connection) -> dict[str, list[PartyKey]]:
    rows = conn.execute(sa.select(party_keys)).all()
    out: dict[str, list[PartyKey]] = {}
    for r in rows:
        out.setdefault(r.party, []).append(
            PartyKey(r.party, r.public_key, r.source, r.added_at, r.retired_at)
        )
    return out


_ENTRIES_SQL: dict[str, sa.Select[Any]] = {}


class Verifier:
    """Checks one envelope's deliveries against their originators' signed provenance."""

    def __init__(
        self,
        conn: sa.Connection,
        checked: list[tuple[int, dict[str, Any], str, str, int]],
        writer: Writer,
    ) -> None:
        self.mode = writer.provenance
        self.home = writer.home
        self.keys = keys_by_party(conn)
        self.refused: dict[str, str] = {}  # provenance id → why its signature fails
        self.entries: dict[tuple[str, str], pv.Entry] = {}
        self.fresh: list[dict[str, Any]] = []  # verified provenance objects of this envelope
        self.hashes: dict[tuple[str, str], str] = {}  # content hashes computed, for the receipt
        ids: set[str] = set()
        for _, obj, _, _, _ in checked:
            if pv.is_provenance(obj):
                origin = _originator(obj)
                if origin == self.home:
                    continue  # this node's own provenance: it holds the original
                why = pv.verify(obj, self.keys)
                if why is not None:
                    if self.keys.get(origin) or self.mode == REQUIRED:
                        self.refused[obj["id"]] = why
                    # else: no key pinned for its originator: stored, unverified, vouching for
                    # nothing (only verified provenance is looked up later).
                    continue
                self.fresh.append(obj)
                for sid, ver, entry in pv.entries_of(obj):
                    self.entries[(sid, ver)] = entry
            else:
                ids.add(obj["id"])
        ids -= {sid for sid, _ in self.entries}
        if ids:
            dialect = conn.dialect.name
            if dialect not in _ENTRIES_SQL:
                c = provenance_entries.c
                _ENTRIES_SQL[dialect] = sa.select(
                    c.stix_id, c.version, c.originator, c.hash, c.marking, c.provenance
                ).where(member(c.stix_id, "ids", dialect))
            for sid, ver, originator, h, marking, pid in conn.execute(
                _ENTRIES_SQL[dialect], {"ids": set_param(ids, dialect)}
            ).all():
                self.entries.setdefault((sid, ver), pv.Entry(originator, h, marking, pid))

    def why(self, obj: dict[str, Any], version: str, originator: str) -> str | None:
        """Returns why a delivered object is refused, None when it may be stored."""
        oid = obj["id"]
        if pv.is_provenance(obj):
            return self.refused.get(oid)
        if obj["type"] == "marking-definition" or originator == self.home:
            return None  # content-addressed markings; this node's own items it holds itself
        entry = self.entries.get((oid, version))
        pinned = bool(self.keys.get(originator))
        if entry is None or entry.originator != originator:
            if pinned or self.mode == REQUIRED:
                return f"unsigned: no provenance signed by {originator} vouches for this version"
            return None  # no key pinned for the originator: stored as unverified provenance
        if not pinned:
            return None if self.mode != REQUIRED else f"no key is pinned for {originator}"
        digest = self.hashes[(oid, version)] = pv.content_hash(obj)
        if digest != entry.hash:
            return f"altered: its content is not what {originator} signed"
        refs = obj.get("object_marking_refs") or ()
        if entry.marking not in refs:
            return f"re-marked: it does not carry the marking {originator} signed"
        return None

    def record(self, conn: sa.Connection, stored: set[str]) -> None:
        """Keeps the entries of the verified provenance objects this envelope stored."""
        record_entries(conn, [p for p in self.fresh if p["id"] in stored])


def _insert_new(
    conn: sa.Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Inserts rows through the driver's executemany, skipping those whose key is held (one
    statement, no look-up first: `ON CONFLICT DO NOTHING`, SQLite and PostgreSQL alike)."""
    if rows:
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(mark for _ in columns)}) ON CONFLICT DO NOTHING",
            rows,
        )


def record_entries(conn: sa.Connection, bodies: list[dict[str, Any]]) -> None:
    """Records the entries of provenance objects (signed here or verified) for later lookups."""
    rows = [row for body in bodies for row in pv.entry_rows(body)]
    _insert_new(
        conn,
        "provenance_entries",
        ("stix_id", "version", "originator", "hash", "marking", "provenance"),
        rows,
    )


def sign_rows(
    conn: sa.Connection,
    key: Ed25519PrivateKey,
    party: str,
    new: list[dict[str, Any]],
    markings: Mapping[int, tuple[str, Marking]],
    at: int,
) -> list[tuple[int, dict[str, Any]]]:
    """Returns (marking row, body) of one signed provenance object per release marking for the new versions this node
    originates (`new`: dicts with obj, version and marking row), and records their entries.
    `markings`: marking row → (its STIX id here, the marking)."""
    by_row: dict[int, list[tuple[str, str, str]]] = {}
    for n in new:
        by_row.setdefault(n["marking"], []).append(
            (n["obj"]["id"], n["version"], pv.content_hash(n["obj"]))
        )
    if not by_row:
        return []
    out = []
    for row, entries in by_row.items():
        stored_id, marking = markings[row]
        partner = mk.marking_id(marking.without_groups())
        out.append((row, pv.build(party, key, partner, stored_id, entries, at)))
    record_entries(conn, [body for _, body in out])
    return out


def make_receipt(
    conn: sa.Connection,
    key: Ed25519PrivateKey,
    writer: Writer,
    entries: list[tuple[str, str, str, str]],
) -> None:
    """Signs and keeps this node's receipt for the item versions an accord peer (`writer`)
    delivered and it stored (`accord.trust.receipts`), to serve to that peer."""
    if not entries:
        return
    at = time.time_ns() // 1000
    body = rc.build(writer.home, writer.party, key, entries, at)
    conn.execute(
        sa.insert(receipt_objects).values(
            id=body["id"], sender=writer.party, added=at, body=orjson.dumps(body).decode()
        )
    )


def record_receipt(conn: sa.Connection, body: dict[str, Any], verified: bool, added: int) -> int:
    """Keeps one row per item version of a receipt (a version already receipted by the same
    receiver keeps its first receipt); returns how many versions it lists."""
    receiver, sender = str(body["receiver"]), str(body["sender"])
    at, rid = int(body["at"]), str(body["id"])
    rows = [
        (receiver, sender, str(e[0]), str(e[1]), str(e[2]), str(e[3]), at, rid, verified, added)
        for e in body["entries"]
    ]
    _insert_new(
        conn,
        "receipts",
        ("receiver", "sender", "stix_id", "version", "hash", "level", "at", "receipt",
         "verified", "added"),
        rows,
    )  # fmt: skip
    return len(rows)
