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
from accord.exchange.set_params import set_param
from accord.policy.marking import Marking
from accord.store.exchange_schema import id_hash
from accord.store.trust_schema import party_keys, receipt_objects
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
    """Returns every pinned key (this node's own included) by party."""
    rows = conn.execute(sa.select(party_keys)).all()
    out: dict[str, list[PartyKey]] = {}
    for r in rows:
        out.setdefault(r.party, []).append(
            PartyKey(r.party, r.public_key, r.source, r.added_at, r.retired_at)
        )
    return out


#: Item versions one provenance note lists at most: ~145 bytes each, so a note stays near
#: 150 kB, far below any envelope limit (a node's max_content_length is 10 MiB by default).
NOTE_ENTRIES = 1000

#: Entries of verified provenance notes by (id, version): one envelope's, or those a node's
#: process verified (`Verifier`'s `vouched`, `accord.node.Node.vouched`), so that a note read on
#: one page or envelope vouches for the items of the following ones without a look-up. The store
#: keeps them all (`provenance_entries`); the process keeps at most `VOUCHED_KEPT`.
Vouched = dict[tuple[str, str], pv.Entry]
VOUCHED_KEPT = 200_000  # ~50 MB


def _entries_sql(dialect: str) -> str:
    """The look-up of the stored entries of a set of id hashes (one parameter, `set_params`);
    the caller keeps the rows of its ids."""
    if dialect == "postgresql":
        where = "idh = ANY(%(ids)s::BIGINT[])"
    else:
        where = "idh IN (SELECT value FROM json_each(?))"
    return (
        "SELECT stix_id, version, originator, hash, marking, provenance "
        f"FROM provenance_entries WHERE {where}"
    )


def stored_entries(conn: sa.Connection, ids: set[str]) -> list[tuple[str, str, str, str, str, str]]:
    """Returns the stored entries (id, version, originator, hash, marking, note id) of `ids`."""
    dialect = conn.dialect.name
    param: Any = set_param({id_hash(i) for i in ids}, dialect)
    found = conn.exec_driver_sql(
        _entries_sql(dialect), {"ids": param} if dialect == "postgresql" else (param,)
    ).fetchall()
    return [tuple(r) for r in found if r[0] in ids]


class Verifier:
    """Checks one envelope's deliveries against their originators' signed provenance.

    `vouched`, when given, holds the entries of notes verified earlier in the same exchange (a
    pull reads notes before the items they vouch for) and receives this envelope's: only the
    items neither this envelope's notes nor an earlier one vouch for are looked up in the
    store."""

    def __init__(
        self,
        conn: sa.Connection,
        checked: list[tuple[int, dict[str, Any], str, str, int]],
        writer: Writer,
        vouched: Vouched | None = None,
    ) -> None:
        self.mode = writer.provenance
        self.home = writer.home
        self.keys = keys_by_party(conn)
        self.refused: dict[str, str] = {}  # provenance id → why its signature fails
        self.entries: Vouched = {} if vouched is None else vouched
        if len(self.entries) > VOUCHED_KEPT:
            self.entries.clear()  # bounded: what is not kept is looked up in the store
        self.fresh: list[dict[str, Any]] = []  # verified provenance objects of this envelope
        self.hashes: dict[tuple[str, str], str] = {}  # content hashes computed, for the receipt
        entries = self.entries
        wanted: list[tuple[str, str]] = []
        for _, obj, ver, _, _ in checked:
            if obj["type"] == pv.PROVENANCE_TYPE and pv.is_provenance(obj):
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
                entries.update(pv.vouched_by(obj))
            else:
                wanted.append((obj["id"], ver))
        ids = {oid for oid, ver in wanted if (oid, ver) not in entries}
        if ids:
            notes: dict[tuple[str, str, str], pv.Signed] = {}
            for sid, ver, originator, h, marking, pid in stored_entries(conn, ids):
                signed = notes.get((originator, marking, pid))
                if signed is None:
                    signed = notes[(originator, marking, pid)] = pv.Signed(originator, marking, pid)
                entries.setdefault((sid, ver), (h, signed))

    def why(self, obj: dict[str, Any], version: str, originator: str) -> str | None:
        """Returns why a delivered object is refused, None when it may be stored."""
        oid = obj["id"]
        kind = obj["type"]
        if kind == pv.PROVENANCE_TYPE and pv.is_provenance(obj):
            return self.refused.get(oid)
        if kind == "marking-definition" or originator == self.home:
            return None  # content-addressed markings; this node's own items it holds itself
        entry = self.entries.get((oid, version))
        pinned = originator in self.keys
        if entry is None or entry[1].originator != originator:
            if pinned or self.mode == REQUIRED:
                return f"unsigned: no provenance signed by {originator} vouches for this version"
            return None  # no key pinned for the originator: stored as unverified provenance
        if not pinned:
            return None if self.mode != REQUIRED else f"no key is pinned for {originator}"
        digest = self.hashes[(oid, version)] = pv.content_hash(obj)
        if digest != entry[0]:
            return f"altered: its content is not what {originator} signed"
        refs = obj.get("object_marking_refs") or ()
        if entry[1].marking not in refs:
            return f"re-marked: it does not carry the marking {originator} signed"
        return None

    def record(self, conn: sa.Connection, outcomes: Mapping[str, bool]) -> None:
        """Keeps the entries of the verified provenance notes this envelope stored (`outcomes`:
        id → stored by this envelope, False when it was held already), and of those held
        already whose entries are not kept yet (stored before their originator's key was
        pinned)."""
        notes = [p for p in self.fresh if p["id"] in outcomes]
        fresh = [p for p in notes if outcomes[p["id"]]]
        held = [p for p in notes if not outcomes[p["id"]]]
        if held:
            kept = _kept_notes(conn, held)
            fresh += [p for p in held if p["id"] not in kept]
        record_entries(conn, fresh)


