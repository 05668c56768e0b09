"""Peers: the partner nodes this node pushes to and pulls from."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import orjson
import sqlalchemy as sa

from accord.audit import log as audit
from accord.errors import AccordError, InputError, NotFound
from accord.exchange.foreign import MarkingMap
from accord.federation import transport
from accord.federation.discovery import ACCORD_PULL, ACCORD_PUSH, Resolved
from accord.principals.authority import host_actor
from accord.settings import Secret
from accord.store import Store
from accord.store.federation_schema import peer_checkpoints, peer_received, peers, sync_cursors
from accord.store.schema import meta


@dataclass(frozen=True)
class Peer:
    """A partner node: `party`, base `url`, its `api_root`, the credentials this node presents
    (`secret` is masked in repr), and whether to `push` and/or `pull`."""

    name: str
    party: str
    url: str
    api_root: str
    user: str
    secret: Secret
    push: bool = True
    pull: bool = True
    #: "accord", "taxii" (any other TAXII 2.1 server) or None: not resolved (accord assumed).
    kind: str | None = None
    #: The collections read (ids or aliases) and the one written (accord.federation.discovery).
    pull_from: tuple[str, ...] = ACCORD_PULL
    push_to: str | None = ACCORD_PUSH
    #: For a peer that is not an accord node: its markings → release markings
    #: (accord.exchange.foreign), over the settings file's `foreign_markings` table.
    markings: MarkingMap = field(default_factory=MarkingMap)
    #: Its content is STIX 2.0, upgraded to 2.1 on the way in (accord.exchange.stix20).
    stix20: bool = False
    #: Mutual TLS (accord.federation.transport): the paths of the client certificate and key
    #: this node presents, and of the CA the peer's server certificate must chain to.
    client_cert: str | None = None
    client_key: str | None = None
    ca: str | None = None

    def tls(self) -> ssl.SSLContext | bool:
        """Returns httpx's `verify` for this peer (`accord.federation.transport.tls_context`)."""
        return transport.tls_context(self.client_cert, self.client_key, self.ca)

    def auth(self) -> tuple[str, str] | None:
        """Returns httpx's `auth`: None when this node authenticates by its client certificate
        alone (no secret kept), so that no password crosses the wire."""
        return transport.auth(self.user, self.secret.reveal())

    @property
    def accord(self) -> bool:
        """True unless discovery found a TAXII server that is not an accord node."""
        return self.kind != "taxii"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "party": self.party,
            "url": self.url,
            "api_root": self.api_root,
            "user": self.user,
            "push": self.push,
            "pull": self.pull,
            "kind": self.kind,
            "pull_from": list(self.pull_from),
            "push_to": self.push_to,
            "markings": self.markings.to_json(),
            "stix20": self.stix20,
            "client_cert": self.client_cert,
            "client_key": self.client_key,
            "ca": self.ca,
        }


def meta_key(kind: str, name: str) -> str:
    """Returns the `accord_meta` key of a value kept per peer (keys are at most 64 characters;
    a peer's name may be 100)."""
    return f"{kind}:{hashlib.sha256(name.encode()).hexdigest()[:32]}"


def _check_new(conn: sa.Connection, name: str) -> None:
    if conn.execute(sa.select(peers.c.name).where(peers.c.name == name)).first():
        raise InputError(f"a peer named {name!r} exists; remove it first")


def require_secret(secret: str, client_cert: str | None = None) -> None:
    """Raises InputError when this node would present nothing to a peer: no secret and no
    client certificate."""
    if not secret and client_cert is None:
        raise InputError(
            "the peer's secret is empty (pipe it on stdin or set ACCORD_PEER_PASSWORD), and no "
            "--client-cert authenticates this node instead"
        )


def check_new_name(store: Store, name: str) -> None:
    """Raises InputError when a peer is already called `name` (asked before the peer is
    contacted: a taken name needs no network)."""
    with store.read() as conn:
        _check_new(conn, name)


