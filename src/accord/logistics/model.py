"""Orders, their lines and their transitions (PRODUCT.md §2 "Logistics order"; domain.md §3.5).

An order is nothing but its transitions: the first (`create`) carries the order as raised, every
later one (accept, deliver, invoice, settle, …) is a dated, attributed fact. `OrderState` — the
status, amounts due and settled, the deadline — is derived from them by `accord.logistics.machine`;
it is never edited in place. Everything here is a frozen value with a canonical JSON form, which is
what the store keeps and what nodes exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from accord.errors import InputError
from accord.logistics import money

METHODS: tuple[str, ...] = ("cash", "replacement-in-kind", "equal-value-exchange")
DOCUMENT_KINDS: tuple[str, ...] = ("order", "receipt", "invoice", "settlement")

REQUESTED = "requested"
ACCEPTED = "accepted"
REJECTED = "rejected"
DELIVERED = "delivered"
INVOICED = "invoiced"
SETTLED = "settled"
CLOSED = "closed"
CANCELLED = "cancelled"
STATUSES: tuple[str, ...] = (
    REQUESTED,
    ACCEPTED,
    REJECTED,
    DELIVERED,
    INVOICED,
    SETTLED,
    CLOSED,
    CANCELLED,
)
TERMINAL = frozenset({REJECTED, CLOSED, CANCELLED})

KINDS: tuple[str, ...] = (
    "create",
    "amend",
    "accept",
    "reject",
    "cancel",
    "deliver",
    "invoice",
    "settle",
    "attach",
    "close",
)


def canonical_json(data: Any) -> str:
    """Returns `data` as canonical JSON text (sorted keys, no spaces): equal data, equal text."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True)
