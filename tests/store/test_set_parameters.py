"""A set of values (visible markings, requested ids, types, versions) travels as ONE parameter:
a PostgreSQL array literal or a JSON array for SQLite (`accord.exchange.set_params`). Whatever a
client puts in `match[id]` must arrive as exactly that set: no element split, merged or altered."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.exchange import set_params
from accord.store import Store

# What a query string can carry: UTF-8 text; PostgreSQL text has no NUL.
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))
FIXTURE = [HealthCheck.function_scoped_fixture]


def member(store: Store, value: Any, values: set[Any]) -> bool:
    """True when the store finds `value` in `values` sent as one parameter."""
    kind = sa.Integer if isinstance(value, int) else sa.String
    test = set_params.member(sa.literal(value, kind), "p", store.dialect)
    param = set_params.set_param(values, store.dialect)
    with store.read() as conn:
        return conn.execute(sa.select(sa.literal(1)).where(test), {"p": param}).first() is not None


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURE)
@given(values=st.sets(TEXT, max_size=6), other=TEXT)
def test_a_text_is_a_member_exactly_when_it_was_sent(
    store: Store, values: set[str], other: str
) -> None:
    for v in values:
        assert member(store, v, values), v
    assert member(store, other, values) == (other in values)


@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURE)
@given(
    values=st.sets(st.integers(min_value=-(2**31), max_value=2**31 - 1), max_size=40),
    other=st.integers(min_value=-(2**31), max_value=2**31 - 1),
)
def test_an_integer_is_a_member_exactly_when_it_was_sent(
    store: Store, values: set[int], other: int
) -> None:
    for v in sorted(values)[:8]:
        assert member(store, v, values), v
    assert member(store, other, values) == (other in values)


def test_the_empty_set_has_no_member(store: Store) -> None:
    assert not member(store, "indicator--x", set())
    assert not member(store, 7, set())
