"""Both sides hold the same order: export, idempotent import, and reconciliation by file
(a file exchanged between the two nations' ledgers; not yet over federation).

An export is JSON: `{"format": "accord-orders/1", "node": PARTY, "orders": [{"id", "transitions",
"documents"}]}` with each document's bytes in base64. Import appends the transitions a node does
not have yet, re-checking each against its own registry (R10–R12 and the workflow), and never
rewrites one it has: a record that diverged is reported as a conflict, not overwritten.
`reconcile` lists every difference between this node's records and a peer's export.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accord.errors import AccordError, InputError
from accord.logistics import ledger, machine, money
from accord.logistics.model import Document, OrderState, Transition
from accord.registry.model import Registry
from accord.store import Store

FORMAT = "accord-orders/1"


def export(store: Store, node: str | None = None, peer: str | None = None) -> dict[str, Any]:
    """Returns every order (only those `peer` requests or supplies, when given) with its
    transitions and documents, as JSON data another node imports."""
    out: list[dict[str, Any]] = []
    with store.read() as conn:
        for oid in ledger.order_ids(conn, peer):
            ts = ledger.load_transitions(conn, oid)
            docs = ledger.load_documents(conn, oid)
            out.append(
                {
                    "id": oid,
                    "transitions": [t.to_json() for t in ts],
                    "documents": [
                        {
                            "kind": d.kind,
                            "sha256": d.sha256,
                            "filename": d.filename,
                            "content": base64.b64encode(d.content).decode(),
                        }
                        for d in docs
                    ],
                }
            )
    return {"format": FORMAT, "node": node, "peer": peer, "orders": out}


@dataclass
class _Incoming:
    id: str
    transitions: list[Transition]
    documents: dict[tuple[str, str], Document]


def _parse(data: Any) -> list[_Incoming]:
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise InputError(f"not an accord orders export (expected format {FORMAT!r})")
    orders = data.get("orders")
    if not isinstance(orders, list):
        raise InputError("an orders export lists `orders`")
    out = []
    for i, raw in enumerate(orders):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("transitions"), list):
            raise InputError(f"orders[{i}]: an order has an id and its transitions")
        oid = str(raw.get("id"))
        ts = sorted((Transition.from_json(t) for t in raw["transitions"]), key=lambda t: t.seq)
        if [t.seq for t in ts] != list(range(1, len(ts) + 1)):
            raise InputError(f"orders[{i}] ({oid}): transitions must be numbered 1…n")
        if any(t.order_id != oid for t in ts):
            raise InputError(f"orders[{i}] ({oid}): a transition names another order")
        docs: dict[tuple[str, str], Document] = {}
        for d in raw.get("documents", []):
            try:
                content = base64.b64decode(str(d["content"]), validate=True)
                kind, sha = str(d["kind"]), str(d["sha256"])
            except (KeyError, TypeError, ValueError):
                raise InputError(f"orders[{i}] ({oid}): a malformed document") from None
            if hashlib.sha256(content).hexdigest() != sha:
                raise InputError(f"orders[{i}] ({oid}): a {kind} document's bytes do not match")
            docs[(kind, sha)] = Document(kind, sha, str(d.get("filename", "")), content)
        out.append(_Incoming(oid, ts, docs))
    return out


@dataclass
class ImportResult:
    """What an import did: orders added, transitions appended, orders already up to date, and
    conflicts (orders left untouched, with the reason)."""

    added_orders: list[str] = field(default_factory=list)
    appended: int = 0
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "added_orders": self.added_orders,
            "appended_transitions": self.appended,
            "unchanged": len(self.unchanged),
            "conflicts": self.conflicts,
        }


def import_data(store: Store, registry: Registry, data: Any) -> ImportResult:
    """Ingests a peer's export; importing the same file again changes nothing. Each order is
    written in its own transaction, all of its new transitions or none."""
    result = ImportResult()
    for inc in _parse(data):
        try:
            with store.begin() as conn:
                local = ledger.load_transitions(conn, inc.id)
                for mine, theirs in zip(local, inc.transitions, strict=False):
                    if mine.body() != theirs.body():
                        result.conflicts.append(
                            {
                                "order": inc.id,
                                "reason": f"transition {mine.seq} ({mine.kind}) differs: run "
                                "`accord orders reconcile` to see how",
                            }
                        )
                        break
                else:
                    new = inc.transitions[len(local) :]
                    if not new:
                        result.unchanged.append(inc.id)
                        continue
                    state: OrderState | None = machine.replay(local) if local else None
                    for t in new:
                        doc = None
                        if t.kind == "attach":
                            key = (str(t.data.get("kind")), str(t.data.get("sha256")))
                            doc = inc.documents.get(key)
                            if doc is None:
                                raise InputError(f"the {key[0]} document {key[1][:12]}… is missing")
                        after = machine.step(state, t, registry)
                        ledger.write(conn, state, after, t, doc)
                        state = after
                    if not local:
                        result.added_orders.append(inc.id)
                    result.appended += len(new)
        except AccordError as exc:
            result.conflicts.append({"order": inc.id, "reason": f"refused: {exc}"})
    return result


def _diff(out: list[dict[str, Any]], oid: str, what: str, ours: Any, theirs: Any) -> None:
    out.append({"order": oid, "what": what, "ours": ours, "theirs": theirs})


def _flat(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for k, v in value.items():
            flat.update(_flat(f"{prefix}.{k}" if prefix else str(k), v))
        return flat
    if isinstance(value, list):
        flat = {}
        for i, v in enumerate(value):
            flat.update(_flat(f"{prefix}[{i}]", v))
        if not value:
            flat[prefix] = []
        return flat
    return {prefix: value}


def _compare(out: list[dict[str, Any]], oid: str, where: str, ours: Any, theirs: Any) -> None:
    a, b = _flat("", ours), _flat("", theirs)
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            _diff(out, oid, f"{where}.{k}" if k else where, a.get(k), b.get(k))


def _amounts(s: OrderState) -> dict[str, Any]:
    def fmt(values: Mapping[str, int]) -> dict[str, str]:
        return {c: money.format_amount(v, c) for c, v in sorted(values.items())}

    return {
        "status": s.status,
        "due": fmt(s.due),
        "settled": fmt(s.settled),
        "open": fmt(s.open),
    }


def reconcile(store: Store, peer: str, data: Any, node: str | None = None) -> list[dict[str, Any]]:
    """Returns every difference between this node's orders with `peer` and the peer's export:
    orders missing on either side, differing order fields or lines, differing or missing
    transitions, differing amounts. Each is `{order, what, ours, theirs}`; empty when identical."""
    theirs_all = _parse(data)
    involved = {peer} | ({node} if node else set())
    theirs: dict[str, list[Transition]] = {}
    for inc in theirs_all:
        create = inc.transitions[0] if inc.transitions else None
        order = create.data.get("order", {}) if create is not None else {}
        parties = {order.get("requester"), order.get("supplier")}
        if involved <= parties:
            theirs[inc.id] = inc.transitions
    ours: dict[str, list[Transition]] = {}
    with store.read() as conn:
        for oid in ledger.order_ids(conn, peer):
            ours[oid] = ledger.load_transitions(conn, oid)
    out: list[dict[str, Any]] = []
    for oid in sorted(set(ours) | set(theirs)):
        if oid not in theirs:
            _diff(out, oid, "missing at peer", ours[oid][-1].kind, None)
            continue
        if oid not in ours:
            _diff(out, oid, "missing here", None, theirs[oid][-1].kind)
            continue
        _compare_histories(out, oid, ours[oid], theirs[oid])
    return out


def _compare_histories(
    out: list[dict[str, Any]], oid: str, ours: Sequence[Transition], theirs: Sequence[Transition]
) -> None:
    for i in range(max(len(ours), len(theirs))):
        a = ours[i] if i < len(ours) else None
        b = theirs[i] if i < len(theirs) else None
        if a is None and b is not None:
            _diff(out, oid, f"transition {b.seq} missing here", None, b.kind)
        elif b is None and a is not None:
            _diff(out, oid, f"transition {a.seq} missing at peer", a.kind, None)
        elif a is not None and b is not None and a.body() != b.body():
            where = "order" if a.kind == b.kind == "create" else f"transition {a.seq}"
            ja, jb = a.to_json(), b.to_json()
            if where == "order":
                ja, jb = ja["data"]["order"], jb["data"]["order"]
            _compare(out, oid, where, ja, jb)
    try:
        sa, sb = machine.replay(ours), machine.replay(theirs)
    except AccordError as exc:
        _diff(out, oid, "history", None, f"the peer's history does not replay: {exc}")
        return
    _compare(out, oid, "amounts", _amounts(sa), _amounts(sb))
