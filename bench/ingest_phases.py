#!/usr/bin/env python3
"""Where an ingest envelope's time goes, in-process (issue #4), one command:

    .venv/bin/python bench/ingest_phases.py [--objects 20000] [--store PATH]

Stores `--objects` bench indicators (1,000 an envelope, each with its release marking) through
the TAXII node's own store path (`accord.taxii.views._store_envelope`) on a fresh SQLite store,
with the server's background checkpoints and collector settings, no HTTP. Prints each
envelope's time, then per phase the median per envelope: the structural checks (`prepare`), the
body's parse, the insert, the commit, the status resource, the receipt, the stored-version
lookup and other statements. The phases are timed by wrapping the functions and SQLAlchemy's
cursor events, which adds a little to the total.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402
import sqlalchemy.engine.default as sa_default  # noqa: E402
import taxii_bench  # noqa: E402
from sqlalchemy import event  # noqa: E402

from accord.exchange import ingest, publishing  # noqa: E402
from accord.exchange.collections import list_collections  # noqa: E402
from accord.exchange.markings import marking_definition  # noqa: E402
from accord.node import Node, node_config  # noqa: E402
from accord.policy.marking import Marking  # noqa: E402
from accord.principals import add_principal, authenticate  # noqa: E402
from accord.registry import service  # noqa: E402
from accord.server import settle_collector  # noqa: E402
from accord.settings import load_settings  # noqa: E402
from accord.store import open_store  # noqa: E402
from accord.taxii import views  # noqa: E402

current: dict[str, float] = defaultdict(float)


def timed(owner: Any, name: str, label: str) -> None:
    """Wraps owner.name so that its time adds to `current[label]`."""
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            current[label] += (time.perf_counter() - t0) * 1000

    setattr(owner, name, wrapper)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--objects", type=int, default=20_000)
    ap.add_argument("--store", type=Path, default=None, help="SQLite file (default: a temp dir)")
    a = ap.parse_args()
    path = a.store or Path(tempfile.mkdtemp(prefix="accord-phases-")) / "accord.db"
    store = open_store(f"sqlite:///{path}")
    service.load_demo(store)
    add_principal(store, "bench-analyst", "user", "KOR", secret="bench-analyst-pass",
                  clearance="II", groups=("bench",), roles=("analyst",))  # fmt: skip
    node = Node(store, "KOR", node_config(load_settings(), "KOR"))
    store.checkpoint_in_background()
    who = authenticate(store, "bench-analyst", "bench-analyst-pass")
    items = next(c for c in list_collections(store, "kor") if c.kind == "items")
    marking = marking_definition(Marking.of("KOR", "III", ["general-military"], groups=["bench"]))
    taxii_bench.RELEASE_MARKING = marking  # the objects carry it, as in bench_taxii.py
    objs = taxii_bench.make_indicators(a.objects)
    bodies = [
        orjson.dumps({"objects": [marking, *objs[i : i + 1000]]}) for i in range(0, len(objs), 1000)
    ]

    timed(ingest, "prepare", "checks (prepare)")
    timed(publishing, "record_ingest", "receipt")
    timed(views, "save_status", "status")
    timed(orjson, "loads", "parse")
    timed(sa_default.DefaultDialect, "do_commit", "commit")

    @event.listens_for(store._writer, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(store._writer, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        words = statement.split()
        label = "insert objects" if many else f"other SQL ({words[0]})"
        current[label] += (time.perf_counter() - conn.info["t0"]) * 1000

    settle_collector()
    totals: list[float] = []
    phases: dict[str, list[float]] = defaultdict(list)
    for body in bodies:
        current.clear()
        t0 = time.perf_counter()
        views._store_envelope(body, node, who, items, node.snapshot())
        totals.append((time.perf_counter() - t0) * 1000)
        for label, ms in current.items():
            phases[label].append(ms)
        time.sleep(0.005)
    store.close()
    print("envelopes (ms):", " ".join(f"{t:.0f}" for t in totals))
    print(f"median envelope: {statistics.median(totals):.1f} ms per 1,000 objects")
    for label, values in sorted(phases.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {label:28s} {statistics.median(values):6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
