"""Store access for orders: append a transition and keep the derived rows in step with it.

The truth is `order_transitions`. In the same write transaction as each transition, `write`
refreshes the rows derived from the order's new state — `orders` (status, method, deadline),
`order_lines` (current lines, quantities received), `order_amounts` (ordered, delivered, due,
settled, open per currency) — and journals the change in `order_postings`. Reports are SQL
aggregates over those indexed rows; `accord.logistics.reports.verify` proves they equal a replay
of the transitions. Nothing here chooses an exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from accord.logistics import machine, money
from accord.logistics.model import Document, OrderState, Transition
from accord.store.schema import (
    order_amounts,
    order_documents,
    order_lines,
    order_postings,
    order_transitions,
    orders,
)


def load_transitions(conn: Connection, order_id: str) -> list[Transition]:
    """Returns the order's transitions in `seq` order (empty when the order is unknown)."""
    rows = conn.execute(
        sa.select(order_transitions.c.body)
        .where(order_transitions.c.order_id == order_id)
        .order_by(order_transitions.c.seq)
    ).scalars()
    return [Transition.from_json(orjson.loads(body)) for body in rows]


def load_state(conn: Connection, order_id: str) -> OrderState | None:
    """Returns the order as its stored transitions leave it, or None when it is unknown."""
    ts = load_transitions(conn, order_id)
    return machine.replay(ts) if ts else None


def order_ids(conn: Connection, party: str | None = None) -> list[str]:
    """Returns every order id (only those `party` requests or supplies, when given), sorted."""
    q = sa.select(orders.c.id).order_by(orders.c.id)
    if party is not None:
        q = q.where(sa.or_(orders.c.requester == party, orders.c.supplier == party))
    return list(conn.execute(q).scalars())


def load_documents(conn: Connection, order_id: str) -> list[Document]:
    """Returns the order's stored documents (bytes included), in the order they were attached."""
    rows = conn.execute(
        sa.select(
            order_documents.c.kind,
            order_documents.c.sha256,
            order_documents.c.filename,
            order_documents.c.content,
        )
        .where(order_documents.c.order_id == order_id)
        .order_by(order_documents.c.seq)
    ).all()
    return [Document(r.kind, r.sha256, r.filename, bytes(r.content)) for r in rows]


def _order_row(s: OrderState) -> dict[str, Any]:
    return {
        "status": s.status,
        "method": s.method,
        "deadline": s.deadline,
        "last_seq": s.seq,
        "last_date": s.last_date,
    }


def _line_rows(s: OrderState) -> list[dict[str, Any]]:
    return [
        {
            "order_id": s.id,
            "no": ln.no,
            "category": ln.category,
            "description": ln.description,
            "quantity": money.quantity_text(ln.quantity),
            "unit": ln.unit,
            "unit_price": ln.unit_price,
            "currency": ln.currency,
            "amount": ln.amount,
            "received": (money.quantity_text(s.received[ln.no]) if ln.no in s.received else None),
        }
        for ln in s.lines
    ]


def amount_rows(s: OrderState) -> list[dict[str, Any]]:
    """Returns the `order_amounts` rows the order's state implies, one per currency."""
    o = s.order
    ordered, due, opened = s.ordered, s.due, s.open
    return [
        {
            "order_id": s.id,
            "currency": cur,
            "requester": o.requester,
            "supplier": o.supplier,
            "agreement": o.agreement,
            "fund": o.fund,
            "method": s.method,
            "order_date": o.order_date,
            "status": s.status,
            "deadline": s.deadline,
            "ordered_minor": ordered.get(cur, 0),
            "delivered_minor": s.delivered.get(cur, 0),
            "due_minor": due.get(cur, 0),
            "settled_minor": s.settled.get(cur, 0),
            "open_minor": opened.get(cur, 0),
        }
        for cur in s.currencies()
    ]


