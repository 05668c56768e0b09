"""Scale-out: two `accord serve` processes on one PostgreSQL database. A client pages through a
large collection alternating between them while another client writes through the second; every
object that existed at the start is seen exactly once, in ascending date_added order, and no
request fails. Cursors are signed tokens and statuses live in the store, so either process serves
any page."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from serve_proc import prepare_store, serve
from taxii_live import ANALYST_MARKING, SECRETS, TAXII, basic, indicator

from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.node import Node, NodeConfig
from accord.principals import authenticate
from accord.store.exchange_schema import objects
from backends import drop_pg_database, make_pg_database

# In the full suite, not the fast loop (-m "not slow"): two server processes.
pytestmark = pytest.mark.slow

N, LIMIT = 5000, 100


@pytest.mark.skipif(
    "postgresql" not in os.environ.get("ACCORD_TEST_BACKENDS", "sqlite,postgresql"),
    reason="ACCORD_TEST_BACKENDS leaves PostgreSQL out",
)
def test_two_processes_page_one_collection_consistently(tmp_path: Path) -> None:
    url, name = make_pg_database()
    a = b = store = None
    try:
        store = prepare_store(url)
        items = next(c for c in list_collections(store, "kor") if c.kind == "items")
        md = mk.marking_definition(ANALYST_MARKING)
        for _ in range(0, N, 500):
            batch = [md, *(indicator() for _ in range(500))]
            assert all(
                o.ok
                for o in add_objects(
                    store, items, batch, Writer.host("loader", "KOR"), lambda m: None
                )
            )
        node = Node(store, "KOR", NodeConfig(api_root="kor", title="t", as_of=date(2017, 6, 1)))
        visible = node.view(authenticate(store, "analyst", SECRETS["analyst"])).rows
        with store.read() as conn:
            before = dict(
                conn.execute(
                    sa.select(objects.c.stix_id, objects.c.date_added).where(
                        objects.c.coll == items.key, objects.c.marking.in_(sorted(visible))
                    )
                ).all()
            )
        assert len(before) >= N
        a, b = serve(url, tmp_path), serve(url, tmp_path)
        headers = {"Accept": TAXII, "Authorization": basic("analyst", SECRETS["analyst"])}
        done = threading.Event()
        writes: list[int] = []

        def writer() -> None:
            with httpx.Client(base_url=b.url, timeout=60) as http:
                while not done.is_set():
                    r = http.post(
                        "/kor/collections/items/objects/",
                        json={"objects": [md, indicator(), indicator()]},
                        headers={**headers, "Content-Type": TAXII},
                    )
                    writes.append(r.status_code)
                    time.sleep(0.02)

        thread = threading.Thread(target=writer)
        thread.start()
        seen: list[str] = []
        statuses: list[int] = []
        try:
            clients = [httpx.Client(base_url=s.url, timeout=60) for s in (a, b)]
            params = {"limit": str(LIMIT)}
            page = 0
            while True:
                r = clients[page % 2].get(
                    "/kor/collections/items/objects/", params=params, headers=headers
                )
                statuses.append(r.status_code)
                assert r.status_code == 200, r.text[:300]
                body = r.json()
                seen += [o["id"] for o in body.get("objects", [])]
                page += 1
                if not body["more"]:
                    break
                params = {"limit": str(LIMIT), "next": body["next"]}
            for c in clients:
                c.close()
        finally:
            done.set()
            thread.join(timeout=60)
        assert page >= N // LIMIT
        assert writes and set(writes) == {202}, set(writes)
        # Every object there at the start, exactly once; all of it in ascending date_added order.
        old = [s for s in seen if s in before]
        assert len(old) == len(set(old)) == len(before)
        with store.read() as conn:
            added = dict(conn.execute(sa.select(objects.c.stix_id, objects.c.date_added)).all())
        order = [added[s] for s in seen]
        assert order == sorted(order) and len(set(order)) == len(order)
    finally:
        if store is not None:
            store.close()
        for s in (a, b):
            if s is not None:
                s.stop(signal.SIGTERM)
        drop_pg_database(name)
