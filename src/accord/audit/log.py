"""The audit trail: an append-only log in which every record carries the hash of the one before.

Every release, receipt, refusal, registry change, consent, credential change and logistics order
step is a record.
Releases are final (R8), so their record must never be quietly rewritten: altering,
deleting or reordering any record breaks the chain, and `verify` names the first record where it
breaks. Signed checkpoints (`accord.audit.checkpoints`) let partners hold the node to its past.

A record's hash is SHA-256 over the previous record's hash and the record's canonical JSON
(seq, at, kind, actor, subject, body). Appends are serialised by locking the single head row
(`FOR UPDATE` on PostgreSQL; SQLite has one writer), so the chain is linear across processes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from accord.store import Store
from accord.store.audit_schema import audit_head, audit_log

GENESIS = "0" * 64
KINDS = (
    "release",
    "receipt",
    "refusal",
    "registry-change",
    "consent",
    "credential",
    "reclassification",
    "destruction",
    "compromise",
    "sync",
    "polyinstance",  # a write kept as its writer's own instance (accord.exchange.authority)
    "restore",  # the store was restored from a backup (accord.audit.backup)
    "order-step",  # a step of a logistics order, by the person who took it (accord.logistics)
)


def record_hash(
    prev: str, seq: int, at: int, kind: str, actor: str, subject: str, body: str
) -> str:
    """Returns the chained hash of one record."""
    payload = orjson.dumps([seq, at, kind, actor, subject, body])
    return hashlib.sha256(prev.encode() + payload).hexdigest()


@dataclass(frozen=True)
class Body:
    """A record body serialised ahead of its append (`serialise`): its canonical JSON `text`, and
    that text as the JSON string the record hash embeds (`quoted`). A release record's body names
    a whole page (~100 kB): read-ahead serialises it off the request path."""

    text: str
    quoted: bytes

    def __repr__(self) -> str:
        return f"Body({len(self.text)} characters)"


def serialise(body: dict[str, Any]) -> Body:
    """Returns `body` serialised for `append`."""
    text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
    return Body(text, orjson.dumps(text))


def _chained(prev: str, seq: int, at: int, kind: str, actor: str, subject: str, b: Body) -> str:
    # `record_hash` with the body's JSON string made ahead: orjson writes the list
    # [seq, at, kind, actor, subject, text] as exactly these bytes (tests/audit checks it).
    payload = b"[%d,%d,%b,%b,%b,%b]" % (
        seq, at, orjson.dumps(kind), orjson.dumps(actor), orjson.dumps(subject), b.quoted
    )  # fmt: skip
    return hashlib.sha256(prev.encode() + payload).hexdigest()


# Built once: an append runs on every page a partner reads (accord.exchange.releases).
_HEAD = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
_INSERT = sa.insert(audit_log)
_MOVE_HEAD = (
    sa.update(audit_head)
    .where(audit_head.c.id == 1)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)


# The same statements for the driver itself (SQLite; `record`).
_DRIVER_HEAD = "SELECT seq, hash FROM audit_head WHERE id = 1"
_DRIVER_FIRST = "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ?)"
_DRIVER_INSERT = (
    "INSERT INTO audit_log (seq, at, kind, actor, subject, body, prev, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_DRIVER_MOVE = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"


def _next(
    head: Any, kind: str, actor: str, subject: str, body: dict[str, Any] | Body
) -> tuple[int, int, str, str, str, str, str, str]:
    # The record that follows `head` (the head row, None before the first record), as the
    # audit_log row (seq, at, kind, actor, subject, body, prev, hash). Raised inside the
    # caller's transaction, the ValueError leaves nothing written.
    if kind not in KINDS:
        raise ValueError(f"unknown audit record kind {kind!r}")
    seq, prev = (1, GENESIS) if head is None else (int(head[0]) + 1, str(head[1]))
    at = time.time_ns() // 1000
    b = body if isinstance(body, Body) else serialise(body)
    subject = subject[:200]
    return (
        seq,
        at,
        kind,
        actor,
        subject,
        b.text,
        prev,
        _chained(prev, seq, at, kind, actor, subject, b),
    )


def append(
    conn: sa.Connection, kind: str, actor: str, subject: str, body: dict[str, Any] | Body
) -> int:
    """Appends a record inside the caller's transaction (so it stands or falls with the change it
    records); returns its sequence number. `body` may come `serialise`d."""
    head = conn.execute(_HEAD).first()
    if head is None:
        conn.execute(sa.insert(audit_head).values(id=1, seq=0, hash=GENESIS))
    seq, at, kind, actor, subject, text, prev, h = _next(head, kind, actor, subject, body)
    conn.execute(
        _INSERT,
        {
            "seq": seq,
            "at": at,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "body": text,
            "prev": prev,
            "hash": h,
        },
    )
    conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": h})
    return seq


def record(store: Store, kind: str, actor: str, subject: str, body: dict[str, Any] | Body) -> int:
    """Appends a record in its own transaction; returns its sequence number."""
    if store.dialect != "sqlite":
        with store.begin() as conn:
            return append(conn, kind, actor, subject, body)
    # On SQLite the driver's own statements: a partner's paged read appends a release record
    # for every page, and SQLAlchemy's connection and transaction were about half of that
    # append's ~1 ms (BENCHMARKS.md, "The TAXII node"). The record is the one `append` writes.
    with store.driver_write() as db:
        head = db.execute(_DRIVER_HEAD).fetchone()
        if head is None:
            db.execute(_DRIVER_FIRST, (GENESIS,))
        row = _next(head, kind, actor, subject, body)
        db.execute(_DRIVER_INSERT, row)
        db.execute(_DRIVER_MOVE, (row[0], row[7]))
        return row[0]


@dataclass(frozen=True)
class Verdict:
    """`ok`; `records` checked; `first_bad` (seq) and `reason` when the chain is broken; `head`."""

    ok: bool
    records: int
    head: str
    first_bad: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "records": self.records,
            "head": self.head,
            "first_bad": self.first_bad,
            "reason": self.reason,
        }


def verify(store: Store) -> Verdict:
    """Recomputes the chain from the first record; returns the first place it breaks, if any."""
    prev, expected_seq, count = GENESIS, 1, 0
    with store.read() as conn:
        head = conn.execute(
            sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).first()
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).yield_per(5000)
        for r in rows:
            m = r._mapping
            seq = int(m["seq"])
            if seq != expected_seq:
                return Verdict(
                    False,
                    count,
                    prev,
                    expected_seq,
                    f"record {expected_seq} is missing (next is {seq})",
                )
            if m["prev"] != prev:
                return Verdict(
                    False,
                    count,
                    prev,
                    seq,
                    f"record {seq} does not follow record {seq - 1} (reordered or altered)",
                )
            h = record_hash(prev, seq, int(m["at"]), m["kind"], m["actor"], m["subject"], m["body"])
            if h != m["hash"]:
                return Verdict(
                    False,
                    count,
                    prev,
                    seq,
                    f"record {seq} was altered (its content no longer matches its hash)",
                )
            prev, expected_seq, count = h, seq + 1, count + 1
    head_seq = int(head[0]) if head else 0
    if head_seq != count or (head is not None and head[1] != prev):
        return Verdict(
            False,
            count,
            prev,
            count + 1,
            f"records after {count} are missing (the head names record {head_seq})",
        )
    return Verdict(True, count, prev)


def verify_after(store: Store, start_seq: int = 0, start_hash: str = GENESIS) -> Verdict:
    """Recomputes the chain from the record after `start_seq` (whose hash is `start_hash`, a
    signed checkpoint's: `accord.audit.checkpoints.verify_recent`) to the head read first;
    `records` counts the records checked. Records appended while it runs are left to the next
    verification rather than taken for a broken head."""
    with store.read() as conn:
        head = conn.execute(
            sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).first()
        head_seq = int(head[0]) if head else 0
        rows = conn.execute(
            sa.select(audit_log)
            .where(audit_log.c.seq > start_seq, audit_log.c.seq <= head_seq)
            .order_by(audit_log.c.seq)
        ).yield_per(1000)
        prev, expected, count = start_hash, start_seq + 1, 0
        for r in rows:
            m = r._mapping
            seq = int(m["seq"])
            if seq != expected:
                reason = f"record {expected} is missing (next is {seq})"
                return Verdict(False, count, prev, expected, reason)
            if m["prev"] != prev:
                reason = f"record {seq} does not follow record {seq - 1} (reordered or altered)"
                return Verdict(False, count, prev, seq, reason)
            h = record_hash(prev, seq, int(m["at"]), m["kind"], m["actor"], m["subject"], m["body"])
            if h != m["hash"]:
                reason = f"record {seq} was altered (its content no longer matches its hash)"
                return Verdict(False, count, prev, seq, reason)
            prev, expected, count = h, seq + 1, count + 1
    if expected - 1 != head_seq or (head is not None and head[1] != prev):
        reason = f"records after {expected - 1} are missing (the head names record {head_seq})"
        return Verdict(False, count, prev, expected, reason)
    return Verdict(True, count, prev)


@dataclass(frozen=True)
class Restore:
    """A restore the chain records: its record `seq` and time `at` (microseconds), and the
    backup's head `from_seq` (the chain continued from there: records after it that the store
    held before are not in it)."""

    seq: int
    at: int
    from_seq: int

    def to_json(self) -> dict[str, object]:
        return {"seq": self.seq, "at": self.at, "from_seq": self.from_seq}


def restores(store: Store) -> list[Restore]:
    """Returns every restore recorded in the chain, oldest first."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.seq, audit_log.c.at, audit_log.c.body)
            .where(audit_log.c.kind == "restore")
            .order_by(audit_log.c.seq)
        ).all()
    out = []
    for seq, at, body in rows:
        backup = orjson.loads(body).get("backup", {})
        out.append(Restore(int(seq), int(at), int(backup.get("seq", 0))))
    return out


