"""Guessing secrets is throttled (PRODUCT.md §7; docs/security.md, "Authentication"): on TAXII,
the management API and the sign-in form, for every kind of principal, for a name no credential
has and for a revoked one alike, against a live node on both stores.

The node runs with three free failures and a one-second back-off (tests/security/conftest.py).
"""

from __future__ import annotations

import time

import httpx
import pytest
from api_live import API_SECRETS, ROLE_USERS, ApiNode, assert_api_error
from auth_support import (
    ABSENT,
    EVERYONE,
    KNOWN,
    WEB_USERS,
    basic,
    hashing,
    management,
    taxii,
    web,
    wrong,
)
from taxii_live import TAXII, assert_taxii_error, start_node

from accord.principals import throttle
from accord.principals.throttle import ThrottlePolicy

# In the full suite, not the fast loop (-m "not slow"): waits out real back-off windows.
pytestmark = pytest.mark.slow

FREE = 3


class _Clock:
    """The throttle's clock in this process (`accord.principals.throttle` reads `time.time()`),
    moved by the test instead of by sleeping: every reading is a microsecond after the last, so
    a one-second back-off cannot run out while a loaded machine is slow to send the next
    request, and the wait costs no real second."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        self.now += 1e-6
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    c = _Clock()
    monkeypatch.setattr(throttle, "time", c)
    return c


def _retry_after(r: httpx.Response) -> int:
    value = r.headers.get("retry-after")
    assert value is not None and value.isdigit() and int(value) >= 1, r.headers
    return int(value)


def test_taxii_wrong_secrets_then_the_right_one_are_throttled(
    api: ApiNode, monkeypatch: pytest.MonkeyPatch, clock: _Clock
) -> None:
    """Fails on eff1280: 40 wrong secrets and then the right one were 401s and then 200 — no
    throttling (issue 16, case 11). Now, for every kind of principal and for unknown and revoked
    names alike: three 401s, then 429 with `Retry-After` for a wrong and for the right secret,
    without the secret being hashed; after the wait the right secret is accepted."""
    throttled = {}
    for name, secret in EVERYONE.items():
        with hashing(monkeypatch) as calls:
            for _ in range(FREE):
                assert_taxii_error(taxii(api, name, wrong()), 401)
            assert len(calls) == FREE, name  # unknown and revoked names hash too (case 12)
            for attempt in (wrong(), secret):
                r = taxii(api, name, attempt)
                body = assert_taxii_error(r, 429)
                assert _retry_after(r) == 1
                throttled[name] = body["description"]
            assert len(calls) == FREE, name  # nothing was checked while throttled
    # The same answers whether or not the name is a live credential.
    assert len(set(throttled.values())) == 1, throttled
    clock.advance(1.1)
    for name, secret in KNOWN.items():
        assert taxii(api, name, secret).status_code == 200, name
    for name, secret in ABSENT.items():
        assert_taxii_error(taxii(api, name, secret), 401)
    # A success cleared the account's failures: three more wrong ones are 401s again.
    for _ in range(FREE):
        assert_taxii_error(taxii(api, "jpn-node", wrong()), 401)
    assert_taxii_error(taxii(api, "jpn-node", KNOWN["jpn-node"]), 429)


def test_api_wrong_secrets_then_the_right_one_are_throttled(
    api: ApiNode, monkeypatch: pytest.MonkeyPatch, clock: _Clock
) -> None:
    """Fails on eff1280: 20 wrong API secrets and then the right one were 401s and then
    accepted (case 11). Now 429 `THROTTLED` with `Retry-After`, the secret unchecked, for each
    role's user, a Level III user without roles, a partner, an unknown and a revoked name."""
    names = [*ROLE_USERS.values(), "clerk", "jpn-node", *ABSENT]
    for name in names:
        with hashing(monkeypatch) as calls:
            for _ in range(FREE):
                assert_api_error(management(api, name, wrong()), 401, "UNAUTHENTICATED")
            assert len(calls) == FREE, name
            r = management(api, name, EVERYONE[name])
            err = assert_api_error(r, 429, "THROTTLED")
            assert "not checked" in err["message"] and _retry_after(r) == 1
            assert len(calls) == FREE, name
    clock.advance(1.1)
    for role_user in ROLE_USERS.values():
        assert management(api, role_user, API_SECRETS[role_user]).status_code == 200
    assert_api_error(management(api, "usa-node", KNOWN["usa-node"]), 403)  # a partner: 403, not 429
    assert_api_error(management(api, "jpn-node", KNOWN["jpn-node"]), 403)  # partner


