"""Backups of the whole store that the audit chain cannot quietly forget.

A backup (`backup`) is a SQLite file holding every table of the store as one consistent snapshot,
whichever store it came from: SQLite copies itself with `VACUUM INTO` (a read transaction, so a
node that partners are reading keeps appending, and the copy finishes); PostgreSQL's tables are
copied in one REPEATABLE READ, READ ONLY transaction into a fresh SQLite store. Inside the file
the chain's head is signed with the node's audit key (a checkpoint whose seq and hash are the
backed-up head), so the backup itself proves where its chain ended.

A restore (`restore`) copies a backup into the configured store (empty, or replaced when asked)
and appends a `restore` record in the same transaction: "restored from a backup at record N".
The chain then continues from N+1 with that record, never reusing the lost numbers as if nothing
had happened; `accord audit verify` names every restore, `compare` names the records a store lacks
against a checkpoint or an export, and partners holding a later checkpoint see the fork
(`accord.federation.chains`).

A backup holds the node's audit signing key and every item: it is as secret as the store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# Every table of the store is in `metadata` once its schema module is imported.
import accord.store.audit_schema
import accord.store.auth_schema
import accord.store.exchange_schema
import accord.store.federation_schema  # noqa: F401
from accord.audit import checkpoints, log
from accord.audit.checkpoints import Checkpoint
from accord.errors import InputError, StoreConflict, StoreError
from accord.store import Store, open_store, translate_errors
from accord.store.audit_schema import audit_checkpoints, audit_head
from accord.store.schema import meta, metadata

#: Rows copied per statement, both ways.
BATCH = 5000
#: accord_meta rows a restore leaves out: holds of a sync by processes of the old store.
_TRANSIENT_META = "sync_peer:"


@dataclass(frozen=True)
class Backup:
    """What `backup` wrote: the file `out`, its `records` (the head's seq), the `checkpoint`
    of that head inside it (None for an empty log), its size and how long it took."""

    out: str
    records: int
    checkpoint: Checkpoint | None
    size: int
    seconds: float
    source: str

    def to_json(self) -> dict[str, object]:
        return {
            "out": self.out,
            "records": self.records,
            "checkpoint": self.checkpoint.to_json() if self.checkpoint else None,
            "bytes": self.size,
            "seconds": round(self.seconds, 3),
            "source": self.source,
        }


def backup(store: Store, out: Path) -> Backup:
    """Writes a consistent backup of `store` to `out` (a new file: an existing one is never
    overwritten) while the node keeps running; returns what it holds. The file appears whole or
    not at all (written beside it, then renamed), readable by its owner only."""
    out = Path(out)
    if out.exists():
        raise InputError(f"{out} exists: a backup never replaces a file")
    if not out.parent.is_dir():
        raise InputError(f"directory {str(out.parent)!r} does not exist")
    checkpoints.signing_key(store)  # made before the snapshot, so that the backup holds it
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        if store.dialect == "sqlite":
            _vacuum_into(store, partial)
        else:
            _copy_snapshot(store, partial)
        records, cp = _seal(partial)
        os.chmod(partial, 0o600)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if cp is not None:
        _remember(store, cp)
    return Backup(
        str(out), records, cp, out.stat().st_size, time.perf_counter() - started, store.dialect
    )


def _vacuum_into(store: Store, target: Path) -> None:
    # VACUUM INTO reads the database in one read transaction: in WAL mode the node's writers go
    # on, and the copy is the snapshot the transaction started with. (sqlite3's online backup
    # restarts whenever another connection writes; a partner's every page read writes.)
    path = store.engine.url.database
    if not path or path == ":memory:":
        raise InputError("an in-memory store has nothing on disk to back up")
    with translate_errors(), contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("VACUUM INTO ?", (str(target),))


def _copy_snapshot(store: Store, target: Path) -> None:
    # Every table read in ONE transaction, REPEATABLE READ: one snapshot of the whole store,
    # while the node's writers go on (a read-only transaction blocks nobody).
    dest = open_store(f"sqlite:///{target}")
    try:
        with (
            translate_errors(),
            store.engine.connect() as src,
            src.begin(),
            dest.begin() as conn,
        ):
            src.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for table in metadata.sorted_tables:
                for rows in _batches(src, sa.select(table)):
                    conn.execute(table.insert(), rows)
    finally:
        dest.close()


def _batches(conn: sa.Connection, query: sa.Select[Any]) -> Iterator[list[dict[str, Any]]]:
    result = conn.execution_options(yield_per=BATCH).execute(query)
    for part in result.partitions(BATCH):
        yield [dict(r._mapping) for r in part]


def _seal(path: Path) -> tuple[int, Checkpoint | None]:
    """Signs the head of the chain in the backup at `path` with the key the backup holds, and
    keeps the checkpoint in it (one already there for that record is kept instead); returns the
    head's seq and the checkpoint (None when the log is empty). Leaves the file without a WAL."""
    with translate_errors(), contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=DELETE")
        head = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        if head is None or int(head[0]) == 0:
            return 0, None
        seq, digest = int(head[0]), str(head[1])
        key_hex = db.execute("SELECT value FROM accord_meta WHERE key = 'audit_key'").fetchone()
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key_hex[0]))
        cp = checkpoints.make(key, seq, digest)
        held = db.execute(
            "SELECT seq, at, hash, public_key, signature FROM audit_checkpoints WHERE seq = ?",
            (seq,),
        ).fetchone()
        if held is not None:
            found = Checkpoint(*held)
            if found.hash == digest and found.public_key == cp.public_key:
                return seq, found
            db.execute("DELETE FROM audit_checkpoints WHERE seq = ?", (seq,))
        with db:
            db.execute(
                "INSERT INTO audit_checkpoints (seq, at, hash, public_key, signature)"
                " VALUES (?, ?, ?, ?, ?)",
                (cp.seq, cp.at, cp.hash, cp.public_key, cp.signature),
            )
        return seq, cp