def posting_rows(
    before: OrderState | None, after: OrderState, t: Transition
) -> list[dict[str, Any]]:
    """Returns the journal rows for `t`: the change in due and settled per currency."""
    b_due = before.due if before is not None else {}
    b_set = before.settled if before is not None else {}
    out = []
    for cur in after.currencies():
        dd = after.due.get(cur, 0) - b_due.get(cur, 0)
        ds = after.settled.get(cur, 0) - b_set.get(cur, 0)
        if dd or ds:
            out.append(
                {
                    "order_id": after.id,
                    "seq": t.seq,
                    "currency": cur,
                    "date": t.date,
                    "requester": after.order.requester,
                    "supplier": after.order.supplier,
                    "due_delta": dd,
                    "settled_delta": ds,
                }
            )
    return out


def write(
    conn: Connection,
    before: OrderState | None,
    after: OrderState,
    t: Transition,
    document: Document | None = None,
) -> None:
    """Appends `t` and refreshes the derived rows; call inside the caller's write transaction."""
    o = after.order
    if before is None:
        conn.execute(
            sa.insert(orders).values(
                id=o.id,
                requester=o.requester,
                supplier=o.supplier,
                agreement=o.agreement,
                arrangement=o.arrangement,
                purpose=o.purpose,
                exercise=o.exercise,
                facility=o.facility,
                fund=o.fund,
                order_date=o.order_date,
                **_order_row(after),
            )
        )
    else:
        conn.execute(sa.update(orders).where(orders.c.id == o.id).values(**_order_row(after)))
    conn.execute(
        sa.insert(order_transitions).values(
            order_id=t.order_id, seq=t.seq, kind=t.kind, date=t.date, actor=t.by, body=t.body()
        )
    )
    if before is None or before.lines != after.lines or before.received != after.received:
        conn.execute(sa.delete(order_lines).where(order_lines.c.order_id == o.id))
        conn.execute(sa.insert(order_lines), _line_rows(after))
    rows = amount_rows(after)
    if before is None or amount_rows(before) != rows:
        conn.execute(sa.delete(order_amounts).where(order_amounts.c.order_id == o.id))
        if rows:
            conn.execute(sa.insert(order_amounts), rows)
    postings = posting_rows(before, after, t)
    if postings:
        conn.execute(sa.insert(order_postings), postings)
    if document is not None:
        conn.execute(
            sa.insert(order_documents).values(
                order_id=o.id,
                kind=document.kind,
                sha256=document.sha256,
                filename=document.filename,
                size=len(document.content),
                seq=t.seq,
                content=document.content,
            )
        )


def list_rows(
    conn: Connection, status: Sequence[str] = (), party: str | None = None
) -> list[dict[str, Any]]:
    """Returns one summary row per order (newest order date first), filtered by status/party."""
    q = sa.select(
        orders.c.id,
        orders.c.requester,
        orders.c.supplier,
        orders.c.agreement,
        orders.c.purpose,
        orders.c.order_date,
        orders.c.method,
        orders.c.status,
        orders.c.deadline,
        orders.c.fund,
    ).order_by(orders.c.order_date.desc(), orders.c.id)
    if status:
        q = q.where(orders.c.status.in_(list(status)))
    if party is not None:
        q = q.where(sa.or_(orders.c.requester == party, orders.c.supplier == party))
    rows = [{str(k): v for k, v in r._mapping.items()} for r in conn.execute(q)]
    if not rows:
        return rows
    ids = [r["id"] for r in rows]
    opened: dict[str, dict[str, int]] = {}
    for chunk in _chunks(ids, 500):
        for oid, cur, amount in conn.execute(
            sa.select(
                order_amounts.c.order_id, order_amounts.c.currency, order_amounts.c.open_minor
            ).where(order_amounts.c.order_id.in_(chunk))
        ):
            opened.setdefault(oid, {})[cur] = int(amount)
    for r in rows:
        r["open"] = opened.get(r["id"], {})
    return rows


def _chunks(items: Sequence[str], n: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
