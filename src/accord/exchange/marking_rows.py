"""The release markings a node stores, one row each, and their index in memory.

Objects name their release marking by its row id (`objects.marking`), so that deciding who may
read an object is a set membership test on an integer. `marking_index` maps rows to markings and
STIX ids both ways, read once per process and read again only when a marking is added (marking
definitions are immutable: a row never changes). `marking_row` registers a marking inside the
caller's transaction, and refuses a posted marking-definition that clashes with a stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from accord.exchange import markings as mk
from accord.policy.marking import Marking
from accord.store import Store
from accord.store.exchange_schema import markings


@dataclass(frozen=True)
class MarkingIndex:
    """Every stored release marking: `by_row` (row id → Marking), `stix_ids` (row id → STIX id),
    `rows` (STIX id → row id) and `version` (changes when a marking is added)."""

    by_row: dict[int, Marking]
    stix_ids: dict[int, str]
    rows: dict[str, int]
    version: int


_index_cache: dict[tuple[str, int], MarkingIndex] = {}


def marking_index(store: Store, top: int | None = None) -> MarkingIndex:
    """Returns the markings, cached per process and refreshed when a marking is added; `top` is
    the newest marking's row id when the caller has just read it (`Node.snapshot`)."""
    if top is None:
        with store.read() as conn:
            top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(markings.c.id), 0))).scalar()
    version = int(top or 0)
    key = (store.url, version)
    cached = _index_cache.get(key)
    if cached is not None:
        return cached
    with store.read() as conn:
        rows = conn.execute(sa.select(markings.c.id, markings.c.stix_id, markings.c.spec)).all()
    by_row: dict[int, Marking] = {}
    stix_ids: dict[int, str] = {}
    for rid, sid, spec in rows:
        d = orjson.loads(spec)
        by_row[rid] = Marking.of(
            originator=d["originator"],
            level=d["level"],
            topics=d["topics"],
            purpose=d["purpose"],
            rel_to=d["rel_to"],
            noforn=d["noforn"],
            orcon=d["orcon"],
            id=sid,
            groups=d["groups"],
        )
        stix_ids[rid] = sid
    index = MarkingIndex(by_row, stix_ids, {v: k for k, v in stix_ids.items()}, version)
    _index_cache.clear()
    _index_cache[key] = index
    return index


def marking_row(
    conn: sa.Connection,
    ref: str,
    marking: Marking,
    envelope: dict[str, Marking],
    index: MarkingIndex,
    definition: dict[str, Any] | None = None,
) -> int | str:
    """Returns the row id of the marking `ref`, registering it when new; a string explains why a
    posted marking-definition clashes with a stored one (marking definitions are immutable)."""
    if ref in index.rows:
        stored = index.by_row[index.rows[ref]]
        if ref in envelope and mk.spec_json(envelope[ref]) != mk.spec_json(stored):
            return "a different marking-definition with this id is stored (markings are immutable)"
        return index.rows[ref]
    found = conn.execute(
        sa.select(markings.c.id, markings.c.spec).where(markings.c.stix_id == ref)
    ).first()
    if found is not None:
        if found[1] != mk.spec_json(marking):
            return "a different marking-definition with this id is stored (markings are immutable)"
        return int(found[0])
    body = definition or (mk.marking_definition(marking) if ref == mk.marking_id(marking) else None)
    res = conn.execute(
        sa.insert(markings).values(
            stix_id=ref,
            originator=marking.originator,
            spec=mk.spec_json(marking),
            body=orjson.dumps(body or {"id": ref}).decode(),
        )
    )
    pk = res.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def ensure_marking(store: Store, marking: Marking) -> str:
    """Registers a release marking (idempotent); returns its STIX id."""
    ref = marking_id_for(marking)
    with store.begin() as conn:
        marking_row(conn, ref, marking, {}, marking_index(store))
    return ref


def marking_id_for(marking: Marking) -> str:
    return mk.marking_id(marking)


def marking_definitions(store: Store, rows: set[int]) -> list[str]:
    """Returns the stored marking-definition objects (JSON text) of the given marking rows."""
    if not rows:
        return []
    with store.read() as conn:
        found = (
            conn.execute(sa.select(markings.c.body).where(markings.c.id.in_(sorted(rows))))
            .scalars()
            .all()
        )
    return [b for b in found if b.startswith('{"type"') or '"type":"marking-definition"' in b]