class Line:
    """One line item: `quantity` of `unit` at `unit_price` minor units of `currency` each."""

    no: int
    category: str
    quantity: Decimal
    unit: str
    unit_price: int
    currency: str
    description: str = ""

    @property
    def amount(self) -> int:
        """Returns the line's value in minor units of its currency."""
        return money.line_amount(self.quantity, self.unit_price)

    def to_json(self) -> dict[str, Any]:
        return {
            "no": self.no,
            "category": self.category,
            "description": self.description,
            "quantity": money.quantity_text(self.quantity),
            "unit": self.unit,
            "unit_price": money.format_amount(self.unit_price, self.currency),
            "currency": self.currency,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Line:
        """Returns the line from its JSON form; InputError names what is malformed."""
        try:
            cur = money.currency(str(data["currency"]))
            return cls(
                no=int(data["no"]),
                category=str(data["category"]),
                description=str(data.get("description", "")),
                quantity=money.parse_quantity(str(data["quantity"])),
                unit=str(data["unit"]),
                unit_price=money.parse_amount(str(data["unit_price"]), cur, "unit price"),
                currency=cur,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed order line {dict(data)!r}: {exc}") from None


@dataclass(frozen=True)
class Order:
    """An order as raised (domain.md §3.5 minimum data): who asks whom, under which agreement (and
    implementing arrangement), for what purpose, delivered where, settled how, and its lines."""

    id: str
    requester: str
    supplier: str
    agreement: str
    purpose: str
    order_date: date
    settlement: str
    lines: tuple[Line, ...]
    facility: str | None = None
    exercise: str | None = None
    fund: str | None = None
    arrangement: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requester": self.requester,
            "supplier": self.supplier,
            "agreement": self.agreement,
            "arrangement": self.arrangement,
            "purpose": self.purpose,
            "exercise": self.exercise,
            "facility": self.facility,
            "fund": self.fund,
            "order_date": self.order_date.isoformat(),
            "settlement": self.settlement,
            "lines": [ln.to_json() for ln in self.lines],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Order:
        """Returns the order from its JSON form; InputError names what is malformed."""
        try:
            return cls(
                id=str(data["id"]),
                requester=str(data["requester"]),
                supplier=str(data["supplier"]),
                agreement=str(data["agreement"]),
                arrangement=_opt(data.get("arrangement")),
                purpose=str(data["purpose"]),
                exercise=_opt(data.get("exercise")),
                facility=_opt(data.get("facility")),
                fund=_opt(data.get("fund")),
                order_date=date.fromisoformat(str(data["order_date"])),
                settlement=str(data["settlement"]),
                lines=tuple(Line.from_json(ln) for ln in data["lines"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed order: {exc}") from None


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Transition:
    """One dated, attributed step of an order: `kind` on `date` by `by`, with its `data`.

    `seq` numbers an order's transitions from 1 (the `create`); `(order_id, seq)` is unique on
    every node that holds the order."""

    order_id: str
    seq: int
    kind: str
    date: date
    by: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "order": self.order_id,
            "seq": self.seq,
            "kind": self.kind,
            "date": self.date.isoformat(),
            "by": self.by,
            "data": dict(self.data),
        }

    def body(self) -> str:
        """Returns the canonical JSON text the store keeps and nodes compare."""
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Transition:
        """Returns the transition from its JSON form; InputError names what is malformed."""
        try:
            kind = str(data["kind"])
            if kind not in KINDS:
                raise ValueError(f"{kind!r} is not a transition kind")
            body = data.get("data", {})
            if not isinstance(body, Mapping):
                raise ValueError("data must be an object")
            return cls(
                order_id=str(data["order"]),
                seq=int(data["seq"]),
                kind=kind,
                date=date.fromisoformat(str(data["date"])),
                by=str(data["by"]),
                data=orjson.loads(canonical_json(dict(body))),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed transition: {exc}") from None


@dataclass(frozen=True)
class Document:
    """A stored source document: its kind, file name, SHA-256 of its bytes, and the bytes."""

    kind: str
    sha256: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class OrderState:
    """An order as its transitions leave it. Amounts are minor units per currency:
    `ordered` (the lines), `delivered` (what the receipt says arrived), `invoiced` (None until
    invoiced), `settled` (paid, replaced in kind or exchanged). `due` is what the requester owes:
    the invoice once there is one, else the delivered value; `open` is due minus settled."""

    order: Order
    lines: tuple[Line, ...]
    status: str
    seq: int
    last_date: date
    method: str
    orderers: frozenset[str]
    method_fixed: bool = False
    anchor: str | None = None
    period: str | None = None
    deadline: date | None = None
    accepted_on: date | None = None
    delivered_on: date | None = None
    invoiced_on: date | None = None
    signed_by: str | None = None
    received: Mapping[int, Decimal] = field(default_factory=dict)
    delivered: Mapping[str, int] = field(default_factory=dict)
    invoiced: Mapping[str, int] | None = None
    settled: Mapping[str, int] = field(default_factory=dict)
    documents: tuple[tuple[str, str, str], ...] = ()
    reason: str | None = None

    @property
    def id(self) -> str:
        return self.order.id

    @property
    def ordered(self) -> dict[str, int]:
        """Returns the ordered value per currency."""
        out: dict[str, int] = {}
        for ln in self.lines:
            out[ln.currency] = out.get(ln.currency, 0) + ln.amount
        return out

    @property
    def due(self) -> dict[str, int]:
        """Returns what the requester owes per currency (invoice, else delivered value)."""
        return dict(self.invoiced if self.invoiced is not None else self.delivered)

    @property
    def open(self) -> dict[str, int]:
        """Returns due minus settled per currency (every currency that is due or settled)."""
        due = self.due
        curs = sorted(set(due) | set(self.settled))
        return {c: due.get(c, 0) - self.settled.get(c, 0) for c in curs}

    def currencies(self) -> list[str]:
        """Returns every currency the order touches, sorted."""
        return sorted(set(self.ordered) | set(self.due) | set(self.settled))

    def document_kinds(self) -> set[str]:
        return {kind for kind, _sha, _name in self.documents}
