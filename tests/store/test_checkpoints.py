"""SQLite in a serving process: with `Store.checkpoint_in_background` commits never checkpoint
(the read path's latency) and a daemon thread copies the WAL into the database instead; threads
of one process take turns writing on a lock of the store's own."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from accord.errors import StoreError
from accord.registry import repository as registry_repo
from accord.store import open_store


def _in_main_file(db: Path, tmp: Path) -> str | None:
    """Returns the 'probe' value as the database file alone (without its WAL) holds it."""
    copy = tmp / "copy.db"
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy)
    try:
        row = conn.execute("SELECT value FROM accord_meta WHERE key = 'probe'").fetchone()
    except sqlite3.OperationalError:  # not even the schema has reached the file yet
        return None
    finally:
        conn.close()
    return None if row is None else str(row[0])


def test_commits_reach_the_database_file_through_the_background_thread(tmp_path: Path) -> None:
    db = tmp_path / "accord.db"
    store = open_store(f"sqlite:///{db}")
    try:
        store.checkpoint_in_background(interval=0.05)
        with store.read() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        registry_repo.set_meta(store, "probe", "written")
        deadline = time.monotonic() + 10
        while _in_main_file(db, tmp_path) != "written" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_main_file(db, tmp_path) == "written"
    finally:
        store.close()


def test_without_it_a_small_commit_stays_in_the_wal(tmp_path: Path) -> None:
    """The control: the check above can fail (the value is not in the file by itself)."""
    db = tmp_path / "accord.db"
    store = open_store(f"sqlite:///{db}")
    try:
        registry_repo.set_meta(store, "probe", "written")
        time.sleep(0.2)
        assert _in_main_file(db, tmp_path) is None
        with store.read() as conn:
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        store.close()


def test_threads_of_one_process_take_turns_writing(tmp_path: Path) -> None:
    """Writers of one process queue on the store's own lock before SQLite's: every write lands,
    none waits out SQLite's busy timeout (8 threads × 25 transactions well under it)."""
    import threading

    store = open_store(f"sqlite:///{tmp_path / 'accord.db'}")
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(25):
                with store.begin() as conn:
                    conn.execute(
                        sa.text("INSERT INTO accord_meta (key, value) VALUES (:k, :v)"),
                        {"k": f"t{k}-{i}", "v": "x"},
                    )
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        with store.read() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM accord_meta WHERE key LIKE 't%-%'"))
            assert n.scalar() == 200
        assert time.monotonic() - started < 10
    finally:
        store.close()


def test_the_write_ahead_log_is_cut_back_after_a_burst(tmp_path: Path) -> None:
    db = tmp_path / "accord.db"
    store = open_store(f"sqlite:///{db}")
    try:
        with store.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 64 * 1024 * 1024
        # A burst bigger than the limit, then a checkpoint and one more write: SQLite resets the
        # log and truncates the file to the limit.
        blob = "x" * 1_000_000
        with store.begin() as conn:  # one transaction: the log cannot be reused while it runs
            for i in range(80):
                conn.execute(
                    sa.text("INSERT INTO accord_meta (key, value) VALUES (:k, :v)"),
                    {"k": f"burst-{i}", "v": blob},
                )
        wal = Path(f"{db}-wal")
        assert wal.stat().st_size > 64 * 1024 * 1024
        with store.read() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        registry_repo.set_meta(store, "after", "burst")
        assert wal.stat().st_size <= 64 * 1024 * 1024
    finally:
        store.close()


def test_writes_go_through_one_connection_with_a_large_cache(tmp_path: Path) -> None:
    """The writer's page cache survives only its own commits: one connection for every write,
    64 MiB of cache, and (once the background thread checkpoints) no checkpoint at commit."""
    store = open_store(f"sqlite:///{tmp_path / 'accord.db'}")
    try:
        store.checkpoint_in_background(interval=0.05)
        seen = set()
        for i in range(3):
            with store.begin() as conn:
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -65536
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
                seen.add(id(conn.connection.driver_connection))
            registry_repo.set_meta(store, "probe", str(i))
            with store.read() as conn:  # readers keep SQLite's default cache
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000
        assert len(seen) == 1
    finally:
        store.close()


def test_driver_writes_commit_roll_back_and_translate_errors(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with store.driver_write() as db:
            db.execute("INSERT INTO accord_meta (key, value) VALUES ('kept', '1')")
        with pytest.raises(RuntimeError), store.driver_write() as db:
            db.execute("INSERT INTO accord_meta (key, value) VALUES ('dropped', '1')")
            raise RuntimeError("the caller fails mid-transaction")
        with pytest.raises(StoreError), store.driver_write() as db:
            db.execute("INSERT INTO accord_meta (key, value) VALUES ('kept', '2')")  # primary key
        with store.read() as conn:
            keys = {r[0] for r in conn.exec_driver_sql("SELECT key FROM accord_meta")}
        assert "kept" in keys and "dropped" not in keys
        # The connection went back to the pool outside any transaction: the next write works.
        with store.driver_write() as db:
            db.execute("INSERT INTO accord_meta (key, value) VALUES ('after', '1')")
    finally:
        store.close()