def add_peer(
    store: Store,
    name: str,
    party: str,
    url: str,
    user: str,
    secret: str,
    api_root: str | None = None,
    push: bool = True,
    pull: bool = True,
    actor: str | None = None,
    resolved: Resolved | None = None,
    markings: MarkingMap | None = None,
    stix20: bool = False,
    client_cert: str | None = None,
    client_key: str | None = None,
    ca: str | None = None,
) -> Peer:
    """Records a peer; raises InputError for a bad URL, a duplicate name, no secret and no
    client certificate, or certificate files that cannot be used (`client_cert`, `client_key`,
    `ca`: paths, kept absolute; a client certificate or CA needs an https URL). Trust in a
    foreign node is set up on the node's host: the audit record names `actor`, by default the
    host account (`accord.principals.authority.host_actor`)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InputError(f"--url: {url!r} is not an http(s) URL")
    require_secret(secret, client_cert)
    client_cert, client_key, ca = map(transport.absolute, (client_cert, client_key, ca))
    if (client_cert or ca) and parsed.scheme != "https":
        raise InputError("--client-cert and --ca are for an https URL")
    transport.tls_context(client_cert, client_key, ca)  # usable files, or InputError now
    where = resolved or Resolved(url.rstrip("/"), "", None, ACCORD_PULL, ACCORD_PUSH)
    if pull and resolved is not None and not where.pull_from:
        raise InputError("the peer lets this credential read no collection: add it with --no-pull")
    if push and resolved is not None and where.push_to is None:
        raise InputError(
            "the peer lets this credential write to no collection: add it with --no-push"
        )
    peer = Peer(
        name,
        party,
        where.url,
        where.api_root or api_root or party.lower(),
        user,
        Secret(secret),
        push,
        pull,
        where.kind,
        where.pull_from,
        where.push_to,
        markings or MarkingMap(),
        stix20,
        client_cert,
        client_key,
        ca,
    )
    with store.begin() as conn:
        _check_new(conn, name)
        conn.execute(
            sa.insert(peers).values(
                name=name, party=party, url=peer.url, api_root=peer.api_root, user=user, secret=secret,
                push=push, pull=pull, created_at=time.time_ns() // 1000, kind=peer.kind,
                pull_from=" ".join(peer.pull_from), push_to=peer.push_to,
                markings=orjson.dumps(peer.markings.to_json()).decode() if peer.markings.entries
                else None,
                stix20=stix20, client_cert=client_cert, client_key=client_key, ca=ca,
            )
        )  # fmt: skip
        audit.append(
            conn,
            "credential",
            actor or host_actor(),
            f"peer:{name}",
            {"action": "peer-add", **peer.to_json()},
        )
    return peer


def list_peers(store: Store) -> list[Peer]:
    """Returns every peer by name."""
    with store.read() as conn:
        rows = conn.execute(sa.select(peers).order_by(peers.c.name)).all()
    return [
        Peer(
            r.name,
            r.party,
            r.url,
            r.api_root,
            r.user,
            Secret(r.secret),
            bool(r.push),
            bool(r.pull),
            r.kind,
            tuple(r.pull_from.split()) if r.pull_from is not None else ACCORD_PULL,
            r.push_to if r.kind is not None else ACCORD_PUSH,
            MarkingMap.from_json(orjson.loads(r.markings), f"peer {r.name}: marking")
            if r.markings
            else MarkingMap(),
            bool(r.stix20),
            r.client_cert,
            r.client_key,
            r.ca,
        )
        for r in rows
    ]


def get_peer(store: Store, name: str) -> Peer:
    for p in list_peers(store):
        if p.name == name:
            return p
    raise NotFound(f"no peer named {name!r}")


def remove_peer(store: Store, name: str, actor: str | None = None) -> None:
    """Removes a peer, its cursors and the audit checkpoint held of it (a peer added again is
    trusted afresh: `accord.federation.chains`); audited as `actor`, by default the host
    account; raises NotFound."""
    with store.begin() as conn:
        if conn.execute(sa.delete(peers).where(peers.c.name == name)).rowcount == 0:
            raise NotFound(f"no peer named {name!r}")
        conn.execute(sa.delete(sync_cursors).where(sync_cursors.c.peer == name))
        conn.execute(sa.delete(peer_received).where(peer_received.c.peer == name))
        conn.execute(sa.delete(meta).where(meta.c.key == meta_key("receipts_after", name)))
        conn.execute(sa.delete(peer_checkpoints).where(peer_checkpoints.c.peer == name))
        audit.append(
            conn, "credential", actor or host_actor(), f"peer:{name}", {"action": "peer-remove"}
        )


@dataclass(frozen=True)
class Cursor:
    """Where sync stands with a peer in one direction and collection: `position` is the
    date_added (microseconds since the epoch) of the last object version sent (push: this node's
    clock) or read (pull: the peer's), `updated_at` when it last moved (this node's clock)."""

    peer: str
    direction: str
    collection: str
    position: int
    updated_at: int


def cursors(store: Store, name: str | None = None) -> list[Cursor]:
    """Returns the cursors of peer `name` (of every peer when None) by peer, direction and
    collection; a peer has none before its first sync."""
    c = sync_cursors.c
    query = sa.select(c.peer, c.direction, c.collection, c.position, c.updated_at).order_by(
        c.peer, c.direction, c.collection
    )
    if name is not None:
        query = query.where(c.peer == name)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [Cursor(p, d, col, int(pos), int(u)) for p, d, col, pos, u in rows]


def get_cursor(store: Store, peer: str, direction: str, collection: str) -> int:
    with store.read() as conn:
        v = conn.execute(
            sa.select(sync_cursors.c.position).where(
                sync_cursors.c.peer == peer,
                sync_cursors.c.direction == direction,
                sync_cursors.c.collection == collection,
            )
        ).scalar()
    return int(v) if v is not None else 0


def put_cursor(
    conn: sa.Connection, peer: str, direction: str, collection: str, position: int
) -> None:
    """Moves a cursor forward inside the caller's transaction (never backward)."""
    cond = (
        sync_cursors.c.peer == peer,
        sync_cursors.c.direction == direction,
        sync_cursors.c.collection == collection,
    )
    found = conn.execute(sa.select(sync_cursors.c.position).where(*cond)).scalar()
    now = time.time_ns() // 1000
    if found is None:
        conn.execute(
            sa.insert(sync_cursors).values(
                peer=peer,
                direction=direction,
                collection=collection,
                position=position,
                updated_at=now,
            )
        )
    elif position > int(found):
        conn.execute(sa.update(sync_cursors).where(*cond).values(position=position, updated_at=now))


