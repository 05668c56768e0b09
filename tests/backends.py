"""Backends the suite runs against, and throw-away stores (shared by every suite).

PostgreSQL comes from ACCORD_TEST_PG_URL (scripts/test starts a throw-away server on loopback and
sets it); without it the PostgreSQL half FAILS rather than being skipped, unless
ACCORD_TEST_BACKENDS=sqlite says plainly that only SQLite is wanted.

A new store is migrated once per test session and copied for each test that wants one (a file
copy on SQLite, ~5 ms; `CREATE DATABASE … TEMPLATE` on PostgreSQL, ~75 ms) where running the
migrations costs ~0.3 s each time. PostgreSQL databases are dropped together when the session
ends (`drop_pg_database`). The migrations themselves are tested from empty stores
(`migrated=False`; tests/store/test_migrations.py, the migration race).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

BACKENDS = [
    b.strip() for b in os.environ.get("ACCORD_TEST_BACKENDS", "sqlite,postgresql").split(",")
]


def _pg_admin_url() -> str:
    url = os.environ.get("ACCORD_TEST_PG_URL")
    if not url:
        pytest.fail(
            "ACCORD_TEST_PG_URL is not set: run the suite with scripts/test (it starts PostgreSQL), "
            "or set ACCORD_TEST_BACKENDS=sqlite to run the SQLite half alone"
        )
    return url


_admin: list[sa.Engine] = []


def _admin_engine() -> sa.Engine:
    """Returns this process's engine on the test server's maintenance database (kept: a
    connection costs ~15 ms, and every test makes a database)."""
    if not _admin:
        _admin.append(
            sa.create_engine(
                _pg_admin_url().replace("postgresql://", "postgresql+psycopg://", 1),
                isolation_level="AUTOCOMMIT",
                pool_size=1,
            )
        )
    return _admin[0]


_templates: dict[str, str] = {}  # backend → the migrated store copied for each test


def _template(backend: str) -> str:
    """Returns the store migrated once this session (a SQLite file, a PostgreSQL database)."""
    if backend not in _templates:
        from accord.store import open_store

        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="accord-template-"))
            atexit.register(shutil.rmtree, folder, True)
            path = folder / "template.db"
            open_store(f"sqlite:///{path}").close()
            _templates[backend] = str(path)
        else:
            url, name = make_pg_database(migrated=False)
            open_store(url).close()  # every connection closed: a template must have none
            atexit.register(_drop_quietly, name)
            _templates[backend] = name
    return _templates[backend]


def sqlite_store(path: Path) -> str:
    """Copies a migrated, empty SQLite store to `path`; returns its URL."""
    shutil.copyfile(_template("sqlite"), path)
    return f"sqlite:///{path}"


def make_pg_database(migrated: bool = True) -> tuple[str, str]:
    """Creates a database on the test server, migrated and empty unless `migrated` is False (then
    without any table); returns (store URL, database name)."""
    admin = _pg_admin_url()
    template = _template("postgresql") if migrated else None
    name = "accord_t_" + uuid.uuid4().hex[:12]
    engine = _admin_engine()
    with engine.connect() as conn:
        if template:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_pg_database(name: str, now: bool = False) -> None:
    """Drops the database `name`: `now`, or when the session ends. Dropping a database makes
    the server flush its buffers, which slows the next CREATE DATABASE from ~75 ms to ~200 ms:
    a session's databases are dropped together at its end."""
    if not now:
        _doomed.append(name)
        return
    with _admin_engine().connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_doomed: list[str] = []


@atexit.register
def _drop_doomed() -> None:
    # At exit the server may already be gone (scripts/test stops it): nothing left to drop.
    if not _doomed:
        return
    try:
        with _admin_engine().connect() as conn:
            while _doomed:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{_doomed.pop()}" WITH (FORCE)')
    except sa.exc.SQLAlchemyError:
        pass


def _drop_quietly(name: str) -> None:
    # At exit the server may already be gone (scripts/test stops it): nothing left to drop.
    try:
        drop_pg_database(name, now=True)
    except sa.exc.SQLAlchemyError:
        pass
