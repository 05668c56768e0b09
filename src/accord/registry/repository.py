"""Reading and writing the registry in a store.

`load(store)` returns the whole registry as a `Registry` value; `apply(store, registry)` writes the
records of a validated registry (or part) in one transaction and reports what changed. Records are
stored as canonical JSON so that writing the same record again is detected and skipped: re-importing
a file is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa
from pydantic import BaseModel

from accord.registry.model import Agreement, Consent, Facility, Note, Party, Registry
from accord.store import Store
from accord.store.schema import REGISTRY_TABLES, meta

_KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "parties": (Party, "code"),
    "agreements": (Agreement, "id"),
    "notes": (Note, "id"),
    "consents": (Consent, "id"),
    "facilities": (Facility, "id"),
}


def canonical(record: BaseModel) -> str:
    """Returns the record as canonical JSON text: sorted keys, defaults left out."""
    data = record.model_dump(mode="json", exclude_defaults=True)
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def load(store: Store) -> Registry:
    """Returns every record in the store as one Registry, each kind sorted by key."""
    out: dict[str, list[BaseModel]] = {}
    with store.read() as conn:
        for kind, (model, key) in _KINDS.items():
            table = REGISTRY_TABLES[kind]
            rows = conn.execute(sa.select(table.c.body).order_by(table.c[key])).scalars()
            out[kind] = [model.model_validate_json(body) for body in rows]
    return Registry.model_validate(out)


@dataclass
class Changes:
    """What a write changed, per kind: keys added and keys replaced."""

    added: dict[str, list[str]] = field(default_factory=dict)
    replaced: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.added.values()) and not any(self.replaced.values())

    def count(self) -> int:
        return sum(len(v) for v in self.added.values()) + sum(
            len(v) for v in self.replaced.values()
        )


def apply(store: Store, registry: Registry) -> Changes:
    """Writes every record of `registry` (upsert by key) in one transaction; returns the changes.

    The caller has validated `registry` against the merged world (`accord.registry.files`)."""
    changes = Changes()
    with store.begin() as conn:
        for kind, (_model, key) in _KINDS.items():
            table = REGISTRY_TABLES[kind]
            records: tuple[BaseModel, ...] = getattr(registry, kind)
            if not records:
                continue
            keys = [getattr(r, key) for r in records]
            found = conn.execute(
                sa.select(table.c[key], table.c.body).where(table.c[key].in_(keys))
            )
            existing = {row[0]: row[1] for row in found}
            for rec in records:
                k = getattr(rec, key)
                body = canonical(rec)
                if k not in existing:
                    conn.execute(sa.insert(table).values({key: k, "body": body}))
                    changes.added.setdefault(kind, []).append(k)
                elif existing[k] != body:
                    conn.execute(sa.update(table).where(table.c[key] == k).values(body=body))
                    changes.replaced.setdefault(kind, []).append(k)
    return changes


def get_meta(store: Store, key: str) -> str | None:
    """Returns a node setting kept in the store (e.g. `party`), or None."""
    with store.read() as conn:
        value = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
    return None if value is None else str(value)


def set_meta(store: Store, key: str, value: str) -> None:
    """Records a node setting in the store."""
    with store.begin() as conn:
        found = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).first()
        if found is None:
            conn.execute(sa.insert(meta).values(key=key, value=value))
        else:
            conn.execute(sa.update(meta).where(meta.c.key == key).values(value=value))