def _kept_notes(conn: sa.Connection, notes: list[dict[str, Any]]) -> set[str]:
    """Returns the ids of those notes whose entries are kept (their first entry looked up)."""
    firsts = {f[0]: f for note in notes if (f := pv.first_entry(note)) is not None}
    found = stored_entries(conn, set(firsts)) if firsts else []
    return {
        pid for sid, ver, originator, _, _, pid in found if firsts[sid] == (sid, ver, originator)
    }


def _insert(conn: sa.Connection, table: str, columns: tuple[str, ...], rows: list[Any]) -> None:
    """Inserts rows through the driver's executemany (no statement building per row)."""
    if rows:
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(mark for _ in columns)})",
            rows,
        )


def record_entries(conn: sa.Connection, bodies: list[dict[str, Any]]) -> None:
    """Records the entries of provenance notes (signed here or verified) for later lookups."""
    rows = [(id_hash(row[0]), *row) for body in bodies for row in pv.entry_rows(body)]
    _insert(
        conn,
        "provenance_entries",
        ("idh", "stix_id", "version", "originator", "hash", "marking", "provenance"),
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
    """Returns (marking row, body) of the signed provenance notes for the new versions this
    node originates (`new`: dicts with obj, version and marking row) — one per release marking
    and `NOTE_ENTRIES` versions, so that a note always fits in an envelope (~150 kB) — and
    records their entries. `markings`: marking row → (its STIX id here, the marking)."""
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
        for k in range(0, len(entries), NOTE_ENTRIES):
            chunk = entries[k : k + NOTE_ENTRIES]
            out.append((row, pv.build(party, key, partner, stored_id, chunk, at)))
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
    """Keeps one row per item version of a receipt (the first receipt of a version by the
    same receiver is the one `receipts.receipt_of` shows); returns how many versions it lists."""
    receiver, sender = str(body["receiver"]), str(body["sender"])
    at, rid = int(body["at"]), str(body["id"])
    rows = [
        (id_hash(e[0]), receiver, sender, e[0], e[1], e[2], e[3], at, rid, verified, added)
        for e in body["entries"]
    ]
    _insert(
        conn,
        "receipts",
        ("idh", "receiver", "sender", "stix_id", "version", "hash", "level", "at", "receipt",
         "verified", "added"),
        rows,
    )  # fmt: skip
    return len(rows)
