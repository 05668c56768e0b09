"""Benchmark of the logistics ledger (issue 6), one command:

    .venv/bin/python bench/bench_ledger.py [--pg-url postgresql://USER@HOST:PORT/DB]
        [--orders 1000000] [--workflow 200] [--runs 3]

1. Workflow throughput: orders per second through the whole workflow (create → accept → deliver
   → invoice → settle → 4 × attach → close: 10 transitions, each its own write transaction)
   through `accord.logistics.service`, on SQLite and on PostgreSQL.
2. Reports at scale: `--orders` orders bulk-loaded (executemany on SQLite, COPY on PostgreSQL)
   into `orders`, `order_amounts` and `order_postings` in the shape `accord.logistics.ledger`
   writes them, then the balance (now and on a past date), ageing and annual-report queries timed.

Prints the median of `--runs` runs of each figure. PostgreSQL runs when --pg-url (or
ACCORD_BENCH_PG_URL) is given; each backend gets a fresh database that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from accord.logistics import reports
from accord.logistics import service as S
from accord.registry.model import Agreement, Event, Party, Registry, Scope
from accord.registry.service import import_registry
from accord.store import Store, open_store

PARTNERS = ("USA", "AUS", "CAN", "GBR", "FRA", "NZL")
CURRENCY = {"USA": "USD", "AUS": "AUD", "CAN": "CAD", "GBR": "GBP", "FRA": "EUR", "NZL": "NZD"}
CATS = ("food", "water", "petroleum", "transportation", "medical", "repair")


def _registry() -> Registry:
    return Registry(
        parties=tuple(Party(code=c, name=c) for c in ("KOR", *PARTNERS)),
        agreements=tuple(
            Agreement(
                id=f"kor-{p.lower()}-mlsa",
                title=f"KOR–{p} MLSA",
                kind="logistics-support",
                parties=("KOR", p),
                scope=Scope(purposes="all", categories=CATS),
                events=(Event(date=date(2000, 1, 1), kind="entered-into-force"),),
            )
            for p in PARTNERS
        ),
    )


@contextmanager
def fresh_store(backend: str, pg_url: str | None) -> Iterator[Store]:
    """Yields a new, migrated, empty store on `backend`; removes it afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            store = open_store(f"sqlite:///{Path(d) / 'bench.db'}")
            try:
                yield store
            finally:
                store.close()
        return
    assert pg_url is not None
    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    name = "accord_bench_" + uuid.uuid4().hex[:10]
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    store = open_store(pg_url.rsplit("/", 1)[0] + "/" + name)
    try:
        yield store
    finally:
        store.close()
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def workflow(store: Store, world: Registry, n: int) -> float:
    """Returns orders per second through the full workflow, for `n` orders."""
    lines = S.parse_lines(["food:100:meal:12.50:USD", "petroleum:1000:l:1.20:USD"])
    d0 = date(2024, 3, 1)
    t0 = time.perf_counter()
    for i in range(n):
        o = S.create(
            store,
            world,
            requester="KOR",
            supplier="USA",
            purpose="exercise",
            order_date=d0,
            settlement="cash",
            lines=lines,
            by="kim",
        )
        S.accept(store, world, o.id, by="smith", on=d0)
        S.deliver(store, world, o.id, signed_by="park", by="park", on=d0)
        S.invoice(store, world, o.id, by="smith", on=d0)
        S.settle(store, world, o.id, method="cash", amount=245000, currency="USD", by="lee", on=d0)
        for k in ("order", "receipt", "invoice", "settlement"):
            S.attach(
                store, world, o.id, kind=k, content=f"{i}{k}".encode(), filename=k, by="lee", on=d0
            )
        S.close(store, world, o.id, by="lee", on=d0)
    return n / (time.perf_counter() - t0)


