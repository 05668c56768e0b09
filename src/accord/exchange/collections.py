"""The node's TAXII collections (TAXII 2.1 §5.1, §5.2) and the counters of what they hold.

A node has two collections per API root, made on first start: `items` (what its users publish)
and `inbox` (what partners deliver). Objects name their collection by its integer `key`, and
every collection row keeps `last_added`, the newest `date_added` in it, which ingest moves under
the row's lock so that `date_added` is strictly increasing within a collection (§3.5). Any other
change to stored versions (a deletion, a reclassification) goes through `change_versions`, which
bumps the counter readers keeping pages compare.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from accord.store import Store
from accord.store.exchange_schema import collections, objects
from accord.store.meta import bump

MEDIA_STIX = "application/stix+json;version=2.1"

#: The counter every change to stored object versions other than an insert bumps (a deletion, a
#: reclassification): readers that keep pages (`accord.exchange.readahead`) compare it.
OBJECTS_VERSION = "objects_version"


@dataclass(frozen=True)
class Collection:
    """A TAXII collection. `kind` is `items` (the node's items: its users publish, partners and
    users read) or `inbox` (partners deliver, the node's users read)."""

    id: str
    api_root: str
    alias: str | None
    title: str
    description: str
    kind: str
    key: int  # what objects name it by (`objects.coll`)


def now_us() -> int:
    return time.time_ns() // 1000


_COLLECTIONS_LOCK = 0x616363_636F6C  # an advisory lock key of accord's own ("acccol")


def ensure_collections(store: Store, api_root: str, party: str) -> list[Collection]:
    """Creates the node's two collections in `api_root` when it has none; returns them all."""
    existing = list_collections(store, api_root)
    if existing:
        return existing
    ns = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
    rows = [
        {
            "id": str(uuid.uuid5(ns, f"accord:{api_root}:{party}:items")),
            "api_root": api_root,
            "alias": "items",
            "title": f"{party} items",
            "description": f"Items {party} holds, each released only as the agreements allow.",
            "kind": "items",
            "last_added": 0,
        },
        {
            "id": str(uuid.uuid5(ns, f"accord:{api_root}:{party}:inbox")),
            "api_root": api_root,
            "alias": "inbox",
            "title": f"{party} inbox",
            "description": f"Partners deliver items released to {party} here.",
            "kind": "inbox",
            "last_added": 0,
        },
    ]
    with store.begin() as conn:
        if store.dialect == "postgresql":
            # Processes starting together (workers, a CLI) would both find no collection and
            # number theirs from the same max(key): one at a time. (SQLite's writes are.)
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _COLLECTIONS_LOCK})
        if (
            conn.execute(
                sa.select(collections.c.id).where(collections.c.api_root == api_root)
            ).first()
            is None
        ):
            top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(collections.c.key), 0)))
            first = int(top.scalar() or 0) + 1
            for n, row in enumerate(rows):
                row["key"] = first + n
            conn.execute(sa.insert(collections), rows)
    return list_collections(store, api_root)


def list_collections(store: Store, api_root: str) -> list[Collection]:
    """Returns the collections of an API root in a stable order (by kind, then id)."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(collections)
            .where(collections.c.api_root == api_root)
            .order_by(collections.c.kind, collections.c.id)
        ).all()
    return [_collection(r) for r in rows]


def _collection(r: sa.Row[Any]) -> Collection:
    m = r._mapping
    return Collection(
        m["id"], m["api_root"], m["alias"], m["title"], m["description"], m["kind"], m["key"]
    )


def count_objects(store: Store, coll: int | None = None) -> int:
    """Returns how many live object versions are stored (in one collection or all)."""
    stmt = sa.select(sa.func.count()).select_from(objects).where(objects.c.deleted.is_(False))
    if coll is not None:
        stmt = stmt.where(objects.c.coll == coll)
    with store.read() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def change_versions(conn: sa.Connection, seqs: Sequence[int], **values: Any) -> None:
    """Sets `values` (deleted, marking) on the stored versions `seqs`, inside the caller's
    transaction, and bumps the counter that tells readers keeping pages (`Node.snapshot`,
    `accord.exchange.readahead`) that stored versions changed. Every change to a stored version
    other than ingest's own (which raises its collection's `last_added`) goes through here."""
    conn.execute(sa.update(objects).where(objects.c.seq.in_(seqs)).values(**values))
    bump(conn, OBJECTS_VERSION)
