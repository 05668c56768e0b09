"""The object store: collections, release markings and STIX object versions in the store.

Reads return stored JSON text untouched so that responses are spliced, not re-serialised. Writes
are one transaction per envelope; `date_added` is strictly increasing within a collection because
the collection row is locked (PostgreSQL `FOR UPDATE`, SQLite's single writer) while it is bumped.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.types import UserDefinedType

from accord.audit import log as audit
from accord.errors import Forbidden, NotFound
from accord.exchange import authority
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.stix import inspect, timestamp_key
from accord.policy.marking import Marking
from accord.store import Store
from accord.store.exchange_schema import collections, markings, objects
from accord.store.meta import bump

MEDIA_STIX = "application/stix+json;version=2.1"

#: The counter every change to stored object versions other than an insert bumps (a deletion, a
#: reclassification): readers that keep pages (`accord.exchange.readahead`) compare it.
OBJECTS_VERSION = "objects_version"


def change_versions(conn: sa.Connection, seqs: Sequence[int], **values: Any) -> None:
    """Sets `values` (deleted, marking) on the stored versions `seqs`, inside the caller's
    transaction, and bumps the counter that tells readers keeping pages (`Node.snapshot`,
    `accord.exchange.readahead`) that stored versions changed. Every change to a stored version
    other than ingest's own (which raises its collection's `last_added`) goes through here."""
    conn.execute(sa.update(objects).where(objects.c.seq.in_(seqs)).values(**values))
    bump(conn, OBJECTS_VERSION)


@dataclass(frozen=True)
class Collection:
    """A TAXII collection. `kind` is `items` (the node's items: its users publish, partners and
    users read) or `inbox` (partners deliver, the node's users read)."""

    id: str
    api_root: str
    alias: str | None
    title: str
    description: str
    kind: str
    key: int  # what objects name it by (`objects.coll`)


def now_us() -> int:
    return time.time_ns() // 1000


_COLLECTIONS_LOCK = 0x616363_636F6C  # an advisory lock key of accord's own ("acccol")


def ensure_collections(store: Store, api_root: str, party: str) -> list[Collection]:
    """Creates the node's two collections in `api_root` when it has none; returns them all."""
    existing = list_collections(store, api_root)
    if existing:
        return existing
    ns = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
    rows = [
        {
            "id": str(uuid.uuid5(ns, f"accord:{api_root}:{party}:items")),
            "api_root": api_root,
            "alias": "items",
            "title": f"{party} items",
            "description": f"Items {party} holds, each released only as the agreements allow.",
            "kind": "items",
            "last_added": 0,
        },
        {
            "id": str(uuid.uuid5(ns, f"accord:{api_root}:{party}:inbox")),
            "api_root": api_root,
            "alias": "inbox",
            "title": f"{party} inbox",
            "description": f"Partners deliver items released to {party} here.",
            "kind": "inbox",
            "last_added": 0,
        },
    ]
    with store.begin() as conn:
        if store.dialect == "postgresql":
            # Processes starting together (workers, a CLI) would both find no collection and
            # number theirs from the same max(key): one at a time. (SQLite's writes are.)
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _COLLECTIONS_LOCK})
        if (
            conn.execute(
                sa.select(collections.c.id).where(collections.c.api_root == api_root)
            ).first()
            is None
        ):
            top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(collections.c.key), 0)))
            first = int(top.scalar() or 0) + 1
            for n, row in enumerate(rows):
                row["key"] = first + n
            conn.execute(sa.insert(collections), rows)
    return list_collections(store, api_root)


