"""Ingest: an envelope of STIX objects stored in a collection (TAXII 2.1 §5.5), one transaction
per envelope, one outcome per object.

`prepare` makes the structural checks, which need no store (federation pull runs them on its
reading thread). `add_objects` then stores what passed, each object where the writer's authority
puts it (`accord.exchange.authority`), and reports the rest; exact duplicates are successes, so
that an envelope sent twice (a retried push) changes nothing. Within a collection `date_added` is
strictly increasing (§3.5): the collection row is locked (PostgreSQL `FOR UPDATE`, SQLite's
single writer) while its `last_added` moves. This is the hot path of ingest: lookups of stored
versions are one statement per envelope, publishing decisions are made once per distinct
marking, and the rows go to the driver's executemany as plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.audit import log as audit
from accord.errors import NotFound
from accord.exchange import authority, foreign, signatures
from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import Collection, now_us
from accord.exchange.marking_rows import MarkingIndex, marking_index, marking_row
from accord.exchange.set_params import member, set_param
from accord.exchange.stix import inspect, timestamp_key
from accord.policy.marking import Marking
from accord.store import Store
from accord.store.exchange_schema import collections, id_hash, objects
from accord.trust import provenance as pv
from accord.trust.keys import node_key


class Outcome(NamedTuple):
    """What became of one posted object: `ok`, its id and version, and a message (a tuple: an
    envelope makes a thousand of them)."""

    ok: bool
    id: str
    version: str
    message: str

    @property
    def stored(self) -> bool:
        """True when this call stored the object: a new version, or a deleted one restored (not
        one already held, a duplicate within the envelope or a predefined definition)."""
        return self.ok and self.message in _STORED


_STORED = frozenset({"stored", "restored"})


# A function deciding whether the publisher may store an object under this marking: returns
# None when it may, or the reason it may not.
PublishCheck = Callable[[Marking], str | None]


# ---- the structural checks ----------------------------------------------------------------


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


PREDEFINED = "a predefined TLP marking-definition: known to every reader, not stored"


def prepare(posted: Sequence[Any], refused: Mapping[int, str] | None = None) -> Prepared:
    """Returns the envelope checked structurally; needs no store, so it may run on another
    thread while the store is busy with the previous envelope (federation pull). `refused` names
    objects, by position, the caller has already refused, and why (`foreign.apply`)."""
    outcomes: list[Outcome | None] = [None] * len(posted)
    envelope_markings: dict[str, Marking] = {}
    envelope_defs: dict[str, dict[str, Any]] = {}
    checked: list[tuple[int, dict[str, Any], str, str, int]] = []
    for i, obj in enumerate(posted):
        why, ver, key = inspect(obj)
        if why is None and refused and i in refused:
            why = refused[i]
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
                # Not a release marking: a predefined TLP definition is known, not stored; any
                # other (a statement) is an object stored under a release marking of its own,
                # so that it travels with the content that names it (accord.exchange.foreign).
                if foreign.tlp_name(oid) is not None:
                    why = foreign.predefined(obj)
                    outcomes[i] = Outcome(why is None, oid, ver, why or PREDEFINED)
                    continue
                why = mk.id_mismatch(obj, None)
                if why is not None:
                    outcomes[i] = Outcome(False, oid, ver, why)
                    continue
            else:
                why = mk.id_mismatch(obj, m)
                if why is not None:
                    outcomes[i] = Outcome(False, oid, ver, why)
                    continue
                envelope_markings[oid] = m
                envelope_defs[oid] = obj
        checked.append((i, obj, ver, key, id_hash(obj["id"])))
    return Prepared(outcomes, envelope_markings, envelope_defs, checked)


# ---- what the store already holds of the posted ids ---------------------------------------


class HeldVersion(NamedTuple):
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

_held_sql: dict[str, sa.Select[Any]] = {}


def held_versions(
    conn: sa.Connection, dialect: str, hashes: dict[str, int]
) -> dict[str, list[HeldVersion]]:
    """Returns every stored version (any collection, any instance) of the ids in `hashes` (id →
    `id_hash`), oldest first."""
    found: dict[str, list[HeldVersion]] = {}
    if not hashes:
        return found
    if dialect not in _held_sql:
        # No ORDER BY: SQLite would walk the table in rowid order to avoid a sort rather than
        # use the (coll, idh) index; the few rows found are sorted here.
        _held_sql[dialect] = _HELD.where(member(objects.c.idh, "idhs", dialect))
    rows = conn.execute(
        _held_sql[dialect], {"idhs": set_param(set(hashes.values()), dialect)}
    ).all()
    for seq, sid, coll, vkey, deleted, mrow, owner, inst, by in sorted(rows):
        if sid in hashes:  # not another id with the same hash
            found.setdefault(sid, []).append(
                HeldVersion(seq, coll, vkey, bool(deleted), mrow, owner, inst, by)
            )
    return found


@dataclass
class KnownId:
    """What the store holds of one id, as the authority over writes needs it: its owner's
    instance (owner, first writer, collection, the current version's marking), whether the
    writer has an instance of its own, and the versions stored per (instance, version key)."""

    owner: str | None = None
    first_by: str = ""
    coll: int | None = None
    current: int | None = None  # the current version's marking row
    own: bool = False  # the writer has an instance of its own
    versions: dict[tuple[str, str], tuple[int, bool, int]] = field(default_factory=dict)
    colls: set[int] = field(default_factory=set)

    @staticmethod
    def of(rows: list[HeldVersion], writer: str) -> KnownId:
        known = KnownId()
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


# ---- add_objects and its steps ------------------------------------------------------------


def add_objects(
    store: Store,
    collection: Collection,
    posted: Sequence[Any] | Prepared,
    writer: Writer,
    may_publish: PublishCheck,
    then: Callable[[sa.Connection, list[Outcome]], None] | None = None,
    markings_top: int | None = None,
    vouched: signatures.Vouched | None = None,
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
    (`marking_index`); `vouched`, the signed provenance verified earlier in the same exchange
    (`signatures.Verifier`)."""
    ready = posted if isinstance(posted, Prepared) else prepare(posted)
    releases = _ReleaseDecisions(ready, writer, may_publish, marking_index(store, markings_top))
    hashes = {obj["id"]: h for _, obj, _, _, h in ready.checked}
    # What the node's own people and host originate is signed (accord.exchange.signatures): the
    # key is read before the transaction (SQLite has one writer).
    signing = writer.provenance == signatures.SIGN and writer.kind != "partner"
    receipting = writer.provenance in (signatures.PINNED, signatures.REQUIRED)
    key = node_key(store) if signing or receipting else None
    with store.begin() as conn:
        last_added = _lock_collection(conn, collection)
        known = _known_ids(conn, store.dialect, hashes, writer.name)
        verifier = (
            signatures.Verifier(conn, ready.checked, writer, vouched)
            if writer.provenance in (signatures.PINNED, signatures.REQUIRED)
            else None
        )
        writes = _Writes(collection, writer, releases.index, known, ready.outcomes, last_added)
        writes.decide_each(conn, ready.checked, releases, verifier)
        if key is not None and signing:
            writes.sign(conn, key, releases)
        if key is not None and receipting:
            # What an accord peer delivered and this node stored: a signed receipt for it.
            signatures.make_receipt(conn, key, writer, writes.stored_entries(releases))
        _audit_shadowed(conn, collection, writer, writes.shadowed)
        _insert_rows(conn, store.dialect, writes.rows())
        _mark_multi(conn, collection, writes.multi, hashes)
        _move_collection(conn, collection, writes.last_added)
        done = [o for o in writes.outcomes if o is not None]
        if verifier is not None:
            verifier.record(conn, {o.id: o.stored for o in done if o.ok})
        if then is not None:
            then(conn, done)
    return done


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


def _lock_collection(conn: sa.Connection, collection: Collection) -> int:
    """Locks the collection's row for the transaction; returns its `last_added`."""
    coll = conn.execute(_LOCK_COLLECTION, {"cid": collection.id}).first()
    if coll is None:
        raise NotFound(f"collection {collection.id} does not exist")
    return int(coll[0])


def _known_ids(
    conn: sa.Connection, dialect: str, hashes: dict[str, int], writer: str
) -> dict[str, KnownId]:
    """Returns what is held of each posted id already stored, in one query; the bodies are read
    only for the few versions that collide."""
    return {
        oid: KnownId.of(rows, writer) for oid, rows in held_versions(conn, dialect, hashes).items()
    }


# What a release marking decision is: the marking's row (None when refused), why it was refused,
# and the marking's originator (a fresh id's owner).
_Decision = tuple[int | None, str, str]


class _ReleaseDecisions:
    """The release marking of each object of one envelope, decided once per marking: which
    marking its refs name (a reference the writer may not use counts as none), whether the
    writer may publish under it, and the marking's row (registered when new)."""

    def __init__(
        self, ready: Prepared, writer: Writer, may_publish: PublishCheck, index: MarkingIndex
    ) -> None:
        self.envelope = ready.markings
        self.definitions = ready.definitions
        self.writer = writer
        self.may_publish = may_publish
        self.index = index
        self.refusals: dict[str, str | None] = {}  # one publishing decision per marking
        self.rows: dict[str, int | str] = {}
        # The objects of an envelope mostly carry the same marking refs: one decision per
        # distinct list (a tuple key), or per marking-definition (its id, a string key).
        self.decided: dict[tuple[str, ...] | str, _Decision] = {}

    def of(self, conn: sa.Connection, obj: dict[str, Any]) -> _Decision:
        """Returns the decision on an object's release marking."""
        if obj["type"] == "marking-definition" and obj["id"] in self.envelope:
            oid: str = obj["id"]
            d = self.decided.get(oid)
            if d is None:
                d = self.decided[oid] = self._decide(conn, oid)
            return d
        refs = obj.get("object_marking_refs")
        given = tuple(refs) if refs else ()
        d = self.decided.get(given)
        if d is None:
            ref, why = self._release_ref(given)
            d = self.decided[given] = (None, why, "") if ref is None else self._decide(conn, ref)
        return d

    def _release_ref(self, given: tuple[str, ...]) -> tuple[str | None, str]:
        # A reference the writer may not use counts as none (Writer.names): the answer must not
        # tell it which release classes exist (docs/security.md).
        index = self.index
        refs = [
            r
            for r in given
            if r in self.envelope
            or (
                r in index.rows
                and self.writer.names(index.rows[r], index.by_row[index.rows[r]].originator)
            )
        ]
        if not refs:
            return (
                None,
                "no release marking: object_marking_refs names no accord or ACS release marking",
            )
        if len(set(refs)) > 1:
            # An ACS 3.0 marking beside accord's own (as accord sends to tools that are not
            # accord nodes) restates it for those tools: accord's decides.
            own = {r for r in refs if self._accord(r)}
            if len(own) != 1:
                return None, "more than one release marking: an object carries exactly one"
            return own.pop(), ""
        return refs[0], ""

    def _accord(self, ref: str) -> bool:
        """True when `ref` names a marking in accord's extension (its id derived from it)."""
        m = self.envelope.get(ref)
        if m is None:
            m = self.index.by_row[self.index.rows[ref]]
        return ref == mk.marking_id(m)

    def _decide(self, conn: sa.Connection, ref: str) -> _Decision:
        marking = self.envelope.get(ref) or self.index.by_row[self.index.rows[ref]]
        if ref not in self.refusals:
            self.refusals[ref] = self.may_publish(marking)
        refusal = self.refusals[ref]
        if refusal is not None:
            return None, refusal, marking.originator
        if ref not in self.rows:
            self.rows[ref] = marking_row(
                conn, ref, marking, self.envelope, self.index, self.definitions.get(ref)
            )
        row_id = self.rows[ref]
        if isinstance(row_id, str):
            return None, row_id, marking.originator
        return row_id, "", marking.originator


class _Writes:
    """One envelope's writes to one collection: each object's outcome, the rows to insert (in
    the column order of INSERT_COLUMNS, each with its `date_added`), the ids that now have several
    versions there, the versions kept as the writer's own instance (`shadowed`), and the
    collection's `last_added` after them."""

    def __init__(
        self,
        collection: Collection,
        writer: Writer,
        index: MarkingIndex,
        known: dict[str, KnownId],
        outcomes: list[Outcome | None],
        last_added: int,
    ) -> None:
        self.coll = collection.key
        self.writer = writer
        self.index = index
        self.known = known
        self.outcomes = list(outcomes)
        self.last_added = last_added
        self.new_rows: list[tuple[Any, ...]] = []
        self.multi: set[str] = set()  # ids that now have several versions in the collection
        self.shadowed: list[list[str]] = []  # [id, version, the original's marking id]: audited
        # What a receipt lists (id, version, content hash when known, marking row, object), when
        # the writer is an accord peer (accord.exchange.signatures).
        self.receipted: list[tuple[str, str, str | None, int, dict[str, Any]]] | None = (
            [] if writer.provenance in (signatures.PINNED, signatures.REQUIRED) else None
        )

    def decide_each(
        self,
        conn: sa.Connection,
        checked: list[tuple[int, dict[str, Any], str, str, int]],
        releases: _ReleaseDecisions,
        verifier: signatures.Verifier | None = None,
    ) -> None:
        """Decides each checked object in order: refused (its marking, the authority over its
        id), already held (the same body, a deleted one restored, or another body), a duplicate
        of an earlier object of the envelope, or a new row."""
        outcomes, known, new_rows, multi = self.outcomes, self.known, self.new_rows, self.multi
        cid, by = self.coll, self.writer.name
        new_keys: set[tuple[str, str, str]] = set()
        new_ids: dict[str, str] = {}  # a fresh id of this envelope → its owner
        last = self.last_added
        # One clock reading per envelope: every object of it is added in this one transaction,
        # one microsecond apart (date_added is strictly increasing per collection, §3.5 note).
        now = now_us()
        for i, obj, ver, key, idh in checked:
            oid = obj["id"]
            row_id, why, originator = releases.of(conn, obj)
            if row_id is None:
                outcomes[i] = Outcome(False, oid, ver, why)
                continue
            if verifier is not None:
                unsigned = verifier.why(obj, ver, originator)
                if unsigned is not None:
                    outcomes[i] = Outcome(False, oid, ver, unsigned)
                    continue
            # Whose instance this version joins (accord.exchange.authority).
            have = known.get(oid)
            inst, owner = "", originator
            if oid in new_ids:
                owner = new_ids[oid]
            elif (
                have is not None
                and self.writer.pulled
                and not have.versions.get(("", key), (0, True, 0))[1]
            ):
                # This node reading a peer finds a live version its owner's item holds (relayed
                # by a third node): the same version, told to no one outside, is not stored
                # again (another body with it is refused; a deleted one is not brought back).
                inst, owner = "", have.owner or originator
            elif have is not None:
                placed = self._instance(oid, ver, key, have, originator)
                if isinstance(placed, Outcome):
                    outcomes[i] = placed
                    continue
                inst, owner = placed
            found = have.versions.get((inst, key)) if have is not None else None
            if found is not None:
                outcomes[i], last = _held_again(conn, obj, oid, ver, found, last, now)
                continue
            vkey = (oid, inst, key)
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
                (cid, oid, idh, obj["type"], ver, key, "2.1", last, row_id, False, False,
                 by, body, owner, inst)
            )  # fmt: skip
            outcomes[i] = Outcome(True, oid, ver, "stored")
            if self.receipted is not None and obj["type"] != "marking-definition":
                digest = verifier.hashes.get((oid, ver)) if verifier is not None else None
                self.receipted.append((oid, ver, digest, row_id, obj))
        self.last_added = last

    def _markings(self, releases: _ReleaseDecisions) -> dict[int, tuple[str, Marking]]:
        """Returns marking row → (its STIX id here, the marking) for the rows this envelope
        writes (the index's markings, or one the envelope registered)."""
        new = {
            row: (ref, releases.envelope[ref])
            for ref, row in releases.rows.items()
            if isinstance(row, int) and ref in releases.envelope
        }
        index = self.index
        return {
            row: new[row] if row in new else (index.stix_ids[row], index.by_row[row])
            for row in {r[8] for r in self.new_rows}
        }

    def stored_entries(self, releases: _ReleaseDecisions) -> list[tuple[str, str, str, str]]:
        """Returns (id, version, content hash, level as marked) of the item versions this
        envelope stores (not marking-definitions nor provenance notes)."""
        levels = {
            row: f"{m.originator} {m.level}" for row, (_, m) in self._markings(releases).items()
        }
        return [
            (oid, ver, digest or pv.content_hash(obj), levels[row])
            for oid, ver, digest, row, obj in self.receipted or ()
            if not (obj["type"] == pv.PROVENANCE_TYPE and pv.is_provenance(obj))
        ]

    def sign(
        self, conn: sa.Connection, key: Ed25519PrivateKey, releases: _ReleaseDecisions
    ) -> None:
        """Adds the signed provenance of the new versions this node originates: one object per
        release marking, dated just before the items it vouches for (so a partner paging the
        collection reads it first), under the same marking (accord.exchange.signatures)."""
        home, cid = self.writer.home, self.coll
        new = [
            {"obj": body, "version": r[4], "marking": r[8]}
            for r in self.new_rows
            if r[13] == home and r[14] == "" and r[3] != "marking-definition"
            for body in (orjson.loads(r[12]),)
            if not pv.is_provenance(body)
        ]
        if not new:
            return
        markings = self._markings(releases)
        dates = [r[7] for r in self.new_rows]
        bodies = signatures.sign_rows(conn, key, home, new, markings, now_us())
        last = max(self.last_added, *dates)
        slots = sorted(dates) + [last + 1 + k for k in range(len(bodies))]
        rows: list[tuple[Any, ...]] = []
        for row, body in bodies:
            pid, stamp = body["id"], body["modified"]
            rows.append(
                (cid, pid, id_hash(pid), pv.PROVENANCE_TYPE, stamp, timestamp_key(stamp) or stamp,
                 "2.1", 0, row, False, False, self.writer.name, orjson.dumps(body).decode(),
                 home, "")
            )  # fmt: skip
        ordered = rows + self.new_rows
        self.new_rows = [(*r[:7], slots[k], *r[8:]) for k, r in enumerate(ordered)]
        self.last_added = max(self.last_added, slots[-1])

    def _instance(
        self, oid: str, ver: str, key: str, have: KnownId, originator: str
    ) -> tuple[str, str] | Outcome:
        """Returns the instance and owner a version of a held id joins (the owner's, instance
        "", or the writer's own), or the outcome refusing it."""
        owner, current = have.owner, have.current
        if owner is None or current is None:  # no owner's instance: as a fresh id
            return "", originator
        writer = self.writer
        to = authority.target(
            writer,
            owner=owner,
            first_by=have.first_by,
            current_marking=current,
            has_own_instance=have.own,
        )
        if to is authority.Target.OWNER:
            found = have.versions.get(("", key))
            if found is not None and not writer.reads(found[2]):
                to = authority.Target.OWN  # a version it may not read: told nothing
        if to is authority.Target.REFUSED:
            return Outcome(False, oid, ver, authority.refusal(oid, owner))
        if to is authority.Target.OWNER:
            if have.coll != self.coll:
                return Outcome(False, oid, ver, f"{oid} is held in another collection of this node")
            if originator != owner:
                return Outcome(
                    False,
                    oid,
                    ver,
                    f"a new version of {oid} keeps its originator {owner} "
                    f"(this one names {originator})",
                )
            return "", owner
        self.shadowed.append([oid, ver, self.index.stix_ids.get(current, "")])
        return writer.name, originator

    def rows(self) -> list[tuple[Any, ...]]:
        """Returns the new rows, `multi` (column 10) set on those of ids with several versions."""
        multi = self.multi
        if not multi:
            return self.new_rows
        return [r[:10] + (True,) + r[11:] if r[1] in multi else r for r in self.new_rows]


