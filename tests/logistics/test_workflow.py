"""The order workflow (domain.md §3.5) on every backend: every step from every state, and every
refusal R10–R12 names its rule, line and article. A refused step leaves the order untouched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from accord.errors import InputError, NotFound
from accord.logistics import service as S
from accord.logistics.model import OrderState
from accord.logistics.rules import OrderRefused
from accord.registry.model import Registry
from accord.store import Store

D = date(2024, 3, 1)
LINES = ["food:100:meal:12.50:USD:MRE", "petroleum:1000:l:1.20:USD:JP-8"]


def day(n: int) -> date:
    return date.fromordinal(D.toordinal() + n)


def new(store: Store, reg: Registry, settlement: str = "cash", **kw: object) -> OrderState:
    args: dict[str, object] = dict(
        requester="KOR",
        supplier="USA",
        purpose="exercise",
        order_date=D,
        settlement=settlement,
        lines=S.parse_lines(LINES),
        by="kim",
    )
    args.update(kw)
    return S.create(store, reg, **args)  # type: ignore[arg-type]


def _docs(store: Store, reg: Registry, oid: str, on: date) -> None:
    for k in ("order", "receipt", "invoice", "settlement"):
        S.attach(
            store, reg, oid, kind=k, content=f"{oid} {k}".encode(), filename=k, by="lee", on=on
        )


def drive(store: Store, reg: Registry, to: str) -> str:
    """Returns the id of an order brought to status `to` through the workflow."""
    o = new(store, reg)
    oid = o.id
    if to == "requested":
        return oid
    if to == "rejected":
        S.reject(store, reg, oid, reason="no stock", by="smith", on=day(1))
        return oid
    if to == "cancelled":
        S.cancel(store, reg, oid, reason="exercise called off", by="kim", on=day(1))
        return oid
    S.accept(store, reg, oid, by="smith", on=day(1))
    if to == "accepted":
        return oid
    S.deliver(store, reg, oid, signed_by="park", by="park", on=day(2))
    if to == "delivered":
        return oid
    S.invoice(store, reg, oid, by="smith", on=day(3))
    if to == "invoiced":
        return oid
    S.settle(store, reg, oid, method="cash", amount=245000, currency="USD", by="lee", on=day(4))
    if to == "settled":
        return oid
    _docs(store, reg, oid, day(4))
    S.close(store, reg, oid, by="lee", on=day(5))
    assert to == "closed"
    return oid


Op = Callable[[Store, Registry, str], OrderState]
OPS: dict[str, Op] = {
    "accept": lambda s, r, i: S.accept(s, r, i, by="smith", on=day(10)),
    "reject": lambda s, r, i: S.reject(s, r, i, reason="no", by="smith", on=day(10)),
    "cancel": lambda s, r, i: S.cancel(s, r, i, reason="no", by="kim", on=day(10)),
    "amend": lambda s, r, i: S.amend(
        s, r, i, lines=S.parse_lines(["food:50:meal:12.50:USD"]), by="kim", on=day(10)
    ),
    "deliver": lambda s, r, i: S.deliver(s, r, i, signed_by="park", by="park", on=day(10)),
    "invoice": lambda s, r, i: S.invoice(s, r, i, by="smith", on=day(10)),
    "settle": lambda s, r, i: S.settle(
        s, r, i, method="cash", amount=245000, currency="USD", by="lee", on=day(10)
    ),
    "attach": lambda s, r, i: S.attach(
        s, r, i, kind="order", content=b"DD 2680 #2", filename="o2.pdf", by="lee", on=day(10)
    ),
    "close": lambda s, r, i: S.close(s, r, i, by="lee", on=day(10)),
}
STATES = (
    "requested",
    "accepted",
    "rejected",
    "cancelled",
    "delivered",
    "invoiced",
    "settled",
    "closed",
)
OPEN = ("requested", "accepted", "delivered", "invoiced", "settled")
# op → {from-state: resulting state}; every other state is refused by the workflow, except
# `close`, which R12 refuses (naming what is missing) in every open state short of documented.
ALLOWED: dict[str, dict[str, str]] = {
    "accept": {"requested": "accepted"},
    "reject": {"requested": "rejected"},
    "cancel": {"requested": "cancelled", "accepted": "cancelled"},
    "amend": {"requested": "requested", "accepted": "requested"},
    "deliver": {"accepted": "delivered"},
    "invoice": {"delivered": "invoiced"},
    "settle": {"invoiced": "settled"},
    "attach": {s: s for s in OPEN},
    "close": {},
}


def _expected(op: str, state: str) -> str:
    if state in ALLOWED[op]:
        return ALLOWED[op][state]
    if op == "close" and state in OPEN:
        return "SETTLEMENT"
    return "WORKFLOW"


CASES = [
    pytest.param(op, st, _expected(op, st), id=f"{op}-from-{st}-{_expected(op, st)}")
    for op in OPS
    for st in STATES
]


@pytest.mark.parametrize(("op", "state", "expected"), CASES)
def test_every_step_from_every_state(
    loaded: Store, world: Registry, op: str, state: str, expected: str
) -> None:
    oid = drive(loaded, world, state)
    before, before_ts = S.get(loaded, oid)
    assert before.status == state
    if expected.isupper():
        with pytest.raises(OrderRefused) as err:
            OPS[op](loaded, world, oid)
        assert err.value.rules == [expected]
        after, after_ts = S.get(loaded, oid)
        assert after_ts == before_ts and after == before  # a refused step changes nothing
    else:
        after = OPS[op](loaded, world, oid)
        assert after.status == expected
        assert S.get(loaded, oid)[0].status == expected
        assert len(S.get(loaded, oid)[1]) == len(before_ts) + 1


def test_close_with_receipt_documents_and_full_settlement(loaded: Store, world: Registry) -> None:
    oid = drive(loaded, world, "closed")
    state, ts = S.get(loaded, oid)
    assert state.status == "closed"
    assert [t.kind for t in ts] == [
        "create",
        "accept",
        "deliver",
        "invoice",
        "settle",
        "attach",
        "attach",
        "attach",
        "attach",
        "close",
    ]
    assert state.open == {"USD": 0} and state.signed_by == "park"
    assert {t.by for t in ts} == {"kim", "smith", "park", "lee"}  # every step is attributed


def test_close_refusal_lists_every_missing_piece(loaded: Store, world: Registry) -> None:
    oid = drive(loaded, world, "invoiced")
    S.attach(loaded, world, oid, kind="order", content=b"x", filename="o", by="lee", on=day(4))
    with pytest.raises(OrderRefused) as err:
        S.close(loaded, world, oid, by="lee", on=day(5))
    msg = str(err.value)
    assert err.value.rules == ["SETTLEMENT"]
    assert "receipt, invoice, settlement" in msg  # the documents not attached
    assert "2450.00 USD is still open" in msg
    assert "kor-usa-mlsa-1988 Article V" in msg  # the agreement's settlement article


def test_partial_settlement_in_several_steps(loaded: Store, world: Registry) -> None:
    oid = drive(loaded, world, "invoiced")
    s = S.settle(
        loaded, world, oid, method="cash", amount=100000, currency="USD", by="lee", on=day(5)
    )
    assert (s.status, s.open) == ("invoiced", {"USD": 145000})
    s = S.settle(
        loaded, world, oid, method="cash", amount=145000, currency="USD", by="lee", on=day(6)
    )
    assert (s.status, s.open, s.settled) == ("settled", {"USD": 0}, {"USD": 245000})


@pytest.mark.parametrize(
    ("what", "call"),
    [
        pytest.param(
            "wrong-method",
            lambda s, r, i: S.settle(
                s, r, i, method="replacement-in-kind", amount=100, currency="USD", by="l", on=day(5)
            ),
            id="settle-by-other-method-than-fixed-SETTLEMENT",
        ),
        pytest.param(
            "over-open",
            lambda s, r, i: S.settle(
                s, r, i, method="cash", amount=245001, currency="USD", by="l", on=day(5)
            ),
            id="settle-more-than-open-SETTLEMENT",
        ),
        pytest.param(
            "other-currency",
            lambda s, r, i: S.settle(
                s, r, i, method="cash", amount=100, currency="KRW", by="l", on=day(5)
            ),
            id="settle-in-currency-not-owed-SETTLEMENT",
        ),
    ],
)
def test_settlement_refusals(
    loaded: Store, world: Registry, what: str, call: Callable[[Store, Registry, str], OrderState]
) -> None:
    oid = drive(loaded, world, "invoiced")
    before = S.get(loaded, oid)
    with pytest.raises(OrderRefused) as err:
        call(loaded, world, oid)
    assert err.value.rules == ["SETTLEMENT"]
    assert S.get(loaded, oid) == before


def test_invoice_above_the_value_received_is_refused(loaded: Store, world: Registry) -> None:
    oid = drive(loaded, world, "delivered")
    with pytest.raises(OrderRefused) as err:
        S.invoice(loaded, world, oid, by="smith", amounts={"USD": 245001}, on=day(3))
    assert err.value.rules == ["SETTLEMENT"] and "exceeds the value received" in str(err.value)
    s = S.invoice(loaded, world, oid, by="smith", amounts={"USD": 200000}, on=day(3))
    assert s.due == {"USD": 200000} and s.open == {"USD": 200000}


def test_separation_of_duties_the_orderer_cannot_sign_the_receipt(
    loaded: Store, world: Registry
) -> None:
    oid = drive(loaded, world, "accepted")
    with pytest.raises(OrderRefused) as err:
        S.deliver(loaded, world, oid, signed_by="kim", by="kim", on=day(2))
    assert err.value.rules == ["SETTLEMENT"] and "separation of duties" in str(err.value)
    assert S.get(loaded, oid)[0].status == "accepted"
    # Whoever amended the order ordered it too.
    S.amend(
        loaded, world, oid, lines=S.parse_lines(["food:10:meal:12.50:USD"]), by="choi", on=day(2)
    )
    S.accept(loaded, world, oid, by="smith", on=day(2))
    with pytest.raises(OrderRefused):
        S.deliver(loaded, world, oid, signed_by="choi", by="choi", on=day(3))
    assert (
        S.deliver(loaded, world, oid, signed_by="park", by="park", on=day(3)).status == "delivered"
    )


def test_receipt_records_quantities_actually_received(loaded: Store, world: Registry) -> None:
    oid = drive(loaded, world, "accepted")
    s = S.deliver(
        loaded,
        world,
        oid,
        signed_by="park",
        by="park",
        received={"food": "90", "2": "500.5"},
        on=day(2),
    )
    # 90 × 12.50 + 500.5 × 1.20 = 1125.00 + 600.60
    assert s.delivered == {"USD": 172560} and s.due == {"USD": 172560}
    with pytest.raises(InputError):
        S.deliver(
            loaded,
            world,
            drive(loaded, world, "accepted"),
            signed_by="p",
            by="p",
            received={"1": "101"},
            on=day(2),
        )


def test_a_step_cannot_be_dated_before_the_previous_one(loaded: Store, world: Registry) -> None:
    oid = drive(loaded, world, "accepted")
    with pytest.raises(OrderRefused) as err:
        S.deliver(loaded, world, oid, signed_by="park", by="park", on=date(2024, 2, 1))
    assert err.value.rules == ["WORKFLOW"]


def test_amending_an_accepted_order_needs_a_new_acceptance(loaded: Store, world: Registry) -> None:
    oid = drive(loaded, world, "accepted")
    s = S.amend(
        loaded, world, oid, lines=S.parse_lines(["water:10:t:100:USD"]), by="kim", on=day(2)
    )
    assert (s.status, s.method_fixed, s.ordered) == ("requested", False, {"USD": 100000})
    with pytest.raises(OrderRefused) as err:
        S.amend(
            loaded, world, oid, lines=S.parse_lines(["weapons:1:ea:1:USD"]), by="kim", on=day(2)
        )
    assert err.value.rules == ["LOGISTICS_SCOPE"]
    assert S.get(loaded, oid)[0].ordered == {"USD": 100000}


@pytest.mark.parametrize(
    ("parties", "method", "deadline"),
    [
        pytest.param(("KOR", "USA"), "cash", date(2024, 4, 3), id="cash-default-30d-after-invoice"),
        pytest.param(
            ("KOR", "USA"),
            "replacement-in-kind",
            date(2025, 3, 3),
            id="rik-default-1y-after-delivery",
        ),
        pytest.param(
            ("KOR", "USA"),
            "equal-value-exchange",
            date(2025, 3, 3),
            id="eve-default-1y-after-delivery",
        ),
        pytest.param(
            ("KOR", "CAN"), "cash", date(2024, 4, 18), id="cash-agreement-45d-after-invoice"
        ),
        pytest.param(
            ("KOR", "CAN"),
            "replacement-in-kind",
            date(2024, 8, 30),
            id="rik-agreement-180d-after-delivery",
        ),
    ],
)
def test_deadline_fixed_at_acceptance(
    loaded: Store,
    world: Registry,
    parties: tuple[str, str],
    method: str,
    deadline: date,
) -> None:
    o = new(loaded, world, settlement="cash", requester=parties[0], supplier=parties[1])
    s = S.accept(loaded, world, o.id, by="smith", on=day(1), method=method)
    assert s.method == method and s.method_fixed and s.deadline is None
    s = S.deliver(loaded, world, o.id, signed_by="park", by="park", on=day(2))
    s = S.invoice(loaded, world, o.id, by="smith", on=day(3))
    assert s.deadline == deadline


def test_unknown_order_is_not_found(loaded: Store, world: Registry) -> None:
    with pytest.raises(NotFound):
        S.accept(loaded, world, "KOR-USA-nope", by="x", on=D)
