"""Fixtures of the security suites (docs/security.md): live nodes built with the TAXII, API and
CLI suites' harness (tests/taxii/taxii_live.py, tests/api/api_live.py, tests/cli/cli_runner.py).
`live` is a KOR node per module and backend with one credential for every kind of principal a
boundary is tested against: the TAXII suites' credentials plus one national user per role."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent.parent
for _sub in ("taxii", "api", "cli", "ui"):
    if str(_TESTS / _sub) not in sys.path:
        sys.path.insert(0, str(_TESTS / _sub))

from role_users import ROLE_USERS  # noqa: E402
from taxii_live import SECRETS, LiveNode, add_test_principals, start_node  # noqa: E402

from accord.principals import add_principal, revoke_principal  # noqa: E402
from backends import BACKENDS, drop_pg_database, make_pg_database  # noqa: E402


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveNode]:
    """A KOR node as of 2017-06-01 (Korea–Japan GSOMIA in force) with the TAXII suites'
    credentials and one user per role."""
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path_factory.mktemp('node') / 'accord.db'}", None
    else:
        url, name = make_pg_database()
    node = start_node(url, as_of=date(2017, 6, 1))
    for n in ("analyst", "jpn-node"):
        revoke_principal(node.store, n)
    add_test_principals(node.store)
    for role, user in ROLE_USERS.items():
        add_principal(
            node.store,
            user,
            "user",
            "KOR",
            SECRETS[user],
            clearance="I",
            groups=("dprk", "military", "cyber"),
            roles=(role,),
        )
    try:
        yield node
    finally:
        node.stop()
        if name:
            drop_pg_database(name)
