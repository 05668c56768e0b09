"""Authentication on every endpoint (TAXII 2.1 §1.6.9, §8.2.2; taxii-stix.md §1.6): no, wrong,
malformed or revoked credentials get a 401 with a Basic challenge and a TAXII error body, before
anything else is looked at; Basic and Bearer (`name:secret`) credentials are accepted."""

from __future__ import annotations

import base64

import pytest
from taxii_live import SECRETS, TAXII, LiveNode, assert_taxii_error, basic, indicator

from accord.principals import add_principal, revoke_principal
from accord.store import open_store

OBJECT = "indicator--00000000-0000-4000-8000-000000000000"
C = "/kor/collections/items"
ENDPOINTS = [
    ("GET", "/taxii2/"),
    ("GET", "/kor/"),
    ("GET", "/kor/status/2d086da7-4bdc-4f91-900e-d77486753710/"),
    ("GET", "/kor/collections/"),
    ("GET", f"{C}/"),
    ("GET", f"{C}/objects/"),
    ("POST", f"{C}/objects/"),
    ("GET", f"{C}/manifest/"),
    ("GET", f"{C}/objects/{OBJECT}/"),
    ("DELETE", f"{C}/objects/{OBJECT}/"),
    ("GET", f"{C}/objects/{OBJECT}/versions/"),
]
ENDPOINT_IDS = [f"{m} {p}" for m, p in ENDPOINTS]


def send(live: LiveNode, method: str, path: str, authorization: str | None, **extra: str):  # type: ignore[no-untyped-def]
    headers = {"Accept": TAXII, "Content-Type": TAXII, **extra}
    if authorization is not None:
        headers["Authorization"] = authorization
    content = b'{"objects": []}' if method == "POST" else None
    return live.request(method, path, headers=headers, content=content)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_401_without_credentials(live: LiveNode, method: str, path: str) -> None:
    body = assert_taxii_error(send(live, method, path, None), 401)
    assert "credentials" in body["description"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_401_with_a_wrong_secret(live: LiveNode, method: str, path: str) -> None:
    assert_taxii_error(send(live, method, path, basic("analyst", "not-the-secret")), 401)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_401_precedes_406_and_404(live: LiveNode, method: str, path: str) -> None:
    """Nothing is looked at before the caller is known: not the Accept header, not whether the
    API root or the collection exists (no probing without credentials)."""
    bad_accept = send(live, method, path, None, Accept="application/taxii+json;version=2.0")
    assert_taxii_error(bad_accept, 401)
    elsewhere = path.replace("/kor/", "/no-such-root/").replace("/items/", "/no-such/")
    assert_taxii_error(send(live, method, elsewhere, None), 401)


def test_401_for_an_unknown_name_is_the_same_as_for_a_wrong_secret(live: LiveNode) -> None:
    """The answer never says whether the name exists."""
    unknown = assert_taxii_error(send(live, "GET", "/kor/", basic("nobody", "whatever-1")), 401)
    wrong = assert_taxii_error(send(live, "GET", "/kor/", basic("analyst", "whatever-1")), 401)
    assert unknown == wrong


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + _b64(b"analyst"),  # no colon
        "Basic " + _b64(b":analyst-secret"),  # no name
        "Basic " + _b64(b"analyst:analyst-secret")[:-2],  # truncated
        "Basic " + _b64(b"\xff\xfe:\xff"),  # not UTF-8
        "Basic " + _b64(b"analyst:analyst-secret") + " trailing",
        "Digest username=analyst",
        "Negotiate abc",
        "analyst:analyst-secret",
        "Bearer",
        "Bearer analyst",
        "Bearer " + _b64(b"analyst:analyst-secret"),  # a Bearer token is name:secret, not base64
    ],
)
def test_401_for_malformed_credentials(live: LiveNode, authorization: str) -> None:
    assert_taxii_error(send(live, "GET", f"{C}/objects/", authorization), 401)


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_200_with_basic_credentials(live: LiveNode, scheme: str) -> None:
    token = _b64(f"analyst:{SECRETS['analyst']}".encode())
    r = send(live, "GET", f"{C}/objects/", f"{scheme} {token}")
    assert r.status_code == 200 and r.headers["content-type"] == TAXII


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token"])
def test_200_with_a_bearer_token(live: LiveNode, scheme: str) -> None:
    basic_view = live.json(f"{C}/objects/", "analyst")
    r = send(live, "GET", f"{C}/objects/", f"{scheme} analyst:{SECRETS['analyst']}")
    assert r.status_code == 200
    assert r.json() == basic_view  # the same principal, the same view


