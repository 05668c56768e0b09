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

from accord.audit import log as audit
from accord.registry.model import Agreement, Consent, Facility, Note, Party, Registry
from accord.store import Store
from accord.store.meta import bump, get_meta, set_meta
from accord.store.schema import REGISTRY_TABLES

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

    def touches(self, kind: str) -> bool:
        return bool(self.added.get(kind) or self.replaced.get(kind))

    def of(self, kind: str) -> dict[str, list[str]]:
        return {"added": self.added.get(kind, []), "replaced": self.replaced.get(kind, [])}

    def to_json(self) -> dict[str, dict[str, list[str]]]:
        return {"added": self.added, "replaced": self.replaced}


def apply(store: Store, registry: Registry, *, actor: str) -> Changes:
    """Writes every record of `registry` (upsert by key) in one transaction; returns the changes,
    audited under `actor` (who made them).

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
        if not changes.empty:
            # Caches of decisions (release tables) are keyed by this counter: any change to the
            # registry invalidates them in every process serving the store (docs/architecture.md).
            bump(conn, "registry_version")
            if changes.touches("consents"):
                audit.append(conn, "consent", actor, "consents", changes.of("consents"))
            audit.append(conn, "registry-change", actor, "registry", changes.to_json())
    return changes


__all__ = ["Changes", "apply", "canonical", "get_meta", "load", "registry_version", "set_meta"]


def registry_version(store: Store) -> int:
    """Returns a counter that changes whenever the registry changes (0 for an empty store)."""
    value = get_meta(store, "registry_version")
    return int(value) if value is not None else 0
