"""Balances, ageing and the annual report, from this node's party's point of view
(domain.md §3.5 item 4, §3.6 "Reporting").

Every figure is an SQL aggregate over `order_amounts` (current amounts, partial indexes on open
rows) or `order_postings` (the journal, for a balance on a past date) — never a Python loop over
orders. `verify` replays every order's transitions and checks those derived rows against them.
Amounts are minor units; `present` adds the decimal text for output. CSV and JSON come from the
same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from accord import clock
from accord.logistics import ledger, money
from accord.logistics.model import CANCELLED, REJECTED
from accord.store import Store
from accord.store.schema import order_amounts as A
from accord.store.schema import order_postings as P
from accord.store.schema import orders as O

# Ageing buckets by days overdue (the deadline is R12's: cash 30 days after the invoice, in kind
# and exchange one year after delivery, unless the agreement says otherwise).
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-29", 1, 29),
    ("30-89", 30, 89),
    ("90-179", 90, 179),
    ("180-364", 180, 364),
    ("365+", 365, None),
)
BUCKET_NAMES: tuple[str, ...] = ("current", *(b[0] for b in BUCKETS))


def _pov(requester: str, supplier: str, party: str) -> tuple[str, str]:
    """Returns (partner, direction) for a row: we supply → receivable, we request → payable."""
    return (requester, "receivable") if supplier == party else (supplier, "payable")


def _involves(table: Any, party: str) -> Any:
    return sa.or_(table.c.requester == party, table.c.supplier == party)


def balances(
    store: Store, party: str, partner: str | None = None, at: date | None = None
) -> list[dict[str, Any]]:
    """Returns per partner and currency what `party` is owed (receivable), owes (payable) and the
    net, in minor units: the open amounts now, or with `at` as they stood at the end of that day
    (today's, less the journal's postings dated after `at`). Only non-zero balances are listed."""
    now = (
        sa.select(A.c.requester, A.c.supplier, A.c.currency, sa.func.sum(A.c.open_minor))
        .where(A.c.open_minor > 0, _involves(A, party))
        .group_by(A.c.requester, A.c.supplier, A.c.currency)
    )
    # On a past date: the balance now minus what was posted after that date (the postings of an
    # order sum to its open amount; `reports.verify` checks it). Recent dates read few postings.
    later = (
        sa.select(
            P.c.requester,
            P.c.supplier,
            P.c.currency,
            sa.func.sum(P.c.settled_delta - P.c.due_delta),
        )
        .where(P.c.date > at, _involves(P, party))
        .group_by(P.c.requester, P.c.supplier, P.c.currency)
        if at is not None
        else None
    )
    acc: dict[tuple[str, str], dict[str, Any]] = {}
    with store.read() as conn:
        results = list(conn.execute(now))
        if later is not None:
            results += list(conn.execute(later))
        for req, sup, cur, total in results:
            other, direction = _pov(req, sup, party)
            if partner is not None and other != partner:
                continue
            row = acc.setdefault(
                (other, cur),
                {"party": party, "partner": other, "currency": cur, "receivable": 0, "payable": 0},
            )
            row[direction] += int(total or 0)
    out = []
    for key in sorted(acc):
        row = acc[key]
        row["net"] = row["receivable"] - row["payable"]
        if row["receivable"] or row["payable"]:
            out.append(row)
    return out


def ageing(store: Store, party: str, at: date | None = None) -> list[dict[str, Any]]:
    """Returns the open amounts by partner, currency and direction, split into buckets of days
    overdue on `at` (default today): `current` (not yet due, or no deadline yet), 1-29, 30-89,
    90-179, 180-364, 365+; plus `orders` (how many are open) and `overdue_orders`."""
    day = at or clock.utc_today()
    cols: list[Any] = [
        sa.func.sum(
            sa.case((sa.or_(A.c.deadline.is_(None), A.c.deadline >= day), A.c.open_minor), else_=0)
        ).label("current")
    ]
    for name, lo, hi in BUCKETS:
        cond = A.c.deadline <= day - timedelta(days=lo)
        if hi is not None:
            cond = sa.and_(cond, A.c.deadline >= day - timedelta(days=hi))
        cols.append(sa.func.sum(sa.case((cond, A.c.open_minor), else_=0)).label(name))
    cols.append(sa.func.count().label("orders"))
    cols.append(sa.func.sum(sa.case((A.c.deadline < day, 1), else_=0)).label("overdue_orders"))
    q = (
        sa.select(A.c.requester, A.c.supplier, A.c.currency, *cols)
        .where(A.c.open_minor > 0, _involves(A, party))
        .group_by(A.c.requester, A.c.supplier, A.c.currency)
    )
    acc: dict[tuple[str, str, str], dict[str, Any]] = {}
    with store.read() as conn:
        for r in conn.execute(q):
            m = r._mapping
            other, direction = _pov(m["requester"], m["supplier"], party)
            key = (direction, other, m["currency"])
            row = acc.setdefault(
                key,
                {
                    "party": party,
                    "direction": direction,
                    "partner": other,
                    "currency": m["currency"],
                    **{b: 0 for b in BUCKET_NAMES},
                    "total": 0,
                    "orders": 0,
                    "overdue_orders": 0,
                },
            )
            for b in BUCKET_NAMES:
                row[b] += int(m[b] or 0)
                row["total"] += int(m[b] or 0)
            row["orders"] += int(m["orders"])
            row["overdue_orders"] += int(m["overdue_orders"] or 0)
    return [acc[k] for k in sorted(acc)]


def annual(store: Store, party: str, year: int) -> list[dict[str, Any]]:
    """Returns the annual report for orders dated in `year` (calendar year), by partner, direction
    (acquisition: `party` received; transfer: `party` supplied), agreement, fund and settlement
    method (cash is reimbursable; in kind and exchange are reciprocal provision), per currency:
    number of orders, ordered, delivered, due, settled and open. Rejected and cancelled orders
    are left out (domain.md §3.6)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    q = (
        sa.select(
            A.c.requester,
            A.c.supplier,
            A.c.agreement,
            A.c.fund,
            A.c.method,
            A.c.currency,
            sa.func.count().label("orders"),
            sa.func.sum(A.c.ordered_minor).label("ordered"),
            sa.func.sum(A.c.delivered_minor).label("delivered"),
            sa.func.sum(A.c.due_minor).label("due"),
            sa.func.sum(A.c.settled_minor).label("settled"),
            sa.func.sum(A.c.open_minor).label("open"),
        )
        .where(
            A.c.order_date >= first,
            A.c.order_date <= last,
            A.c.status.not_in([REJECTED, CANCELLED]),
            _involves(A, party),
        )
        .group_by(A.c.requester, A.c.supplier, A.c.agreement, A.c.fund, A.c.method, A.c.currency)
    )
    out = []
    with store.read() as conn:
        for r in conn.execute(q):
            m = r._mapping
            other, direction = _pov(m["requester"], m["supplier"], party)
            out.append(
                {
                    "year": year,
                    "party": party,
                    "partner": other,
                    "direction": "transfer" if direction == "receivable" else "acquisition",
                    "agreement": m["agreement"],
                    "fund": m["fund"] or "",
                    "method": m["method"],
                    "reimbursable": m["method"] == "cash",
                    "currency": m["currency"],
                    "orders": int(m["orders"]),
                    **{
                        k: int(m[k] or 0)
                        for k in ("ordered", "delivered", "due", "settled", "open")
                    },
                }
            )
    out.sort(
        key=lambda r: (
            r["partner"],
            r["direction"],
            r["agreement"],
            r["fund"],
            r["method"],
            r["currency"],
        )
    )
    return out


