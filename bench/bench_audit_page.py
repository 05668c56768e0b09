"""What one visit of the web interface's audit page costs on a store of ~200,000 audit records.

    .venv/bin/python bench/bench_audit_page.py [--records 200000] [--visits 5] [--url URL]

Fills a fresh store (SQLite in a temporary directory unless `--url` names one, e.g. an empty
PostgreSQL database) with `--records` chained audit records of a realistic size (a refusal of an
envelope, a receipt of a page), then, in one run:

- before: the verification the page made on every visit until the checkpointed verification
  (`accord.audit.log.verify`, the whole chain from the first record), timed and with its peak
  Python allocation (tracemalloc);
- after: `accord.audit.checkpoints.verify_recent` (from the last signed checkpoint), its first
  call (which verifies everything once and signs a checkpoint) and the following ones;
- the page itself over HTTP on a live node (uvicorn on loopback), signed in: the first page and a
  page deep in the log (`?before=` half way), medians of `--visits`;
- a 1 MB body of `{"objects":[1,1,…]}` POSTed twice by a partner to that node: the answer's size
  and what the audit trail and the statuses grew by (the second meets the write quota).
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn

from accord.app import create_app
from accord.audit import checkpoints
from accord.audit import log as audit
from accord.node import Node, NodeConfig
from accord.principals import add_principal
from accord.server import prepare
from accord.settings import load_settings
from accord.store import Store, open_store
from accord.store.audit_schema import audit_head, audit_log

TAXII = "application/taxii+json;version=2.1"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def fill(store: Store, n: int) -> None:
    """Appends `n` chained records after the store's head, in transactions of 5,000."""
    with store.read() as conn:
        head = conn.execute(sa_head()).first()
    seq, prev = (0, audit.GENESIS) if head is None else (int(head[0]), str(head[1]))
    batch: list[dict[str, Any]] = []
    for i in range(n):
        seq += 1
        if i % 3:
            body = {"collection": "c-inbox", "count": 524000, "reasons": [["not an object", 524000]],
                    "objects": [["(no id)", "", "not an object"]] * 10, "bytes": 1048000,
                    "sha256": "ab" * 32}  # fmt: skip
            kind = "refusal"
        else:
            body = {"collection": "c-items", "objects": [[f"indicator--{i:08d}-0000-4000-8000-000000000000",
                    "2017-01-01T00:00:00.000Z", "stored"]] * 5}  # fmt: skip
            kind = "receipt"
        text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
        at = 1_700_000_000_000_000 + i
        h = audit.record_hash(prev, seq, at, kind, "jpn-node", "JPN", text)
        batch.append({"seq": seq, "at": at, "kind": kind, "actor": "jpn-node", "subject": "JPN",
                      "body": text, "prev": prev, "hash": h})  # fmt: skip
        prev = h
        if len(batch) == 5000 or i == n - 1:
            with store.begin() as conn:
                conn.execute(audit_log.insert(), batch)
                if conn.execute(sa_head()).first() is None:
                    conn.execute(audit_head.insert().values(id=1, seq=seq, hash=prev))
                else:
                    conn.execute(audit_head.update().values(seq=seq, hash=prev))
            batch = []


def sa_head() -> Any:
    import sqlalchemy as sa

    return sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)