def list_collections(store: Store, api_root: str) -> list[Collection]:
    """Returns the collections of an API root in a stable order (by kind, then id)."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(collections)
            .where(collections.c.api_root == api_root)
            .order_by(collections.c.kind, collections.c.id)
        ).all()
    return [_collection(r) for r in rows]


def _collection(r: sa.Row[Any]) -> Collection:
    m = r._mapping
    return Collection(
        m["id"], m["api_root"], m["alias"], m["title"], m["description"], m["kind"], m["key"]
    )


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


class Outcome(NamedTuple):
    """What became of one posted object: `ok`, its id and version, and a message (a tuple: an
    envelope makes a thousand of them)."""

    ok: bool
    id: str
    version: str
    message: str


# A function deciding whether the publisher may store an object under this marking: returns
# None when it may, or the reason it may not.
PublishCheck = Callable[[Marking], str | None]


def id_hash(stix_id: str) -> int:
    """Returns the 64-bit hash of an object id kept in `objects.idh` (the first 8 bytes of its
    SHA-256, signed): lookups by id go through the index (coll, idh) and then compare the id."""
    return int.from_bytes(hashlib.sha256(stix_id.encode()).digest()[:8], "big", signed=True)


_INSERT_COLUMNS = (
    "coll",
    "stix_id",
    "idh",
    "type",
    "version",
    "version_key",
    "spec_version",
    "date_added",
    "marking",
    "deleted",
    "multi",
    "published_by",
    "body",
    "owner",
    "instance",
)
# Built once: every envelope locks its collection's row and moves its `last_added`.
_LOCK_COLLECTION = (
    sa.select(collections.c.last_added)
    .where(collections.c.id == sa.bindparam("cid"))
    .with_for_update()
)
_MOVE_COLLECTION = (
    sa.update(collections)
    .where(collections.c.id == sa.bindparam("cid"))
    .values(last_added=sa.bindparam("last"))
)


@dataclass
class Prepared:
    """An envelope after the structural checks (`prepare`), ready for `add_objects`: the
    outcome of each object that failed them, the release markings the envelope defines, and
    the objects that passed with their version and version key."""

    outcomes: list[Outcome | None]
    markings: dict[str, Marking]
    definitions: dict[str, dict[str, Any]]
    # (position, obj, version, key, id_hash(id))
    checked: list[tuple[int, dict[str, Any], str, str, int]]

    @staticmethod
    def join(parts: Sequence[Prepared]) -> Prepared:
        """Returns several prepared envelopes as one (their objects in order), to be stored in one
        transaction."""
        if len(parts) == 1:
            return parts[0]
        joined = Prepared([], {}, {}, [])
        for part in parts:
            offset = len(joined.outcomes)
            joined.outcomes.extend(part.outcomes)
            joined.markings.update(part.markings)
            joined.definitions.update(part.definitions)
            joined.checked.extend((i + offset, o, v, k, h) for i, o, v, k, h in part.checked)
        return joined


def prepare(posted: Sequence[Any]) -> Prepared:
    """Returns the envelope checked structurally; needs no store, so it may run on another
    thread while the store is busy with the previous envelope (federation pull)."""
    outcomes: list[Outcome | None] = [None] * len(posted)
    envelope_markings: dict[str, Marking] = {}
    envelope_defs: dict[str, dict[str, Any]] = {}
    checked: list[tuple[int, dict[str, Any], str, str, int]] = []
    for i, obj in enumerate(posted):
        why, ver, key = inspect(obj)
        if why is not None:
            raw_id = obj.get("id") if isinstance(obj, dict) else None
            oid: str = raw_id if isinstance(raw_id, str) else ""
            outcomes[i] = Outcome(False, oid[:160] or "(no id)", ver[:40], why)
            continue
        if obj["type"] == "marking-definition":
            oid = obj["id"]
            try:
                m = mk.from_definition(obj)
            except Exception as exc:  # noqa: BLE001 — any malformed extension is this object's failure
                outcomes[i] = Outcome(False, oid, ver, str(exc))
                continue
            if m is None:
                outcomes[i] = Outcome(
                    False, oid, ver, "a marking-definition without a release marking is not stored"
                )
                continue
            why = mk.id_mismatch(obj, m)
            if why is not None:
                outcomes[i] = Outcome(False, oid, ver, why)
                continue
            envelope_markings[oid] = m
            envelope_defs[oid] = obj
        checked.append((i, obj, ver, key, id_hash(obj["id"])))
    return Prepared(outcomes, envelope_markings, envelope_defs, checked)


class _Held(NamedTuple):
    """One stored version of a posted id, as ingest looks it up."""

    seq: int
    coll: int
    version_key: str
    deleted: bool
    marking: int
    owner: str
    instance: str
    published_by: str


# Every stored version of a set of ids, in every collection (ids are unique per node), each
# collection through its (coll, idh) index; the caller compares the ids.
_HELD = sa.select(
    objects.c.seq,
    objects.c.stix_id,
    objects.c.coll,
    objects.c.version_key,
    objects.c.deleted,
    objects.c.marking,
    objects.c.owner,
    objects.c.instance,
    objects.c.published_by,
).where(objects.c.coll.in_(sa.select(collections.c.key)))


def held_versions(
    conn: sa.Connection, dialect: str, hashes: dict[str, int]
) -> dict[str, list[_Held]]:
    """Returns every stored version (any collection, any instance) of the ids in `hashes` (id →
    `id_hash`), oldest first."""
    found: dict[str, list[_Held]] = {}
    if not hashes:
        return found
    if dialect not in _held_sql:
        # No ORDER BY: SQLite would walk the table in rowid order to avoid a sort rather than
        # use the (coll, idh) index; the few rows found are sorted here.
        _held_sql[dialect] = _HELD.where(_member(objects.c.idh, "idhs", dialect))
    rows = conn.execute(
        _held_sql[dialect], {"idhs": _set_param(set(hashes.values()), dialect)}
    ).all()
    for seq, sid, coll, vkey, deleted, mrow, owner, inst, by in sorted(rows):
        if sid in hashes:  # not another id with the same hash
            found.setdefault(sid, []).append(
                _Held(seq, coll, vkey, bool(deleted), mrow, owner, inst, by)
            )
    return found


_held_sql: dict[str, sa.Select[Any]] = {}


@dataclass
class _Id:
    """What ingest knows of one posted id: its owner's instance (owner, first writer, collection,
    the current version's marking) and the versions stored per (instance, version key)."""

    owner: str | None = None
    first_by: str = ""
    coll: int | None = None
    current: int | None = None  # the current version's marking row
    own: bool = False  # the writer has an instance of its own
    versions: dict[tuple[str, str], tuple[int, bool, int]] = field(default_factory=dict)
    colls: set[int] = field(default_factory=set)

    @staticmethod
    def of(rows: list[_Held], writer: str) -> _Id:
        known = _Id()
        owners = [r for r in rows if r.instance == ""]
        if owners:
            first = owners[0]
            known.owner, known.first_by, known.coll = first.owner, first.published_by, first.coll
            live = [r for r in owners if not r.deleted] or owners
            known.current = max(live, key=lambda r: (r.version_key, r.seq)).marking
        for r in rows:
            known.colls.add(r.coll)
            if r.instance == writer:
                known.own = True
            if r.instance in ("", writer):
                known.versions[(r.instance, r.version_key)] = (r.seq, r.deleted, r.marking)
        return known


