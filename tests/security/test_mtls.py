"""Mutual TLS (docs/security.md, "Client certificates"; TAXII 2.1 Appendix B): `accord serve
--certfile --keyfile --client-ca` verifies client certificates in the handshake, and a partner
credential bound to a certificate (`--cert-fingerprint`, `--cert-subject`) authenticates by it
alone. Refused: a certificate from another CA or expired (no TLS session at all), a certificate
whose credential is revoked, bound to none, or sent with another credential's header, and a
password for a certificate-bound credential (401, counted by the throttle). Basic and Bearer go on
working for national users."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from taxii_live import (
    SECRETS,
    TAXII,
    LiveNode,
    add_test_principals,
    assert_taxii_error,
    basic,
    start_node,
)

from accord.errors import InputError
from accord.principals import add_principal, revoke_principal
from accord.principals.certificates import ClientCertificate, fingerprint, subject_name
from accord.principals.service import lookup_by_certificate
from accord.store import Store
from accord.store.auth_schema import auth_failures
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store
from mtls_support import Leaf, Pki, make_pki

OBJECTS = "/kor/collections/items/objects/"
H = {"Accept": TAXII}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _node(url: str, pki: Pki, mode: str) -> LiveNode:
    node = start_node(url, as_of=date(2017, 6, 1), tls=pki.tls(mode))
    for n in ("analyst", "jpn-node"):
        revoke_principal(node.store, n)
    add_test_principals(node.store)
    # JPN's node by its certificate's fingerprint, USA's by its certificate's subject.
    add_principal(node.store, "jpn-cert", "partner", "JPN", cert_sha256=pki.jpn.sha256)
    add_principal(
        node.store,
        "usa-cert",
        "partner",
        "USA",
        cert_subject="CN=usa-node, OU=node, O=United States",
    )
    return node


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pki: Pki
) -> Iterator[LiveNode]:
    """A KOR node over HTTPS asking for client certificates (`client_certs` optional)."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("mtls") / "accord.db"), None
    else:
        url, name = make_pg_database()
    node = _node(url, pki, "optional")
    try:
        yield node
    finally:
        node.stop()
        if name:
            drop_pg_database(name)


