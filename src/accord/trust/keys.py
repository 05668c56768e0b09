"""Node identity: this node's signing key, and the keys of other parties it has pinned.

A node signs with one Ed25519 key: the key that already signs its audit checkpoints
(`accord.audit.checkpoints`), reused so that a partner pins one key per nation for everything
the node vouches for — its checkpoints, the items it originates (`accord.trust.provenance`) and
its receipts. `accord key show` prints it as `public_key` (64 hexadecimal characters, the raw
key) and `fingerprint` (`sha256:` and the SHA-256 of the raw key); governments exchange that
text out of band, as they exchange certificates, and each pins the other's
(`accord peer add --key`, `accord credential add --kind partner --key`).

`rotate` makes a new key, records the old one as retired (its signatures stay verifiable: a
retired key verifies what was signed before it retired) and writes an announcement of the new
key signed by the old one, which sync carries to every peer; a peer that pinned the old key
verifies the announcement and pins the new one (`accept_rotation`).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.audit import log as audit
from accord.audit.checkpoints import signing_key
from accord.errors import InputError, Unprocessable
from accord.store import Store
from accord.store import meta as meta_store
from accord.store.schema import meta
from accord.store.trust_schema import party_keys

ROTATION_TYPE = "x-accord-key-rotation"


def fingerprint(public_key: str) -> str:
    """Returns a public key's fingerprint: `sha256:` and the hex SHA-256 of the raw key."""
    return "sha256:" + hashlib.sha256(bytes.fromhex(public_key)).hexdigest()


def parse_key(text: str, where: str = "--key") -> str:
    """Returns the public key `accord key show` printed (64 hex characters, optionally prefixed
    `ed25519:`) in lower case; InputError names what is wrong."""
    value = text.strip().lower().removeprefix("ed25519:")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InputError(
            f"{where}: expected the public_key `accord key show` prints (64 hexadecimal characters)"
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InputError(f"{where}: not an Ed25519 public key") from None
    return value


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


_cache: dict[str, tuple[str, Ed25519PrivateKey]] = {}


def node_key(store: Store) -> Ed25519PrivateKey:
    """Returns this node's signing key (the audit checkpoint key), read once per process and
    again after a rotation."""
    value = meta_store.get_meta(store, "audit_key")
    cached = _cache.get(store.url)
    if cached is not None and cached[0] == value:
        return cached[1]
    key = signing_key(store)
    _cache[store.url] = (meta_store.get_meta(store, "audit_key") or "", key)
    return key


@dataclass(frozen=True)
class PartyKey:
    """A key of a party: pinned by an operator, announced by a rotation, or this node's own;
    `retired_at` (microseconds) when a newer key replaced it."""

    party: str
    public_key: str
    source: str
    added_at: int
    retired_at: int | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def valid_at(self, at: int) -> bool:
        """True when the key signed at `at` (microseconds) while it was current."""
        return self.retired_at is None or at < self.retired_at

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key)).verify(
                signature, message
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, object]:
        return {
            "party": self.party,
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
            "source": self.source,
            "added_at": self.added_at,
            "retired_at": self.retired_at,
        }


def _now() -> int:
    return time.time_ns() // 1000


def pin(
    conn: sa.Connection, party: str, public_key: str, actor: str, source: str = "pinned"
) -> PartyKey:
    """Pins `public_key` as a current key of `party` inside the caller's transaction (idempotent
    for a key already pinned), audited under `actor`. A party may have several current keys."""
    found = conn.execute(
        sa.select(party_keys).where(
            party_keys.c.party == party, party_keys.c.public_key == public_key
        )
    ).first()
    if found is not None:
        return PartyKey(party, public_key, found.source, found.added_at, found.retired_at)
    now = _now()
    conn.execute(
        sa.insert(party_keys).values(
            party=party, public_key=public_key, source=source, added_at=now, retired_at=None
        )
    )
    audit.append(
        conn,
        "credential",
        actor,
        party,
        {"action": "key-pin", "party": party, "fingerprint": fingerprint(public_key),
         "source": source},
    )  # fmt: skip
    return PartyKey(party, public_key, source, now)