def _held_again(
    conn: sa.Connection,
    obj: dict[str, Any],
    oid: str,
    ver: str,
    found: tuple[int, bool, int],
    last: int,
    now: int,
) -> tuple[Outcome, int]:
    """Returns the outcome of a version already stored in the same instance, and the
    collection's `last_added` after it: a deleted copy of the same object is restored (added
    again, so readers see it anew), the same object is already stored, another one clashes."""
    seq, deleted, _ = found
    old_body = conn.execute(sa.select(objects.c.body).where(objects.c.seq == seq)).scalar_one()
    if orjson.loads(old_body) != obj:
        return Outcome(False, oid, ver, "another object with this id and version is stored"), last
    if not deleted:
        return Outcome(True, oid, ver, "already stored"), last
    last = last + 1 if last >= now else now
    conn.execute(
        sa.update(objects).where(objects.c.seq == seq).values(deleted=False, date_added=last)
    )
    return Outcome(True, oid, ver, "restored"), last


def _audit_shadowed(
    conn: sa.Connection, collection: Collection, writer: Writer, shadowed: list[list[str]]
) -> None:
    """Audits the versions written to the writer's own instance of an id it may not read."""
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


#: The columns of `objects` ingest writes, in the order of its rows.
INSERT_COLUMNS = (
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


def _insert_rows(conn: sa.Connection, dialect: str, rows: list[tuple[Any, ...]]) -> None:
    """Inserts the new rows through the driver's executemany on plain tuples."""
    if rows:
        mark = "%s" if dialect == "postgresql" else "?"
        sql = (
            f"INSERT INTO objects ({', '.join(INSERT_COLUMNS)}) "
            f"VALUES ({', '.join(mark for _ in INSERT_COLUMNS)})"
        )
        conn.exec_driver_sql(sql, rows)


def _mark_multi(
    conn: sa.Connection, collection: Collection, multi: set[str], hashes: dict[str, int]
) -> None:
    """Marks every stored version of the ids that now have several in the collection."""
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


def _move_collection(conn: sa.Connection, collection: Collection, last_added: int) -> None:
    """Moves the collection's `last_added` to its newest `date_added`."""
    conn.execute(_MOVE_COLLECTION, {"cid": collection.id, "last": last_added})
