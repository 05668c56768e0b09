"""The object store's guarantees that no single endpoint shows (both backends unless
named): objects are found by a hash of their id (`objects.idh`, migration 0009); one row per
(collection, id, version) without a unique index — `add_objects` keeps it under the
collection's lock; collections created at the same moment get distinct keys."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from accord.exchange import ingest, notices, queries, redaction
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import Collection, ensure_collections, list_collections
from accord.policy.marking import Marking
from accord.store import Store, open_store

MARKING = Marking.of("KOR", "II", ["general-military"])
TS = "2024-01-01T00:00:00.000Z"


def _objects(n: int, modified: str = TS) -> list[dict[str, Any]]:
    return [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{k:08d}-0000-4000-8000-000000000000",
            "created": TS,
            "modified": modified,
            "name": f"i{k}",
            "pattern": "[ipv4-addr:value = '10.0.0.1']",
            "pattern_type": "stix",
            "valid_from": TS,
            "object_marking_refs": [mk.marking_id(MARKING)],
        }
        for k in range(n)
    ]


def _items(store: Store) -> Collection:
    return next(c for c in ensure_collections(store, "kor", "KOR") if c.kind == "items")


def _add(store: Store, c: Collection, objs: list[dict[str, Any]]) -> list[ingest.Outcome]:
    return ingest.add_objects(
        store,
        c,
        [mk.marking_definition(MARKING), *objs],
        Writer.host("analyst", "KOR"),
        lambda m: None,
    )[1:]


def _stored(store: Store, c: Collection) -> list[tuple[str, str]]:
    rows, _ = queries.page(store, c.key, None, queries.Query(versions=("all",)), None, 1000)
    return sorted((r.stix_id, r.version) for r in rows if r.stix_id.startswith("indicator--"))


def test_concurrent_envelopes_of_the_same_objects_store_each_version_once(store: Store) -> None:
    c = _items(store)
    objs = _objects(50)
    results: list[list[ingest.Outcome]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            results.append(_add(store, c, objs))
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _stored(store, c) == sorted((o["id"], TS) for o in objs)
    # One envelope stored them; the others were told they already were.
    messages = sorted(tuple(o.message for o in r) for r in results)
    assert messages == [("already stored",) * 50] * 3 + [("stored",) * 50]


def test_ids_sharing_a_hash_stay_different_objects(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every id hashes alike (SHA-256 collisions cannot be found; the code must not rely on
    # their absence): lookups compare the id itself.
    for module in (ingest, queries, notices, redaction):  # every module finding objects by id
        monkeypatch.setattr(module, "id_hash", lambda stix_id: 42)
    c = _items(store)
    first, second = _objects(2)
    assert [o.message for o in _add(store, c, [first])] == ["stored"]
    assert [o.message for o in _add(store, c, [second])] == ["stored"]
    changed = {**first, "name": "changed"}
    assert [o.message for o in _add(store, c, [changed])] == [
        "another object with this id and version is stored"
    ]
    assert _stored(store, c) == sorted([(first["id"], TS), (second["id"], TS)])
    rows, _ = queries.version_page(store, c.key, None, second["id"], queries.Query(), None, 10)
    assert [r.stix_id for r in rows] == [second["id"]]
    rows, _ = queries.page(store, c.key, None, queries.Query(ids=(first["id"],)), None, 10)
    assert [r.stix_id for r in rows] == [first["id"]]
    assert len(notices.held(store, first["id"]).seqs) == 1


def test_a_new_version_of_a_stored_object_is_found_by_its_id(store: Store) -> None:
    c = _items(store)
    (old,) = _objects(1)
    new = {**old, "modified": "2024-02-01T00:00:00.000Z"}
    assert [o.message for o in _add(store, c, [old])] == ["stored"]
    assert [o.message for o in _add(store, c, [new, old])] == ["stored", "already stored"]
    rows, _ = queries.version_page(store, c.key, None, old["id"], queries.Query(), None, 10)
    assert [r.version for r in rows] == [TS, new["modified"]]
    # The latest version alone is served by default (the "multi" path of the page query).
    rows, _ = queries.page(store, c.key, None, queries.Query(ids=(old["id"],)), None, 10)
    assert [r.version for r in rows] == [new["modified"]]


def test_collections_created_at_once_get_distinct_keys(store: Store) -> None:
    # Processes starting together on an empty store (workers, a CLI) create the collections of
    # their API roots at the same moment: each root gets its two, every key is distinct.
    roots = [f"r{n}" for n in range(6)] * 2
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(roots))

    def create(root: str) -> None:
        try:
            barrier.wait()
            ensure_collections(store, root, "KOR")
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(r,)) for r in roots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    found = [c for r in sorted(set(roots)) for c in list_collections(store, r)]
    assert len(found) == 12 and len({c.key for c in found}) == 12


def test_sqlite_reads_objects_by_id_through_the_id_index(tmp_path: Path) -> None:
    # SQLite's planner would walk (coll, date_added) to spare a sort and test every object of
    # the collection: ~350 ms for one object among a million (CHANGELOG, Fixed).
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        c = _items(store)
        _add(store, c, _objects(3))
        for versions in (("last",), ("all",), ("first",)):
            q = queries.Query(ids=(_objects(1)[0]["id"],), versions=versions)
            sql, positions, fixed = queries._page_sql(store, c.key, None, q, None)
            params = {**fixed, **queries._where_params(c.key, None, q, "sqlite"), "limit": 2}
            assert positions is not None
            with store.read() as conn:
                plan = conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + sql, tuple(params[p] for p in positions)
                ).all()
            outer = [r[3] for r in plan if r[1] == 0 and r[3].startswith(("SCAN", "SEARCH"))]
            assert outer == ["SEARCH objects USING INDEX ix_objects_id (coll=? AND idh=?)"], plan
    finally:
        store.close()