def get(live: LiveNode, pki: Pki, leaf: Leaf | None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    with pki.client(live.url, leaf) as client:
        return client.get(OBJECTS, headers={**H, **(headers or {})})


def ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text[:300]
    return sorted(o["id"] for o in r.json().get("objects", []))


def failures(store: Store, account: str) -> int:
    with store.read() as conn:
        n = conn.execute(
            sa.select(auth_failures.c.failures).where(auth_failures.c.subject == account)
        ).scalar()
    return int(n or 0)


# ---- a partner node by its certificate --------------------------------------------------------


def test_a_bound_certificate_reads_its_partys_view_without_a_password(
    live: LiveNode, pki: Pki
) -> None:
    by_cert = get(live, pki, pki.jpn)
    by_password = get(live, pki, None, {"Authorization": basic("jpn-node", SECRETS["jpn-node"])})
    assert ids(by_cert) == ids(by_password)
    assert ids(by_cert) != ids(get(live, pki, pki.usa))  # JPN's view, not USA's


def test_a_subject_binding_admits_a_renewed_certificate(live: LiveNode, pki: Pki) -> None:
    usa = get(live, pki, None, {"Authorization": basic("usa-node", SECRETS["usa-node"])})
    assert ids(get(live, pki, pki.usa)) == ids(usa)
    # jpn-cert is bound to one fingerprint: the same subject on another certificate is not it.
    assert_taxii_error(get(live, pki, pki.jpn2), 401)


@pytest.mark.parametrize("which", ["rogue", "expired"])
def test_another_cas_or_an_expired_certificate_gets_no_tls_session(
    live: LiveNode, pki: Pki, which: str
) -> None:
    """Same subject as JPN's bound certificate, refused in the handshake (RFC 8446 §4.4.2.4):
    no HTTP is read, so no credential is looked at."""
    with pytest.raises(httpx.TransportError):
        get(live, pki, getattr(pki, which))


def test_a_revoked_credential_shuts_its_certificate_out(live: LiveNode, pki: Pki) -> None:
    add_principal(live.store, "usa-pinned", "partner", "USA", cert_sha256=pki.usa.sha256)
    assert ids(get(live, pki, pki.usa))
    account = "cert:" + pki.usa.sha256
    before = failures(live.store, account)
    revoke_principal(live.store, "usa-pinned")
    # The fingerprint decides alone: the live subject binding (usa-cert) does not let it in.
    body = assert_taxii_error(get(live, pki, pki.usa), 401)
    assert body["description"] == "this client certificate is bound to no live credential"
    assert failures(live.store, account) == before + 1


def test_a_certificate_bound_to_no_credential_is_refused_the_same_way(
    live: LiveNode, pki: Pki
) -> None:
    body = assert_taxii_error(get(live, pki, pki.user), 401)
    assert body["description"] == "this client certificate is bound to no live credential"
    assert failures(live.store, "cert:" + pki.user.sha256) >= 1


def test_a_jpn_certificate_never_acts_for_another_party(live: LiveNode, pki: Pki) -> None:
    """With a USA credential's password, or as a USA-bound fingerprint would: refused."""
    usa = {"Authorization": basic("usa-node", SECRETS["usa-node"])}
    assert_taxii_error(get(live, pki, pki.jpn, usa), 401)
    bearer = {"Authorization": f"Bearer usa-node:{SECRETS['usa-node']}"}
    assert_taxii_error(get(live, pki, pki.jpn, bearer), 401)
    # Its own credential's name in a header changes nothing: the certificate authenticates alone.
    assert_taxii_error(get(live, pki, pki.jpn, {"Authorization": basic("jpn-cert", "x" * 8)}), 401)


def test_a_certificate_bound_credential_takes_no_password(live: LiveNode, pki: Pki) -> None:
    """No password crosses the wire for it: any secret is refused like a wrong one, and counted."""
    before = failures(live.store, "jpn-cert")
    r = get(live, pki, None, {"Authorization": basic("jpn-cert", "any-secret-at-all")})
    assert assert_taxii_error(r, 401)["description"] == "invalid credentials"
    assert failures(live.store, "jpn-cert") == before + 1


# ---- national users and development -----------------------------------------------------------


def test_basic_and_bearer_without_a_certificate_still_work(live: LiveNode, pki: Pki) -> None:
    assert ids(get(live, pki, None, {"Authorization": basic("analyst", SECRETS["analyst"])}))
    bearer = {"Authorization": f"Bearer analyst:{SECRETS['analyst']}"}
    assert ids(get(live, pki, None, bearer))


def test_no_certificate_and_no_credentials_is_401(live: LiveNode, pki: Pki) -> None:
    assert_taxii_error(get(live, pki, None), 401)


def test_a_users_unbound_certificate_with_basic_authenticates_the_user(
    live: LiveNode, pki: Pki
) -> None:
    r = get(live, pki, pki.user, {"Authorization": basic("analyst", SECRETS["analyst"])})
    assert ids(r) == ids(
        get(live, pki, None, {"Authorization": basic("analyst", "analyst-secret")})
    )


def test_client_certs_required_refuses_a_client_without_one(tmp_path: Path, pki: Pki) -> None:
    node = _node(sqlite_store(tmp_path / "accord.db"), pki, "required")
    try:
        with pytest.raises(httpx.TransportError):
            get(node, pki, None, {"Authorization": basic("analyst", SECRETS["analyst"])})
        assert ids(get(node, pki, pki.jpn))
        assert ids(get(node, pki, pki.user, {"Authorization": basic("analyst", "analyst-secret")}))
    finally:
        node.stop()


def test_without_a_client_ca_no_certificate_is_asked_for(tmp_path: Path, pki: Pki) -> None:
    """Plain TLS: the certificate a client would present is never requested, so a
    certificate-bound credential cannot be used there (401), and Basic works as before."""
    tls = {"ssl_certfile": pki.server.cert, "ssl_keyfile": pki.server.key}
    node = start_node(sqlite_store(tmp_path / "accord.db"), as_of=date(2017, 6, 1), tls=tls)
    try:
        add_principal(node.store, "jpn-cert", "partner", "JPN", cert_sha256=pki.jpn.sha256)
        add_principal(node.store, "reader", "user", "KOR", "reader-secret", clearance="III")
        assert_taxii_error(get(node, pki, pki.jpn), 401)
        assert (
            get(node, pki, None, {"Authorization": basic("reader", "reader-secret")}).status_code
            == 200
        )
    finally:
        node.stop()


# ---- bindings -----------------------------------------------------------------------------------


def test_fingerprints_and_subjects_are_normalised() -> None:
    hexa = "AB:" * 31 + "CD"
    assert fingerprint(hexa) == "ab" * 31 + "cd"
    assert fingerprint("SHA256 Fingerprint=" + hexa) == "ab" * 31 + "cd"
    for bad in ("", "ab" * 31, "zz" * 32, "ab" * 33):
        with pytest.raises(InputError):
            fingerprint(bad)
    assert subject_name("cn=jpn-node,  O=Japan") == subject_name("CN=jpn-node,O=Japan")
    with pytest.raises(InputError):
        subject_name("not a name")


def test_binding_rules(store: Store, pki: Pki) -> None:
    add_principal(store, "jpn-cert", "partner", "JPN", cert_sha256=pki.jpn.sha256)
    refused = [
        dict(name="u", kind="user", party="KOR", clearance="III", cert_sha256=pki.user.sha256),
        dict(name="p", kind="partner", party="JPN", secret="a-secret-1", cert_sha256=pki.jpn2.sha256),
        dict(name="p", kind="partner", party="JPN", cert_sha256=pki.jpn2.sha256, cert_subject="CN=x"),
        # One certificate, one live credential: it could otherwise act for either party.
        dict(name="p", kind="partner", party="USA", cert_sha256=pki.jpn.sha256.upper()),
    ]  # fmt: skip
    for kw in refused:
        with pytest.raises(InputError):
            add_principal(store, **kw)  # type: ignore[arg-type]
    principal, secret = add_principal(
        store, "usa-cert", "partner", "USA", cert_subject="CN=usa-node,OU=node,O=United States"
    )
    assert secret == "" and principal.certificate_bound
    assert principal.to_json()["certificate"] == {
        "sha256": None,
        "subject": "CN=usa-node,OU=node,O=United States",
    }
    revoke_principal(store, "jpn-cert")
    add_principal(store, "jpn-cert-2", "partner", "JPN", cert_sha256=pki.jpn.sha256)  # rebound


def test_the_fingerprint_binding_decides_before_the_subject(store: Store, pki: Pki) -> None:
    cert = ClientCertificate.from_der(_der(pki.jpn))
    assert lookup_by_certificate(store, cert) is None
    add_principal(store, "by-subject", "partner", "JPN", cert_subject=cert.subject)
    found = lookup_by_certificate(store, cert)
    assert found is not None and found.name == "by-subject" and not found.revoked
    add_principal(store, "by-print", "partner", "JPN", cert_sha256=cert.sha256)
    found = lookup_by_certificate(store, cert)
    assert found is not None and found.name == "by-print"
    revoke_principal(store, "by-print")
    found = lookup_by_certificate(store, cert)
    assert found is not None and found.name == "by-print" and found.revoked


def _der(leaf: Leaf) -> bytes:
    import ssl

    return ssl.PEM_cert_to_DER_cert(Path(leaf.cert).read_text())


def test_taxii2_client_reads_with_a_certificate_and_no_password(
    live: LiveNode, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OASIS TAXII client (requests underneath: `cert=`, `verify=`) as a partner would run it."""
    from taxii2client.v21 import Collection

    # requests lets these override a session's `verify` (psf/requests#3829).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)

    cid = next(c.id for c in live.node.collections() if c.kind == "items")
    items = Collection(
        f"{live.url}/kor/collections/{cid}/", verify=pki.ca, cert=(pki.jpn.cert, pki.jpn.key)
    )
    try:
        got = items.get_objects()
    finally:
        items.close()
    by_password = get(live, pki, None, {"Authorization": basic("jpn-node", SECRETS["jpn-node"])})
    assert sorted(o["id"] for o in got.get("objects", [])) == ids(by_password)