BALANCE_AMOUNTS = ("receivable", "payable", "net")
AGEING_AMOUNTS = (*BUCKET_NAMES, "total")
ANNUAL_AMOUNTS = ("ordered", "delivered", "due", "settled", "open")
#: The columns of each report as CSV (`accord ledger … --csv` and the web ledger's downloads).
BALANCE_COLUMNS = ("partner", "currency", "receivable", "payable", "net")
AGEING_COLUMNS = ("direction", "partner", "currency", *BUCKET_NAMES, "total", "orders")
ANNUAL_COLUMNS = (
    "year",
    "partner",
    "direction",
    "agreement",
    "fund",
    "method",
    "currency",
    "orders",
    "ordered",
    "delivered",
    "due",
    "settled",
    "open",
)


def present(rows: Iterable[dict[str, Any]], amounts: Sequence[str]) -> list[dict[str, Any]]:
    """Returns rows with each amount as decimal text in its currency and the integer kept as
    `<name>_minor`, for JSON and CSV."""
    out = []
    for r in rows:
        row = dict(r)
        for k in amounts:
            row[k + "_minor"] = r[k]
            row[k] = money.format_amount(r[k], r["currency"])
        out.append(row)
    return out


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Returns the rows as CSV text with a header row of `columns`."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def verify(store: Store) -> list[str]:
    """Replays every order's transitions and returns each way the derived rows (orders,
    order_amounts, order_postings) differ from them; an empty list means they agree."""
    problems: list[str] = []
    with store.read() as conn:
        for oid in ledger.order_ids(conn):
            state = ledger.load_state(conn, oid)
            assert state is not None
            row = conn.execute(sa.select(O).where(O.c.id == oid)).one()._mapping
            for k, v in (
                ("status", state.status),
                ("deadline", state.deadline),
                ("last_seq", state.seq),
            ):
                if row[k] != v:
                    problems.append(f"{oid}: orders.{k} is {row[k]!r}, the transitions say {v!r}")
            stored = {
                r["currency"]: dict(r)
                for r in (x._mapping for x in conn.execute(sa.select(A).where(A.c.order_id == oid)))
            }
            expected = {r["currency"]: r for r in ledger.amount_rows(state)}
            if set(stored) != set(expected):
                problems.append(f"{oid}: amounts in {sorted(stored)}, expected {sorted(expected)}")
            for cur, exp in expected.items():
                got = stored.get(cur, {})
                for k in ("due_minor", "settled_minor", "open_minor", "delivered_minor", "status"):
                    if got.get(k) != exp[k]:
                        problems.append(f"{oid} {cur}: {k} is {got.get(k)!r}, expected {exp[k]!r}")
            sums = conn.execute(
                sa.select(P.c.currency, sa.func.sum(P.c.due_delta), sa.func.sum(P.c.settled_delta))
                .where(P.c.order_id == oid)
                .group_by(P.c.currency)
            ).all()
            journal = {c: (int(d), int(s)) for c, d, s in sums}
            for cur in state.currencies():
                want = (state.due.get(cur, 0), state.settled.get(cur, 0))
                if journal.get(cur, (0, 0)) != want:
                    problems.append(
                        f"{oid} {cur}: postings sum to {journal.get(cur)}, expected {want}"
                    )
    return problems