def add_objects(
    store: Store,
    collection: Collection,
    posted: Sequence[Any] | Prepared,
    writer: Writer,
    may_publish: PublishCheck,
    then: Callable[[sa.Connection, list[Outcome]], None] | None = None,
    markings_top: int | None = None,
) -> list[Outcome]:
    """Stores the usable objects of an envelope (as posted, or `prepare`d) in one transaction;
    returns one outcome per object in order. Unusable objects (malformed, without a release
    marking, refused by `may_publish`) are reported, never stored; exact duplicates are
    successes.

    Every object is written where `writer`'s authority puts it (`accord.exchange.authority`): a
    fresh id becomes its marking's originator's; a new version of a stored id goes to its owner's
    instance only under the owner's authority, is refused when the writer may read the item but
    has no authority over it, and becomes the writer's own instance when it may not read the
    current version — answered exactly as a fresh id, so that writing cannot probe for items the
    writer may not see, nor change what anyone else reads (docs/security.md). `then` runs inside
    the same transaction with the outcomes (the audit record and the status resource).
    `markings_top` is the newest marking's row id when the caller has just read it
    (`marking_index`)."""
    ready = posted if isinstance(posted, Prepared) else prepare(posted)
    outcomes = list(ready.outcomes)
    envelope_markings, envelope_defs, checked = ready.markings, ready.definitions, ready.checked
    index = marking_index(store, markings_top)

    def release_ref(given: tuple[str, ...]) -> tuple[str | None, str]:
        # A reference the writer may not use counts as none (Writer.names): the answer must not
        # tell it which release classes exist (docs/security.md).
        refs = [
            r
            for r in given
            if r in envelope_markings
            or (
                r in index.rows
                and writer.names(index.rows[r], index.by_row[index.rows[r]].originator)
            )
        ]
        if not refs:
            return (
                None,
                "no release marking: object_marking_refs names no accord or ACS release marking",
            )
        if len(set(refs)) > 1:
            return None, "more than one release marking: an object carries exactly one"
        return refs[0], ""

    refusals: dict[str, str | None] = {}  # one publishing decision per marking, not per object
    marking_rows: dict[str, int | str] = {}

    def decide(conn: sa.Connection, ref: str) -> tuple[int | None, str, str]:
        # The marking's row, why it is refused, and its originator (a fresh id's owner).
        marking = envelope_markings.get(ref) or index.by_row[index.rows[ref]]
        if ref not in refusals:
            refusals[ref] = may_publish(marking)
        refusal = refusals[ref]
        if refusal is not None:
            return None, refusal, marking.originator
        if ref not in marking_rows:
            marking_rows[ref] = _marking_row(
                conn, ref, marking, envelope_markings, index, envelope_defs.get(ref)
            )
        row_id = marking_rows[ref]
        if isinstance(row_id, str):
            return None, row_id, marking.originator
        return row_id, "", marking.originator

    # The objects of an envelope mostly carry the same marking refs: one decision per distinct
    # list (a tuple key), or per marking-definition (its id, a string key).
    decided: dict[tuple[str, ...] | str, tuple[int | None, str, str]] = {}
    shadowed: list[list[str]] = []  # [id, version, the original's marking id]: audited
    with store.begin() as conn:
        coll = conn.execute(_LOCK_COLLECTION, {"cid": collection.id}).first()
        if coll is None:
            raise NotFound(f"collection {collection.id} does not exist")
        last = int(coll[0])
        hashes = {obj["id"]: h for _, obj, _, _, h in checked}
        # Every version already stored for the posted ids, in one query; the bodies are read
        # only for the few that collide.
        known = {
            oid: _Id.of(rows, writer.name)
            for oid, rows in held_versions(conn, store.dialect, hashes).items()
        }
        # Rows in the column order of _INSERT_COLUMNS; `multi` (index 10) is settled at the end.
        new_rows: list[tuple[Any, ...]] = []
        new_keys: set[tuple[str, str, str]] = set()
        new_ids: dict[str, str] = {}  # a fresh id of this envelope → its owner
        multi: set[str] = set()
        cid = collection.key
        # One clock reading per envelope: every object of it is added in this one transaction,
        # one microsecond apart (date_added is strictly increasing per collection, §3.5 note).
        now = now_us()
        for i, obj, ver, key, idh in checked:
            oid = obj["id"]
            typ = obj["type"]
            d: tuple[int | None, str, str] | None
            if typ == "marking-definition":
                d = decided.get(oid)
                if d is None:
                    d = decided[oid] = decide(conn, oid)
            else:
                refs = obj.get("object_marking_refs")
                given = tuple(refs) if refs else ()
                d = decided.get(given)
                if d is None:
                    ref, why = release_ref(given)
                    d = decided[given] = (None, why, "") if ref is None else decide(conn, ref)
            row_id, why, originator = d
            if row_id is None:
                outcomes[i] = Outcome(False, oid, ver, why)
                continue
            # Whose instance this version joins (accord.exchange.authority).
            have = known.get(oid)
            inst, owner = "", originator
            if oid in new_ids:
                owner = new_ids[oid]
            elif have is not None and have.owner is not None and have.current is not None:
                to = authority.target(
                    writer,
                    owner=have.owner,
                    first_by=have.first_by,
                    current_marking=have.current,
                    has_own_instance=have.own,
                )
                if to is authority.Target.OWNER:
                    found = have.versions.get(("", key))
                    if found is not None and not writer.reads(found[2]):
                        to = authority.Target.OWN  # a version it may not read: told nothing
                if to is authority.Target.REFUSED:
                    outcomes[i] = Outcome(False, oid, ver, authority.refusal(oid, have.owner))
                    continue
                if to is authority.Target.OWNER:
                    owner = have.owner
                    if have.coll != cid:
                        outcomes[i] = Outcome(
                            False, oid, ver, f"{oid} is held in another collection of this node"
                        )
                        continue
                    if originator != owner:
                        outcomes[i] = Outcome(
                            False,
                            oid,
                            ver,
                            f"a new version of {oid} keeps its originator {owner} "
                            f"(this one names {originator})",
                        )
                        continue
                else:
                    inst = writer.name
                    shadowed.append([oid, ver, index.stix_ids.get(have.current, "")])
            vkey = (oid, inst, key)
            found = have.versions.get((inst, key)) if have is not None else None
            if found is not None:
                seq, deleted, _ = found
                old_body = conn.execute(
                    sa.select(objects.c.body).where(objects.c.seq == seq)
                ).scalar_one()
                if orjson.loads(old_body) != obj:
                    outcomes[i] = Outcome(
                        False, oid, ver, "another object with this id and version is stored"
                    )
                elif deleted:
                    last = last + 1 if last >= now else now
                    conn.execute(
                        sa.update(objects)
                        .where(objects.c.seq == seq)
                        .values(deleted=False, date_added=last)
                    )
                    outcomes[i] = Outcome(True, oid, ver, "restored")
                else:
                    outcomes[i] = Outcome(True, oid, ver, "already stored")
                continue
            if vkey in new_keys:
                outcomes[i] = Outcome(True, oid, ver, "duplicate in this envelope")
                continue
            new_keys.add(vkey)
            if oid in new_ids or (have is not None and cid in have.colls):
                multi.add(oid)
            if have is None or have.owner is None:
                new_ids.setdefault(oid, owner)
            last = last + 1 if last >= now else now
            # spec_version is "2.1" or absent (an SCO): `inspect` refused anything else.
            body = orjson.dumps(obj).decode()
            new_rows.append(
                (cid, oid, idh, typ, ver, key, "2.1", last, row_id, False, False,
                 writer.name, body, owner, inst)
            )  # fmt: skip
            outcomes[i] = Outcome(True, oid, ver, "stored")
        if multi:
            new_rows = [r[:10] + (True,) + r[11:] if r[1] in multi else r for r in new_rows]
        if shadowed:
            # The writer is told "stored", as for a fresh id; the record says what happened,
            # for those who may read the original (one redaction rule: accord.audit).
            audit.append(
                conn,
                "polyinstance",
                writer.name,
                writer.party,
                {"collection": collection.id, "instance": writer.name, "objects": shadowed},
            )
        if new_rows:
            # The driver's executemany on plain tuples: the hot path of ingest (issue #4 bench).
            mark = "%s" if store.dialect == "postgresql" else "?"
            sql = (
                f"INSERT INTO objects ({', '.join(_INSERT_COLUMNS)}) "
                f"VALUES ({', '.join(mark for _ in _INSERT_COLUMNS)})"
            )
            conn.exec_driver_sql(sql, new_rows)
        if multi:
            # An object with several versions takes the slower "latest visible version" test
            # on reads; single-version objects (the vast majority) skip it.
            conn.execute(
                sa.update(objects)
                .where(
                    objects.c.coll == collection.key,
                    objects.c.idh.in_(sorted({hashes[i] for i in multi})),
                    objects.c.stix_id.in_(sorted(multi)),
                )
                .values(multi=True)
            )
        conn.execute(_MOVE_COLLECTION, {"cid": collection.id, "last": last})
        done = [o for o in outcomes if o is not None]
        if then is not None:
            then(conn, done)
    return done


