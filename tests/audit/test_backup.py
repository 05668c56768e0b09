"""Backups the chain cannot quietly forget, on every backend: a backup is one consistent snapshot
with a signed checkpoint of its head inside, taken while the node keeps appending; a restore says
"restored from a backup at record N" in the chain; a checkpoint or an export kept apart names the
records the restored store lacks."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from accord.audit import against, backup, checkpoints, log
from accord.errors import InputError, StoreConflict
from accord.store import Store, open_store
from accord.store.audit_schema import audit_log
from backends import sqlite_store


def fill(store: Store, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.record(
            store, "release", "jpn-peer", "JPN", {"objects": [[f"indicator--{i}", "v", "1"]]}
        )


def _file_head(path: Path) -> tuple[int, str, tuple[object, ...] | None]:
    with sqlite3.connect(path) as db:
        seq, digest = db.execute("SELECT seq, hash FROM audit_head").fetchone()
        cp = db.execute(
            "SELECT seq, at, hash, public_key, signature FROM audit_checkpoints WHERE seq = ?",
            (seq,),
        ).fetchone()
    return int(seq), str(digest), cp


def test_a_backup_holds_a_signed_checkpoint_of_its_own_head(store: Store, tmp_path: Path) -> None:
    fill(store, 12)
    made = backup.backup(store, tmp_path / "b.db")
    assert made.records == 12 and made.checkpoint is not None
    seq, digest, held = _file_head(tmp_path / "b.db")
    assert (seq, digest) == (12, made.checkpoint.hash)
    assert held is not None and checkpoints.Checkpoint(*held) == made.checkpoint  # type: ignore[arg-type]
    assert checkpoints.check_signature(made.checkpoint)
    assert made.checkpoint.public_key == checkpoints.public_key_hex(store)
    # The node keeps what it signed, and never overwrites a file.
    assert made.checkpoint in checkpoints.list_checkpoints(store)
    with pytest.raises(InputError, match="exists"):
        backup.backup(store, tmp_path / "b.db")
    assert oct((tmp_path / "b.db").stat().st_mode & 0o777) == "0o600"


@pytest.mark.slow  # 2,000 records, then a partner appending for the backup's while
def test_a_backup_finishes_while_partners_read(store: Store, tmp_path: Path) -> None:
    """A partner's every page appends a release record (~3 kB body here); the backup is one
    snapshot anyway, and its checkpoint is of the head inside it, not the live one."""
    fill(store, 2000)
    stop = threading.Event()
    appended = [0]
    body = {"objects": [[f"indicator--{i}", "v", "1"] for i in range(60)]}

    def partner() -> None:
        other = open_store(_url(store))
        try:
            while not stop.is_set() and appended[0] < 20_000:  # bounded
                log.record(other, "release", "jpn-peer", "JPN", body)
                appended[0] += 1
        finally:
            other.close()

    t = threading.Thread(target=partner)
    t.start()
    try:
        while appended[0] < 50:
            time.sleep(0.01)
        before = appended[0]
        made = backup.backup(store, tmp_path / "b.db")
        during = appended[0] - before
    finally:
        stop.set()
        t.join()
    assert made.seconds < 30 and during > 0  # the partner kept appending while it ran
    seq, digest, held = _file_head(tmp_path / "b.db")
    assert made.checkpoint is not None and (seq, digest) == (made.records, made.checkpoint.hash)
    assert 2000 < made.records < log.verify(store).records
    restored = open_store(sqlite_store(tmp_path / "copy.db"))
    try:
        backup.restore(restored, tmp_path / "b.db", "cli:test")
        assert log.verify(restored).ok
    finally:
        restored.close()


def _url(store: Store) -> str:
    # The test store's own URL (the password is never masked in these tests).
    return store.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")


def test_restore_records_itself_and_an_export_names_what_it_lost(
    store: Store, tmp_path: Path
) -> None:
    """The issue's scenario: the releases after the backup are gone; the chain says so, and
    the export kept apart names each one."""
    fill(store, 40)
    b = backup.backup(store, tmp_path / "b.db")
    fill(store, 118, start=40)
    cp = checkpoints.checkpoint(store)
    assert cp is not None and cp.seq == 158
    (tmp_path / "cp.json").write_bytes(orjson.dumps(cp.to_json()))
    (tmp_path / "all.jsonl").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in log.export(store))
    )

    with pytest.raises(StoreConflict, match="not empty.*--force"):
        backup.restore(store, tmp_path / "b.db", "cli:test")
    done = backup.restore(store, tmp_path / "b.db", "cli:test", force=True)
    assert (done.records, done.seq, done.replaced) == (40, 41, 158)
    assert done.checkpoint == b.checkpoint

    verdict = log.verify(store)
    assert verdict.ok and verdict.records == 41
    assert checkpoints.verify_checkpoints(store) == []
    (r,) = log.restores(store)
    assert (r.seq, r.from_seq) == (41, 40)
    with store.read() as conn:
        body = orjson.loads(
            conn.execute(sa.select(audit_log.c.body).where(audit_log.c.seq == 41)).scalar()
        )
    assert body["text"] == "restored from a backup at record 40"
    assert body["backup"]["checkpoint"]["hash"] == b.checkpoint.hash  # type: ignore[union-attr]
    assert body["replaced"]["seq"] == 158

    fill(store, 5, start=1000)  # the node goes on: numbers 42… are used again, openly
    lost = list(range(41, 159))
    for kept in ("all.jsonl", "cp.json"):
        found = against.compare(store, tmp_path / kept)
        assert not found.intact and found.lacks() == [(41, 158)], kept
        assert sorted(found.missing + found.differs) == lost
        assert found.differs[:1] == [41] and found.missing[:1] == [47]
    assert against.compare(store, tmp_path / "all.jsonl").checked == 158


def test_a_store_that_holds_its_records_is_intact_against_them(
    store: Store, tmp_path: Path
) -> None:
    fill(store, 10)
    cp = checkpoints.checkpoint(store)
    assert cp is not None
    (tmp_path / "cp.json").write_bytes(orjson.dumps(cp.to_json()))
    (tmp_path / "all.jsonl").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in log.export(store))
    )
    fill(store, 3, start=10)
    for kept in ("all.jsonl", "cp.json"):
        assert against.compare(store, tmp_path / kept).intact
    # A silent copy back (the old advice): no restore record, yet the export names the loss.
    with store.begin() as conn:
        conn.execute(sa.delete(audit_log).where(audit_log.c.seq > 6))
        conn.execute(sa.text("UPDATE audit_head SET seq = 6, hash = :h"), {"h": _hash_of(store, 6)})
    fill(store, 2, start=50)
    assert log.verify(store).ok  # the chain alone cannot tell
    found = against.compare(store, tmp_path / "all.jsonl")
    assert found.lacks() == [(7, 10)] and found.differs == [7, 8] and found.missing == [9, 10]
    found = against.compare(store, tmp_path / "cp.json")
    assert found.missing == [9, 10] and not found.intact


def _hash_of(store: Store, seq: int) -> str:
    with store.read() as conn:
        return str(conn.execute(sa.select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar())


def test_against_refuses_a_forged_file(store: Store, tmp_path: Path) -> None:
    fill(store, 4)
    cp = checkpoints.checkpoint(store)
    assert cp is not None
    forged = {**cp.to_json(), "hash": "f" * 64}
    (tmp_path / "cp.json").write_bytes(orjson.dumps(forged))
    found = against.compare(store, tmp_path / "cp.json")
    assert found.problems and "does not verify" in found.problems[0]
    lines = [orjson.loads(orjson.dumps(r)) for r in log.export(store)]
    lines[2]["body"]["objects"][0][0] = "indicator--forged"
    (tmp_path / "x.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    found = against.compare(store, tmp_path / "x.jsonl")
    assert found.checked == 2 and "record 3 does not hold" in found.problems[0]
    (tmp_path / "junk").write_text("hello")
    with pytest.raises(InputError):
        against.compare(store, tmp_path / "junk")
    (tmp_path / "empty.jsonl").write_text("")  # the export of an empty log holds nothing
    assert against.compare(store, tmp_path / "empty.jsonl").intact


def test_restore_refuses_what_is_not_an_intact_backup(store: Store, tmp_path: Path) -> None:
    src = open_store(sqlite_store(tmp_path / "src.db"))
    try:
        fill(src, 6)
        backup.backup(src, tmp_path / "b.db")
    finally:
        src.close()
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(InputError, match="not a backup"):
        backup.restore(store, tmp_path / "junk.db", "cli:test")
    with sqlite3.connect(tmp_path / "b.db") as db:
        db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3")
    with pytest.raises(InputError, match="broken at record 3"):
        backup.restore(store, tmp_path / "b.db", "cli:test")
    assert log.verify(store).records == 0  # nothing was written


def test_a_sqlite_backup_restores_into_either_store(store: Store, tmp_path: Path) -> None:
    """The backup format is one for both stores: a SQLite node's backup restores into this
    backend (PostgreSQL's identity sequences go on after the restored rows)."""
    src = open_store(sqlite_store(tmp_path / "src.db"))
    try:
        fill(src, 7)
        key = checkpoints.public_key_hex(src)
        backup.backup(src, tmp_path / "b.db")
    finally:
        src.close()
    done = backup.restore(store, tmp_path / "b.db", "cli:test")
    assert (done.records, done.seq, done.replaced) == (7, 8, None)
    assert checkpoints.public_key_hex(store) == key  # the node's identity came back with it
    assert log.verify(store).ok and log.verify(store).records == 8
    again = backup.backup(store, tmp_path / "again.db")
    assert again.records == 8 and again.checkpoint is not None
    assert again.checkpoint.public_key == key


def _publish(store: Store, n: int, level: str) -> bool:
    from accord.exchange import markings as mk
    from accord.exchange.authority import Writer
    from accord.exchange.collections import list_collections
    from accord.exchange.ingest import add_objects
    from accord.policy.marking import Marking

    m = Marking.of("KOR", level, ["general-military"], groups=["military"])
    items = next(c for c in list_collections(store, "kor") if c.kind == "items")
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2017-01-01T00:00:00.000Z",
        "modified": "2017-01-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n}']",
        "pattern_type": "stix",
        "valid_from": "2017-01-01T00:00:00Z",
        "object_marking_refs": [mk.marking_id(m)],
    }
    outcomes = add_objects(
        store, items, [mk.marking_definition(m), obj], Writer.host("analyst", "KOR"), lambda m: None
    )
    return all(o.ok for o in outcomes)


def test_a_restored_node_goes_on_storing_items(store: Store, tmp_path: Path) -> None:
    """Items and markings come back with their numbers, and new ones are numbered after them
    (on PostgreSQL the identity sequences are moved past the restored rows)."""
    from accord.server import prepare
    from accord.settings import load_settings

    src = open_store(sqlite_store(tmp_path / "src.db"))
    try:
        prepare(src, load_settings(environ={"ACCORD_PARTY": "KOR"}), extras=False)
        assert _publish(src, 1, "II")
        backup.backup(src, tmp_path / "b.db")
    finally:
        src.close()
    backup.restore(store, tmp_path / "b.db", "cli:test")
    assert _publish(store, 2, "III")  # a new marking and a new object: new ids
    assert log.verify(store).ok
