"""Fixtures shared by every suite: a fresh store on each backend.

The `store_url` fixture is parametrised over SQLite and PostgreSQL. PostgreSQL comes from
ACCORD_TEST_PG_URL (scripts/test starts a throw-away server on loopback and sets it); without it the
PostgreSQL half FAILS rather than being skipped, unless ACCORD_TEST_BACKENDS=sqlite says plainly that
only SQLite is wanted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.store import Store, open_store
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yields the URL of a new store on each backend, migrated to the newest schema and empty
    (a copy of one migrated once per session: backends.py)."""
    if request.param == "sqlite":
        yield sqlite_store(tmp_path / "accord.db")
    elif request.param == "postgresql":
        url, name = make_pg_database()
        try:
            yield url
        finally:
            drop_pg_database(name)
    else:  # pragma: no cover - a typo in ACCORD_TEST_BACKENDS
        pytest.fail(f"unknown backend {request.param!r} in ACCORD_TEST_BACKENDS")


@pytest.fixture(params=BACKENDS)
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yields the URL of a new store on each backend without any table (migrations' tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.db'}"
    elif request.param == "postgresql":
        url, name = make_pg_database(migrated=False)
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
