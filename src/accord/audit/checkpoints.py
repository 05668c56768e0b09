"""Signed checkpoints of the audit chain: (seq, hash) signed with the node's Ed25519 key.

A partner that keeps a node's checkpoints can later prove that the node's chain still passes through
them: rewriting history behind a checkpoint would need the node's key to sign a new one, and the
partner still holds the old. The key lives in the store (`accord_meta.audit_key`), never in logs.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.errors import StoreError
from accord.store import Store
from accord.store import meta as meta_store
from accord.store.audit_schema import audit_checkpoints, audit_head, audit_log
from accord.store.schema import meta


def _message(seq: int, digest: str) -> bytes:
    return f"accord-audit-checkpoint:{seq}:{digest}".encode()


def signing_key(store: Store) -> Ed25519PrivateKey:
    """Returns the node's audit signing key, creating it on first use."""
    value = meta_store.get_meta(store, "audit_key")
    if value is None:
        fresh = Ed25519PrivateKey.generate().private_bytes_raw().hex()
        # Insert-if-absent: processes starting together on a fresh store agree on one key.
        with contextlib.suppress(StoreError), store.begin() as conn:
            conn.execute(sa.insert(meta).values(key="audit_key", value=fresh))
        value = meta_store.get_meta(store, "audit_key")
    assert value is not None
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(value))


def public_key_hex(store: Store) -> str:
    """Returns the node's audit public key (hex), the one partners verify checkpoints with."""
    return signing_key(store).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    at: int
    hash: str
    public_key: str
    signature: str

    def to_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "at": self.at,
            "hash": self.hash,
            "public_key": self.public_key,
            "signature": self.signature,
        }


def checkpoint(store: Store) -> Checkpoint | None:
    """Signs the current head of the chain (None when the log is empty or already checkpointed)."""
    key = signing_key(store)
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    with store.begin() as conn:
        head = conn.execute(
            sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).first()
        if head is None:
            return None
        seq, digest = int(head[0]), str(head[1])
        if conn.execute(
            sa.select(audit_checkpoints.c.seq).where(audit_checkpoints.c.seq == seq)
        ).first():
            return None
        cp = Checkpoint(
            seq, time.time_ns() // 1000, digest, pub, key.sign(_message(seq, digest)).hex()
        )
        conn.execute(sa.insert(audit_checkpoints).values(**cp.to_json()))
    return cp


def list_checkpoints(store: Store) -> list[Checkpoint]:
    with store.read() as conn:
        rows = conn.execute(sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq)).all()
    return [Checkpoint(**{str(k): getattr(r, k) for k in r._fields}) for r in rows]


def check_signature(cp: Checkpoint) -> bool:
    """True when the checkpoint's signature is valid for its public key."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp.public_key)).verify(
            bytes.fromhex(cp.signature), _message(cp.seq, cp.hash)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_checkpoints(store: Store) -> list[str]:
    """Returns every problem with the stored checkpoints: a bad signature, or a chain that no
    longer passes through a checkpointed hash."""
    problems = []
    with store.read() as conn:
        for cp in list_checkpoints(store):
            if not check_signature(cp):
                problems.append(f"checkpoint {cp.seq}: the signature does not verify")
                continue
            h = conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == cp.seq)).scalar()
            if h != cp.hash:
                problems.append(
                    f"checkpoint {cp.seq}: the chain no longer passes through the signed hash"
                )
    return problems