def test_ui_sign_in_is_throttled_with_a_clear_message(
    api: ApiNode, monkeypatch: pytest.MonkeyPatch, clock: _Clock
) -> None:
    """Fails on eff1280: 30 wrong sign-ins and then the right one were 401 pages and then a
    session (case 11). Now the form answers 429 with `Retry-After` and says why and for how
    long, without checking the secret; after the wait the right secret signs in."""
    names = [*WEB_USERS, "jpn-node", *ABSENT]
    for name in names:
        with hashing(monkeypatch) as calls:
            for _ in range(FREE):
                assert web(api, name, wrong()).status_code == 401
            assert len(calls) == FREE, name
            r = web(api, name, EVERYONE[name])
            assert r.status_code == 429, (name, r.status_code)
            assert _retry_after(r) == 1
            assert "too many failed attempts" in r.text and "not checked" in r.text
            assert 'role="alert"' in r.text
            assert len(calls) == FREE, name
    clock.advance(1.1)
    for name in WEB_USERS:
        r = web(api, name, EVERYONE[name])
        assert r.status_code == 303 and r.headers["location"] == "/ui/network", name


def test_an_address_that_tries_many_names_is_throttled(api: ApiNode, clock: _Clock) -> None:
    """Fails on eff1280 (no throttling at all). Spraying: an address whose failures, over any
    names, reach `auth_address_failures` waits before its next attempt, even with a right
    secret for another account — on TAXII, the API and the sign-in form."""
    api.live.node.config.throttle = ThrottlePolicy(
        free_failures=100, address_failures=4, backoff_cap=1, window=60, lockout=0
    )
    for i in range(4):
        assert_taxii_error(taxii(api, f"spray-{i}", wrong()), 401)
    r = taxii(api, "chief", "chief-secret-1")
    body = assert_taxii_error(r, 429)
    assert "client address" in body["description"] and _retry_after(r) == 1
    assert_api_error(management(api, "operator-user", API_SECRETS["operator-user"]), 429)
    assert web(api, "clerk", KNOWN["clerk"]).status_code == 429
    clock.advance(1.1)
    assert taxii(api, "chief", "chief-secret-1").status_code == 200


def test_throttling_holds_across_processes_serving_one_store(
    node: tuple[ApiNode, str], api: ApiNode
) -> None:
    """Fails on eff1280 (no throttling). Failures counted by one serving process throttle the
    account in another serving the same store (several uvicorn workers): the counters are in
    the store, and the watch mark tells the other process to look."""
    other = start_node(node[1], throttle=api.live.node.config.throttle)
    try:
        for _ in range(FREE):
            assert_taxii_error(taxii(api, "usa-node", wrong()), 401)
        headers = {"Accept": TAXII, **basic("usa-node", KNOWN["usa-node"])}
        assert_taxii_error(other.http.get("/kor/collections/", headers=headers), 429)
        # And the other way round: the second process's failures throttle the first.
        for _ in range(FREE):
            bad = {"Accept": TAXII, **basic("chn-node", wrong())}
            assert_taxii_error(other.http.get("/kor/collections/", headers=bad), 401)
        assert_taxii_error(taxii(api, "chn-node", KNOWN["chn-node"]), 429)
    finally:
        other.stop()
