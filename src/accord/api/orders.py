"""Logistics orders over the API, mirroring `accord orders …` and `accord ledger …`.

Every step is one call to `accord.logistics.service`, taken by the authenticated principal (`by`)
on `date` (default: the node's today). A step the agreements refuse (R10–R12) is a 422 with the
code RULE_REFUSED and the rule codes in the message; a step the order's state does not allow
(deliver a rejected order, …) is a 409 ORDER_STATE_CONFLICT. Either way nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from accord.api.deps import NodeDep, Who, day
from accord.api.errors import Invalid, error_responses
from accord.errors import InputError
from accord.logistics import machine, money, reports, service
from accord.logistics.model import Line, OrderState
from accord.node import Node
from accord.registry.model import Registry

router = APIRouter(responses=error_responses(400, 401, 403, 404, 422, 503))
_STEP = error_responses(409)

Method = Literal["cash", "replacement-in-kind", "equal-value-exchange"]
Status = Literal[
    "requested", "accepted", "rejected", "delivered", "invoiced", "settled", "closed", "cancelled"
]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Amount = Annotated[
    str, Field(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$", description="Decimal text")
]


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Text
    quantity: Amount
    unit: Text
    unit_price: Amount
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
    description: Annotated[str, Field(max_length=500)] = ""


Lines = Annotated[list[LineIn], Field(min_length=1, max_length=200)]


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requester: Text
    supplier: Text
    purpose: Text
    order_date: date
    settlement: Method
    lines: Lines
    facility: Text | None = None
    exercise: Text | None = None
    agreement: Text | None = Field(default=None, description="Default: the one in force")
    arrangement: Text | None = None
    fund: Text | None = None


class LineOut(BaseModel):
    no: int
    category: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    currency: str
    amount: str
    received: str | None


class AmountsOut(BaseModel):
    ordered: dict[str, str]
    delivered: dict[str, str]
    invoiced: dict[str, str] | None
    settled: dict[str, str]
    open: dict[str, str]


class DocumentOut(BaseModel):
    kind: str
    sha256: str
    filename: str


class TransitionOut(BaseModel):
    order: str
    seq: int
    kind: str
    date: dt.date
    by: str
    data: dict[str, Any]


class OrderOut(BaseModel):
    """An order as its transitions leave it (`accord orders show --json`)."""

    id: str
    requester: str
    supplier: str
    agreement: str
    arrangement: str | None
    purpose: str
    exercise: str | None
    facility: str | None
    fund: str | None
    order_date: date
    settlement: str
    lines: list[LineOut]
    status: Status
    method: str
    method_fixed: bool
    deadline_rule: str | None
    deadline: date | None
    signed_by: str | None
    reason: str | None
    amounts: AmountsOut
    documents: list[DocumentOut]
    transitions: list[TransitionOut] = []


class OrderRow(BaseModel):
    id: str
    requester: str
    supplier: str
    agreement: str
    purpose: str
    order_date: date
    method: str
    status: Status
    deadline: date | None
    fund: str | None
    open: dict[str, str]


def _lines(lines: list[LineIn]) -> tuple[Line, ...]:
    out = []
    for i, ln in enumerate(lines):
        try:
            out.append(Line.from_json({**ln.model_dump(), "no": i + 1}))
        except InputError as exc:
            raise Invalid(str(exc), f"lines.{i}", "BAD_LINE") from None
    return machine.check_lines(out)


def _registry(node: Node) -> Registry:
    return node.world()[1].registry


def _out(state: OrderState) -> OrderOut:
    return OrderOut.model_validate(service.order_json(state))


@router.get("/orders", tags=["orders"], summary="List orders, newest first, with open amounts")
def list_orders(
    node: NodeDep,
    who: Who,
    status: Annotated[list[Status], Query()] = [],  # noqa: B006
    party: Annotated[str | None, Query(max_length=16)] = None,
) -> list[OrderRow]:
    rows = service.list_orders(node.store, status, party.strip().upper() if party else None)
    for r in rows:
        r["open"] = {c: money.format_amount(v, c) for c, v in sorted(r["open"].items())}
    return [OrderRow.model_validate(r) for r in rows]


@router.get("/orders/{order_id}", tags=["orders"], summary="Show an order and its transitions")
def get_order(order_id: str, node: NodeDep, who: Who) -> OrderOut:
    state, transitions = service.get(node.store, order_id)
    return OrderOut.model_validate(service.order_json(state, transitions))


@router.post(
    "/orders",
    tags=["orders"],
    status_code=201,
    summary="Raise an order; refused (R10, R11) when no agreement in force covers it",
)
def create_order(body: OrderIn, node: NodeDep, who: Who) -> OrderOut:
    state = service.create(
        node.store,
        _registry(node),
        requester=body.requester.strip().upper(),
        supplier=body.supplier.strip().upper(),
        purpose=body.purpose.strip().lower(),
        order_date=body.order_date,
        settlement=body.settlement,
        lines=_lines(body.lines),
        by=who.name,
        agreement=body.agreement,
        arrangement=body.arrangement,
        facility=body.facility,
        exercise=body.exercise,
        fund=body.fund,
        node_party=node.party,
    )
    return _out(state)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date | None = Field(default=None, description="Date of the step; default today")


class AcceptIn(Step):
    settlement: Method | None = Field(default=None, description="If not the one requested")


class ReasonIn(Step):
    reason: Text


class AmendIn(Step):
    lines: Lines
    note: Text | None = None


class DeliverIn(Step):
    signed_by: Text
    received: dict[Annotated[str, Field(max_length=40)], Amount] = Field(
        default={},
        description="Line number or category → quantity received; others arrived in full",
    )


class InvoiceIn(Step):
    amounts: dict[Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")], Amount] = Field(
        default={}, description="Currency → amount billed; default the value received"
    )
    reference: Text | None = None


class SettleIn(Step):
    method: Method
    amount: Amount
    currency: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
    note: Text | None = None


class AttachIn(Step):
    kind: Literal["order", "receipt", "invoice", "settlement"]
    filename: Text
    content_base64: Annotated[str, Field(max_length=8_000_000)]


def _money(text: str, currency: str, field: str) -> tuple[int, str]:
    try:
        code = money.currency(currency)
        return money.parse_amount(text, code, field), code
    except InputError as exc:
        raise Invalid(str(exc), field, "BAD_AMOUNT") from None


def _on(node: Node, step: Step) -> date:
    return day(node, step.date)


@router.post(
    "/orders/{order_id}/accept",
    tags=["orders"],
    summary="Accept (fixes settlement, R12)",
    responses=_STEP,
)
def accept(order_id: str, body: AcceptIn, node: NodeDep, who: Who) -> OrderOut:
    return _out(
        service.accept(
            node.store,
            _registry(node),
            order_id,
            by=who.name,
            on=_on(node, body),
            method=body.settlement,
        )
    )


@router.post(
    "/orders/{order_id}/reject",
    tags=["orders"],
    summary="Reject a requested order",
    responses=_STEP,
)
def reject(order_id: str, body: ReasonIn, node: NodeDep, who: Who) -> OrderOut:
    return _out(
        service.reject(
            node.store,
            _registry(node),
            order_id,
            reason=body.reason,
            by=who.name,
            on=_on(node, body),
        )
    )


@router.post(
    "/orders/{order_id}/cancel",
    tags=["orders"],
    summary="Cancel an undelivered order",
    responses=_STEP,
)
def cancel(order_id: str, body: ReasonIn, node: NodeDep, who: Who) -> OrderOut:
    return _out(
        service.cancel(
            node.store,
            _registry(node),
            order_id,
            reason=body.reason,
            by=who.name,
            on=_on(node, body),
        )
    )


@router.post(
    "/orders/{order_id}/amend",
    tags=["orders"],
    summary="Replace an undelivered order's lines",
    responses=_STEP,
)
def amend(order_id: str, body: AmendIn, node: NodeDep, who: Who) -> OrderOut:
    return _out(
        service.amend(
            node.store,
            _registry(node),
            order_id,
            lines=_lines(body.lines),
            by=who.name,
            on=_on(node, body),
            note=body.note,
        )
    )


@router.post(
    "/orders/{order_id}/deliver",
    tags=["orders"],
    summary="Record the signed receipt",
    responses=_STEP,
)
def deliver(order_id: str, body: DeliverIn, node: NodeDep, who: Who) -> OrderOut:
    return _out(
        service.deliver(
            node.store,
            _registry(node),
            order_id,
            signed_by=body.signed_by,
            by=who.name,
            received=body.received,
            on=_on(node, body),
        )
    )


@router.post(
    "/orders/{order_id}/invoice",
    tags=["orders"],
    summary="Record the supplier's invoice",
    responses=_STEP,
)
def invoice(order_id: str, body: InvoiceIn, node: NodeDep, who: Who) -> OrderOut:
    amounts = {}
    for cur, text in body.amounts.items():
        minor, code = _money(text, cur, f"amounts.{cur}")
        amounts[code] = minor
    return _out(
        service.invoice(
            node.store,
            _registry(node),
            order_id,
            by=who.name,
            amounts=amounts,
            on=_on(node, body),
            reference=body.reference,
        )
    )


@router.post(
    "/orders/{order_id}/settle",
    tags=["orders"],
    summary="Record one settlement step",
    responses=_STEP,
)
def settle(order_id: str, body: SettleIn, node: NodeDep, who: Who) -> OrderOut:
    minor, code = _money(body.amount, body.currency, "amount")
    return _out(
        service.settle(
            node.store,
            _registry(node),
            order_id,
            method=body.method,
            amount=minor,
            currency=code,
            by=who.name,
            on=_on(node, body),
            note=body.note,
        )
    )


@router.post(
    "/orders/{order_id}/attach", tags=["orders"], summary="Store a source document", responses=_STEP
)
def attach(order_id: str, body: AttachIn, node: NodeDep, who: Who) -> OrderOut:
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("not valid base64", "content_base64", "BAD_BASE64") from None
    return _out(
        service.attach(
            node.store,
            _registry(node),
            order_id,
            kind=body.kind,
            content=content,
            filename=body.filename,
            by=who.name,
            on=_on(node, body),
        )
    )


@router.post(
    "/orders/{order_id}/close",
    tags=["orders"],
    summary="Close: only with receipt, documents and full settlement (R12)",
    responses=_STEP,
)
def close(order_id: str, body: Step, node: NodeDep, who: Who) -> OrderOut:
    return _out(
        service.close(node.store, _registry(node), order_id, by=who.name, on=_on(node, body))
    )


# ---- the ledger --------------------------------------------------------------------------------


class BalanceRow(BaseModel):
    party: str
    partner: str
    currency: str
    receivable: str
    payable: str
    net: str
    receivable_minor: int
    payable_minor: int
    net_minor: int


class AgeingRow(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    party: str
    direction: Literal["receivable", "payable"]
    partner: str
    currency: str
    current: str
    d1_29: str = Field(alias="1-29")
    d30_89: str = Field(alias="30-89")
    d90_179: str = Field(alias="90-179")
    d180_364: str = Field(alias="180-364")
    d365: str = Field(alias="365+")
    total: str
    orders: int
    overdue_orders: int


class ReportRow(BaseModel):
    year: int
    party: str
    partner: str
    direction: Literal["acquisition", "transfer"]
    agreement: str
    fund: str
    method: str
    reimbursable: bool
    currency: str
    orders: int
    ordered: str
    delivered: str
    due: str
    settled: str
    open: str


@router.get(
    "/ledger/balances", tags=["ledger"], summary="Receivables and payables per partner and currency"
)
def balances(
    node: NodeDep,
    who: Who,
    party: Annotated[str | None, Query(max_length=16, description="Only this partner")] = None,
    at: Annotated[date | None, Query(description="As at the end of this day; default now")] = None,
) -> list[BalanceRow]:
    rows = reports.balances(node.store, node.party, party.strip().upper() if party else None, at)
    return [BalanceRow.model_validate(r) for r in reports.present(rows, reports.BALANCE_AMOUNTS)]


@router.get("/ledger/ageing", tags=["ledger"], summary="Open amounts by days overdue")
def ageing(node: NodeDep, who: Who, at: date | None = None) -> list[AgeingRow]:
    rows = reports.ageing(node.store, node.party, day(node, at))
    return [AgeingRow.model_validate(r) for r in reports.present(rows, reports.AGEING_AMOUNTS)]


@router.get(
    "/ledger/report", tags=["ledger"], summary="The annual report: acquisitions and transfers"
)
def annual_report(
    node: NodeDep, who: Who, year: Annotated[int, Query(ge=1900, le=2999)]
) -> list[ReportRow]:
    rows = reports.annual(node.store, node.party, year)
    return [ReportRow.model_validate(r) for r in reports.present(rows, reports.ANNUAL_AMOUNTS)]
