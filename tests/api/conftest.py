"""Fixtures of the management API suites: a live KOR node per module and backend, with one
credential per role (each cleared I with the dprk and military groups), a credential holding
every role, and the TAXII suites' partner and user credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_live import ApiNode, start_api_node

from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


@pytest.fixture(scope="module", params=BACKENDS)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiNode]:
    """A KOR node as of 2017-06-01 serving the management API, on each backend."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("api") / "accord.db"), None
    else:
        url, name = make_pg_database()
    node = start_api_node(url)
    try:
        yield node
    finally:
        node.stop()
        if name:
            drop_pg_database(name)
