"""Certificates for the mutual TLS suites, from trustme (test CAs made in memory): the node's
client CA, which also issues its server certificate for 127.0.0.1, and the client certificates of
partner nodes, a national user, another CA's and an expired one."""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import trustme

from accord.tls import serve_options


@dataclass(frozen=True)
class Leaf:
    """A certificate and its key as files: `cert` (PEM), `key` (PEM), `sha256` of its DER."""

    cert: str
    key: str
    sha256: str


def _write(leaf: trustme.LeafCert, where: Path, name: str) -> Leaf:
    cert, key = where / f"{name}.crt", where / f"{name}.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    return Leaf(str(cert), str(key), hashlib.sha256(der).hexdigest())


@dataclass(frozen=True)
class Pki:
    ca: str  # the client CA (PEM), which also issued the server certificate
    server: Leaf
    jpn: Leaf  # CN=jpn-node,OU=node,O=Japan
    jpn2: Leaf  # a second certificate with the same subject (a renewal)
    usa: Leaf  # CN=usa-node, O=United States
    user: Leaf  # CN=analyst, O=Korea: a national user's, bound to no credential
    rogue: Leaf  # CN=jpn-node, O=Japan, issued by ANOTHER CA
    expired: Leaf  # CN=jpn-node, O=Japan, by the client CA, expired yesterday

    def tls(self, client_certs: str = "optional") -> dict[str, Any]:
        """uvicorn's options of `accord serve --certfile --keyfile --client-ca`."""
        return serve_options(self.server.cert, self.server.key, self.ca, client_certs)

    def context(self, leaf: Leaf | None = None) -> ssl.SSLContext:
        """A client's TLS context trusting the node's CA and presenting `leaf` (None: none)."""
        context = ssl.create_default_context(cafile=self.ca)
        if leaf is not None:
            context.load_cert_chain(leaf.cert, leaf.key)
        return context

    def client(self, base_url: str, leaf: Leaf | None) -> httpx.Client:
        """An httpx client trusting the node's CA and presenting `leaf` (None: no certificate)."""
        return httpx.Client(base_url=base_url, verify=self.context(leaf), timeout=30)


def make_pki(where: Path) -> Pki:
    ca, other = trustme.CA(organization_name="KOR client CA"), trustme.CA()
    ca.cert_pem.write_to_path(str(where / "client-ca.pem"))
    yesterday = datetime.now(UTC) - timedelta(days=1)

    def leaf(issuer: trustme.CA, cn: str, org: str, **kw: Any) -> trustme.LeafCert:
        return issuer.issue_cert(
            f"{cn}.example",
            common_name=cn,
            organization_unit_name="node",
            organization_name=org,
            **kw,
        )

    return Pki(
        ca=str(where / "client-ca.pem"),
        server=_write(ca.issue_cert("127.0.0.1", "localhost"), where, "server"),
        jpn=_write(leaf(ca, "jpn-node", "Japan"), where, "jpn"),
        jpn2=_write(leaf(ca, "jpn-node", "Japan"), where, "jpn2"),
        usa=_write(leaf(ca, "usa-node", "United States"), where, "usa"),
        user=_write(leaf(ca, "analyst", "Korea"), where, "user"),
        rogue=_write(leaf(other, "jpn-node", "Japan"), where, "rogue"),
        expired=_write(
            leaf(
                ca,
                "jpn-node",
                "Japan",
                not_before=yesterday - timedelta(days=30),
                not_after=yesterday,
            ),
            where,
            "expired",
        ),
    )
