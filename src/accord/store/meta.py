"""Node values kept in the store (`accord_meta`): the node's party, keys, counters."""

from __future__ import annotations

import sqlalchemy as sa

from accord.store.engine import Store
from accord.store.schema import meta


def get_meta(store: Store, key: str) -> str | None:
    """Returns a node value kept in the store, or None."""
    with store.read() as conn:
        value = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
    return None if value is None else str(value)


def set_meta(store: Store, key: str, value: str) -> None:
    """Records a node value in the store."""
    with store.begin() as conn:
        put(conn, key, value)


def put(conn: sa.Connection, key: str, value: str) -> None:
    """Records a node value inside the caller's transaction."""
    found = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).first()
    if found is None:
        conn.execute(sa.insert(meta).values(key=key, value=value))
    else:
        conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value))


def bump(conn: sa.Connection, key: str) -> int:
    """Increments a counter inside the caller's transaction; returns the new value."""
    found = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
    value = 1 if found is None else int(found) + 1
    put(conn, key, str(value))
    return value