def _remember(store: Store, cp: Checkpoint) -> None:
    # The live store keeps the checkpoint too: it signed that record, and `audit verify` holds
    # it to it. One signed at that record already (`accord audit checkpoint`) stands.
    with contextlib.suppress(StoreConflict), store.begin() as conn:
        found = conn.execute(
            sa.select(audit_checkpoints.c.seq).where(audit_checkpoints.c.seq == cp.seq)
        ).first()
        if found is None:
            conn.execute(sa.insert(audit_checkpoints).values(**cp.to_json()))


# ---- restore -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    """What `restore` did: from `file`, the backup's head `records` and its `checkpoint`; the
    restore record's `seq`; `replaced`, the head (seq) of the chain the store held before
    (None when it was empty)."""

    file: str
    records: int
    checkpoint: Checkpoint | None
    seq: int
    replaced: int | None
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {
            "restored": self.file,
            "records": self.records,
            "checkpoint": self.checkpoint.to_json() if self.checkpoint else None,
            "restore_record": self.seq,
            "replaced": self.replaced,
            "seconds": round(self.seconds, 3),
        }


def message(seq: int) -> str:
    """Returns what the chain says of a restore from a backup whose head was record `seq`."""
    return f"restored from a backup at record {seq}"


@contextlib.contextmanager
def _open_backup(path: Path) -> Iterator[Store]:
    # Read from a copy: the backup itself is never written to (opening a store switches it to
    # WAL; a backup of an older schema is migrated), and may sit on read-only media.
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            version = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise InputError(f"{path} is not a backup made by `accord backup` ({exc})") from None
    if version is None:
        raise InputError(f"{path} is not a backup made by `accord backup` (no schema version)")
    with tempfile.TemporaryDirectory(prefix="accord-restore-") as tmp:
        copy = Path(tmp) / "backup.db"
        shutil.copyfile(path, copy)
        store = open_store(f"sqlite:///{copy}")
        try:
            yield store
        finally:
            store.close()


def _backup_head(src: Store, path: Path) -> tuple[int, str, Checkpoint | None]:
    # The backup must be what `backup` wrote: an unbroken chain whose head it signed itself.
    verdict = log.verify(src)
    if not verdict.ok:
        raise InputError(
            f"{path}: the backup's audit chain is broken at record {verdict.first_bad} "
            f"({verdict.reason}); it is not restored"
        )
    if verdict.records == 0:
        return 0, log.GENESIS, None
    with src.read() as conn:
        row = conn.execute(
            sa.select(audit_checkpoints).where(audit_checkpoints.c.seq == verdict.records)
        ).first()
    cp = None if row is None else Checkpoint(**{str(k): getattr(row, k) for k in row._fields})
    own = checkpoints.public_key_hex(src)
    if cp is None or cp.hash != verdict.head or cp.public_key != own:
        raise InputError(f"{path}: no checkpoint of its head signed by its own key; not restored")
    if not checkpoints.check_signature(cp):
        raise InputError(f"{path}: the checkpoint of its head does not verify; not restored")
    return verdict.records, verdict.head, cp


def restore(store: Store, path: Path, actor: str, force: bool = False) -> Restored:
    """Copies the backup at `path` into `store` and appends, in the same transaction, the
    record "restored from a backup at record N" (N: the backup's head); returns what it did. A
    store that holds anything but its settings is replaced only with `force` (StoreConflict
    otherwise, naming what it holds): a restore forgets every record after N, so the chain says
    so, and `replaced` in the record names the head it replaced. Refuses (InputError) a file
    that is not a backup, or whose chain or signed head does not verify. The backup is read from
    a copy in the temporary directory (TMPDIR), never written to. Every process of the node must
    be stopped first: they cache what the store held."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no backup at {path}")
    started = time.perf_counter()
    with _open_backup(path) as src:
        records, digest, cp = _backup_head(src, path)
        tables = metadata.sorted_tables
        with store.begin() as conn:
            held = [
                t.name
                for t in tables
                if t is not meta
                and conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
            ]
            if held and not force:
                raise StoreConflict(
                    f"the store is not empty (it holds {', '.join(held[:5])}"
                    f"{'…' if len(held) > 5 else ''}): restoring replaces it and forgets what "
                    "it holds; give --force to do so"
                )
            before = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            ).first()
            for t in reversed(tables):
                conn.execute(t.delete())
            with src.read() as reader:
                for t in tables:
                    q = sa.select(t)
                    if t is meta:
                        q = q.where(sa.not_(meta.c.key.startswith(_TRANSIENT_META)))
                    for rows in _batches(reader, q):
                        conn.execute(t.insert(), rows)
            if store.dialect == "postgresql":
                _reset_sequences(conn)
            replaced_seq = None if before is None else int(before[0])
            replaced = None if before is None else {"seq": replaced_seq, "hash": str(before[1])}
            body = {
                "text": message(records),
                "backup": {
                    "seq": records,
                    "hash": digest,
                    "checkpoint": cp.to_json() if cp else None,
                    "file": path.name,
                },
                "replaced": replaced,
            }
            seq = log.append(conn, "restore", actor, f"backup at record {records}", body)
    # The restored chain's new head, signed: what partners compare from now on.
    with contextlib.suppress(StoreError):
        checkpoints.checkpoint(store)
    return Restored(
        str(path),
        records,
        cp,
        seq,
        replaced_seq,
        time.perf_counter() - started,
    )


def _reset_sequences(conn: sa.Connection) -> None:
    # Rows came with their ids: each identity sequence goes on after the largest.
    for t in metadata.sorted_tables:
        for c in t.primary_key.columns:
            if c.autoincrement is True:
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{t.name}', '{c.name}'), "
                        f"COALESCE((SELECT MAX({c.name}) FROM {t.name}), 1), "
                        f"(SELECT MAX({c.name}) FROM {t.name}) IS NOT NULL)"
                    )
                )