def export(store: Store) -> Iterator[dict[str, Any]]:
    """Yields every record, oldest first, as JSON-ready mappings (body parsed)."""
    with store.read() as conn:
        for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.seq)).yield_per(5000):
            m: dict[str, Any] = {str(k): getattr(r, k) for k in r._fields}
            m["body"] = orjson.loads(m["body"])
            yield m


def _grant_of(body: dict[str, Any], marking: str) -> dict[str, Any]:
    """Returns the grant (basis, route, level) of `marking` in a release body; {} if none.
    `marking` is as the body's objects name it (a key of `markings` in the current form)."""
    grants = body.get("grants", [])
    if isinstance(grants, dict):  # the form of the first releases: {marking: grant}
        found: dict[str, Any] = grants.get(marking, {})
        return found
    for g in grants:
        if marking in g.get("markings", ()):
            return dict(g)
    return {}


def disclosures(store: Store, item_id: str) -> list[dict[str, Any]]:
    """Returns every release of any version of `item_id`: party, principal, when, version, basis,
    route and the level the recipient must mark it with — "who has my item?". A version that
    reached one party more than once under one marking (pushed by this node, then read by the
    partner's own pull) is one release, as first recorded, with `transmissions` counting them
    and `records` naming each audit record."""
    return [
        {k: v for k, v in r.items() if k != "item"} for r in releases(store, item_ids=(item_id,))
    ]


