"""The originator's rights after release (issue #5 §6; GSOMIA Art. 6, 13, 17).

Releases are never recalled (R8). What the originator can do is send every holder a
**reclassification** (a new level: holders re-mark) or a **destruction request** (holders destroy
their copies and record it); and any holder can file a **loss or compromise report**, which reaches
the originator's node at once. Each is recorded on both sides and honoured from then on.

Notices travel over TAXII as STIX 2.1 custom objects (`x-accord-notice`, STIX 2.1 §11.1) POSTed to
the other node's inbox; the receiving node checks who may send which notice before acting:
reclassification and destruction only from the item's originator, compromise reports only about an
item that node originated.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from accord.audit import log as audit
from accord.errors import InputError, NotFound
from accord.exchange import markings as mk
from accord.exchange.collections import change_versions
from accord.exchange.ingest import id_hash
from accord.exchange.marking_rows import ensure_marking, marking_index
from accord.federation.peers import Peer, list_peers
from accord.federation.sync import PeerClient
from accord.policy.marking import Marking
from accord.principals import Principal
from accord.store import Store
from accord.store.exchange_schema import collections, objects
from accord.taxii.media import TAXII
from accord.taxii.node import Node

NOTICE_TYPE = "x-accord-notice"
KINDS = ("reclassification", "destruction", "compromise")


def _stamp() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def make_notice(kind: str, item: str, sender: str, **extra: Any) -> dict[str, Any]:
    """Returns a notice object: `kind` (reclassification | destruction | compromise), the item, the
    sending party and, for a reclassification, `new_level`; for a compromise, `description`."""
    if kind not in KINDS:
        raise InputError(f"{kind!r} is not a notice kind ({', '.join(KINDS)})")
    now = _stamp()
    return {
        "type": NOTICE_TYPE,
        "spec_version": "2.1",
        "id": f"{NOTICE_TYPE}--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "notice_kind": kind,
        "item_ref": item,
        "sender": sender,
        **{k: v for k, v in extra.items() if v is not None},
    }


@dataclass(frozen=True)
class Held:
    """The live versions of one instance of an item held here, the marking of the newest, and the
    item's owner (the party recorded when the node first stored it)."""

    seqs: tuple[int, ...]
    marking: Marking
    owner: str
    row: int  # the newest version's marking row


def held(store: Store, item: str, instance: str = "") -> Held:
    """Returns the live versions of `item`'s instance held here (the owner's by default, or the
    named principal's own: accord.exchange.authority); NotFound when none."""
    index = marking_index(store)
    with store.read() as conn:
        rows = conn.execute(
            sa.select(objects.c.seq, objects.c.marking, objects.c.owner)
            .where(
                # Every collection, each through its (coll, idh) index.
                objects.c.coll.in_(sa.select(collections.c.key)),
                objects.c.idh == id_hash(item),
                objects.c.stix_id == item,
                objects.c.instance == instance,
                objects.c.deleted.is_(False),
            )
            # The newest version's marking is the item's (rows[-1] below).
            .order_by(objects.c.seq)
        ).all()
    if not rows:
        raise NotFound(f"this node holds no {item!r}")
    newest = int(rows[-1][1])
    return Held(tuple(int(r[0]) for r in rows), index.by_row[newest], str(rows[-1][2]), newest)


def _remark(
    node: Node, item: str, level: str, actor: str, notice_id: str, instance: str = ""
) -> dict[str, Any]:
    h = held(node.store, item, instance)
    old = h.marking
    new = Marking.of(
        old.originator,
        level,
        old.topics,
        old.purpose,
        old.rel_to,
        old.noforn,
        old.orcon,
        groups=old.groups,
    )
    _, world = node.world()
    world.check_marking(new)
    ref = ensure_marking(node.store, new)
    row = marking_index(node.store).rows[ref]
    with node.store.begin() as conn:
        change_versions(conn, h.seqs, marking=row)
        body = {"item": item, "from": old.level, "to": level, "marking": ref, "notice": notice_id}
        audit.append(conn, "reclassification", actor, item, body)
    return body


def _destroy(
    node: Node, item: str, actor: str, notice_id: str, instance: str = ""
) -> dict[str, Any]:
    h = held(node.store, item, instance)
    with node.store.begin() as conn:
        change_versions(conn, h.seqs, deleted=True)
        body = {
            "item": item,
            "versions": len(h.seqs),
            "notice": notice_id,
            "method": "deleted from the store",
        }
        audit.append(conn, "destruction", actor, item, body)
    return body


