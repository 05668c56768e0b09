"""Migrations carry stored data across: a store written at an older revision, migrated to the
newest, holds the same objects (both backends)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from accord.exchange import repository as repo
from accord.store import open_store
from accord.store.engine import HEAD_REVISION, Store, alembic_config


def _alembic(store: Store, step: str, revision: str) -> None:
    # As `Store.migrate` does, to a given revision: `step` is "upgrade" or "downgrade".
    cfg = alembic_config()
    with store.engine.execution_options(accord_write=True).begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, revision)


COLLECTIONS = [  # (id, api_root, kind): keys follow (api_root, kind, id) order
    ("c3000000-0000-4000-8000-000000000000", "kor", "items"),
    ("c1000000-0000-4000-8000-000000000000", "kor", "inbox"),
    ("c2000000-0000-4000-8000-000000000000", "jpn", "items"),
]
EXPECTED_KEYS = {
    "c2000000-0000-4000-8000-000000000000": 1,
    "c1000000-0000-4000-8000-000000000000": 2,
    "c3000000-0000-4000-8000-000000000000": 3,
}


def test_the_code_knows_the_newest_migration() -> None:
    """`Store.migrate` skips Alembic when the store is at HEAD_REVISION: it must be the head."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def _old_rows(store: Store) -> None:
    with store.begin() as conn:
        for cid, root, kind in COLLECTIONS:
            conn.exec_driver_sql(
                "INSERT INTO collections (id, api_root, alias, title, description, kind, last_added)"
                f" VALUES ('{cid}', '{root}', '{kind}', 't', '', '{kind}', 10)"
            )
        conn.exec_driver_sql(
            "INSERT INTO markings (id, stix_id, originator, spec, body)"
            " VALUES (1, 'marking-definition--m', 'KOR', '{}', '{}')"
        )
        for n, (cid, _, _) in enumerate(COLLECTIONS * 2):
            conn.exec_driver_sql(
                "INSERT INTO objects (seq, collection_id, stix_id, type, version, version_key,"
                " spec_version, date_added, marking, deleted, multi, published_by, body) VALUES"
                f" ({100 + n}, '{cid}', 'indicator--{n % 3}', 'indicator', 'v{n}', 'k{n}', '2.1',"
                f" {n + 1}, 1, false, false, 'p', '{{\"n\": {n}}}')"
            )


def test_0008_gives_objects_their_collection_key(store_url: str) -> None:
    store = open_store(store_url, migrate=False)
    try:
        _alembic(store, "upgrade", "0007")
        _old_rows(store)
        store.migrate()
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                HEAD_REVISION
            )
            keys = dict(conn.exec_driver_sql("SELECT id, key FROM collections").all())
            got = conn.exec_driver_sql(
                "SELECT seq, coll, stix_id, version_key, body FROM objects ORDER BY seq"
            ).all()
        assert keys == EXPECTED_KEYS
        # Every row kept its seq, its content, and now names its collection by key.
        assert [(r[0], r[1], r[2], r[3], r[4]) for r in got] == [
            (100 + n, EXPECTED_KEYS[cid], f"indicator--{n % 3}", f"k{n}", f'{{"n": {n}}}')
            for n, (cid, _, _) in enumerate(COLLECTIONS * 2)
        ]
        # The node reads them through the new key, and the unique constraint still holds.
        kor_items = next(c for c in repo.list_collections(store, "kor") if c.kind == "items")
        rows, more = repo.page(store, kor_items.key, None, repo.Query(versions=("all",)), None, 10)
        assert [r.seq for r in rows] == [100, 103] and not more
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO objects (coll, stix_id, type, version, version_key, spec_version,"
                " date_added, marking, deleted, multi, published_by, body) VALUES"
                f" ({kor_items.key}, 'indicator--0', 'indicator', 'v', 'k0', '2.1', 99, 1,"
                " false, false, 'p', '{}')"
            )
        # And back: the downgrade restores the collection ids.
        _alembic(store, "downgrade", "0007")
        with store.read() as conn:
            back = conn.exec_driver_sql("SELECT seq, collection_id FROM objects ORDER BY seq").all()
        assert back == [(100 + n, cid) for n, (cid, _, _) in enumerate(COLLECTIONS * 2)]
    finally:
        store.close()