def releases(
    store: Store,
    *,
    item_ids: tuple[str, ...] | None = None,
    party: str | None = None,
    since: int | None = None,
    until: int | None = None,
) -> list[dict[str, Any]]:
    """Returns the releases recorded in the audit trail, oldest first, each as `disclosures`
    gives them plus `item` (the object's id): of the objects `item_ids` only (when given), to
    `party` only (when given), recorded at or after `since` and before `until` (microseconds
    since the epoch). The auditor's report per party and per period (PRODUCT.md §1) and "who has
    my item?" both read the trail through here."""
    found, _more = release_records(store, item_ids=item_ids, party=party, since=since, until=until)
    return found


def release_records(
    store: Store,
    *,
    item_ids: tuple[str, ...] | None = None,
    party: str | None = None,
    since: int | None = None,
    until: int | None = None,
    max_records: int | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Returns `releases` read from at most `max_records` release records (the oldest that
    match; every one when None), and whether more records matched — so that a report over a
    long trail costs a bounded read (docs/security.md, "Bounded cost of hostile input")."""
    out: list[dict[str, Any]] = []
    seen: dict[tuple[Any, str, str, str], dict[str, Any]] = {}
    wanted = None if item_ids is None else frozenset(item_ids)
    q = sa.select(audit_log).where(audit_log.c.kind == "release").order_by(audit_log.c.seq)
    if max_records is not None:
        q = q.limit(max_records + 1)
    if wanted is not None:
        if not wanted:
            return out, False
        q = q.where(sa.or_(*(audit_log.c.body.contains(f'"{i}"') for i in sorted(wanted))))
    if party is not None:
        q = q.where(audit_log.c.body.contains(f'"{party}"'))
    if since is not None:
        q = q.where(audit_log.c.at >= since)
    if until is not None:
        q = q.where(audit_log.c.at < until)
    with store.read() as conn:
        rows = conn.execute(q).all()
    more = max_records is not None and len(rows) > max_records
    for r in rows[:max_records]:
        m = r._mapping
        body = orjson.loads(m["body"])
        if party is not None and body.get("party") != party:
            continue
        # Current bodies name each object's marking by a key of `markings` (written once per
        # record); earlier ones named the marking's STIX id on every object.
        names: dict[str, str] = body.get("markings", {})
        for oid, version, ref in body.get("objects", []):
            if wanted is not None and oid not in wanted:
                continue
            key = str(ref)
            g = _grant_of(body, key)
            marking = names.get(key, key)
            again = seen.get((oid, body.get("party"), str(version), marking))
            if again is not None:
                again["transmissions"] += 1
                again["records"].append(m["seq"])
                continue
            seen[(oid, body.get("party"), str(version), marking)] = entry = {
                "item": oid,
                "party": body.get("party"),
                "principal": m["actor"],
                "at": m["at"],
                "seq": m["seq"],
                "version": version,
                "marking": marking,
                "basis": g.get("basis", []),
                "route": g.get("route", []),
                "level": g.get("level"),
                "channel": body.get("channel", "taxii-read"),
                "transmissions": 1,
                "records": [m["seq"]],
            }
            out.append(entry)
    return out, more