def _marking_row(
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
        _marking_row(conn, ref, marking, {}, marking_index(store))
    return ref


def marking_id_for(marking: Marking) -> str:
    return mk.marking_id(marking)


# ---- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A TAXII filter set (§3.4): ids, types, versions (`last`, `first`, `all` or timestamps),
    spec versions, `added_after` (µs), and the endpoint-fixed object id."""

    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    spec_versions: tuple[str, ...] = ()
    added_after: int | None = None


Visible = frozenset[int] | None  # None: every marking (no filter)


class _ArrayText(UserDefinedType[str]):
    """A PostgreSQL array parameter given as its text form (`_set_param`), declared in the
    statement (`::INTEGER[]`) and passed to the driver untouched."""

    cache_ok = True
    render_bind_cast = True

    def __init__(self, item: str) -> None:
        self.item = item

    def get_col_spec(self, **kw: Any) -> str:
        return f"{self.item}[]"


def _member(column: sa.ColumnElement[Any], name: str, dialect: str) -> sa.ColumnElement[bool]:
    """`column ∈ :name`, the set passed as ONE parameter (a PostgreSQL array, a JSON array read by
    SQLite's json_each): thousands of markings cost one bind, not thousands, and the statement's
    text does not depend on the set's size, so it is compiled once (`_page_sql`)."""
    if dialect == "postgresql":
        # The array travels in its text form (psycopg's array dumper costs about a millisecond
        # per thousand markings); sent untyped and declared an array in the statement, it is
        # read by the server as the parameter's value, so the plan made for that value tests
        # membership by hashing (PostgreSQL 14+), not by scanning the array for every row.
        item = "TEXT"
        if isinstance(column.type, sa.Integer):  # BigInteger is one too
            item = "BIGINT" if isinstance(column.type, sa.BigInteger) else "INTEGER"
        return column == sa.any_(sa.bindparam(name, type_=_ArrayText(item)))
    each = sa.func.json_each(sa.bindparam(name, type_=sa.Text)).table_valued("value")
    return column.in_(sa.select(each.c.value))


def _set_param(values: Iterable[Any], dialect: str) -> str:
    ordered = sorted(values)
    if dialect == "postgresql":
        # An array literal: every element double-quoted and escaped, so any string is safe.
        return "{" + ",".join(_pg_element(v) for v in ordered) + "}"
    return orjson.dumps(ordered).decode()


def _pg_element(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.lru_cache(maxsize=64)
def _visible_param(visible: frozenset[int], dialect: str) -> str:
    # A view's set is the same object page after page: encoded once, not per page.
    return _set_param(visible, dialect)


# One alias for the "other versions of the same object" subqueries: built once, not per page.
_OTHER = objects.alias("other")
# The owners' instances (`objects.instance`), as a literal: the statement's text is fixed.
_OWNERS: sa.ColumnElement[str] = sa.literal_column("''")


def _visible_clause(visible: Visible, table: sa.FromClause, dialect: str) -> sa.ColumnElement[bool]:
    if visible is None:
        return sa.true()
    if not visible:
        return sa.false()
    return _member(table.c.marking, "visible", dialect)


def _where_params(
    coll: int, visible: Visible, q: Query, dialect: str, instance: str = ""
) -> dict[str, Any]:
    """Returns the parameter values of the conditions `_where` builds for the same query."""
    if not isinstance(coll, int):
        # A collection's id here would match nothing, silently: say so instead.
        raise TypeError(f"a collection is named by its key (an int), not {coll!r}")
    params: dict[str, Any] = {"collection": coll, "me": instance}
    if visible:
        params["visible"] = _visible_param(visible, dialect)
    if q.ids:
        params["ids"] = _set_param(set(q.ids), dialect)
        params["idhs"] = _set_param({id_hash(i) for i in q.ids}, dialect)
    if q.types:
        params["types"] = _set_param(set(q.types), dialect)
    if q.added_after is not None:
        params["added_after"] = q.added_after
    if "all" not in q.versions and any(v not in ("last", "first") for v in q.versions):
        stamps = {timestamp_key(v) for v in q.versions if v not in ("last", "first")}
        params["stamps"] = _set_param({k for k in stamps if k}, dialect)
    return params


def _where(
    coll: int, visible: Visible, q: Query, dialect: str = "sqlite", instance: str = ""
) -> tuple[list[sa.ColumnElement[bool]], dict[str, Any]]:
    """Returns the conditions of a filtered read and their parameters. The conditions depend
    only on the query's shape (which filters are present), never on its values. A reader sees
    the owners' instances and its own (`instance`, its name: accord.exchange.authority), never
    another principal's."""
    o = objects
    cond: list[sa.ColumnElement[bool]] = [
        o.c.coll == sa.bindparam("collection"),
        o.c.deleted.is_(False),
        _visible_clause(visible, o, dialect),
        o.c.instance.in_([_OWNERS, sa.bindparam("me", type_=sa.String)]),
    ]
    if q.ids:
        # The hash finds the rows through (coll, idh); the id itself rules out another id
        # with the same hash.
        cond.append(_member(o.c.idh, "idhs", dialect))
        cond.append(_member(o.c.stix_id, "ids", dialect))
    if q.types:
        cond.append(_member(o.c.type, "types", dialect))
    if q.spec_versions and "2.1" not in q.spec_versions:
        cond.append(sa.false())
    if q.added_after is not None:
        cond.append(o.c.date_added > sa.bindparam("added_after", type_=sa.BigInteger))
    if "all" not in q.versions:
        # "Latest" and "first" are judged among the versions this principal may see, so that
        # neither the count nor the existence of a hidden version leaks (Appendix B).
        other = _OTHER
        same = sa.and_(
            other.c.coll == o.c.coll,
            other.c.idh == o.c.idh,
            other.c.stix_id == o.c.stix_id,
            other.c.instance == o.c.instance,
            other.c.deleted.is_(False),
            _visible_clause(visible, other, dialect),
        )
        alts: list[sa.ColumnElement[bool]] = []
        if "last" in q.versions:
            alts.append(~sa.exists().where(same, other.c.version_key > o.c.version_key))
        if "first" in q.versions:
            alts.append(~sa.exists().where(same, other.c.version_key < o.c.version_key))
        if any(v not in ("last", "first") for v in q.versions):
            alts.append(_member(o.c.version_key, "stamps", dialect))
        if "last" in q.versions or "first" in q.versions:
            # The only version of an object is both its first and its last.
            cond.append(sa.or_(o.c.multi.is_(False), *alts))
        else:
            cond.append(sa.or_(*alts))
    return cond, _where_params(coll, visible, q, dialect, instance)


class Row(NamedTuple):
    """One stored object version as a page returns it (a tuple: built at driver speed)."""

    seq: int
    stix_id: str
    version: str
    date_added: int
    marking: int
    body: bytes  # the stored JSON as UTF-8, spliced into responses as it is


def _page_columns(dialect: str) -> tuple[sa.ColumnElement[Any], ...]:
    # The body comes back as bytes: a page of 1000 objects is then never decoded into str and
    # encoded again on its way into the response.
    if dialect == "postgresql":
        body: sa.ColumnElement[Any] = sa.func.convert_to(
            objects.c.body, sa.literal_column("'UTF8'")
        )
    else:
        body = sa.cast(objects.c.body, sa.LargeBinary)
    return (
        objects.c.seq,
        objects.c.stix_id,
        objects.c.version,
        objects.c.date_added,
        objects.c.marking,
        body,
    )


# Compiled page statements by (dialect, shape): the read path's hot loop skips building and
# compiling SQL (about a millisecond a page) and runs the driver's statement directly.
_page_sql_cache: dict[tuple[object, ...], tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}


def _page_sql(
    store: Store, coll: int, visible: Visible, q: Query, after: int | None
) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """Returns the compiled page statement for the query's shape (which filters are present, not
    their values), its positional parameter names (SQLite) and the parameters it fixes itself."""
    key = (
        store.dialect,
        visible is None,
        bool(visible),
        bool(q.ids),
        bool(q.types),
        tuple(sorted({v if v in ("last", "first", "all") else "t" for v in q.versions})),
        bool(q.spec_versions and "2.1" not in q.spec_versions),
        q.added_after is not None,
        after is not None,
    )
    found = _page_sql_cache.get(key)
    if found is None:
        cond, _ = _where(coll, visible, q, store.dialect)
        if after is not None:
            cond.append(objects.c.date_added > sa.bindparam("after", type_=sa.BigInteger))
        stmt = (
            sa.select(*_page_columns(store.dialect))
            .where(*cond)
            .order_by(objects.c.date_added)
            .limit(sa.bindparam("limit", type_=sa.Integer))
        )
        compiled = stmt.compile(dialect=store.engine.dialect)
        positions = compiled.positiontup
        # Parameters the compiler added itself (SQLite's OFFSET 0) keep their compiled values.
        fixed = {k: b.effective_value for k, b in compiled.binds.items() if not b.required}
        sql = str(compiled)
        if q.ids and store.dialect == "sqlite":
            # Given ids, SQLite's planner still walks (coll, date_added) to spare itself a sort,
            # testing every object of the collection (~350 ms for one object among a million);
            # the id index finds the few rows at once, and sorting them is nothing. (SQLAlchemy
            # renders no index hints for SQLite.)
            sql = sql.replace("FROM objects \n", "FROM objects INDEXED BY ix_objects_id \n", 1)
            assert "INDEXED BY" in sql, sql
        found = (sql, tuple(positions) if positions is not None else None, fixed)
        _page_sql_cache[key] = found
    return found


def page(
    store: Store,
    coll: int,
    visible: Visible,
    q: Query,
    after: int | None,
    limit: int,
    instance: str = "",
) -> tuple[list[Row], bool]:
    """Returns up to `limit` visible object versions after position `after` (a date_added), in
    ascending date_added order, and whether more remain: the owners' instances, and the reader's
    own when `instance` names it."""
    sql, positions, fixed = _page_sql(store, coll, visible, q, after)
    params = {**fixed, **_where_params(coll, visible, q, store.dialect, instance)}
    params["limit"] = limit + 1
    if after is not None:
        params["after"] = after
    args: Any = params if positions is None else tuple(params[p] for p in positions)
    # The driver's rows, straight from its cursor: no per-row result objects in between.
    rows = list(map(Row._make, store.fetch_rows(sql, args)))
    return rows[:limit], len(rows) > limit


def version_page(
    store: Store,
    coll: int,
    visible: Visible,
    object_id: str,
    q: Query,
    after: int | None,
    limit: int,
    instance: str = "",
    ids: tuple[str, ...] = (),
) -> tuple[list[Row], bool]:
    """Returns the visible versions of one object (every version, `match[version]` ignored);
    `ids`, when given, are the stored ids that stand for it (`accord.exchange.abroad.lookup`):
    their versions, each version once."""
    rows, more = page(
        store,
        coll,
        visible,
        Query(
            ids=ids or (object_id,),
            versions=("all",),
            spec_versions=q.spec_versions,
            added_after=q.added_after,
        ),
        after,
        limit,
        instance,
    )
    if len(ids) > 1:
        once: dict[str, Row] = {}
        for r in rows:
            once.setdefault(r.version, r)
        rows = list(once.values())
    return rows, more


def delete_versions(store: Store, coll: int, object_id: str, q: Query, writer: Writer) -> int:
    """Marks the matching versions of an object deleted (kept for the record, never served again)
    as `writer`'s authority allows (accord.exchange.authority); returns how many. The writer's own
    instance goes first; the owner's instance needs a writer that may read its current version
    and has the owner's authority (Forbidden when it may read it but has none). Versions it may
    not read are never touched, and finding none is 0, the same for a hidden object as for an
    absent one."""
    query = Query(ids=(object_id,), versions=q.versions, spec_versions=q.spec_versions)
    with store.begin() as conn:
        rows = held_versions(conn, store.dialect, {object_id: id_hash(object_id)}).get(
            object_id, []
        )
        known = _Id.of(rows, writer.name)
        if known.own:
            instance = writer.name
        elif known.owner is not None and known.current is not None:
            # Only from a writer that may read the current version (PRODUCT.md §7), and then
            # only under the owner's authority.
            if not writer.reads(known.current):
                return 0
            if not authority.has_authority(writer, known.owner, known.first_by):
                raise Forbidden(authority.refusal(object_id, known.owner))
            instance = ""
        else:
            return 0
        cond, params = _where(coll, writer.view, query, store.dialect, instance)
        cond.append(objects.c.instance == instance)
        found = conn.execute(sa.select(objects.c.seq).where(*cond), params).all()
        seqs = [r[0] for r in found]
        if seqs:
            change_versions(conn, seqs, deleted=True)
    return len(seqs)


def count_objects(store: Store, coll: int | None = None) -> int:
    """Returns how many live object versions are stored (in one collection or all)."""
    stmt = sa.select(sa.func.count()).select_from(objects).where(objects.c.deleted.is_(False))
    if coll is not None:
        stmt = stmt.where(objects.c.coll == coll)
    with store.read() as conn:
        return int(conn.execute(stmt).scalar() or 0)


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
