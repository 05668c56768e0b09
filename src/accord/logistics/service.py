"""Order operations a node performs: the API the CLI (and later the REST API) calls.

Each operation reads the order inside one write transaction, builds the next transition, lets
`accord.logistics.machine.step` validate it (R10–R12 and the workflow) and writes it with its
derived rows. A refused operation raises before anything is written, so it changes nothing.

Every step taken here is also an audit record (kind `order-step`, actor the person who took it,
subject the order id) in the same transaction, so the CLI, the API and the web interface all
leave the same trail (PRODUCT.md §7: every write is audited with its actor).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from accord import clock
from accord.audit import log as audit
from accord.errors import InputError, NotFound
from accord.logistics import ledger, machine, money
from accord.logistics import rules as R
from accord.logistics.model import Document, Line, Order, OrderState, Transition
from accord.registry.model import Registry
from accord.store import Store


def new_order_id(requester: str, supplier: str) -> str:
    """Returns a new globally unique order id, e.g. `KOR-USA-5f0c2a…` (128 random bits)."""
    return f"{requester}-{supplier}-{uuid.uuid4().hex}"


def parse_line(spec: str, no: int) -> Line:
    """Parses `CATEGORY:QUANTITY:UNIT:UNIT_PRICE:CURRENCY[:DESCRIPTION]` as line `no`;
    InputError names what is wrong. The description may itself contain colons."""
    parts = spec.split(":", 5)
    if len(parts) < 5:
        raise InputError(
            f"--line {spec!r}: expected CATEGORY:QUANTITY:UNIT:UNIT_PRICE:CURRENCY[:DESCRIPTION]"
        )
    category, qty, unit, price, cur = (p.strip() for p in parts[:5])
    code = money.currency(cur)
    return Line(
        no=no,
        category=category.lower(),
        quantity=money.parse_quantity(qty, f"line {no} quantity"),
        unit=unit,
        unit_price=money.parse_amount(price, code, f"line {no} unit price"),
        currency=code,
        description=parts[5].strip() if len(parts) == 6 else "",
    )


def parse_lines(specs: Sequence[str]) -> tuple[Line, ...]:
    """Returns the lines of `--line` options, numbered from 1."""
    return machine.check_lines(parse_line(s, i) for i, s in enumerate(specs, start=1))


def create(
    store: Store,
    registry: Registry,
    *,
    requester: str,
    supplier: str,
    purpose: str,
    order_date: date,
    settlement: str,
    lines: Sequence[Line],
    by: str,
    agreement: str | None = None,
    arrangement: str | None = None,
    facility: str | None = None,
    exercise: str | None = None,
    fund: str | None = None,
    order_id: str | None = None,
    node_party: str | None = None,
) -> OrderState:
    """Raises a new order and returns it (status `requested`), or raises `OrderRefused` naming
    R10/R11 problems (no agreement in force, purpose or a line out of scope) — nothing stored."""
    if node_party is not None and node_party not in (requester, supplier):
        raise InputError(f"this node ({node_party}) is neither the requester nor the supplier")
    line_tuple = machine.check_lines(lines)
    order = Order(
        id=order_id or new_order_id(requester, supplier),
        requester=requester,
        supplier=supplier,
        agreement="",
        arrangement=arrangement,
        purpose=purpose,
        exercise=exercise,
        facility=facility,
        fund=fund,
        order_date=order_date,
        settlement=settlement,
        lines=line_tuple,
    )
    machine.check_order(order, registry, by)
    ag, problems = R.choose_agreement(
        registry, requester, supplier, order_date, purpose, line_tuple, agreement
    )
    if problems or ag is None:
        raise R.refusal(problems)
    order = replace(order, agreement=ag.id)
    t = Transition(order.id, 1, "create", order_date, by, {"order": order.to_json()})
    with store.begin() as conn:
        if ledger.load_transitions(conn, order.id):
            raise InputError(f"order {order.id} already exists")
        after = machine.step(None, t, registry)
        ledger.write(conn, None, after, t)
        _record(conn, after, t)
    return after


def _record(conn: Any, after: OrderState, t: Transition) -> None:
    """Appends the audit record of step `t` (inside the step's own transaction)."""
    body = {"step": t.kind, "seq": t.seq, "date": t.date.isoformat(), "status": after.status}
    if t.kind == "create":
        o = after.order
        body.update(requester=o.requester, supplier=o.supplier, agreement=o.agreement)
    else:
        body["data"] = dict(t.data)
    audit.append(conn, "order-step", t.by, t.order_id, body)


def _apply(
    store: Store,
    registry: Registry,
    order_id: str,
    kind: str,
    on: date | None,
    by: str,
    data: Callable[[OrderState], Mapping[str, Any]],
    document: Document | None = None,
) -> OrderState:
    with store.begin() as conn:
        before = ledger.load_state(conn, order_id)
        if before is None:
            raise NotFound(f"{order_id!r} is not a known order")
        t = Transition(order_id, before.seq + 1, kind, on or clock.utc_today(), by, data(before))
        after = machine.step(before, t, registry)
        ledger.write(conn, before, after, t, document)
        _record(conn, after, t)
    return after


def accept(
    store: Store,
    registry: Registry,
    order_id: str,
    *,
    by: str,
    on: date | None = None,
    method: str | None = None,
) -> OrderState:
    """The supplier accepts: fixes the settlement method (the requested one unless `method`) and
    the deadline rule from the agreement (R12)."""

    def data(s: OrderState) -> dict[str, Any]:
        m = method or s.method
        if m not in ("cash", "replacement-in-kind", "equal-value-exchange"):
            raise InputError(f"{m!r} is not a settlement method")
        ag = next((a for a in registry.agreements if a.id == s.order.agreement), None)
        anchor, period = R.settlement_terms(ag, m)
        return {"method": m, "anchor": anchor, "period": period}

    return _apply(store, registry, order_id, "accept", on, by, data)


def reject(
    store: Store, registry: Registry, order_id: str, *, reason: str, by: str, on: date | None = None
) -> OrderState:
    """The supplier refuses the request; the order ends `rejected`."""
    return _apply(store, registry, order_id, "reject", on, by, lambda s: {"reason": reason})


def cancel(
    store: Store, registry: Registry, order_id: str, *, reason: str, by: str, on: date | None = None
) -> OrderState:
    """Cancels an order not yet delivered; recorded as a transition, never a deletion."""
    return _apply(store, registry, order_id, "cancel", on, by, lambda s: {"reason": reason})


def amend(
    store: Store,
    registry: Registry,
    order_id: str,
    *,
    lines: Sequence[Line],
    by: str,
    on: date | None = None,
    note: str | None = None,
) -> OrderState:
    """Replaces the lines of an order not yet delivered (R11 re-checked); an accepted order goes
    back to `requested` for the supplier to accept again."""
    body: dict[str, Any] = {"lines": [ln.to_json() for ln in lines]}
    if note:
        body["note"] = note
    return _apply(store, registry, order_id, "amend", on, by, lambda s: body)


def resolve_received(s: OrderState, received: Mapping[str, str] | None) -> dict[str, str]:
    """Returns the quantity received per line number: keys are line numbers or categories (a
    category must name one line); lines not mentioned were received in full."""
    out = {str(ln.no): money.quantity_text(ln.quantity) for ln in s.lines}
    for key, qty in (received or {}).items():
        k = key.strip()
        if k.isdigit():
            no = int(k)
        else:
            matches = [ln.no for ln in s.lines if ln.category == k.lower()]
            if len(matches) != 1:
                raise InputError(
                    f"--received {key!r}: "
                    + (
                        "no line has that category"
                        if not matches
                        else "several lines have that category; give the line number"
                    )
                )
            no = matches[0]
        if str(no) not in out:
            raise InputError(f"--received {key!r}: the order has no line {no}")
        out[str(no)] = money.quantity_text(money.parse_quantity(qty, f"--received {key}"))
    return out


def deliver(
    store: Store,
    registry: Registry,
    order_id: str,
    *,
    signed_by: str,
    by: str,
    received: Mapping[str, str] | None = None,
    on: date | None = None,
) -> OrderState:
    """Records the signed receipt: what was actually received per line, and who signed. Neither
    the signer nor `by`, the person recording it (the caller's credential, session or OS user),
    may be someone who ordered or amended the order: separation of duties (R12), held on the
    authenticated person and not only on a typed signer's name. Stored histories replay without
    this check on `by` (`machine` checks the signer only), so older orders still load."""

    def data(s: OrderState) -> dict[str, Any]:
        if by in s.orderers:
            ag = next((a for a in registry.agreements if a.id == s.order.agreement), None)
            raise R.refusal(
                [
                    R.Problem(
                        R.SETTLEMENT,
                        f"{by} ordered (or amended) this order and cannot record its receipt "
                        "(separation of duties)",
                        article=R.article(ag, "settlement") if ag is not None else None,
                    )
                ]
            )
        return {"received": resolve_received(s, received), "signed_by": signed_by}

    return _apply(store, registry, order_id, "deliver", on, by, data)


def invoice(
    store: Store,
    registry: Registry,
    order_id: str,
    *,
    by: str,
    amounts: Mapping[str, int] | None = None,
    on: date | None = None,
    reference: str | None = None,
) -> OrderState:
    """Records the supplier's bill: per currency the value received unless `amounts` (minor
    units) says less. For cash the deadline now runs from this date."""

    def data(s: OrderState) -> dict[str, Any]:
        billed = dict(s.delivered)
        for cur, amount in (amounts or {}).items():
            if cur not in billed:
                raise InputError(f"--amount: nothing was delivered in {cur}")
            billed[cur] = amount
        body: dict[str, Any] = {
            "amounts": {c: money.format_amount(a, c) for c, a in sorted(billed.items())}
        }
        if reference:
            body["reference"] = reference
        return body

    return _apply(store, registry, order_id, "invoice", on, by, data)


def settle(
    store: Store,
    registry: Registry,
    order_id: str,
    *,
    method: str,
    amount: int,
    currency: str,
    by: str,
    on: date | None = None,
    note: str | None = None,
) -> OrderState:
    """Records one settlement step (a payment, a replacement in kind, an equal-value exchange):
    in the method fixed at acceptance, never more than is open (R12)."""
    cur = money.currency(currency)
    body: dict[str, Any] = {
        "method": method,
        "currency": cur,
        "amount": money.format_amount(amount, cur),
    }
    if note:
        body["note"] = note
    return _apply(store, registry, order_id, "settle", on, by, lambda s: body)


def attach(
    store: Store,
    registry: Registry,
    order_id: str,
    *,
    kind: str,
    content: bytes,
    filename: str,
    by: str,
    on: date | None = None,
) -> OrderState:
    """Stores a source document (its bytes and their SHA-256) and records its attachment."""
    sha = hashlib.sha256(content).hexdigest()
    doc = Document(kind, sha, filename, content)
    body = {"kind": kind, "sha256": sha, "filename": filename, "size": len(content)}
    return _apply(store, registry, order_id, "attach", on, by, lambda s: body, doc)


def close(
    store: Store, registry: Registry, order_id: str, *, by: str, on: date | None = None
) -> OrderState:
    """Closes the order, or raises `OrderRefused` (R12) naming what is missing: the receipt,
    a document, or settlement in some currency."""
    return _apply(store, registry, order_id, "close", on, by, lambda s: {})


def get(store: Store, order_id: str) -> tuple[OrderState, list[Transition]]:
    """Returns the order's state and its transitions; NotFound when unknown."""
    with store.read() as conn:
        ts = ledger.load_transitions(conn, order_id)
    if not ts:
        raise NotFound(f"{order_id!r} is not a known order")
    return machine.replay(ts), ts


def list_orders(
    store: Store, status: Sequence[str] = (), party: str | None = None
) -> list[dict[str, Any]]:
    """Returns summary rows of the orders (newest first), optionally by status or party."""
    with store.read() as conn:
        return ledger.list_rows(conn, status, party)


def _amounts_json(values: Mapping[str, int]) -> dict[str, str]:
    return {c: money.format_amount(v, c) for c, v in sorted(values.items())}


def order_json(s: OrderState, transitions: Sequence[Transition] = ()) -> dict[str, Any]:
    """Returns the order as JSON data: header, lines (with quantities received), status,
    settlement terms and deadline, amounts per currency, documents and transitions."""
    o = s.order
    data = o.to_json()
    data["lines"] = [
        {
            **ln.to_json(),
            "amount": money.format_amount(ln.amount, ln.currency),
            "received": (money.quantity_text(s.received[ln.no]) if ln.no in s.received else None),
        }
        for ln in s.lines
    ]
    data.update(
        status=s.status,
        method=s.method,
        method_fixed=s.method_fixed,
        deadline_rule=(f"{s.period} after {s.anchor}" if s.anchor else None),
        deadline=s.deadline.isoformat() if s.deadline else None,
        signed_by=s.signed_by,
        reason=s.reason,
        amounts={
            "ordered": _amounts_json(s.ordered),
            "delivered": _amounts_json(s.delivered),
            "invoiced": _amounts_json(s.invoiced) if s.invoiced is not None else None,
            "settled": _amounts_json(s.settled),
            "open": _amounts_json(s.open),
        },
        documents=[{"kind": k, "sha256": h, "filename": n} for k, h, n in s.documents],
    )
    if transitions:
        data["transitions"] = [t.to_json() for t in transitions]
    return data
