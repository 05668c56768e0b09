"""Fixtures shared by every suite: a fresh store on each backend.

The `store_url` fixture is parametrised over SQLite and PostgreSQL. PostgreSQL comes from
ACCORD_TEST_PG_URL (scripts/test starts a throw-away server on loopback and sets it); without it the
PostgreSQL half FAILS rather than being skipped, unless ACCORD_TEST_BACKENDS=sqlite says plainly that
only SQLite is wanted.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from accord.store import Store, open_store

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


def make_pg_database() -> tuple[str, str]:
    """Creates an empty database on the test server; returns (store URL, database name)."""
    admin = _pg_admin_url()
    name = "accord_t_" + uuid.uuid4().hex[:12]
    engine = sa.create_engine(
        admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    base = admin.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_pg_database(name: str) -> None:
    admin = _pg_admin_url()
    engine = sa.create_engine(
        admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yields the URL of a new, empty store on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.db'}"
    elif request.param == "postgresql":
        url, name = make_pg_database()
        try:
            yield url
        finally:
            drop_pg_database(name)
    else:  # pragma: no cover - a typo in ACCORD_TEST_BACKENDS
        pytest.fail(f"unknown backend {request.param!r} in ACCORD_TEST_BACKENDS")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yields an open, migrated, empty store on each backend."""
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()
