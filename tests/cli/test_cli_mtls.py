"""Mutual TLS between nodes, as operators set it up (docs/federation.md, "Mutual TLS"): Japan's
node asks for client certificates and binds Korea's credential to Korea's certificate
(`accord credential add … --cert-fingerprint`); Korea adds Japan as a peer with
`--client-cert/--client-key --ca` and no password, and `accord sync` pushes and pulls. And
`accord serve --certfile --keyfile --client-ca` as a process."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from cli_runner import Cli
from taxii_live import TAXII, LiveNode, start_node

from accord.exchange import markings as mk
from accord.exchange.authority import Writer
from accord.exchange.collections import list_collections
from accord.exchange.ingest import add_objects
from accord.policy.marking import Marking
from accord.principals import add_principal, revoke_principal
from accord.server import prepare
from accord.settings import load_settings
from accord.store import open_store
from backends import sqlite_store
from mtls_support import Pki, make_pki

pytestmark = pytest.mark.slow  # live nodes over TLS

AFTER = date(2017, 6, 1)
OK = Marking.of("KOR", "II", ["general-military"], groups=["military"])  # releasable to JPN
IDS = [f"indicator--00000000-0000-4000-b000-{i:012d}" for i in range(5)]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def jpn(tmp_path: Path, pki: Pki) -> Iterator[LiveNode]:
    """Japan's node over HTTPS, asking for client certificates; Korea's credential there is
    bound to Korea's certificate (here the fixture's `usa` leaf stands for it: any certificate
    the client CA issued) by fingerprint."""
    node = start_node(
        sqlite_store(tmp_path / "jpn.db"), party="JPN", as_of=AFTER, tls=pki.tls("optional")
    )
    revoke_principal(node.store, "kor-node")  # the first run's demonstration credential
    add_principal(node.store, "kor-node", "partner", "KOR", cert_sha256=pki.usa.sha256)
    yield node
    node.stop()


@pytest.fixture
def cli(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cli]:
    """Korea's store with indicators releasable to Japan."""
    monkeypatch.delenv("ACCORD_PEER_PASSWORD", raising=False)
    store = open_store(store_url)
    try:
        prepare(store, load_settings(environ={"ACCORD_PARTY": "KOR"}), extras=False)
        items = next(c for c in list_collections(store, "kor") if c.kind == "items")
        objs: list[dict[str, object]] = [mk.marking_definition(OK)]
        objs += [
            {
                "type": "indicator", "spec_version": "2.1", "id": oid,
                "created": "2017-01-01T00:00:00.000Z", "modified": "2017-01-01T00:00:00.000Z",
                "pattern": f"[ipv4-addr:value = '198.51.100.{i}']", "pattern_type": "stix",
                "valid_from": "2017-01-01T00:00:00Z", "object_marking_refs": [mk.marking_id(OK)],
            }
            for i, oid in enumerate(IDS)
        ]  # fmt: skip
        writer = Writer.host("analyst", "KOR")
        assert all(o.ok for o in add_objects(store, items, objs, writer, lambda m: None))
    finally:
        store.close()
    monkeypatch.setenv("ACCORD_PARTY", "KOR")
    monkeypatch.setenv("ACCORD_DATE", AFTER.isoformat())
    threshold = gc.get_threshold()
    yield Cli(store_url, capsys, monkeypatch)
    gc.unfreeze()
    gc.set_threshold(*threshold)


def add(cli: Cli, jpn: LiveNode, pki: Pki, *more: str) -> tuple[int, str, str]:
    return cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--client-cert", pki.usa.cert,
        "--client-key", pki.usa.key, "--ca", pki.ca, *more,
    )  # fmt: skip


def test_sync_over_mutual_tls_with_no_password(cli: Cli, jpn: LiveNode, pki: Pki) -> None:
    code, out, err = add(cli, jpn, pki, "--json")
    assert code == 0, err
    added = json.loads(out)
    assert added["kind"] == "accord"  # discovery went through with the certificate alone
    assert added["user"] == "" and added["client_cert"] == pki.usa.cert
    assert added["client_key"] == pki.usa.key and added["ca"] == pki.ca
    code, out, err = cli("sync", "jpn", "--json")
    assert code == 0, err
    [report] = json.loads(out)
    assert report["ok"] and report["pushed"] >= len(IDS), report
    # Only the key's path is kept: its content is in no answer.
    key = Path(pki.usa.key).read_text()
    body = "".join(key.splitlines()[1:-1])
    shown = cli("peer", "show", "jpn", "--json")[1] + cli("peer", "list", "--json")[1]
    assert body[:40] not in shown and "PRIVATE KEY" not in shown


