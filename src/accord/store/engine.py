"""Opening a store: the URL, the engine, migrations, and the one place where database errors
become accord's `StoreError`.

`sqlite:///path` (the embedded default, WAL mode) and `postgresql://…` (production, psycopg 3)
share one schema and one Alembic history. Every command migrates on first use, so a new user never
has to run anything first; on PostgreSQL an advisory lock makes concurrent first starts of several
processes safe.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from accord.errors import InputError, StoreConflict, StoreError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# An arbitrary constant: the advisory lock that serialises migrations across processes.
_MIGRATION_LOCK = 0x616363_6F7264
# What a first start of SQLite racing another one may see; retried by `Store.migrate`.
_SQLITE_RACES = ("database is locked", "already exists", "database schema has changed")
_MIGRATE_TRIES = 8
_BUSY_TIMEOUT_S = 10.0
_WAL_SIZE_LIMIT = 64 * 1024 * 1024
# The newest migration (tests/store/test_migrations.py holds it to Alembic's own head).
HEAD_REVISION = "0018"
_WRITER_CACHE_KIB = 65536


def normalise_url(url: str) -> str:
    """Returns a SQLAlchemy URL for an accord store URL, or raises InputError naming it."""
    if url.startswith("sqlite:///"):
        return url
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+psycopg://"):
        return url
    raise InputError(
        f"ACCORD_DATABASE_URL {mask_url(url)!r} is not a store URL "
        "(use sqlite:///PATH or postgresql://USER@HOST/DB)"
    )


def mask_url(url: str) -> str:
    """Returns the URL with any password replaced by ***, for messages and logs."""
    try:
        parsed = sa.engine.make_url(url)
    except Exception:  # noqa: BLE001 — an unparsable URL is shown only by its scheme
        return url.split(":", 1)[0] + ":…"
    return parsed.render_as_string(hide_password=True)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Maps a foreign database exception to StoreError (raised from it), most specific first."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        raise StoreConflict(f"the store refused a write: {exc.orig}") from exc
    except sa.exc.OperationalError as exc:
        raise StoreError(f"the store is unavailable: {exc.orig}") from exc
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"store error: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"store error: {exc}") from exc
    except Exception as exc:
        # A driver cursor used directly (exchange.page on PostgreSQL). psycopg is looked up, not
        # imported: a process that never opened PostgreSQL cannot raise its errors.
        pg = sys.modules.get("psycopg")
        if pg is None or not isinstance(exc, pg.Error):
            raise
        if isinstance(exc, pg.OperationalError):
            raise StoreError(f"the store is unavailable: {exc}") from exc
        raise StoreError(f"store error: {exc}") from exc


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event, not the driver, open transactions (SQLAlchemy's recipe for
    # pysqlite), so that writes can take the write lock up front with BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # The busy timeout first: switching a fresh file to WAL needs a lock that a process starting
    # at the same moment may hold, and without a timeout SQLite gives up at once.
    cur.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Checkpoints reuse the log from its start but never shrink the file: after a burst (a
    # partner's full read appends ~100 MB of release records) it is cut back to this size.
    cur.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _writer_cache(dbapi_conn: Any, _record: Any) -> None:
    # Up to 64 MiB of pages for the one writing connection (SQLite's default is 2 MiB): the
    # unique index of a store of a few hundred thousand objects stays in memory.
    dbapi_conn.execute(f"PRAGMA cache_size=-{_WRITER_CACHE_KIB}")


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("accord_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """An open store: `engine` for queries, `dialect` (`sqlite` or `postgresql`), `url` masked."""

    def __init__(self, url: str) -> None:
        self.url = mask_url(url)
        sa_url = normalise_url(url)
        if sa_url.startswith("sqlite:///"):
            path = sa_url[len("sqlite:///") :]
            if path and path != ":memory:":
                parent = Path(path).expanduser().resolve().parent
                if not parent.is_dir():
                    raise InputError(f"store directory {str(parent)!r} does not exist")
        connect_args: dict[str, Any] = {}
        if sa_url.startswith("postgresql"):
            # Plans are made for each execution's values: a page's membership test then hashes
            # the principal's marking set, where a generic plan scans the array for every row
            # (10 ms instead of 1 ms a page at 1,000 markings). JIT compilation, which a
            # generic plan's large cost estimate triggers, costs 150 ms and never pays off for
            # queries of a few milliseconds.
            connect_args["options"] = "-c plan_cache_mode=force_custom_plan -c jit=off"
        with translate_errors():
            self.engine: Engine = sa.create_engine(sa_url, future=True, connect_args=connect_args)
        self.dialect = self.engine.dialect.name
        # PostgreSQL reads run without BEGIN and ROLLBACK: under READ COMMITTED every statement
        # sees its own snapshot anyway, and a read saves two round trips. SQLite reads keep
        # their transaction, which is what gives several statements one snapshot there.
        # (A pool of its own: switching a pooled connection in and out of autocommit costs
        # round trips of its own.)
        self._reader = self.engine
        if self.dialect == "postgresql":
            with translate_errors():
                self._reader = sa.create_engine(
                    sa_url, isolation_level="AUTOCOMMIT", connect_args=connect_args
                )
        self._checkpointer: tuple[threading.Event, threading.Thread] | None = None
        # One writer at a time per process on SQLite (see `begin`); PostgreSQL's writers run
        # side by side and lock rows.
        self._writers = threading.RLock() if sa_url.startswith("sqlite") else None
        # Writes go through an engine of their own. On SQLite it keeps one connection with a
        # large page cache: a connection's cache survives its own commits but is dropped when
        # another connection writes, so the writer's stays warm only if it is always the same
        # connection (the unique index of objects is read at random by every insert).
        self._writer = self.engine
        if self.dialect == "sqlite":
            with translate_errors():
                self._writer = sa.create_engine(
                    sa_url, future=True, pool_size=1, connect_args=connect_args
                )
            for engine in (self.engine, self._writer):
                event.listen(engine, "connect", _sqlite_pragmas)
                event.listen(engine, "begin", _sqlite_begin)
            event.listen(self._writer, "connect", _writer_cache)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """Yields a connection in one transaction; commits on success, rolls back on any error."""
        # Take SQLite's write lock up front so a read-then-write transaction cannot deadlock.
        # Threads of one process queue on a lock of their own first: SQLite's busy handler
        # polls with sleeps of up to tens of milliseconds, a lock hands over at the commit.
        with (
            self._write_turn(),
            translate_errors(),
            self._writer.execution_options(accord_write=True).begin() as conn,
        ):
            yield conn

    @contextlib.contextmanager
    def driver_write(self) -> Iterator[sqlite3.Connection]:
        """SQLite only: yields the writing connection's driver (sqlite3) inside BEGIN IMMEDIATE …
        COMMIT, rolled back on any error, errors translated as `begin()` translates them. For
        the hottest small writes (the release record of every page a partner reads), where
        SQLAlchemy's connection and transaction cost as much as the statements."""
        if self.dialect != "sqlite":
            raise TypeError("driver_write is for SQLite stores")
        with self._write_turn(), translate_errors():
            pooled = self._writer.raw_connection()
            try:
                db = pooled.driver_connection
                assert isinstance(db, sqlite3.Connection)
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                pooled.close()

    @contextlib.contextmanager
    def _write_turn(self) -> Iterator[None]:
        if self._writers is None:
            yield
            return
        # As long as SQLite's own busy timeout: a wait that long is an error, never a hang.
        if not self._writers.acquire(timeout=_BUSY_TIMEOUT_S):
            raise StoreError("the store is busy: another write of this process did not finish")
        try:
            yield
        finally:
            self._writers.release()

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """Yields a connection for reads."""
        with translate_errors(), self._reader.connect() as conn:
            yield conn

    def fetch_rows(self, sql: str, args: Any) -> list[tuple[Any, ...]]:
        """Runs one compiled read statement and returns the driver's own row tuples (no
        per-row result objects: the partner's page read, `exchange.queries.page`). On
        PostgreSQL the results are binary (a body arrives as the bytes `convert_to` makes, not
        as hex). A driver error invalidates the connection before it is translated, so the pool
        discards a dead connection instead of trying to reset it (which would log a traceback
        and fail again)."""
        with translate_errors(), self._reader.connect() as conn:
            try:
                if self.dialect == "postgresql":
                    driver = conn.connection.driver_connection
                    with driver.cursor(binary=True) as cur:  # type: ignore[union-attr]
                        return list(cur.execute(sql, args).fetchall())
                return list(conn.exec_driver_sql(sql, args).cursor.fetchall())
            except sa.exc.DBAPIError:
                raise  # SQLAlchemy saw it and has invalidated the connection if it is dead
            except Exception:
                conn.invalidate()
                raise

    def migrate(self) -> None:
        """Creates or upgrades the schema to the newest revision; safe from many processes at once.

        PostgreSQL serialises migrations with an advisory lock. SQLite takes its write lock up
        front (BEGIN IMMEDIATE) and waits up to its busy timeout; a first start that still loses
        a race ("database is locked" while another process holds the lock longer, "already
        exists" when it created a table first) is retried: by then the schema is there, and
        the retry finds nothing to do."""
        if self._at_head():
            return  # the common case: no need to load Alembic and its scripts (CLI start-up)
        for attempt in range(_MIGRATE_TRIES):
            try:
                self._migrate_once()
                return
            except StoreError as exc:
                text = str(exc).lower()
                retry = self.dialect == "sqlite" and any(s in text for s in _SQLITE_RACES)
                if not retry or attempt == _MIGRATE_TRIES - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _at_head(self) -> bool:
        """True when the store's schema is at HEAD_REVISION (False on an empty store)."""
        try:
            with self.engine.connect() as conn:
                found = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        except sa.exc.SQLAlchemyError:
            return False  # no alembic_version table yet
        return [r[0] for r in found] == [HEAD_REVISION]

    def _migrate_once(self) -> None:
        from alembic import command

        cfg = alembic_config()
        with translate_errors(), self.engine.execution_options(accord_write=True).begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def checkpoint_in_background(self, interval: float = 0.25) -> None:
        """On SQLite, moves WAL checkpoints off the request path: this process's connections stop
        checkpointing when they commit, and a daemon thread checkpoints every `interval` seconds
        instead. Without it, one commit in a few hundred (a partner's read commits a release
        record per page) copies the whole WAL into the database while its client waits.
        Other processes (the CLI) keep SQLite's automatic checkpoints. No-op on PostgreSQL."""
        if self.dialect != "sqlite" or self._checkpointer is not None:
            return
        for engine in {self.engine, self._writer}:
            event.listen(engine, "connect", _no_autocheckpoint)
            engine.dispose()  # pooled connections were opened with automatic checkpoints
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval):
                # PASSIVE never blocks readers or the writer; what it cannot copy yet waits for
                # the next round. Errors (a locked file, a store being closed) wait likewise.
                with contextlib.suppress(Exception), self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

        self._checkpointer = (
            stop,
            threading.Thread(target=run, name="wal-checkpoint", daemon=True),
        )
        self._checkpointer[1].start()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer[0].set()
            self._checkpointer[1].join(timeout=5)
            self._checkpointer = None
        self.engine.dispose()
        self._writer.dispose()
        self._reader.dispose()


def alembic_config() -> AlembicConfig:
    """Returns the Alembic configuration of accord's migrations (Alembic loaded only now: the
    CLI starts without it when no migration is due)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("accord.store") / "migrations"))
    return cfg


def open_store(url: str, migrate: bool = True) -> Store:
    """Returns an open store for `url`, migrated to the newest schema unless `migrate` is False."""
    store = Store(url)
    if migrate:
        store.migrate()
    return store