@dataclass(frozen=True)
class Rewound:
    """One cursor moved back by `rewind`: its direction and collection, and the positions
    (microseconds since the epoch, the date_added of the last object sent or read) before and
    after."""

    direction: str
    collection: str
    before: int
    after: int


def rewind(store: Store, name: str, since: int, actor: str | None = None) -> list[Rewound]:
    """Moves the peer's cursors back to `since` (never forward), so that the next sync sends and
    reads again every object version added after it — each version goes once per peer "unless
    asked again". The request is recorded in the audit trail (naming `actor`, by default the
    host account), with the cursors it moved; raises NotFound for an unknown peer."""
    if since < 0:
        raise InputError("the position to sync again from is before 1970")
    moved: list[Rewound] = []
    with store.begin() as conn:
        if conn.execute(sa.select(peers.c.name).where(peers.c.name == name)).first() is None:
            raise NotFound(f"no peer named {name!r}")
        rows = conn.execute(
            sa.select(sync_cursors.c.direction, sync_cursors.c.collection, sync_cursors.c.position)
            .where(sync_cursors.c.peer == name, sync_cursors.c.position > since)
            .order_by(sync_cursors.c.direction, sync_cursors.c.collection)
        ).all()
        now = time.time_ns() // 1000
        for direction, collection, position in rows:
            conn.execute(
                sa.update(sync_cursors)
                .where(
                    sync_cursors.c.peer == name,
                    sync_cursors.c.direction == direction,
                    sync_cursors.c.collection == collection,
                )
                .values(position=since, updated_at=now)
            )
            moved.append(Rewound(direction, collection, int(position), since))
        # A peer read whole keeps no cursor: what it sent is read again by forgetting it.
        forgot = conn.execute(sa.delete(peer_received).where(peer_received.c.peer == name)).rowcount
        audit.append(
            conn,
            "sync",
            actor or host_actor(),
            f"peer:{name}",
            {
                "action": "again",
                "since": since,
                "cursors": [[m.direction, m.collection, m.before, m.after] for m in moved],
                "forgotten_versions": int(forgot or 0),
            },
        )
    return moved


# ---- one sync of a peer at a time ------------------------------------------------------------

#: How long a sync holds a peer without renewing: a holder that stops (a killed process) frees
#: the peer after this long, or at once for the next sync on the same machine.
LEASE_SECONDS = 120.0
_LEASE_LOCK = 0x616363_73796E  # an advisory lock key of accord's own ("accsyn")


class PeerBusy(AccordError):
    """Another sync of this peer is running (a scheduled round, or `accord sync` by hand)."""


