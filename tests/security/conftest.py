"""Fixtures of the security suites (docs/security.md): live nodes built with the TAXII, API and
CLI suites' harness (tests/taxii/taxii_live.py, tests/api/api_live.py, tests/cli/cli_runner.py),
with every kind of principal: partners JPN, USA and CHN, Korean users of clearance I–III with and
without the groups, a foreign user, one user per role, no credentials.

- `live`: a KOR node (TAXII) per module and backend, with the TAXII suites' credentials plus one
  national user per role (`role_users.ROLE_USERS`).
- `node` / `api`: a KOR node serving TAXII, the API and the UI per module and backend; `api` sets
  its throttle to small numbers (`TIGHT`: a few failures, a one-second back-off) and empties the
  throttle's counters, so the authentication tests stay fast and independent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from api_live import ApiNode, start_api_node
from auth_support import REVOKED
from principals_live import start_security_node
from role_users import ROLE_SECRETS, ROLE_USERS
from taxii_live import SECRETS, LiveNode, add_test_principals, start_node

from accord.principals import add_principal, revoke_principal
from accord.principals.throttle import WATCH_KEY, ThrottlePolicy
from accord.store import Store
from accord.store.auth_schema import auth_failures
from accord.store.schema import meta
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveNode]:
    """A KOR node as of 2017-06-01 (Korea–Japan GSOMIA in force) with the TAXII suites'
    credentials and one user per role."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("node") / "accord.db"), None
    else:
        url, name = make_pg_database()
    SECRETS.update(ROLE_SECRETS)
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
        for secret_name in ROLE_SECRETS:
            SECRETS.pop(secret_name, None)
        if name:
            drop_pg_database(name)


#: Three free failures per account, then 1 s (capped at 1 s); addresses effectively unlimited;
#: no lockout unless a test asks for one.
TIGHT = ThrottlePolicy(
    free_failures=3, address_failures=100_000, backoff_cap=1, window=60, lockout=0
)


@pytest.fixture(scope="module", params=BACKENDS)
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiNode, str]]:
    """Yields (a live KOR node serving TAXII, the API and the UI, its store URL), per backend."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("sec") / "accord.db"), None
    else:
        url, name = make_pg_database()
    api = start_api_node(url)
    add_principal(api.store, REVOKED[0], "user", "KOR", REVOKED[1], clearance="III")
    revoke_principal(api.store, REVOKED[0])
    try:
        yield api, url
    finally:
        api.stop()
        if name:
            drop_pg_database(name)


@pytest.fixture
def api(node: tuple[ApiNode, str]) -> Iterator[ApiNode]:
    """The module's node with the TIGHT throttle, no recorded failures and `metrics` at its
    default (credential); restored afterwards."""
    live = node[0].live
    reset(live.store)
    live.node.config.throttle = TIGHT
    live.node.config.metrics = "credential"
    try:
        yield node[0]
    finally:
        reset(live.store)


def reset(store: Store) -> None:
    """Forgets every recorded failure and the watch mark."""
    with store.begin() as conn:
        conn.execute(sa.delete(auth_failures))
        conn.execute(sa.delete(meta).where(meta.c.key == WATCH_KEY))


@pytest.fixture(scope="module", params=BACKENDS)
def security_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiNode]:
    """A live KOR node (TAXII, the API, the UI) per module and backend with every kind of
    principal (`principals_live.start_security_node`)."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("security") / "accord.db"), None
    else:
        url, name = make_pg_database()
    n = start_security_node(url)
    try:
        yield n
    finally:
        n.stop()
        if name:
            drop_pg_database(name)