def test_a_revoked_binding_makes_the_sync_fail(cli: Cli, jpn: LiveNode, pki: Pki) -> None:
    assert add(cli, jpn, pki)[0] == 0
    revoke_principal(jpn.store, "kor-node")
    code, out, _ = cli("sync", "jpn", "--json")
    assert code == 1
    [report] = json.loads(out)
    assert not report["ok"] and "401" in " ".join(report["errors"]), report


def test_a_peer_whose_certificate_is_not_from_the_ca_is_refused_at_add(
    cli: Cli, jpn: LiveNode, pki: Pki, tmp_path: Path
) -> None:
    other = make_pki(tmp_path)  # another CA: Japan's server certificate does not chain to it
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", jpn.url, "--client-cert", pki.usa.cert,
        "--client-key", pki.usa.key, "--ca", other.ca,
    )  # fmt: skip
    assert code == 2 and "TLS with" in err and "server certificate did not verify" in err, err
    assert json.loads(cli("peer", "list", "--json")[1]) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client-cert", "x.crt"], "--client-cert and --client-key go together"),
        (["--client-cert", "/nonexistent.crt", "--client-key", "/nonexistent.key"],
         "--client-cert /nonexistent.crt / --client-key /nonexistent.key: not a usable"),
        ([], "the peer's secret is empty"),
    ],
    ids=["cert-without-key", "missing-files", "nothing-to-present"],
)  # fmt: skip
def test_peer_add_tls_bad_input_exits_2(cli: Cli, args: list[str], message: str) -> None:
    code, _, err = cli(
        "peer", "add", "jpn", "--party", "JPN", "--url", "https://127.0.0.1:9", "--user", "u",
        *args, stdin="\n",
    )  # fmt: skip
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_credential_add_binds_a_certificate(cli: Cli, pki: Pki) -> None:
    code, out, err = cli(
        "credential", "add", "jpn-node", "--party", "JPN", "--kind", "partner",
        "--cert-fingerprint", pki.jpn.sha256.upper(), "--json", stdin="ignored-secret\n",
    )  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert made["certificate"] == {"sha256": pki.jpn.sha256, "subject": None}
    assert "secret" not in made  # none generated, none read
    code, out, err = cli(
        "credential", "add", "usa-node", "--party", "USA", "--kind", "partner",
        "--cert-subject", "CN=usa-node,OU=node,O=United States",
    )  # fmt: skip
    assert (
        code == 0 and "subject CN=usa-node,OU=node,O=United States" in out and "secret" not in out
    )
    code, _, err = cli(
        "credential", "add", "x", "--party", "KOR", "--clearance", "III",
        "--cert-fingerprint", pki.jpn.sha256,
    )  # fmt: skip
    assert code == 2 and "bind a partner node's credential" in err
    code, _, err = cli("credential", "add", "y", "--party", "JPN", "--kind", "partner",
                       "--cert-fingerprint", "abc")  # fmt: skip
    assert code == 2 and "is not a SHA-256 fingerprint" in err
    listed = {
        c["name"]: c["certificate"] for c in json.loads(cli("credential", "list", "--json")[1])
    }
    assert listed["jpn-node"] == made["certificate"] and listed["usa-node"]["subject"]
    assert cli("credential", "list")[0] == 0


def test_accord_serve_with_a_client_ca(tmp_path: Path, pki: Pki) -> None:
    """`accord serve --certfile --keyfile --client-ca FILE` as a process: a bound certificate
    reads without a password; a certificate of another CA gets no TLS session."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))
    from serve_proc import prepare_store, serve

    url = sqlite_store(tmp_path / "kor.db")
    prepare_store(url).close()
    store = open_store(url)
    add_principal(store, "jpn-cert", "partner", "JPN", cert_sha256=pki.jpn.sha256)
    store.close()
    tls = ("--certfile", pki.server.cert, "--keyfile", pki.server.key, "--client-ca", pki.ca)
    served = serve(url, tmp_path, args=tls, verify=pki.context())
    try:
        with pki.client(served.url, pki.jpn) as client:
            r = client.get("/kor/collections/items/objects/", headers={"Accept": TAXII})
        assert r.status_code == 200, r.text[:300]
        with pytest.raises(httpx.TransportError), pki.client(served.url, pki.rogue) as client:
            client.get("/kor/collections/", headers={"Accept": TAXII})
    finally:
        served.stop()
    assert "client certificates optional" in served.logs()
    assert os.environ.get("ACCORD_CLIENT_CA") is None