def _lease_key(name: str) -> str:
    # accord_meta keys are short; a peer's name may be 100 characters.
    return "sync_peer:" + hashlib.sha256(name.encode()).hexdigest()[:32]


def _alive_here(holder: str) -> bool:
    """False when `holder` names a process of this machine that has ended (its lease is free)."""
    pid, _, rest = holder.partition("@")
    host = rest.rpartition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's process: only its lease's expiry tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _take(store: Store, name: str, holder: str, seconds: float) -> None:
    key = _lease_key(name)
    now = time.time()
    with store.begin() as conn:
        if store.dialect == "postgresql":
            # Two processes finding no lease row would both insert one: one at a time.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LEASE_LOCK})
        found = conn.execute(
            sa.select(meta.c.value).where(meta.c.key == key).with_for_update()
        ).scalar()
        current = _current(found, now)
        if current is not None and current[0] != holder:
            until = time.strftime("%H:%M:%S", time.gmtime(current[1]))
            raise PeerBusy(
                f"peer {name} is being synchronised by process {current[0].split('/')[0]} "
                f"(its hold lasts until {until} UTC unless renewed); try again when it is done"
            )
        value = orjson.dumps({"peer": name, "holder": holder, "until": now + seconds}).decode()
        if found is None:
            conn.execute(sa.insert(meta).values(key=key, value=value))
        else:
            conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value))


def holder(store: Store, name: str) -> tuple[str, float] | None:
    """Returns the process holding the peer for a sync (`pid@host`) and until when (seconds
    since the epoch, unless renewed), or None when no sync holds it."""
    with store.read() as conn:
        found = conn.execute(sa.select(meta.c.value).where(meta.c.key == _lease_key(name))).scalar()
    current = _current(found, time.time())
    return None if current is None else (current[0].split("/")[0], current[1])


def _current(lease: str | None, now: float) -> tuple[str, float] | None:
    """Returns the holder and expiry of a stored hold that still holds at `now`: not expired,
    and not left by a process of this machine that has ended."""
    if lease is None:
        return None
    found = orjson.loads(lease)
    who, until = str(found.get("holder", "")), float(found.get("until", 0))
    return (who, until) if until > now and _alive_here(who) else None


def _release(store: Store, name: str, holder: str) -> None:
    key = _lease_key(name)
    with store.begin() as conn:
        found = conn.execute(
            sa.select(meta.c.value).where(meta.c.key == key).with_for_update()
        ).scalar()
        if found is not None and orjson.loads(found).get("holder") == holder:
            conn.execute(sa.delete(meta).where(meta.c.key == key))


@contextlib.contextmanager
def syncing(
    store: Store, name: str, seconds: float = LEASE_SECONDS
) -> Iterator[Callable[[], None]]:
    """Holds the peer for one sync while the block runs, so that a sync by hand and a scheduled
    round (or two workers) never send the same pages and record the same releases twice; yields
    a function that renews the hold, to be called as the sync proceeds (it writes at most every
    quarter of `seconds`). Raises PeerBusy, naming the holder, when another sync holds the peer
    — unless its hold expired or its process, on this machine, has ended."""
    holder = f"{os.getpid()}@{socket.gethostname()}/{uuid.uuid4().hex[:8]}"
    _take(store, name, holder, seconds)
    renewed = time.monotonic()

    def renew() -> None:
        nonlocal renewed
        if time.monotonic() - renewed >= seconds / 4:
            _take(store, name, holder, seconds)
            renewed = time.monotonic()

    try:
        yield renew
    finally:
        _release(store, name, holder)


# ---- what was read from a peer that is not an accord node ----------------------------------


def received(store: Store, name: str, collection: str) -> set[tuple[str, str]]:
    """Returns the (id, version) pairs already read and stored from the peer's collection."""
    c = peer_received.c
    with store.read() as conn:
        rows = conn.execute(
            sa.select(c.stix_id, c.version).where(c.peer == name, c.collection == collection)
        ).all()
    return {(str(i), str(v)) for i, v in rows}


def put_received(
    conn: sa.Connection, name: str, collection: str, pairs: set[tuple[str, str]]
) -> None:
    """Records (id, version) pairs as read and stored, inside the caller's transaction (the
    one that stores them)."""
    if pairs:
        conn.execute(
            sa.insert(peer_received),
            [
                {"peer": name, "collection": collection, "stix_id": i, "version": v}
                for i, v in sorted(pairs)
            ],
        )
