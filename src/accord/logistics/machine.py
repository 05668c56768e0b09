"""The order state machine (domain.md §3.5): which step is allowed in which state, what each step
checks (R10–R12) and what it changes.

    requested ─accept→ accepted ─deliver→ delivered ─invoice→ invoiced ─settle…→ settled ─close→ closed
        │  └─reject→ rejected      │
        └──────cancel─────────────┴→ cancelled         (amend: requested/accepted → requested)

`step(state, transition, registry)` validates one transition against the order as its earlier
transitions left it and returns the new `OrderState`, or raises (`OrderRefused` for a rule or the
workflow, `InputError` for malformed data) without any effect. `replay(transitions)` folds stored
transitions without re-checking the registry. Nothing here touches the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from accord.errors import InputError
from accord.logistics import money
from accord.logistics import rules as R
from accord.logistics.model import (
    ACCEPTED,
    CANCELLED,
    CLOSED,
    DELIVERED,
    DOCUMENT_KINDS,
    INVOICED,
    METHODS,
    REJECTED,
    REQUESTED,
    SETTLED,
    TERMINAL,
    Line,
    Order,
    OrderState,
    Transition,
)
from accord.registry import lifecycle
from accord.registry.model import CATEGORIES, PURPOSES, Agreement, Registry

_OPEN = frozenset({REQUESTED, ACCEPTED, DELIVERED, INVOICED, SETTLED})
# The states in which each step may be taken. `close` is refused by R12 (not by the workflow) in
# any open state short of `settled`, so that the refusal says what is missing.
ALLOWED: dict[str, frozenset[str]] = {
    "amend": frozenset({REQUESTED, ACCEPTED}),
    "accept": frozenset({REQUESTED}),
    "reject": frozenset({REQUESTED}),
    "cancel": frozenset({REQUESTED, ACCEPTED}),
    "deliver": frozenset({ACCEPTED}),
    "invoice": frozenset({DELIVERED}),
    "settle": frozenset({INVOICED}),
    "attach": _OPEN,
    "close": _OPEN,
}


def _refuse(rule: str, message: str, line: int | None = None, article: str | None = None) -> None:
    raise R.refusal([R.Problem(rule, message, line, article)])


def _agreement(registry: Registry | None, agreement_id: str) -> Agreement | None:
    if registry is None:
        return None
    return next((a for a in registry.agreements if a.id == agreement_id), None)


def check_lines(lines: Iterable[Line]) -> tuple[Line, ...]:
    """Returns the lines if they are well formed (numbered 1…n, known categories, priced);
    InputError names the first line that is not."""
    out = tuple(lines)
    if not out:
        raise InputError("an order needs at least one line")
    for i, ln in enumerate(out, start=1):
        if ln.no != i:
            raise InputError(f"lines must be numbered 1…n in order (line {ln.no} at position {i})")
        if ln.category not in CATEGORIES:
            raise InputError(
                f"line {i}: {ln.category!r} is not a logistics category ({', '.join(CATEGORIES)})"
            )
        if ln.unit_price < 0:
            raise InputError(f"line {i}: the unit price is negative")
        if not ln.unit:
            raise InputError(f"line {i}: the unit is empty")
    return out


def check_order(order: Order, registry: Registry | None, by: str) -> None:
    """Raises InputError when the order is malformed: same party twice, unknown purpose, method,
    category, party or facility, no lines or no acting person. Rules come after this."""
    if order.requester == order.supplier:
        raise InputError("the requesting and supplying party must differ")
    if order.purpose not in PURPOSES:
        raise InputError(f"{order.purpose!r} is not a purpose ({', '.join(PURPOSES)})")
    if order.settlement not in METHODS:
        raise InputError(f"{order.settlement!r} is not a settlement method ({', '.join(METHODS)})")
    if not by.strip():
        raise InputError("every step names the person who takes it (--by)")
    check_lines(order.lines)
    if registry is None:
        return
    known = {p.code for p in registry.parties}
    for code in (order.requester, order.supplier):
        if code not in known:
            raise InputError(f"{code!r} is not a known party")
    if order.facility is not None and order.facility not in {f.id for f in registry.facilities}:
        raise InputError(f"{order.facility!r} is not a known facility")


def _rules_r10_r11(state_order: Order, lines: tuple[Line, ...], registry: Registry | None) -> None:
    """R10 and R11 against the current registry, for the order's own date and agreement."""
    if registry is None:
        return
    o = state_order
    problems = R.agreement_problems(registry, o.requester, o.supplier, o.order_date, o.agreement)
    ag = _agreement(registry, o.agreement)
    if not problems and ag is not None:
        problems = R.scope_problems(ag, o.purpose, lines)
    if problems:
        raise R.refusal(problems)


