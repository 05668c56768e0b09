"""Migrations carry stored data across: a store written at an older revision, migrated to the
newest, holds the same objects (both backends)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from accord.exchange.queries import Query, page, version_page
from accord.store import open_store
from accord.store.engine import HEAD_REVISION, Store, alembic_config
from accord.store.exchange_schema import id_hash


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


def test_0008_gives_objects_their_collection_key(empty_store_url: str) -> None:
    store = open_store(empty_store_url, migrate=False)
    try:
        _alembic(store, "upgrade", "0007")
        _old_rows(store)
        _alembic(store, "upgrade", "0008")
        with store.read() as conn:
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
        # The unique constraint still holds at 0008.
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO objects (coll, stix_id, type, version, version_key, spec_version,"
                " date_added, marking, deleted, multi, published_by, body) VALUES"
                f" ({EXPECTED_KEYS[COLLECTIONS[0][0]]}, 'indicator--0', 'indicator', 'v', 'k0', '2.1', 99, 1,"
                " false, false, 'p', '{}')"
            )
        # And back: the downgrade restores the collection ids.
        _alembic(store, "downgrade", "0007")
        with store.read() as conn:
            back = conn.exec_driver_sql("SELECT seq, collection_id FROM objects ORDER BY seq").all()
        assert back == [(100 + n, cid) for n, (cid, _, _) in enumerate(COLLECTIONS * 2)]
    finally:
        store.close()


# Ids whose hashes take both signs (the PostgreSQL expression must read the top bit as one).
HASHED_IDS = [f"indicator--{n:08d}-0000-4000-8000-000000000000" for n in range(4)]


def _rows_at_0008(store: Store) -> None:
    _alembic(store, "upgrade", "0008")
    with store.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO collections (id, api_root, alias, title, description, kind, last_added,"
            f" key) VALUES ('{COLLECTIONS[0][0]}', 'kor', 'items', 't', '', 'items', 10, 1)"
        )
        conn.exec_driver_sql(
            "INSERT INTO markings (id, stix_id, originator, spec, body)"
            " VALUES (1, 'marking-definition--m', 'KOR', '{}', '{}')"
        )
        for n, sid in enumerate(HASHED_IDS + HASHED_IDS[:1]):
            conn.exec_driver_sql(
                "INSERT INTO objects (seq, coll, stix_id, type, version, version_key,"
                " spec_version, date_added, marking, deleted, multi, published_by, body) VALUES"
                f" ({200 + n}, 1, '{sid}', 'indicator', 'v{n}', 'k{n}', '2.1', {n + 1}, 1,"
                f" false, {str(n in (0, 4)).lower()}, 'p', '{{\"n\": {n}}}')"
            )


def test_0009_finds_objects_by_a_hash_of_their_id(empty_store_url: str) -> None:
    assert {id_hash(i) < 0 for i in HASHED_IDS} == {True, False}
    store = open_store(empty_store_url, migrate=False)
    try:
        _rows_at_0008(store)
        store.migrate()
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                HEAD_REVISION
            )
            got = conn.exec_driver_sql(
                "SELECT seq, stix_id, idh, version_key, body FROM objects ORDER BY seq"
            ).all()
        # Every row kept its seq and content, and carries the hash the code computes (the
        # migration computes it in SQL on PostgreSQL, in Python on SQLite).
        assert [tuple(r) for r in got] == [
            (200 + n, sid, id_hash(sid), f"k{n}", f'{{"n": {n}}}')
            for n, sid in enumerate(HASHED_IDS + HASHED_IDS[:1])
        ]
        # The node finds an object's versions by id through the hash.
        rows, more = version_page(store, 1, None, HASHED_IDS[0], Query(), None, 10)
        assert [r.seq for r in rows] == [200, 204] and not more
        rows, _ = page(store, 1, None, Query(ids=(HASHED_IDS[2],)), None, 10)
        assert [r.seq for r in rows] == [202]
        # And back: 0008's unique constraint returns (the rows satisfy it).
        _alembic(store, "downgrade", "0008")
        with store.read() as conn:
            back = conn.exec_driver_sql("SELECT seq, stix_id FROM objects ORDER BY seq").all()
        assert [tuple(r) for r in back] == [
            (200 + n, sid) for n, sid in enumerate(HASHED_IDS + HASHED_IDS[:1])
        ]
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO objects (coll, stix_id, type, version, version_key, spec_version,"
                f" date_added, marking, deleted, multi, published_by, body) VALUES (1,"
                f" '{HASHED_IDS[1]}', 'indicator', 'v', 'k1', '2.1', 99, 1, false, false, 'p', '{{}}')"
            )
    finally:
        store.close()


def test_0018_keys_the_trust_rows_by_the_id_hash(empty_store_url: str) -> None:
    """Entries and receipts stored at 0017 keep every field and gain the hash the code computes;
    the look-ups by id find them; and back, 0017's keys return."""
    from accord.exchange.signatures import stored_entries
    from accord.trust.receipts import receipt_of

    store = open_store(empty_store_url, migrate=False)
    try:
        _alembic(store, "upgrade", "0017")
        with store.begin() as conn:
            for n, sid in enumerate(HASHED_IDS):
                conn.exec_driver_sql(
                    "INSERT INTO provenance_entries (stix_id, version, originator, hash, marking,"
                    f" provenance) VALUES ('{sid}', 'v{n}', 'KOR', 'h{n}', 'm{n}', 'note--{n}')"
                )
                conn.exec_driver_sql(
                    "INSERT INTO receipts (receiver, sender, stix_id, version, hash, level, at,"
                    f" receipt, verified, added) VALUES ('JPN', 'KOR', '{sid}', 'v{n}', 'h{n}',"
                    f" 'KOR II', {1000 + n}, 'receipt--{n}', true, 5)"
                )
        store.migrate()
        with store.read() as conn:
            got = conn.exec_driver_sql(
                "SELECT idh, stix_id, version, hash FROM provenance_entries ORDER BY version"
            ).all()
            assert [tuple(r) for r in got] == [
                (id_hash(sid), sid, f"v{n}", f"h{n}") for n, sid in enumerate(HASHED_IDS)
            ]
            found = stored_entries(conn, {HASHED_IDS[1]})
        assert found == [(HASHED_IDS[1], "v1", "KOR", "h1", "m1", "note--1")]
        assert receipt_of(store, HASHED_IDS[2], "JPN", "v2") == {
            "by": "JPN",
            "at": 1002,
            "verified": True,
        }
        _alembic(store, "downgrade", "0017")
        with store.read() as conn:
            back = conn.exec_driver_sql(
                "SELECT stix_id, version FROM receipts ORDER BY version"
            ).all()
        assert [tuple(r) for r in back] == [(sid, f"v{n}") for n, sid in enumerate(HASHED_IDS)]
    finally:
        store.close()