def test_401_with_a_bearer_token_and_a_wrong_secret(live: LiveNode) -> None:
    assert_taxii_error(send(live, "GET", f"{C}/objects/", "Bearer analyst:wrong-secret"), 401)


def test_202_with_a_bearer_token_on_post(live: LiveNode) -> None:
    obj = indicator()
    h = {
        "Accept": TAXII,
        "Content-Type": TAXII,
        "Authorization": f"Bearer analyst:{SECRETS['analyst']}",
    }
    r = live.post(f"{C}/objects/", {"objects": [obj]}, headers=h)
    assert r.status_code == 202 and r.json()["success_count"] == 1


@pytest.fixture(scope="module")
def revoked(live: LiveNode) -> tuple[str, str]:
    """A user whose credential worked, then was revoked (one per node: hashing is slow)."""
    _, secret = add_principal(
        live.store, "revoked", "user", "KOR", clearance="II", groups=("dprk",)
    )
    assert send(live, "GET", f"{C}/objects/", basic("revoked", secret)).status_code == 200
    revoke_principal(live.store, "revoked")
    return "revoked", secret


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_401_with_a_revoked_credential(
    live: LiveNode, revoked: tuple[str, str], method: str, path: str
) -> None:
    """A revocation takes effect at the next request, even for a secret verified before."""
    name, secret = revoked
    assert_taxii_error(send(live, method, path, basic(name, secret)), 401)
    assert_taxii_error(send(live, method, path, f"Bearer {name}:{secret}"), 401)


def test_revoked_then_reissued_name_takes_only_the_new_secret(live: LiveNode) -> None:
    _, old = add_principal(live.store, "reissued", "partner", "USA")
    assert send(live, "GET", "/kor/", basic("reissued", old)).status_code == 200
    revoke_principal(live.store, "reissued")
    _, new = add_principal(live.store, "reissued", "partner", "USA")
    assert_taxii_error(send(live, "GET", "/kor/", basic("reissued", old)), 401)
    assert send(live, "GET", "/kor/", basic("reissued", new)).status_code == 200


def test_revoked_partner_gets_no_further_page(live: LiveNode) -> None:
    """A `next` token does not outlive its principal's credential."""
    _, secret = add_principal(live.store, "short-lived", "partner", "USA")
    auth = basic("short-lived", secret)
    first = live.get(
        f"{C}/objects/", headers={"Accept": TAXII, "Authorization": auth}, params={"limit": "1"}
    )
    assert first.status_code == 200 and first.json()["more"] is True
    revoke_principal(live.store, "short-lived")
    r = live.get(
        f"{C}/objects/",
        headers={"Accept": TAXII, "Authorization": auth},
        params={"limit": "1", "next": first.json()["next"]},
    )
    assert_taxii_error(r, 401)


def test_credentials_changed_by_another_process_take_effect_at_the_next_request(
    live: LiveNode,
) -> None:
    """The node caches credentials per process (accord.node); a revocation or a new secret
    written through another connection pool (as `accord credential` in another process does) is
    seen by the very next request."""
    other = open_store(live.store.url)
    try:
        _, first = add_principal(other, "rotated", "user", "KOR", clearance="II")
        assert send(live, "GET", f"{C}/objects/", basic("rotated", first)).status_code == 200
        revoke_principal(other, "rotated")
        assert_taxii_error(send(live, "GET", f"{C}/objects/", basic("rotated", first)), 401)
        _, second = add_principal(other, "rotated", "user", "KOR", clearance="II")
        assert_taxii_error(send(live, "GET", f"{C}/objects/", basic("rotated", first)), 401)
        assert send(live, "GET", f"{C}/objects/", basic("rotated", second)).status_code == 200
    finally:
        revoke_principal(other, "rotated")
        other.close()