def _create(s: OrderState | None, t: Transition, reg: Registry | None) -> OrderState:
    if s is not None:
        raise InputError(f"order {t.order_id} already exists")
    if t.seq != 1:
        raise InputError(f"order {t.order_id}: the first transition must be `create` (seq 1)")
    raw = t.data.get("order")
    if not isinstance(raw, Mapping):
        raise InputError("a create transition carries the order")
    order = Order.from_json(raw)
    if order.id != t.order_id:
        raise InputError(f"the order id {order.id!r} differs from the transition's {t.order_id!r}")
    if order.order_date != t.date:
        raise InputError("an order is created on its order date")
    check_order(order, reg, t.by)
    _rules_r10_r11(order, order.lines, reg)
    return OrderState(
        order=order,
        lines=order.lines,
        status=REQUESTED,
        seq=1,
        last_date=t.date,
        method=order.settlement,
        orderers=frozenset({t.by}),
    )


def _amend(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    raw = t.data.get("lines")
    if not isinstance(raw, list):
        raise InputError("an amendment carries the order's new lines")
    lines = check_lines(Line.from_json(x) for x in raw)
    if tuple(lines) == s.lines:
        raise InputError("the amendment changes nothing")
    _rules_r10_r11(s.order, lines, reg)
    # An accepted order goes back to `requested`: the supplier accepted other lines (R12 fixes
    # the settlement terms at acceptance, so they are fixed again).
    return replace(
        s,
        lines=lines,
        status=REQUESTED,
        orderers=s.orderers | {t.by},
        method_fixed=False,
        anchor=None,
        period=None,
        accepted_on=None,
    )


def _accept(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    method = str(t.data.get("method", ""))
    if method not in METHODS:
        raise InputError(f"{method!r} is not a settlement method ({', '.join(METHODS)})")
    anchor, period = str(t.data.get("anchor", "")), str(t.data.get("period", ""))
    if anchor not in ("invoice", "delivery"):
        raise InputError("an acceptance fixes the deadline's anchor: invoice or delivery")
    try:
        lifecycle.add_duration(t.date, period)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    # R10/R11 again: the supplier accepts only what the agreement still covers.
    _rules_r10_r11(s.order, s.lines, reg)
    if reg is not None:
        ag = _agreement(reg, s.order.agreement)
        expected = R.settlement_terms(ag, method)
        if (anchor, period) != expected:
            where = R.article(ag, "settlement") if ag is not None else None
            _refuse(
                R.SETTLEMENT,
                f"{method} settles {expected[1]} after {expected[0]} under "
                f"{s.order.agreement}, not {period} after {anchor}",
                article=where,
            )
    return replace(
        s,
        status=ACCEPTED,
        method=method,
        method_fixed=True,
        anchor=anchor,
        period=period,
        accepted_on=t.date,
    )


def _reason(t: Transition) -> str:
    reason = str(t.data.get("reason", "")).strip()
    if not reason:
        raise InputError(f"a {t.kind} step needs a reason (--reason)")
    return reason


def _reject(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    return replace(s, status=REJECTED, reason=_reason(t))


def _cancel(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    return replace(s, status=CANCELLED, reason=_reason(t))


def _deliver(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    signer = str(t.data.get("signed_by", "")).strip()
    if not signer:
        raise InputError("a receipt names who signed it (--signed-by)")
    raw = t.data.get("received")
    if not isinstance(raw, Mapping):
        raise InputError("a receipt lists the quantity received per line")
    by_no = {ln.no: ln for ln in s.lines}
    received: dict[int, Decimal] = {}
    for key, qty in raw.items():
        try:
            no = int(key)
        except ValueError:
            raise InputError(f"{key!r} is not a line number") from None
        if no not in by_no:
            raise InputError(f"the order has no line {no}")
        q = money.parse_quantity(str(qty), f"line {no} received")
        if q > by_no[no].quantity:
            raise InputError(
                f"line {no}: received {money.quantity_text(q)} is more than the "
                f"{money.quantity_text(by_no[no].quantity)} ordered"
            )
        received[no] = q
    if set(received) != set(by_no):
        raise InputError("a receipt gives the quantity received for every line")
    if signer in s.orderers:
        # Separation of duties (domain.md §3.5 item 4): a receipt signed by the person who
        # ordered is no evidence, and R12 closes an order only with a receipt.
        ag = _agreement(reg, s.order.agreement)
        _refuse(
            R.SETTLEMENT,
            f"{signer} ordered (or amended) this order and cannot sign its receipt "
            "(separation of duties)",
            article=R.article(ag, "settlement") if ag is not None else None,
        )
    delivered: dict[str, int] = {}
    for ln in s.lines:
        delivered[ln.currency] = delivered.get(ln.currency, 0) + money.line_amount(
            received[ln.no], ln.unit_price
        )
    deadline = s.deadline
    if s.anchor == "delivery" and s.period is not None:
        deadline = lifecycle.add_duration(t.date, s.period)
    return replace(
        s,
        status=DELIVERED,
        received=received,
        signed_by=signer,
        delivered_on=t.date,
        delivered=delivered,
        deadline=deadline,
    )


def _amounts(raw: Any) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise InputError("amounts are given per currency")
    return {money.currency(str(c)): money.parse_amount(str(a), str(c)) for c, a in raw.items()}


def _invoice(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    amounts = _amounts(t.data.get("amounts"))
    if set(amounts) != set(s.delivered):
        raise InputError(
            f"the invoice is in {', '.join(sorted(amounts)) or 'no currency'}; the delivery "
            f"was in {', '.join(sorted(s.delivered))}"
        )
    for cur, amount in sorted(amounts.items()):
        if amount < 0:
            raise InputError(f"the invoice amount in {cur} is negative")
        if amount > s.delivered[cur]:
            ag = _agreement(reg, s.order.agreement)
            _refuse(
                R.SETTLEMENT,
                f"the invoice ({money.money_text(amount, cur)}) exceeds the value received "
                f"({money.money_text(s.delivered[cur], cur)})",
                article=R.article(ag, "settlement") if ag is not None else None,
            )
    deadline = s.deadline
    if s.anchor == "invoice" and s.period is not None:
        deadline = lifecycle.add_duration(t.date, s.period)
    after = replace(s, status=INVOICED, invoiced=amounts, invoiced_on=t.date, deadline=deadline)
    if all(v == 0 for v in after.open.values()):
        after = replace(after, status=SETTLED)
    return after


def _settle(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    method = str(t.data.get("method", ""))
    if method not in METHODS:
        raise InputError(f"{method!r} is not a settlement method ({', '.join(METHODS)})")
    cur = money.currency(str(t.data.get("currency", "")))
    amount = money.parse_amount(str(t.data.get("amount", "")), cur)
    ag = _agreement(reg, s.order.agreement)
    where = R.article(ag, "settlement") if ag is not None else None
    if amount <= 0:
        raise InputError("a settlement amount is positive")
    if method != s.method:
        # R12: the method was fixed at acceptance.
        _refuse(
            R.SETTLEMENT,
            f"the order settles by {s.method} (fixed at acceptance), not by {method}",
            article=where,
        )
    open_now = s.open.get(cur, 0)
    if open_now <= 0:
        _refuse(R.SETTLEMENT, f"nothing is open in {cur} on this order", article=where)
    if amount > open_now:
        _refuse(
            R.SETTLEMENT,
            f"{money.money_text(amount, cur)} exceeds the open {money.money_text(open_now, cur)}",
            article=where,
        )
    settled = dict(s.settled)
    settled[cur] = settled.get(cur, 0) + amount
    after = replace(s, settled=settled)
    if all(v == 0 for v in after.open.values()):
        after = replace(after, status=SETTLED)
    return after


def _attach(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    kind = str(t.data.get("kind", ""))
    if kind not in DOCUMENT_KINDS:
        raise InputError(f"{kind!r} is not a document kind ({', '.join(DOCUMENT_KINDS)})")
    sha = str(t.data.get("sha256", "")).lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise InputError("a document is identified by the SHA-256 of its bytes")
    if any(k == kind and h == sha for k, h, _n in s.documents):
        raise InputError(f"this {kind} document is already attached")
    name = str(t.data.get("filename", ""))
    return replace(s, documents=(*s.documents, (kind, sha, name)))


def _close(s: OrderState, t: Transition, reg: Registry | None) -> OrderState:
    problems = R.close_problems(s, _agreement(reg, s.order.agreement))
    if problems:
        raise R.refusal(problems)
    return replace(s, status=CLOSED)


_STEPS: dict[str, Callable[[OrderState, Transition, Registry | None], OrderState]] = {
    "amend": _amend,
    "accept": _accept,
    "reject": _reject,
    "cancel": _cancel,
    "deliver": _deliver,
    "invoice": _invoice,
    "settle": _settle,
    "attach": _attach,
    "close": _close,
}


def step(state: OrderState | None, t: Transition, registry: Registry | None) -> OrderState:
    """Returns the order after `t`, or raises without effect: `OrderRefused` (R10–R12, or
    `WORKFLOW` when the step is not allowed in the order's state), `InputError` for malformed
    data. With `registry` None the agreement rules are not re-checked (a stored history)."""
    if t.kind == "create":
        return _create(state, t, registry)
    if state is None:
        raise InputError(f"order {t.order_id} does not exist")
    if t.seq != state.seq + 1:
        raise InputError(f"order {t.order_id}: transition {t.seq} does not follow {state.seq}")
    if not t.by.strip():
        raise InputError("every step names the person who takes it (--by)")
    handler = _STEPS.get(t.kind)
    if handler is None:
        raise InputError(f"{t.kind!r} is not a step of an order")
    if state.status not in ALLOWED[t.kind]:
        allowed = ", ".join(sorted(ALLOWED[t.kind]))
        _refuse(
            R.WORKFLOW, f"cannot {t.kind} an order that is {state.status} (only when {allowed})"
        )
    if t.date < state.last_date:
        _refuse(
            R.WORKFLOW,
            f"a step dated {t.date.isoformat()} cannot follow one dated "
            f"{state.last_date.isoformat()}",
        )
    after = handler(state, t, registry)
    return replace(after, seq=t.seq, last_date=t.date)


def replay(transitions: Iterable[Transition], registry: Registry | None = None) -> OrderState:
    """Returns the order its transitions (in `seq` order) describe; raises if they do not make a
    valid history. With a registry every step is re-checked against it (as on import)."""
    state: OrderState | None = None
    for t in transitions:
        state = step(state, t, registry)
    if state is None:
        raise InputError("an order needs at least its create transition")
    return state


__all__ = ["ALLOWED", "TERMINAL", "check_lines", "check_order", "replay", "step"]
