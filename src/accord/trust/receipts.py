"""Signed receipts: a holder's own proof of what it stored from a sender.

For each envelope it stores from an accord peer (a partner's push, its own pull), a node makes
one receipt — receiver, sender, time, and for each item version stored its id, version, the
SHA-256 of its canonical form (`accord.trust.provenance.canonical`) and the level it was marked
with — signed with its key. It serves its receipts to the sender over TAXII
(`GET /{api-root}/x-accord/receipts/`, the sender's partner credential), and the sender collects
them during sync, verifies them with the receiver's pinned key and keeps them: "who holds my
item?" is then answered by the holders themselves, not only by the sender's own log
(`accord audit disclosures`, `accord audit receipts --missing`).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.store import Store
from accord.store.audit_schema import audit_log
from accord.store.exchange_schema import id_hash, objects
from accord.store.trust_schema import receipts
from accord.trust.keys import PartyKey, fingerprint, public_hex
from accord.trust.provenance import PROVENANCE_EXTENSION

RECEIPT_TYPE = "x-accord-receipt"


def _signed_part(body: Mapping[str, Any]) -> bytes:
    return orjson.dumps(
        {k: v for k, v in body.items() if k not in ("id", "signature")},
        option=orjson.OPT_SORT_KEYS,
    )


def build(
    receiver: str,
    sender: str,
    key: Ed25519PrivateKey,
    entries: Sequence[tuple[str, str, str, str]],
    at: int,
) -> dict[str, Any]:
    """Returns the receipt `receiver` signs for `entries` ((id, version, content hash, level as
    marked) of the item versions it stored from `sender`) at `at` (µs since the epoch)."""
    body: dict[str, Any] = {
        "type": RECEIPT_TYPE,
        "receiver": receiver,
        "sender": sender,
        "at": at,
        "key": fingerprint(public_hex(key)),
        "entries": [list(e) for e in entries],
    }
    signed = _signed_part(body)
    body["id"] = (
        f"{RECEIPT_TYPE}--{uuid.UUID(bytes=hashlib.sha256(signed).digest()[:16], version=4)}"
    )
    body["signature"] = key.sign(signed).hex()
    return body


def _entries_well_formed(entries: list[Any]) -> bool:
    """True when every entry is a list of four strings: one pass, no generator per entry (a
    receipt lists a thousand)."""
    for e in entries:
        if type(e) is not list or len(e) != 4:
            return False
        a, b, c, d = e
        if type(a) is not str or type(b) is not str or type(c) is not str or type(d) is not str:
            return False
    return True


def well_formed(body: Mapping[str, Any]) -> bool:
    """True when a receipt has the fields a receipt needs, of the right types."""
    entries = body.get("entries")
    return (
        isinstance(body.get("id"), str)
        and isinstance(body.get("at"), int)
        and isinstance(body.get("key"), str)
        and isinstance(body.get("signature"), str)
        and isinstance(entries, list)
        and _entries_well_formed(entries)
    )


def verify(body: Mapping[str, Any], keys: Sequence[PartyKey]) -> str | None:
    """Returns None when the receipt's signature verifies with one of the receiver's pinned
    `keys` current when it signed, else why not."""
    try:
        fp, at, signature = body["key"], body["at"], bytes.fromhex(body["signature"])
        entries = body["entries"]
    except (KeyError, TypeError, ValueError):
        return "a receipt needs key, at, entries and signature"
    if not isinstance(at, int) or not isinstance(entries, list):
        return "a receipt's fields are malformed"
    if not _entries_well_formed(entries):
        return "a receipt's entries are malformed"
    found = [k for k in keys if k.fingerprint == fp]
    if not found:
        return f"no key {str(fp)[:23]}… is pinned for {str(body.get('receiver'))[:16]}"
    if not found[0].valid_at(at):
        return "signed with a key after it was retired"
    if not found[0].verifies(_signed_part(body), signature):
        return "the receipt's signature does not verify with the receiver's pinned key"
    return None


# ---- what the receipts say about this node's releases ----------------------------------------


def receipt_of(store: Store, item_id: str, party: str, version: str) -> dict[str, Any] | None:
    """Returns the receipt `party` signed for `item_id` at `version`, as `{by, at, verified}`
    (`at`: µs since the epoch), or None when none came back."""
    c = receipts.c
    with store.read() as conn:
        found = conn.execute(
            sa.select(c.receiver, c.at, c.verified)
            .where(
                c.idh == id_hash(item_id),
                c.stix_id == item_id,
                c.version == version,
                c.receiver == party,
            )
            .order_by(c.at, c.added)
            .limit(1)
        ).first()
    if found is None:
        return None
    return {"by": str(found[0]), "at": int(found[1]), "verified": bool(found[2])}


def with_receipts(store: Store, item_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Returns disclosures (`accord.audit.log.disclosures`) each with `receipt`: whether the
    party that received the version signed a receipt for it."""
    return [
        {**r, "receipt": receipt_of(store, item_id, str(r["party"]), str(r["version"]))}
        for r in rows
    ]


def missing(store: Store, older_than: int = 0, now: int | None = None) -> list[dict[str, Any]]:
    """Returns the releases of item versions (not marking-definitions nor provenance notes)
    recorded at least `older_than` µs ago for which no receipt came back: party, item, version,
    when (µs) and channel, oldest first — one per party and version."""
    now = time.time_ns() // 1000 if now is None else now
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    with store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.at, audit_log.c.body)
            .where(audit_log.c.kind == "release", audit_log.c.at <= now - older_than)
            .order_by(audit_log.c.seq)
        ).all()
        for at, text in rows:
            body = orjson.loads(text)
            party = str(body.get("party"))
            for oid, version, _ in body.get("objects", []):
                if str(oid).startswith("marking-definition--"):
                    continue
                seen.setdefault(
                    (party, str(oid), str(version)),
                    {"party": party, "item": str(oid), "version": str(version), "at": int(at),
                     "channel": body.get("channel", "taxii-read")},
                )  # fmt: skip
        c = receipts.c
        got = {
            (str(p), str(s), str(v))
            for p, s, v in conn.execute(sa.select(c.receiver, c.stix_id, c.version)).all()
        }
        notes = {k[1] for k in seen if k[1].startswith("note--")}
        provenance = (
            {
                str(sid)
                for (sid,) in conn.execute(
                    sa.select(objects.c.stix_id).where(
                        objects.c.stix_id.in_(sorted(notes)),
                        objects.c.body.contains(PROVENANCE_EXTENSION),
                    )
                ).all()
            }
            if notes
            else set()
        )
    return [v for k, v in seen.items() if k not in got and k[1] not in provenance]
