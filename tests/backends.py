"""Backends the suite runs against, and throw-away PostgreSQL databases (shared by every suite).

PostgreSQL comes from ACCORD_TEST_PG_URL (scripts/test starts a throw-away server on loopback and
sets it); without it the PostgreSQL half FAILS rather than being skipped, unless
ACCORD_TEST_BACKENDS=sqlite says plainly that only SQLite is wanted.
"""

from __future__ import annotations

import os
import uuid

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
