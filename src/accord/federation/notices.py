"""Sending the originator's rights to the nodes that hold an item (GSOMIA Art. 6, 13, 17).

The originator reclassifies an item or orders its destruction here and notifies every holder that
is a peer; a holder reports a loss or compromise to the originator's node at once. The notices
and how a receiving node honours them are `accord.exchange.notices`; this module delivers them,
as a TAXII 2.1 client POSTing to the peer's inbox.
"""

from __future__ import annotations

from typing import Any

import orjson

from accord.audit import log as audit
from accord.errors import InputError
from accord.exchange.notices import held, holders, make_notice, remark
from accord.exchange.stix import MEDIA_TAXII
from accord.federation.peers import Peer, list_peers
from accord.federation.sync import PeerClient
from accord.node import Node


def _send(node: Node, peer: Peer, notice: dict[str, Any]) -> str:
    with PeerClient(peer, retries=3) as client:
        r = client.request(
            "POST",
            client.collection_path("inbox") + "objects/",
            content=orjson.dumps({"objects": [notice]}),
            headers={"Content-Type": MEDIA_TAXII},
        )
    if r.status_code != 202:
        return f"{peer.name}: HTTP {r.status_code}"
    status = r.json()
    if status.get("failure_count"):
        return f"{peer.name}: refused: {status['failures'][0].get('message')}"
    return f"{peer.name}: delivered"


def send_originator_notice(
    node: Node, kind: str, item: str, new_level: str | None = None
) -> dict[str, Any]:
    """Reclassifies or orders the destruction of one of this node's items: applies it here, records
    it, and notifies every holder (every party it was released to) that is a peer."""
    h = held(node.store, item)
    if h.owner != node.party:
        raise InputError(f"{item} is a {h.owner} item: only its originator may send a {kind}")
    notice = make_notice(kind, item, node.party, new_level=new_level)
    if kind == "reclassification":
        if new_level is None:
            raise InputError("--level is required for a reclassification")
        done = remark(node, item, new_level, "originator", notice["id"])
    elif kind == "destruction":
        done = {"item": item, "requested": True}
        audit.record(
            node.store, "destruction", "originator", item, {"item": item, "request": notice["id"]}
        )
    else:
        raise InputError("the originator sends reclassification or destruction notices")
    parties = holders(node.store, item)
    peers = {p.party: p for p in list_peers(node.store)}
    delivered = {
        party: (_send(node, peers[party], notice) if party in peers else "no peer for this party")
        for party in parties
    }
    return {
        "notice": notice["id"],
        "kind": kind,
        "item": item,
        "applied": done,
        "holders": delivered,
    }


def report_compromise(node: Node, item: str, description: str) -> dict[str, Any]:
    """Files a loss or compromise report about a held item: recorded here, sent to the originator's
    node at once (GSOMIA Art. 17: "immediately")."""
    h = held(node.store, item)
    notice = make_notice("compromise", item, node.party, description=description)
    audit.record(
        node.store,
        "compromise",
        "holder",
        item,
        {
            "item": item,
            "description": description,
            "notice": notice["id"],
            "originator": h.marking.originator,
        },
    )
    peer = next((p for p in list_peers(node.store) if p.party == h.marking.originator), None)
    result = _send(node, peer, notice) if peer is not None else "no peer for the originator"
    return {
        "notice": notice["id"],
        "item": item,
        "originator": h.marking.originator,
        "delivery": result,
    }
