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

from accord.audit.log import GENESIS, Verdict, record_hash, verify_after
from accord.errors import InputError, StoreError
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
    return _sign(store, None)


def _sign(store: Store, at: tuple[int, str] | None) -> Checkpoint | None:
    # Signs record `at` (seq, hash), or the head when None; None if already checkpointed.
    key = signing_key(store)
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    with store.begin() as conn:
        if at is None:
            head = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            ).first()
            if head is None:
                return None
            at = (int(head[0]), str(head[1]))
        seq, digest = at
        if conn.execute(
            sa.select(audit_checkpoints.c.seq).where(audit_checkpoints.c.seq == seq)
        ).first():
            return None
        cp = Checkpoint(
            seq, time.time_ns() // 1000, digest, pub, key.sign(_message(seq, digest)).hex()
        )
        conn.execute(sa.insert(audit_checkpoints).values(**cp.to_json()))
    return cp


def sign_record(store: Store, seq: int | None = None) -> Checkpoint | None:
    """Returns a checkpoint of record `seq` (the head when None) signed now and kept nowhere:
    what a partner asks for to hold this node to its chain (`GET …/x-accord/checkpoint/`).
    None when the log holds no such record. One read and one signature: Ed25519 signatures are
    deterministic, so asking again for the same record gets the same signature."""
    key = signing_key(store)
    with store.read() as conn:
        if seq is None:
            row = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            ).first()
        else:
            row = conn.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash).where(audit_log.c.seq == seq)
            ).first()
    if row is None or int(row[0]) == 0:
        return None
    return make(key, int(row[0]), str(row[1]))


def make(key: Ed25519PrivateKey, seq: int, digest: str) -> Checkpoint:
    """Returns record `seq` (whose hash is `digest`) signed now with `key`."""
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    return Checkpoint(
        seq, time.time_ns() // 1000, digest, pub, key.sign(_message(seq, digest)).hex()
    )


def parse(data: object) -> Checkpoint:
    """Returns the checkpoint in `data` (as `Checkpoint.to_json` writes it), or raises InputError
    naming what is wrong. The signature is not checked here (`check_signature`)."""
    if not isinstance(data, dict):
        raise InputError("not a signed checkpoint (a JSON object with seq, hash, signature…)")
    try:
        cp = Checkpoint(
            seq=int(data["seq"]),
            at=int(data.get("at", 0)),
            hash=str(data["hash"]),
            public_key=str(data["public_key"]),
            signature=str(data["signature"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a signed checkpoint: {exc.__class__.__name__} {exc}") from None
    if cp.seq < 1 or len(cp.hash) != 64 or len(cp.public_key) != 64 or len(cp.signature) != 128:
        raise InputError("not a signed checkpoint: seq, hash, public_key or signature malformed")
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


@dataclass(frozen=True)
class Recent:
    """What `verify_recent` found: `verdict` over the records after record `since` (0: from the
    first), the signed checkpoint it started from (`since` is its seq), and `signed`, the seq of
    a checkpoint it signed at the verified head (None if it signed none)."""

    verdict: Verdict
    since: int
    signed: int | None = None


def latest(store: Store) -> Checkpoint | None:
    """Returns the newest checkpoint (the highest seq), or None."""
    with store.read() as conn:
        r = conn.execute(
            sa.select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1)
        ).first()
    return None if r is None else Checkpoint(**{str(k): getattr(r, k) for k in r._fields})


def _anchor_problem(store: Store, cp: Checkpoint) -> str | None:
    # The checkpoint's signature verifies, and the stored record it names still has the signed
    # hash, which its own content and link still produce.
    if not check_signature(cp):
        return f"checkpoint {cp.seq}: the signature does not verify"
    with store.read() as conn:
        r = conn.execute(sa.select(audit_log).where(audit_log.c.seq == cp.seq)).first()
    if r is None or r.hash != cp.hash:
        return f"checkpoint {cp.seq}: the chain no longer passes through the signed hash"
    m = r._mapping
    again = record_hash(
        m["prev"], cp.seq, int(m["at"]), m["kind"], m["actor"], m["subject"], m["body"]
    )
    if again != cp.hash:
        return f"record {cp.seq} was altered (its content no longer matches its hash)"
    return None


def verify_recent(store: Store, sign_every: int = 1000) -> Recent:
    """Verifies the chain from the newest signed checkpoint to the head, instead of from the
    first record: the cost of a verification is the records appended since the last checkpoint,
    not the whole log (docs/security.md, "Bounded cost of hostile input"). When it checked at
    least `sign_every` records and found the chain intact, it signs a checkpoint at the head it
    verified, so the next verification starts there. The records before the checkpoint are held
    by its signature (partners keep checkpoints); `accord audit verify` still recomputes the
    whole chain."""
    cp = latest(store)
    since, start = (0, GENESIS) if cp is None else (cp.seq, cp.hash)
    if cp is not None:
        problem = _anchor_problem(store, cp)
        if problem is not None:
            return Recent(Verdict(False, 0, cp.hash, cp.seq, problem), since)
    verdict = verify_after(store, since, start)
    signed = None
    if verdict.ok and verdict.records >= sign_every:
        head = since + verdict.records
        # Another process may sign the same head at the same moment: one of them stands.
        with contextlib.suppress(StoreError):
            made = _sign(store, (head, verdict.head))
            signed = made.seq if made else None
    return Recent(verdict, since, signed)


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