def _senders_instance(node: Node, who: Principal, item: str) -> tuple[Held, str]:
    """Returns the instance of `item` a notice from `who` acts on: the owner's, when `who` is the
    partner the node recorded as its originator; else `who`'s own instance. An item `who` may
    read but does not own is refused by name; anything else — a hidden item or none at all — is
    the same NotFound."""
    try:
        h = held(node.store, item)
        if h.owner == who.party:
            return h, ""
        if h.row in node.view(who).rows and not _has_own(node, who, item):
            raise InputError(f"only the originator ({h.owner}) may send a notice for {item}")
    except NotFound:
        pass
    try:
        return held(node.store, item, who.name), who.name
    except NotFound:
        raise NotFound(f"this node holds no item {item[:160]!r} of {who.party}") from None


def _has_own(node: Node, who: Principal, item: str) -> bool:
    try:
        held(node.store, item, who.name)
    except NotFound:
        return False
    return True


def receive(node: Node, who: Principal, notice: dict[str, Any]) -> str:
    """Acts on a notice received from the partner `who`; returns what was done (or raises
    InputError naming why the notice is refused). Reclassification and destruction act only on
    items whose recorded originator is the sender (PRODUCT.md §7); a compromise report is taken
    only about an item this node released to the sender. A refusal reads the same whether the
    item is absent or hidden from the sender."""
    kind, item = notice.get("notice_kind"), notice.get("item_ref")
    if kind not in KINDS or not isinstance(item, str):
        raise InputError("a notice needs notice_kind and item_ref")
    sender_party, actor = who.party, who.name
    if notice.get("sender") != sender_party:
        raise InputError(
            f"the notice says it comes from {notice.get('sender')!r}, not {sender_party}"
        )
    if kind == "compromise":
        if sender_party not in holders(node.store, item):
            raise InputError(f"{node.party} released no item {item[:160]!r} to {sender_party}")
        body = {
            "item": item,
            "reporter": sender_party,
            "description": str(notice.get("description", ""))[:2000],
            "notice": str(notice.get("id", ""))[:160],
        }
        audit.record(node.store, "compromise", actor, item, body)
        return f"compromise of {item} reported by {sender_party} recorded"
    h, instance = _senders_instance(node, who, item)
    notice_id = str(notice.get("id", ""))[:160]
    if kind == "reclassification":
        level = notice.get("new_level")
        if not isinstance(level, str):
            raise InputError("a reclassification needs new_level")
        _remark(node, item, level, actor, notice_id, instance)
        return f"{item} re-marked {h.marking.level} → {level}"
    _destroy(node, item, actor, notice_id, instance)
    return f"{item} destroyed ({len(h.seqs)} version(s))"


def _send(node: Node, peer: Peer, notice: dict[str, Any]) -> str:
    with PeerClient(peer, retries=3) as client:
        r = client.request(
            "POST",
            client.collection_path("inbox") + "objects/",
            content=orjson.dumps({"objects": [notice]}),
            headers={"Content-Type": TAXII},
        )
    if r.status_code != 202:
        return f"{peer.name}: HTTP {r.status_code}"
    status = r.json()
    if status.get("failure_count"):
        return f"{peer.name}: refused: {status['failures'][0].get('message')}"
    return f"{peer.name}: delivered"


def holders(store: Store, item: str) -> list[str]:
    """Returns every party that received any version of `item` from this node (disclosures)."""
    return sorted({str(d["party"]) for d in audit.disclosures(store, item)})


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
        done = _remark(node, item, new_level, "originator", notice["id"])
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


def notices(store: Store) -> list[dict[str, Any]]:
    """Returns every reclassification, destruction and compromise record, oldest first."""
    return [
        {
            "seq": r["seq"],
            "at": r["at"],
            "kind": r["kind"],
            "actor": r["actor"],
            "item": r["subject"],
            **r["body"],
        }
        for r in audit.export(store)
        if r["kind"] in ("reclassification", "destruction", "compromise")
    ]


def marking_label(m: Marking) -> str:
    return f"{m.label()} ({mk.marking_id(m)})"
