"""A set of values as ONE statement parameter: `column ∈ set` on PostgreSQL and SQLite alike.

Reads filter by thousands of release markings and ingest looks up a thousand id hashes at once;
passed as one parameter (a PostgreSQL array, a JSON array SQLite reads with `json_each`), such a
set costs one bind instead of thousands, and the statement's text does not depend on the set's
size, so it is compiled once and reused (`accord.exchange.queries`, `accord.exchange.ingest`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.types import UserDefinedType


class _ArrayText(UserDefinedType[str]):
    """A PostgreSQL array parameter given as its text form (`set_param`), declared in the
    statement (`::INTEGER[]`) and passed to the driver untouched."""

    cache_ok = True
    render_bind_cast = True

    def __init__(self, item: str) -> None:
        self.item = item

    def get_col_spec(self, **kw: Any) -> str:
        return f"{self.item}[]"


def member(column: sa.ColumnElement[Any], name: str, dialect: str) -> sa.ColumnElement[bool]:
    """`column ∈ :name`, the set passed as ONE parameter (a PostgreSQL array, a JSON array read by
    SQLite's json_each), its value made by `set_param`."""
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


def set_param(values: Iterable[Any], dialect: str) -> str:
    """Returns the value of a `member` parameter: the values sorted, as a PostgreSQL array
    literal or a JSON array."""
    ordered = sorted(values)
    if dialect == "postgresql":
        # An array literal: every element double-quoted and escaped, so any string is safe.
        return "{" + ",".join(_pg_element(v) for v in ordered) + "}"
    return orjson.dumps(ordered).decode()


def _pg_element(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
