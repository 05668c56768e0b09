"""Reads of stored object versions as TAXII 2.1 filters them (§3.4), a page at a time (§5.4, §5.6,
§5.8), and their deletion (§5.7).

A reader sees only what its view allows: every statement is restricted to the release markings
it may read and to the owners' instances and its own (`accord.exchange.authority`), and "latest"
and "first" are judged among the versions it may see, so that neither the count nor the
existence of a hidden version leaks (Appendix B). Pages are keyset-paged on `date_added` and
return the stored JSON as bytes, spliced into responses untouched; their statements depend only
on the query's shape, so each is compiled once per process and run through the driver directly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from accord.errors import Forbidden
from accord.exchange import authority
from accord.exchange.authority import Writer
from accord.exchange.collections import change_versions
from accord.exchange.ingest import KnownId, held_versions
from accord.exchange.set_params import member, set_param
from accord.exchange.stix import timestamp_key
from accord.store import Store
from accord.store.exchange_schema import id_hash, objects


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


@functools.lru_cache(maxsize=64)
def _visible_param(visible: frozenset[int], dialect: str) -> str:
    # A view's set is the same object page after page: encoded once, not per page.
    return set_param(visible, dialect)


# One alias for the "other versions of the same object" subqueries: built once, not per page.
_OTHER = objects.alias("other")
# The owners' instances (`objects.instance`), as a literal: the statement's text is fixed.
_OWNERS: sa.ColumnElement[str] = sa.literal_column("''")


def _visible_clause(visible: Visible, table: sa.FromClause, dialect: str) -> sa.ColumnElement[bool]:
    if visible is None:
        return sa.true()
    if not visible:
        return sa.false()
    return member(table.c.marking, "visible", dialect)


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
        params["ids"] = set_param(set(q.ids), dialect)
        params["idhs"] = set_param({id_hash(i) for i in q.ids}, dialect)
    if q.types:
        params["types"] = set_param(set(q.types), dialect)
    if q.added_after is not None:
        params["added_after"] = q.added_after
    if "all" not in q.versions and any(v not in ("last", "first") for v in q.versions):
        stamps = {timestamp_key(v) for v in q.versions if v not in ("last", "first")}
        params["stamps"] = set_param({k for k in stamps if k}, dialect)
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
        cond.append(member(o.c.idh, "idhs", dialect))
        cond.append(member(o.c.stix_id, "ids", dialect))
    if q.types:
        cond.append(member(o.c.type, "types", dialect))
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
            alts.append(member(o.c.version_key, "stamps", dialect))
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
        known = KnownId.of(rows, writer.name)
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
