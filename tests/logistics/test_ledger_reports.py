"""Balances, ageing and the annual report from this node's point of view (KOR), on every
backend: figures are checked against orders whose deadlines and amounts are known by hand."""

from __future__ import annotations

import csv
import io
from datetime import date

from accord.logistics import reports
from accord.logistics import service as S
from accord.registry.model import Registry
from accord.store import Store


def _order(
    store: Store,
    world: Registry,
    req: str,
    sup: str,
    line: str,
    method: str,
    on: date,
    steps: str,
    fund: str | None = None,
    paid: int = 0,
) -> str:
    """Creates an order and takes it through `steps` (a=accept, d=deliver, i=invoice)."""
    s = S.create(
        store,
        world,
        requester=req,
        supplier=sup,
        purpose="exercise",
        order_date=on,
        settlement=method,
        lines=S.parse_lines([line]),
        by="kim",
        fund=fund,
    )
    if "a" in steps:
        S.accept(store, world, s.id, by="smith", on=on)
    if "d" in steps:
        S.deliver(store, world, s.id, signed_by="park", by="park", on=on)
    if "i" in steps:
        S.invoice(store, world, s.id, by="smith", on=on)
    if paid:
        cur = S.get(store, s.id)[0].currencies()[0]
        S.settle(store, world, s.id, method=method, amount=paid, currency=cur, by="lee", on=on)
    return s.id


def _world(store: Store, world: Registry) -> dict[str, str]:
    ids = {
        # KOR buys from USA, cash: invoiced 2024-11-01 → due 2024-12-01 → 30 days overdue.
        "pay-usd-30": _order(
            store,
            world,
            "KOR",
            "USA",
            "food:100:meal:10.00:USD",
            "cash",
            date(2024, 11, 1),
            "adi",
            fund="OM-24",
        ),
        # KOR buys from USA, cash: invoiced 2024-12-20 → due 2025-01-19 → current.
        "pay-usd-current": _order(
            store,
            world,
            "KOR",
            "USA",
            "water:1:t:250.00:USD",
            "cash",
            date(2024, 12, 20),
            "adi",
            fund="OM-24",
        ),
        # KOR supplies USA, RIK: delivered 2023-06-01 → due 2024-06-01 → 213 days overdue.
        "recv-krw-180": _order(
            store,
            world,
            "USA",
            "KOR",
            "petroleum:1000:l:1500:KRW",
            "replacement-in-kind",
            date(2023, 6, 1),
            "ad",
        ),
        # KOR supplies CAN, cash: invoiced 2023-01-02 → due 2023-02-16 (45 days) → 684 days overdue; half paid.
        "recv-cad-365": _order(
            store,
            world,
            "CAN",
            "KOR",
            "food:10:t:100.00:CAD",
            "cash",
            date(2023, 1, 2),
            "adi",
            paid=50000,
        ),
        # Accepted only: nothing is owed yet.
        "accepted-only": _order(
            store, world, "KOR", "USA", "food:1:t:99.00:USD", "cash", date(2024, 12, 1), "a"
        ),
    }
    return ids


def test_balances_receivable_and_payable_per_partner_and_currency(
    loaded: Store, world: Registry
) -> None:
    _world(loaded, world)
    rows = reports.balances(loaded, "KOR")
    assert [
        (r["partner"], r["currency"], r["receivable"], r["payable"], r["net"]) for r in rows
    ] == [
        ("CAN", "CAD", 50000, 0, 50000),
        ("USA", "KRW", 1500000, 0, 1500000),
        ("USA", "USD", 0, 125000, -125000),
    ]
    usa = reports.balances(loaded, "USA")
    assert [(r["partner"], r["currency"], r["receivable"], r["payable"]) for r in usa] == [
        ("KOR", "KRW", 0, 1500000),
        ("KOR", "USD", 125000, 0),
    ]
    assert [r["partner"] for r in reports.balances(loaded, "KOR", partner="CAN")] == ["CAN"]
    # On a past date the journal gives the balance then: on 2023-12-31 only 2023's orders counted.
    past = reports.balances(loaded, "KOR", at=date(2023, 12, 31))
    assert [(r["partner"], r["currency"], r["net"]) for r in past] == [
        ("CAN", "CAD", 50000),
        ("USA", "KRW", 1500000),
    ]
    before_payment = reports.balances(loaded, "KOR", at=date(2023, 1, 1))
    assert before_payment == []


def test_ageing_buckets_by_days_overdue(loaded: Store, world: Registry) -> None:
    _world(loaded, world)
    rows = reports.ageing(loaded, "KOR", date(2024, 12, 31))
    got = {
        (r["direction"], r["partner"], r["currency"]): {
            b: r[b] for b in reports.BUCKET_NAMES if r[b]
        }
        for r in rows
    }
    assert got == {
        ("payable", "USA", "USD"): {"current": 25000, "30-89": 100000},
        ("receivable", "USA", "KRW"): {"180-364": 1500000},
        ("receivable", "CAN", "CAD"): {"365+": 50000},
    }
    # The day before a deadline it is current; the day after, 1-29 (ageing counts today's open
    # amounts against the date, so the order invoiced on 2024-12-20 is current on both days).
    day_before = reports.ageing(loaded, "KOR", date(2024, 11, 30))
    usd = next(r for r in day_before if r["currency"] == "USD")
    assert (usd["current"], usd["1-29"]) == (125000, 0)
    day_after = reports.ageing(loaded, "KOR", date(2024, 12, 2))
    usd = next(r for r in day_after if r["currency"] == "USD")
    assert (usd["current"], usd["1-29"]) == (25000, 100000)


def test_annual_report_by_partner_agreement_and_fund(loaded: Store, world: Registry) -> None:
    _world(loaded, world)
    rows = reports.annual(loaded, "KOR", 2024)
    assert [
        (
            r["partner"],
            r["direction"],
            r["agreement"],
            r["fund"],
            r["currency"],
            r["orders"],
            r["ordered"],
            r["delivered"],
            r["settled"],
            r["open"],
        )
        for r in rows
    ] == [
        ("USA", "acquisition", "kor-usa-mlsa-1988", "", "USD", 1, 9900, 0, 0, 0),
        ("USA", "acquisition", "kor-usa-mlsa-1988", "OM-24", "USD", 2, 125000, 125000, 0, 125000),
    ]
    rows23 = reports.annual(loaded, "KOR", 2023)
    assert [(r["partner"], r["direction"], r["method"], r["reimbursable"]) for r in rows23] == [
        ("CAN", "transfer", "cash", True),
        ("USA", "transfer", "replacement-in-kind", False),
    ]


def test_reports_export_to_csv_and_json_with_exact_decimals(loaded: Store, world: Registry) -> None:
    _world(loaded, world)
    rows = reports.present(reports.balances(loaded, "KOR"), reports.BALANCE_AMOUNTS)
    assert rows[0]["receivable"] == "500.00" and rows[0]["receivable_minor"] == 50000
    assert rows[1]["receivable"] == "1500000"  # KRW has no minor unit
    text = reports.to_csv(rows, ["partner", "currency", "receivable", "payable", "net"])
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[2] == {
        "partner": "USA",
        "currency": "USD",
        "receivable": "0.00",
        "payable": "1250.00",
        "net": "-1250.00",
    }


def test_derived_rows_equal_the_transitions(loaded: Store, world: Registry) -> None:
    _world(loaded, world)
    assert reports.verify(loaded) == []
