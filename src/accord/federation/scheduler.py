"""Sync on a schedule inside `accord serve` every `sync_interval` seconds, one process
of the node — whichever holds the lease kept in the store — pushes to and pulls from every peer.
Several workers or several machines serving one store never sync the same peer twice at once."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import sqlalchemy as sa

from accord.federation.peers import list_peers
from accord.federation.sync import sync_peer
from accord.node import Node
from accord.store.schema import meta

log = logging.getLogger("accord.sync")
LEASE = "sync_lease"


def take_lease(node: Node, seconds: float) -> bool:
    """Takes the sync lease for `seconds` when it is free or expired; True when this process holds it."""
    me = f"{os.getpid()}@{id(node)}"
    now = time.time()
    with node.store.begin() as conn:
        row = conn.execute(
            sa.select(meta.c.value).where(meta.c.key == LEASE).with_for_update()
        ).scalar()
        if row is not None:
            holder, _, until = str(row).rpartition(":")
            if holder != me and float(until) > now:
                return False
            conn.execute(
                sa.update(meta).where(meta.c.key == LEASE).values(value=f"{me}:{now + seconds}")
            )
        else:
            conn.execute(sa.insert(meta).values(key=LEASE, value=f"{me}:{now + seconds}"))
    return True


def sync_all(node: Node) -> int:
    """Syncs every peer once; returns how many objects moved."""
    moved = 0
    for peer in list_peers(node.store):
        report = sync_peer(node, peer)
        moved += report.pushed + report.pulled
        if report.errors:
            log.warning("sync with %s failed: %s", peer.name, "; ".join(report.errors))
    return moved


async def run(node: Node, interval: float) -> None:
    """Runs forever (until cancelled): a sync round every `interval` seconds while holding the lease."""
    while True:
        try:
            if await asyncio.to_thread(take_lease, node, interval * 3):
                await asyncio.to_thread(sync_all, node)
        except Exception:  # noqa: BLE001 — a failed round is logged; the next one tries again
            log.exception("scheduled sync round failed")
        await asyncio.sleep(interval)