def synthetic(
    n: int, seed: int = 6
) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    """Yields (orders row, order_amounts row, order_postings rows) for `n` orders, 2015–2024:
    70 % closed, 12 % invoiced (some part-settled), 8 % delivered, 5 % open requests, 5 %
    rejected or cancelled; both directions with six partners."""
    rnd = random.Random(seed)
    base = date(2015, 1, 1).toordinal()
    span = date(2024, 12, 31).toordinal() - base
    for i in range(n):
        partner = PARTNERS[i % len(PARTNERS)]
        req, sup = ("KOR", partner) if rnd.random() < 0.5 else (partner, "KOR")
        cur = CURRENCY[partner]
        od = date.fromordinal(base + rnd.randrange(span))
        method = ("cash", "cash", "replacement-in-kind", "equal-value-exchange")[rnd.randrange(4)]
        ordered = rnd.randrange(1_000, 5_000_000)
        r = rnd.random()
        delivered = due = settled = 0
        deadline = None
        postings = []
        if r < 0.05:
            status = "rejected" if r < 0.025 else "cancelled"
        elif r < 0.10:
            status = "requested" if r < 0.075 else "accepted"
        else:
            delivered = ordered
            due = delivered
            dd = od + timedelta(days=rnd.randrange(1, 30))
            if method != "cash":
                deadline = dd + timedelta(days=365)
            postings.append((dd, due, 0))
            if r < 0.18:
                status = "delivered"
            else:
                inv = dd + timedelta(days=rnd.randrange(1, 20))
                if method == "cash":
                    deadline = inv + timedelta(days=30)
                if r < 0.30:
                    status = "invoiced"
                    settled = due // 2 if rnd.random() < 0.5 else 0
                else:
                    status = "closed"
                    settled = due
                if settled:
                    postings.append((inv + timedelta(days=rnd.randrange(1, 60)), 0, settled))
        oid = f"{req}-{sup}-{i:012x}"
        order = {
            "id": oid,
            "requester": req,
            "supplier": sup,
            "agreement": f"kor-{partner.lower()}-mlsa",
            "arrangement": None,
            "purpose": "exercise",
            "exercise": None,
            "facility": None,
            "fund": f"FUND-{i % 4}",
            "order_date": od,
            "method": method,
            "status": status,
            "deadline": deadline,
            "last_seq": 1 + len(postings),
            "last_date": od,
        }
        amount = {
            "order_id": oid,
            "currency": cur,
            "requester": req,
            "supplier": sup,
            "agreement": order["agreement"],
            "fund": order["fund"],
            "method": method,
            "order_date": od,
            "status": status,
            "deadline": deadline,
            "ordered_minor": ordered,
            "delivered_minor": delivered,
            "due_minor": due,
            "settled_minor": settled,
            "open_minor": due - settled,
        }
        rows = [
            {
                "order_id": oid,
                "seq": k + 2,
                "currency": cur,
                "date": pd,
                "requester": req,
                "supplier": sup,
                "due_delta": dd_,
                "settled_delta": sd,
            }
            for k, (pd, dd_, sd) in enumerate(postings)
        ]
        yield order, amount, rows


TABLES = ("orders", "order_amounts", "order_postings")


def bulk_load(store: Store, n: int) -> float:
    """Loads `n` synthetic orders; returns the seconds it took (including ANALYZE)."""
    from accord.store.schema import order_amounts, order_postings, orders

    cols = {t.name: [c.name for c in t.columns] for t in (orders, order_amounts, order_postings)}
    t0 = time.perf_counter()
    batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()

        def flush() -> None:
            for t in TABLES:
                if not batch[t]:
                    continue
                if store.dialect == "sqlite":
                    marks = ",".join("?" * len(cols[t]))
                    cur.executemany(
                        f"INSERT INTO {t} ({','.join(cols[t])}) VALUES ({marks})", batch[t]
                    )
                else:
                    with cur.copy(f"COPY {t} ({','.join(cols[t])}) FROM STDIN") as cp:  # type: ignore[attr-defined]
                        for row in batch[t]:
                            cp.write_row(row)
                batch[t].clear()

        if store.dialect == "sqlite":
            cur.execute("BEGIN")
        for i, (o, a, ps) in enumerate(synthetic(n)):
            batch["orders"].append(tuple(o[c] for c in cols["orders"]))
            batch["order_amounts"].append(tuple(a[c] for c in cols["order_amounts"]))
            for p in ps:
                batch["order_postings"].append(tuple(p[c] for c in cols["order_postings"]))
            if i % 50_000 == 49_999:
                flush()
        flush()
        raw.commit()
        if store.dialect == "sqlite":
            cur.execute("ANALYZE")
        else:
            pg = raw.driver_connection
            pg.autocommit = True  # type: ignore[union-attr]
            pg.execute("VACUUM ANALYZE")  # type: ignore[union-attr]
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


def timed(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    fn()  # warm the cache once, as a running node would be
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--pg-url", default=os.environ.get("ACCORD_BENCH_PG_URL"))
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--workflow", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    backends = ["sqlite"] + (["postgresql"] if args.pg_url else [])
    print(
        f"# bench_ledger  {date.today().isoformat()}  nproc={os.cpu_count()}  "
        f"cpu={_cpu()}  python={platform.python_version()}"
    )
    if not args.pg_url:
        print("# PostgreSQL skipped: give --pg-url or ACCORD_BENCH_PG_URL")
    world = _registry()
    for backend in backends:
        rates = []
        for _ in range(args.runs):
            with fresh_store(backend, args.pg_url) as store:
                import_registry(store, world, actor="bench")
                rates.append(workflow(store, world, args.workflow))
        print(
            f"{backend:10s} workflow create→close: {statistics.median(rates):8.1f} orders/s "
            f"(median of {args.runs} × {args.workflow} orders, 10 transitions each)"
        )
        sys.stdout.flush()
        with fresh_store(backend, args.pg_url) as store:
            load = bulk_load(store, args.orders)
            print(f"{backend:10s} bulk load {args.orders:,} orders: {load:6.1f} s")
            figures = {
                "balances (now)": lambda: reports.balances(store, "KOR"),
                "balances --at 2022-12-31": lambda: reports.balances(
                    store, "KOR", at=date(2022, 12, 31)
                ),
                "ageing --at 2024-12-31": lambda: reports.ageing(store, "KOR", date(2024, 12, 31)),
                "report --year 2020": lambda: reports.annual(store, "KOR", 2020),
            }
            for label, fn in figures.items():
                secs, rows = timed(fn, args.runs)
                n_rows = len(rows) if isinstance(rows, list) else 0
                print(f"{backend:10s} {label:26s} {secs * 1000:8.1f} ms  ({n_rows} rows)")
                sys.stdout.flush()
    return 0


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
