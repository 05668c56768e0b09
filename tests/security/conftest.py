"""Fixtures of the security suites: a live KOR node per module and backend, with one credential
for every kind of principal a boundary is tested against (tests/taxii/taxii_live.py is the
harness; its credentials plus one national user per role)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "taxii"))

from taxii_live import SECRETS, LiveNode, add_test_principals, start_node  # noqa: E402

from accord.principals import add_principal, revoke_principal  # noqa: E402
from backends import BACKENDS, drop_pg_database, make_pg_database  # noqa: E402

#: National users cleared at the top with every group, each holding ONE role: only the role
#: differs, so a difference in what they may write is the role's.
ROLE_USERS = {
    role: f"{role}-only" for role in ("operator", "legal", "analyst", "logistics", "auditor")
}
for _role, _name in ROLE_USERS.items():
    SECRETS.setdefault(_name, f"{_name}-secret")


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
