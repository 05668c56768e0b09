"""Properties of the ledger over random sequences of valid and invalid operations (hypothesis),
on every backend:

- balances always equal the sum of the open amounts a replay of the transitions gives, and every
  derived row (orders, order_amounts, order_postings) equals its transitions (`reports.verify`);
- no order closes unsettled, without a receipt or without its documents (R12);
- money is conserved per currency: due = settled + open, settled ≤ due ≤ delivered ≤ ordered,
  and a settlement moves exactly its amount in its own currency and nothing in any other;
- a rejected operation changes nothing: every logistics table is identical before and after.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accord.errors import InputError
from accord.logistics import reports
from accord.logistics import service as S
from accord.logistics.model import METHODS, OrderState
from accord.logistics.rules import OrderRefused
from accord.registry.model import Registry
from accord.store import Store
from accord.store.schema import LOGISTICS_TABLES

PAIRS = (("KOR", "USA"), ("USA", "KOR"), ("KOR", "CAN"))
POOL = (
    "food:{q}:meal:12.50:USD",
    "petroleum:{q}:l:1450:KRW",
    "water:{q}:t:3.05:CAD",
    "weapons:{q}:ea:100.00:USD",  # never covered (R11)
    "training:{q}:day:500.00:CAD",  # not covered by kor-can-mlsa (R11)
)

# property-based (hypothesis): the full suite runs it, the fast loop does not.
pytestmark = pytest.mark.slow
PURPOSES = ("exercise", "exercise", "humanitarian-relief")
SIGNERS = ("kim", "park", "choi")  # kim orders every order
DOCS = ("order", "receipt", "invoice", "settlement")
START = date(2024, 1, 1)

op_strategy = st.tuples(
    st.sampled_from(
        [
            "create",
            "create",
            "accept",
            "reject",
            "cancel",
            "amend",
            "deliver",
            "deliver",
            "invoice",
            "invoice",
            "settle",
            "settle",
            "settle",
            "attach",
            "attach",
            "close",
            *["advance"] * 8,
            "finish",
        ]
    ),
    st.integers(0, 3),  # which order (by creation index)
    st.integers(0, 31),  # a choice: lines mask, method, signer, document kind
    st.integers(0, 12),  # a fraction in tenths (above 10 overshoots)
    st.integers(-1, 4),  # days since the previous step (negative: dated in the past)
)


def _snapshot(store: Store) -> dict[str, list[tuple[str, ...]]]:
    out = {}
    with store.read() as conn:
        for t in LOGISTICS_TABLES:
            rows = conn.execute(sa.select(t)).all()
            out[t.name] = sorted(tuple(repr(v) for v in r) for r in rows)
    return out


def _clear(store: Store) -> None:
    with store.begin() as conn:
        for t in reversed(LOGISTICS_TABLES):
            conn.execute(sa.delete(t))


def _states(store: Store) -> list[OrderState]:
    return [S.get(store, r["id"])[0] for r in S.list_orders(store)]


def _lines(mask: int, q: int) -> tuple[Any, ...]:
    mask = mask if mask >= 24 else mask & 0b111  # out-of-scope lines one time in four
    chosen = [p.format(q=q + 1) for i, p in enumerate(POOL) if mask & (1 << i)] or [
        POOL[0].format(q=1)
    ]
    return S.parse_lines(chosen)


def _run(
    store: Store, world: Registry, ids: list[str], op: tuple[str, int, int, int, int], on: date
) -> OrderState:
    kind, idx, choice, tenth, _ = op
    if kind == "create" or not ids:
        req, sup = PAIRS[choice % len(PAIRS)]
        s = S.create(
            store,
            world,
            requester=req,
            supplier=sup,
            purpose=PURPOSES[tenth % len(PURPOSES)],
            order_date=on,
            settlement=METHODS[choice % 3],
            lines=_lines(choice, tenth),
            by="kim",
        )
        ids.append(s.id)
        return s
    oid = ids[idx % len(ids)]
    cur, _ = S.get(store, oid)
    if kind == "finish":  # the whole happy path, step by step, as far as it goes
        state = _run(store, world, ids, ("advance", idx, choice, 10, 0), on)
        for _ in range(10):
            if state.status in ("closed", "rejected", "cancelled"):
                break
            try:
                state = _run(store, world, ids, ("advance", idx, choice, 10, 0), on)
            except OrderRefused:
                break
        return state
    if kind == "advance":  # the next step of the happy path, whatever the state
        missing = [k for k in DOCS if k not in cur.document_kinds()]
        if cur.status == "requested":
            return S.accept(store, world, oid, by="smith", on=on)
        if cur.status == "accepted":
            return S.deliver(store, world, oid, signed_by="park", by="park", on=on)
        if cur.status == "delivered":
            return S.invoice(store, world, oid, by="smith", on=on)
        if cur.status == "invoiced":
            c = next(c for c, v in cur.open.items() if v > 0)
            amount = cur.open[c] if tenth > 4 else max(1, cur.open[c] // 2)
            return S.settle(
                store, world, oid, method=cur.method, amount=amount, currency=c, by="lee", on=on
            )
        if missing:
            k = missing[0]
            return S.attach(
                store, world, oid, kind=k, content=oid.encode(), filename=k, by="lee", on=on
            )
        return S.close(store, world, oid, by="lee", on=on)
    if kind == "accept":
        return S.accept(store, world, oid, by="smith", on=on, method=METHODS[choice % 3])
    if kind == "reject":
        return S.reject(store, world, oid, reason="no stock", by="smith", on=on)
    if kind == "cancel":
        return S.cancel(store, world, oid, reason="called off", by="kim", on=on)
    if kind == "amend":
        return S.amend(store, world, oid, lines=_lines(choice, tenth), by="kim", on=on)
    if kind == "deliver":
        received = (
            {str(ln.no): str(ln.quantity * tenth // 10) for ln in cur.lines} if tenth < 10 else None
        )
        return S.deliver(
            store, world, oid, signed_by=SIGNERS[choice % 3], by="park", received=received, on=on
        )
    if kind == "invoice":
        amounts = {c: v * tenth // 10 for c, v in cur.delivered.items()}
        return S.invoice(store, world, oid, by="smith", amounts=amounts, on=on)
    if kind == "settle":
        curs = cur.currencies() or ["USD"]
        c = curs[choice % len(curs)]
        amount = max(1, cur.open.get(c, 0) * tenth // 10)
        method = cur.method if choice % 4 else METHODS[(choice // 4) % 3]
        return S.settle(
            store, world, oid, method=method, amount=amount, currency=c, by="lee", on=on
        )
    if kind == "attach":
        k = DOCS[choice % 4]
        return S.attach(
            store,
            world,
            oid,
            kind=k,
            content=f"{oid}:{k}:{tenth}".encode(),
            filename=k,
            by="lee",
            on=on,
        )
    return S.close(store, world, oid, by="lee", on=on)


def _check_invariants(store: Store) -> None:
    assert reports.verify(store) == []
    states = _states(store)
    # Balances equal the sum of open amounts, from either party's point of view.
    for party in ("KOR", "USA", "CAN"):
        expected: dict[tuple[str, str], list[int]] = {}
        for s in states:
            o = s.order
            if party not in (o.requester, o.supplier):
                continue
            partner = o.requester if o.supplier == party else o.supplier
            for c, v in s.open.items():
                if v:
                    e = expected.setdefault((partner, c), [0, 0])
                    e[0 if o.supplier == party else 1] += v
        got = {
            (r["partner"], r["currency"]): [r["receivable"], r["payable"]]
            for r in reports.balances(store, party)
        }
        assert got == expected
    kor = {(r["partner"], r["currency"]): r for r in reports.balances(store, "KOR")}
    for r in reports.balances(store, "USA"):
        assert (r["receivable"], r["payable"]) == (
            kor[("USA", r["currency"])]["payable"],
            kor[("USA", r["currency"])]["receivable"],
        )
    totals: dict[str, list[int]] = {}
    for s in states:
        if s.status == "closed":  # R12: never closed unsettled, without receipt or documents
            assert all(v == 0 for v in s.open.values())
            assert s.signed_by is not None and s.invoiced is not None
            assert set(DOCS) <= s.document_kinds()
        for c in s.currencies():
            due, settled, opened = s.due.get(c, 0), s.settled.get(c, 0), s.open.get(c, 0)
            assert due == settled + opened and 0 <= settled <= due
            assert due <= s.delivered.get(c, 0) <= s.ordered.get(c, 0) or s.invoiced is None
            t = totals.setdefault(c, [0, 0, 0])
            t[0] += due
            t[1] += settled
            t[2] += opened
    for c, (due, settled, opened) in totals.items():
        assert due == settled + opened, c


def _settled_totals(store: Store) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in _states(store):
        for c, v in s.settled.items():
            out[c] = out.get(c, 0) + v
    return out


EXAMPLES = int(os.environ.get("ACCORD_HYPOTHESIS_EXAMPLES", "60"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(op_strategy, min_size=5, max_size=40))
def test_random_operations_keep_the_ledger_sound(
    loaded: Store, world: Registry, ops: list[tuple[str, int, int, int, int]]
) -> None:
    _clear(loaded)
    ids: list[str] = []
    on = START
    for op in ops:
        on = on + timedelta(days=op[4])
        before = _snapshot(loaded)
        settling = op[0] == "settle" and bool(ids)
        settled_before = _settled_totals(loaded) if settling else {}
        try:
            result = _run(loaded, world, ids, op, on)
        except InputError:
            event(f"{op[0]}: malformed")
            assert _snapshot(loaded) == before  # malformed: nothing written
            continue
        except Exception as exc:  # a refusal by R10–R12 or the workflow
            assert isinstance(exc, OrderRefused), exc
            event(f"{op[0]}: refused {getattr(exc, 'rules', '')}")
            assert _snapshot(loaded) == before  # a rejected operation changes nothing
            continue
        assert _snapshot(loaded) != before
        event(f"reached {result.status}")
        if settling:
            after = _settled_totals(loaded)
            moved = {
                c: after.get(c, 0) - settled_before.get(c, 0)
                for c in set(after) | set(settled_before)
            }
            nonzero = {c: v for c, v in moved.items() if v}
            assert len(nonzero) == 1 and list(nonzero.values())[0] > 0  # one currency only
            assert result.settled  # and the order records it
        _check_invariants(loaded)