def keys_of(store: Store, party: str) -> list[PartyKey]:
    """Returns every key pinned for `party`, current and retired, oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(party_keys).where(party_keys.c.party == party).order_by(party_keys.c.added_at)
        ).all()
    return [PartyKey(r.party, r.public_key, r.source, r.added_at, r.retired_at) for r in rows]


def pinned(store: Store) -> dict[str, list[PartyKey]]:
    """Returns every pinned key by party."""
    with store.read() as conn:
        rows = conn.execute(sa.select(party_keys).order_by(party_keys.c.added_at)).all()
    out: dict[str, list[PartyKey]] = {}
    for r in rows:
        out.setdefault(r.party, []).append(
            PartyKey(r.party, r.public_key, r.source, r.added_at, r.retired_at)
        )
    return out


# ---- rotation ------------------------------------------------------------------------------


def _rotation_message(party: str, old: str, new: str, at: int) -> bytes:
    return f"accord-key-rotation:{party}:{old}:{new}:{at}".encode()


def rotate(store: Store, party: str, actor: str) -> dict[str, Any]:
    """Replaces this node's key: the new key signs from now on, the old one is kept as retired
    (this node's own record of its keys, `party_keys` under its own party) so that what it
    signed stays verifiable, and an announcement of the new key signed by the old one is kept
    for sync to carry to every peer. Returns the announcement (an `x-accord-key-rotation`
    object)."""
    old = node_key(store)
    fresh = Ed25519PrivateKey.generate()
    old_hex, new_hex, at = public_hex(old), public_hex(fresh), _now()
    signature = old.sign(_rotation_message(party, old_hex, new_hex, at)).hex()
    announcement = {
        "type": ROTATION_TYPE,
        "spec_version": "2.1",
        "id": f"{ROTATION_TYPE}--{_uuid(new_hex)}",
        "created": _stamp(at),
        "modified": _stamp(at),
        "x_party": party,
        "x_old_key": old_hex,
        "x_new_key": new_hex,
        "x_at": at,
        "x_signature": signature,
    }
    with store.begin() as conn:
        own = conn.execute(
            sa.select(party_keys.c.public_key).where(
                party_keys.c.party == party, party_keys.c.public_key == old_hex
            )
        ).first()
        if own is None:
            conn.execute(
                sa.insert(party_keys).values(
                    party=party, public_key=old_hex, source="own", added_at=at, retired_at=at
                )
            )
        else:
            conn.execute(
                sa.update(party_keys)
                .where(party_keys.c.party == party, party_keys.c.public_key == old_hex)
                .values(retired_at=at)
            )
        conn.execute(
            sa.insert(party_keys).values(
                party=party, public_key=new_hex, source="own", added_at=at, retired_at=None
            )
        )
        meta_store.put(conn, "audit_key", fresh.private_bytes_raw().hex())
        announcements = orjson.loads(
            conn.execute(sa.select(meta.c.value).where(meta.c.key == "key_rotations")).scalar()
            or "[]"
        )
        announcements.append(announcement)
        meta_store.put(conn, "key_rotations", orjson.dumps(announcements).decode())
        audit.append(
            conn,
            "credential",
            actor,
            party,
            {"action": "key-rotate", "old": fingerprint(old_hex), "new": fingerprint(new_hex)},
        )
    _cache.pop(store.url, None)
    return announcement


def announcements(store: Store) -> list[dict[str, Any]]:
    """Returns this node's key rotation announcements, oldest first (sync sends them)."""
    value = meta_store.get_meta(store, "key_rotations")
    return list(orjson.loads(value)) if value else []


def accept_rotation(conn: sa.Connection, announcement: dict[str, Any], sender: str) -> str:
    """Acts on a key rotation announced by `sender`'s party inside the caller's transaction:
    verified with a key pinned for that party, the new key is pinned and the old one retired.
    Returns what was done; raises Unprocessable naming why an announcement is refused."""
    party = announcement.get("x_party")
    old, new, at = (announcement.get(k) for k in ("x_old_key", "x_new_key", "x_at"))
    sig = announcement.get("x_signature")
    if party != sender:
        raise Unprocessable(f"a key rotation of {str(party)[:16]} sent by {sender}")
    if not all(isinstance(v, str) for v in (old, new, sig)) or not isinstance(at, int):
        raise Unprocessable("a key rotation needs x_old_key, x_new_key, x_at and x_signature")
    assert isinstance(old, str) and isinstance(new, str) and isinstance(sig, str)
    new = parse_key(new, "x_new_key")
    if (
        conn.execute(sa.select(party_keys.c.party).where(party_keys.c.party == sender)).first()
        is None
    ):
        return f"no key of {sender} is pinned here: nothing to replace"
    rows = conn.execute(
        sa.select(party_keys).where(party_keys.c.party == sender, party_keys.c.public_key == old)
    ).first()
    if rows is None:
        raise Unprocessable(f"a key rotation from a key not pinned for {sender}")
    key = PartyKey(sender, old, rows.source, rows.added_at, rows.retired_at)
    try:
        signature = bytes.fromhex(sig)
    except ValueError:
        signature = b""
    if not key.verifies(_rotation_message(sender, old, new, at), signature):
        raise Unprocessable(f"a key rotation for {sender} whose signature does not verify")
    if rows.retired_at is None:
        conn.execute(
            sa.update(party_keys)
            .where(party_keys.c.party == sender, party_keys.c.public_key == old)
            .values(retired_at=at)
        )
    pin(conn, sender, new, f"peer:{sender}", source="rotation")
    return f"{sender}'s key {fingerprint(old)[:23]}… replaced by {fingerprint(new)[:23]}…"


def _uuid(seed: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(seed.encode()).digest()[:16], version=4))


def _stamp(us: int) -> str:
    t = time.gmtime(us // 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{(us % 1_000_000) // 1000:03d}Z"
