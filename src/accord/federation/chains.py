"""Holding each peer to its audit chain: at every sync, the peer's newest signed checkpoint.

A node serves `GET /{api_root}/x-accord/checkpoint/` (its head, signed now) and `?seq=N` (record N,
signed now). At each sync this node fetches the peer's head checkpoint, verifies the signature
with the peer's key (pinned on the peer, else the key of the first checkpoint it held: trust on
first use) and, when it already holds an older checkpoint of that peer, asks the peer to sign the
held record again. Same record, other hash — or a head below the held record — is a fork: the
peer's chain no longer passes through a record it signed, as after a restore from an older backup
that lost releases. The fork is reported on every sync until an operator removes the peer (and
adds it again), and recorded once in this node's audit trail; the held checkpoint is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

import orjson
import sqlalchemy as sa

from accord.audit import checkpoints
from accord.audit import log as audit
from accord.audit.checkpoints import Checkpoint
from accord.errors import InputError
from accord.store import Store
from accord.store.federation_schema import peer_checkpoints

#: The resource under a peer's API root.
PATH = "x-accord/checkpoint/"


def held(store: Store, peer: str) -> tuple[Checkpoint, str | None] | None:
    """Returns the checkpoint held of `peer` and the fork last reported (None: none)."""
    with store.read() as conn:
        r = conn.execute(sa.select(peer_checkpoints).where(peer_checkpoints.c.peer == peer)).first()
    if r is None:
        return None
    m = r._mapping
    cp = Checkpoint(int(m["seq"]), int(m["at"]), m["hash"], m["public_key"], m["signature"])
    return cp, m["fork"]


def _keep(store: Store, peer: str, cp: Checkpoint) -> None:
    values = {**cp.to_json(), "received_at": time.time_ns() // 1000, "fork": None}
    with store.begin() as conn:
        done = conn.execute(
            sa.update(peer_checkpoints).where(peer_checkpoints.c.peer == peer).values(**values)
        ).rowcount
        if not done:
            conn.execute(sa.insert(peer_checkpoints).values(peer=peer, **values))


def _fork(store: Store, peer: str, text: str, before: Checkpoint, now: Checkpoint) -> None:
    # Recorded once per distinct fork; reported on every sync (by the caller).
    with store.begin() as conn:
        last = conn.execute(
            sa.select(peer_checkpoints.c.fork).where(peer_checkpoints.c.peer == peer)
        ).scalar()
        if last == text:
            return
        conn.execute(
            sa.update(peer_checkpoints).where(peer_checkpoints.c.peer == peer).values(fork=text)
        )
        audit.append(
            conn,
            "sync",
            "node",
            f"peer:{peer}",
            {"peer": peer, "fork": text, "held": before.to_json(), "now": now.to_json()},
        )


def _parse(data: bytes) -> Checkpoint:
    try:
        found: Any = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise InputError("the answer is not JSON") from None
    return checkpoints.parse(found)


Fetch = Callable[[int | None], tuple[int, bytes]]


def check(store: Store, name: str, key: Collection[str] | None, fetch: Fetch) -> str | None:
    """Holds peer `name` to its chain; returns the problem to report, or None. `key` is the
    keys (hex) currently pinned for the peer's nation (`accord.trust.keys`), or None: then the
    key of the first checkpoint held; `fetch(seq)` returns the peer's answer (status, body) for
    its head checkpoint (seq None) or record seq's."""
    before = held(store, name)
    status, body = fetch(None)
    if status != 200 and before is None:
        # Nothing held yet: a node that serves no checkpoints (an older accord), or an answer
        # the rest of the sync reports anyway (a withdrawn credential). Nothing to hold it to.
        return None
    if status == 404:
        return (
            f"peer {name} no longer serves its audit checkpoint "
            f"(it signed record {before[0].seq if before else 0} before)"
        )
    if status != 200:
        return f"peer {name}'s audit checkpoint: HTTP {status}"
    try:
        head = _parse(body)
    except InputError as exc:
        return f"peer {name}'s audit checkpoint: {exc}"
    trusted = set(key) if key else ({before[0].public_key} if before else None)
    if trusted is not None and head.public_key not in trusted:
        return (
            f"peer {name}'s audit checkpoint is signed by key {head.public_key[:16]}…, "
            "not by a key pinned for it"
        )
    if not checkpoints.check_signature(head):
        return f"peer {name}'s audit checkpoint of record {head.seq} does not verify"
    if before is None:
        _keep(store, name, head)
        return None
    old = before[0]
    fork = None
    if head.seq < old.seq:
        fork = f"its chain now ends at {head.seq} below the record {old.seq} it signed"
        now = head
    else:
        now = head
        if head.seq > old.seq:
            status, body = fetch(old.seq)
            if status != 200:
                return f"peer {name}'s checkpoint of record {old.seq}: HTTP {status}"
            try:
                now = _parse(body)
            except InputError as exc:
                return f"peer {name}'s checkpoint of record {old.seq}: {exc}"
            if (
                now.seq != old.seq
                or now.public_key != head.public_key
                or not checkpoints.check_signature(now)
            ):
                return f"peer {name}'s checkpoint of record {old.seq} does not verify"
        if now.hash != old.hash:
            fork = (
                f"it signed record {old.seq} as {old.hash[:16]}… before and as {now.hash[:16]}… now"
            )
    if fork is not None:
        text = f"peer {name}'s audit chain forked: {fork}"
        _fork(store, name, text, old, now)
        return text
    _keep(store, name, head)
    return None
