"""Concurrent first starts: several processes migrating one fresh store at the same moment all
succeed, and the schema ends at the newest revision exactly once (SQLite retries, PostgreSQL's
advisory lock)."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from accord.ops.health import head_revision, readiness
from accord.store import Store
from backends import BACKENDS, drop_pg_database, make_pg_database

# In the full suite, not the fast loop (-m "not slow"): several processes migrating at once.
pytestmark = pytest.mark.slow


def _migrate(url: str, barrier: Any, results: Any) -> None:
    from accord.store import open_store

    barrier.wait()
    try:
        open_store(url).close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 — reported to the parent
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_migrating_one_fresh_store_at_once(backend: str, tmp_path: Path) -> None:
    name = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        url, name = make_pg_database(migrated=False)
    try:
        ctx = mp.get_context("spawn")
        n = 4
        barrier, results = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_migrate, args=(url, barrier, results)) for _ in range(n)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=120)
        assert [results.get(timeout=5) for _ in procs] == ["ok"] * n
        store = Store(url)
        try:
            assert readiness(store) is None
            with store.read() as conn:
                versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
            assert [v[0] for v in versions] == [head_revision()]
        finally:
            store.close()
    finally:
        if name:
            drop_pg_database(name)
