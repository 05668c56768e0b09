"""Fixtures of the TAXII suites: a live KOR node per module and backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from taxii_live import LiveNode, add_test_principals, start_node

from accord.principals import revoke_principal
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveNode]:
    """A KOR node as of 2017-06-01 (Korea–Japan GSOMIA in force), with test credentials."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("node") / "accord.db"), None
    else:
        url, name = make_pg_database()
    node = start_node(url, as_of=date(2017, 6, 1))
    # First-run demo credentials exist (analyst, jpn-node); replace them with known secrets.
    for n in ("analyst", "jpn-node"):
        revoke_principal(node.store, n)
    add_test_principals(node.store)
    try:
        yield node
    finally:
        node.stop()
        if name:
            drop_pg_database(name)
