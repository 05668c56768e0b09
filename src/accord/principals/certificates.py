"""Client certificates as credentials: a partner node's credential bound to the certificate its
node presents in the TLS handshake (mutual TLS, RFC 8446 §4.3.2 and §4.4.2; TAXII 2.1 Appendix B
recommends client certificates between nodes), so that no password crosses the wire.

The TLS layer proves that the client holds the private key of a certificate issued by the node's
client CA (`accord serve --client-ca`, verified before any HTTP is read: a certificate from
another CA, expired or not yet valid, ends the handshake). What it does not say is *who* the
certificate is for: a credential says so, bound either to

- the certificate's **SHA-256 fingerprint** (`--cert-fingerprint`): exactly one certificate; a
  renewed certificate needs the credential bound again; or
- its **subject** (`--cert-subject "CN=…,O=…"`): any certificate the client CA issues with that
  subject, so renewals keep working, and the client CA is trusted to issue that subject to that
  node only.

The web server hands the verified certificate to the application in the ASGI TLS extension
(`scope["extensions"]["tls"]["client_cert_chain"]`, https://asgi.readthedocs.io/en/latest/
specs/tls.html; `accord.tls` puts it there for uvicorn). Nothing a client sends in HTTP (no
header) can set it.
"""

from __future__ import annotations

import hashlib
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accord.errors import InputError

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ClientCertificate:
    """The verified certificate a TLS client presented: its DER bytes, SHA-256 fingerprint
    (lower-case hex) and subject (RFC 4514, as `subject_name` normalises it)."""

    der: bytes
    sha256: str
    subject: str

    @classmethod
    def from_der(cls, der: bytes) -> ClientCertificate:
        from cryptography import x509  # on first use: x509 is ~30 ms to import

        cert = x509.load_der_x509_certificate(der)
        return cls(der, hashlib.sha256(der).hexdigest(), cert.subject.rfc4514_string())

    @property
    def account(self) -> str:
        """The name failed attempts with this certificate count against (accord.principals.
        throttle): never a credential's name (names hold no ':'), so presenting an unbound
        certificate cannot lock a credential out, nor failed passwords lock a certificate out."""
        return "cert:" + self.sha256


def client_certificate(scope: Mapping[str, Any]) -> ClientCertificate | None:
    """Returns the client certificate the TLS layer verified for this connection, from the ASGI
    TLS extension of the request's `scope`; None over plain HTTP, when the client sent none, or
    when the server verifies none (no `--client-ca`)."""
    tls = (scope.get("extensions") or {}).get("tls")
    if not isinstance(tls, Mapping) or tls.get("client_cert_error") is not None:
        return None
    chain = tls.get("client_cert_chain") or ()
    if not chain:
        return None
    return ClientCertificate.from_der(ssl.PEM_cert_to_DER_cert(str(chain[0])))


def fingerprint(text: str) -> str:
    """Returns a SHA-256 fingerprint as stored: 64 lower-case hex digits, from the forms tools
    print (`openssl x509 -noout -fingerprint -sha256`: `sha256 Fingerprint=AB:CD:…`; `SHA256:`).
    InputError when it is not one."""
    value = text.strip().lower().rpartition("=")[2].strip().removeprefix("sha256:")
    value = value.replace(":", "")
    if not _HEX64.fullmatch(value):
        raise InputError(
            f"--cert-fingerprint: {text[:80]!r} is not a SHA-256 fingerprint (64 hex digits, "
            "as `openssl x509 -noout -fingerprint -sha256 -in CERT` prints them)"
        )
    return value


def subject_name(text: str) -> str:
    """Returns a distinguished name as stored and compared: parsed as RFC 4514 (`CN=jpn-node,
    O=Japan`) and written back the way `ClientCertificate.subject` is, so spacing and attribute
    name case do not matter. InputError when it is not a name."""
    # Spaces around the separators, as people write names ("CN=jpn-node, O=Japan"), are not
    # part of RFC 4514's grammar: dropped before parsing (an escaped comma stays a comma).
    parts = (p.partition("=") for p in re.split(r"(?<!\\),", text.strip()))
    spaced = ",".join(f"{k.strip()}{eq}{v.strip()}" for k, eq, v in parts)
    from cryptography import x509

    try:
        name = x509.Name.from_rfc4514_string(spaced)
    except ValueError as exc:
        raise InputError(
            f"--cert-subject: {text[:80]!r} is not a distinguished name: {exc}"
        ) from None
    if not len(name):
        raise InputError("--cert-subject: the distinguished name is empty")
    return name.rfc4514_string()