def measured(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Returns (seconds, peak MiB allocated by Python, result) of one call."""
    tracemalloc.start()
    t = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, peak, out


def serve(node: Node) -> tuple[str, uvicorn.Server]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(node), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server


def _sizes(store: Store) -> tuple[int, int]:
    with store.read() as conn:
        audit_bytes = conn.exec_driver_sql(
            "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM audit_log"
        ).scalar()
        status_bytes = conn.exec_driver_sql(
            "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM statuses"
        ).scalar()
    return int(audit_bytes or 0), int(status_bytes or 0)


def flood(store: Store, base: str) -> None:
    """POSTs a 1 MB body of `{"objects":[1,1,…]}` twice as a partner node; prints what each
    answer and each addition to the store weighs."""
    add_principal(store, "bench-jpn", "partner", "JPN", "bench-jpn-secret")
    raw = b'{"objects":[' + b",".join([b"1"] * 524_000) + b"]}"
    headers = {"Accept": TAXII, "Content-Type": TAXII}
    with httpx.Client(base_url=base, timeout=600, auth=("bench-jpn", "bench-jpn-secret")) as c:
        for i in (1, 2):
            audit0, status0 = _sizes(store)
            t = time.perf_counter()
            r = c.post("/kor/collections/inbox/objects/", content=raw, headers=headers)
            took = time.perf_counter() - t
            audit1, status1 = _sizes(store)
            print(f"flood: POST {i} of {len(raw)} bytes: {r.status_code} in {took:.2f} s, answer {len(r.content)} "
                  f"bytes, audit +{audit1 - audit0} bytes, statuses +{status1 - status0} bytes, "
                  f"Retry-After {r.headers.get('retry-after')}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--visits", type=int, default=5)
    ap.add_argument("--url", help="an empty store (default: SQLite in a temporary directory)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-audit-")
    url = a.url or f"sqlite:///{Path(tmp) / 'accord.db'}"
    store = open_store(url)
    settings = load_settings(environ={"ACCORD_PARTY": "KOR"})
    prepare(store, settings)
    add_principal(store, "bench-chief", "user", "KOR", "bench-chief-secret", clearance="I")
    t = time.perf_counter()
    fill(store, a.records)
    print(f"filled {a.records} records in {time.perf_counter() - t:.1f} s ({store.dialect})")
    with store.read() as conn:
        total = int(conn.execute(sa_head()).one()[0])

    full_s, full_mib, verdict = measured(lambda: audit.verify(store))
    assert verdict.ok, verdict
    print(
        f"before: full verification per visit: {full_s:.2f} s, peak {full_mib:.1f} MiB, {verdict.records} records"
    )
    first_s, first_mib, recent = measured(lambda: checkpoints.verify_recent(store, 1000))
    print(
        "after: first verify_recent (everything once, signs a checkpoint): "
        f"{first_s:.2f} s, peak {first_mib:.1f} MiB; signed at {recent.signed}"
    )
    fill(store, 100)  # what arrives between two visits
    again = [measured(lambda: checkpoints.verify_recent(store, 1000)) for _ in range(a.visits)]
    later = statistics.median(x[0] for x in again) * 1000
    print(f"after: later verify_recent (100 new records): median {later:.1f} ms, "
          f"peak {max(x[1] for x in again):.2f} MiB")  # fmt: skip

    node = Node(store, "KOR", NodeConfig(api_root="kor", title="bench"))
    base, server = serve(node)
    logging.getLogger("accord.access").setLevel(logging.WARNING)
    try:
        with httpx.Client(base_url=base, timeout=600, follow_redirects=False) as c:
            login = c.get("/ui/login").text
            token = _CSRF.search(login).group(1)  # type: ignore[union-attr]
            r = c.post(
                "/ui/login",
                data={
                    "csrf": token,
                    "name": "bench-chief",
                    "secret": "bench-chief-secret",
                    "next": "",
                },
            )
            assert r.status_code == 303, r.status_code
            timings: dict[str, list[float]] = {"first page": [], "deep page": []}
            for _ in range(a.visits):
                for label, path in (
                    ("first page", "/ui/audit"),
                    ("deep page", f"/ui/audit?before={total // 2}"),
                ):
                    t = time.perf_counter()
                    page = c.get(path)
                    timings[label].append(time.perf_counter() - t)
                    assert page.status_code == 200 and "Intact" in page.text, page.text[:300]
            for label, ts in timings.items():
                print(
                    f"after: GET /ui/audit ({label}): median {statistics.median(ts) * 1000:.1f} ms over {a.visits}"
                )
        flood(store, base)
    finally:
        server.should_exit = True
        store.close()


if __name__ == "__main__":
    sys.exit(main())
