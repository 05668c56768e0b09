"""The originator's rights after release, as the receiving node honours them (GSOMIA Art. 6, 13,
17; PRODUCT.md §7).

Releases are never recalled (R8). What the originator can do is send every holder a
**reclassification** (a new level: holders re-mark) or a **destruction request** (holders destroy
their copies and record it); and any holder can file a **loss or compromise report**, which reaches
the originator's node at once. Each is recorded on both sides and honoured from then on.

Notices travel as STIX 2.1 custom objects (`x-accord-notice`, STIX 2.1 §11.1) in an envelope
POSTed to the node's inbox. `split` takes them out of the envelope and `receive_all` acts on them
after checking who may send which notice: reclassification and destruction only from the item's
originator, compromise reports only about an item this node released to the sender. Sending
them to peers is `accord.federation.notices`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from accord.audit import log as audit
from accord.errors import InputError, NotFound
from accord.exchange import markings as mk
from accord.exchange.collections import change_versions
from accord.exchange.ingest import Outcome
from accord.exchange.marking_rows import ensure_marking, marking_index
from accord.exchange.visibility import View
from accord.policy.marking import Marking
from accord.policy.world import World
from accord.principals import Principal
from accord.store import Store
from accord.store.exchange_schema import collections, id_hash, objects


class Holding(Protocol):
    """What acting on a notice needs of the node (`accord.node.Node` is one): its store, its
    party, the registry as a decision world and what a principal may read."""

    store: Store
    party: str

    def world(self) -> tuple[int, World]: ...

    def view(self, who: Principal) -> View: ...


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


def remark(
    node: Holding, item: str, level: str, actor: str, notice_id: str, instance: str = ""
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


def destroy(
    node: Holding, item: str, actor: str, notice_id: str, instance: str = ""
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


def _senders_instance(node: Holding, who: Principal, item: str) -> tuple[Held, str]:
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


def _has_own(node: Holding, who: Principal, item: str) -> bool:
    try:
        held(node.store, item, who.name)
    except NotFound:
        return False
    return True


def receive(node: Holding, who: Principal, notice: dict[str, Any]) -> str:
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
        remark(node, item, level, actor, notice_id, instance)
        return f"{item} re-marked {h.marking.level} → {level}"
    destroy(node, item, actor, notice_id, instance)
    return f"{item} destroyed ({len(h.seqs)} version(s))"


def holders(store: Store, item: str) -> list[str]:
    """Returns every party that received any version of `item` from this node (disclosures)."""
    return sorted({str(d["party"]) for d in audit.disclosures(store, item)})


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


_NOTICE_BYTES = NOTICE_TYPE.encode()


def split(raw: bytes, posted: list[Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Returns an envelope's objects without its notices, and its notices (`raw` is the body)."""
    # A notice's type appears in the body as it is, or written with \u escapes: an envelope
    # with neither (nearly all of them) has no notice, and its objects are not scanned. (A body
    # without any backslash is told in microseconds; a search for "\u" takes ~0.6 ms.)
    if _NOTICE_BYTES not in raw and (b"\\" not in raw or b"\\u" not in raw):
        return posted, []
    found = [isinstance(o, dict) and o.get("type") == NOTICE_TYPE for o in posted]
    return (
        [o for o, n in zip(posted, found, strict=True) if not n],
        [o for o, n in zip(posted, found, strict=True) if n],
    )


def receive_all(node: Holding, who: Principal, sent: list[dict[str, Any]]) -> list[Outcome]:
    """Acts on each notice `who` sent; returns one outcome per notice, a refusal naming why (only
    partner nodes send notices; `receive` says the rest)."""
    handled: list[Outcome] = []
    for obj in sent:
        oid, ver = str(obj.get("id", "(no id)"))[:160], str(obj.get("modified", ""))[:40]
        if not who.is_partner:
            handled.append(Outcome(False, oid, ver, "notices come from partner nodes"))
            continue
        try:
            handled.append(Outcome(True, oid, ver, receive(node, who, obj)))
        except (InputError, NotFound) as exc:
            handled.append(Outcome(False, oid, ver, str(exc)))
    return handled
