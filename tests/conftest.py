"""Fixtures shared by every suite: a fresh store on each backend.

The `store_url` fixture is parametrised over SQLite and PostgreSQL. PostgreSQL comes from
ACCORD_TEST_PG_URL (scripts/test starts a throw-away server on loopback and sets it); without it the
PostgreSQL half FAILS rather than being skipped, unless ACCORD_TEST_BACKENDS=sqlite says plainly that
only SQLite is wanted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.principals import service as principals_service
from accord.store import Store, open_store
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


def _new_store(backend: str, tmp_path: Path, migrated: bool) -> Iterator[str]:
    """Yields the URL of a new store: migrated and empty (a copy of one migrated once per
    session: backends.py), or without any table."""
    if backend == "sqlite":
        path = tmp_path / "accord.db"
        yield sqlite_store(path) if migrated else f"sqlite:///{path}"
    elif backend == "postgresql":
        url, name = make_pg_database(migrated=migrated)
        try:
            yield url
        finally:
            drop_pg_database(name)
    else:  # pragma: no cover - a typo in ACCORD_TEST_BACKENDS
        pytest.fail(f"unknown backend {backend!r} in ACCORD_TEST_BACKENDS")


@pytest.fixture(autouse=True, scope="session")
def _hash_each_test_secret_once() -> Iterator[None]:
    """The suite stores the same few test secrets in hundreds of stores: each is hashed with
    scrypt once per process and its stored form reused — a real salted scrypt hash of that
    secret, only its salt shared between throw-away stores. Verifying a secret, the cost a client
    meets and the timing tests measure, is unchanged; servers in other processes hash as always."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            principals_service, "hash_secret", functools.cache(principals_service.hash_secret)
        )
        yield


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yields the URL of a new store on each backend, migrated to the newest schema and empty."""
    yield from _new_store(request.param, tmp_path, migrated=True)


@pytest.fixture(params=BACKENDS)
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yields the URL of a new store on each backend without any table (migrations' tests)."""
    yield from _new_store(request.param, tmp_path, migrated=False)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yields an open, migrated, empty store on each backend."""
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()
