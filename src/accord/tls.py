"""`accord serve` over TLS, and mutual TLS: which certificates the handshake asks for and
verifies, and how the one a client presented reaches the application.

With a client CA (`--client-ca FILE`, setting `client_ca`) the server asks every client for a
certificate in the handshake (RFC 8446 §4.3.2, CertificateRequest) and verifies the one sent
against that CA only: a certificate another CA issued, an expired or not yet valid one, or one
whose key the client does not hold ends the handshake before any HTTP is read, so such a client
never reaches a credential check. The setting `client_certs` says whether a client may send
none:

- `optional` (the default, `ssl.CERT_OPTIONAL`): a client without a certificate goes on to
  HTTP, where national users and development tools authenticate with Basic or Bearer as
  before; a partner credential bound to a certificate still accepts nothing else
  (accord.node.Node.authenticate);
- `required` (`ssl.CERT_REQUIRED`): no client without a certificate the client CA issued gets
  past the handshake, national users included (they then authenticate with Basic or Bearer on
  top of a certificate bound to no credential).

uvicorn verifies the certificate but hands the application no trace of it. `TLSProtocol` is
uvicorn's own HTTP protocol (httptools, else h11, as uvicorn's `auto` picks) that adds, to every
request of a TLS connection, the ASGI TLS extension (`scope["extensions"]["tls"]`,
https://asgi.readthedocs.io/en/latest/specs/tls.html) with the verified client certificate,
read once per connection from the TLS layer (`ssl.SSLObject.getpeercert`); the application reads
it there (`accord.principals.certificates.client_certificate`). A client cannot set it: it comes
from the connection, not from anything sent over it.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from accord.errors import InputError

#: The setting `client_certs`: whether a client may connect without a certificate.
CLIENT_CERT_MODES = {"optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}

#: `ssl.SSLObject.version()` → the ASGI TLS extension's `tls_version` (the protocol's number).
_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def serve_options(
    certfile: str | None, keyfile: str | None, client_ca: str | None, client_certs: str
) -> dict[str, Any]:
    """Returns uvicorn's keyword arguments for `accord serve`'s TLS: none over plain HTTP; the
    certificate and key; with `client_ca`, the CA client certificates are verified against,
    whether a client may send none (`client_certs`: optional | required) and `TLSProtocol`.
    InputError names a missing file or a client CA without TLS."""
    mode = str(client_certs).strip().lower()
    if mode not in CLIENT_CERT_MODES:
        raise InputError(
            f"ACCORD_CLIENT_CERTS: {mode[:40]!r} is not one of {', '.join(CLIENT_CERT_MODES)}"
        )
    if (certfile is None) != (keyfile is None):
        raise InputError("--certfile and --keyfile go together")
    if certfile is None:
        if client_ca is not None:
            raise InputError(
                "--client-ca needs --certfile and --keyfile: client certificates are verified "
                "in the TLS handshake"
            )
        return {}
    options: dict[str, Any] = {"ssl_certfile": certfile, "ssl_keyfile": keyfile}
    if client_ca is None:
        return options
    try:
        ssl.create_default_context(cafile=client_ca)
    except OSError as exc:  # ssl.SSLError included
        raise InputError(f"--client-ca: {client_ca}: not a readable PEM CA file ({exc})") from None
    options.update(
        ssl_ca_certs=str(Path(client_ca)),
        ssl_cert_reqs=CLIENT_CERT_MODES[mode],
        http=f"{__name__}:TLSProtocol",
    )
    return options


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """Returns the ASGI TLS extension of a connection, None when it is not TLS. The client
    certificate is there only when the server asked for one (a client CA is set), so it is
    always one the handshake verified."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = None
    if ssl_object.context.verify_mode != ssl.CERT_NONE:
        der = ssl_object.getpeercert(binary_form=True)
    name = x509.load_der_x509_certificate(der).subject.rfc4514_string() if der else None
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": _VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


class TLSProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, with the ASGI TLS extension in every request's scope (module
    docstring)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        tls = tls_extension(transport)
        if tls is None:
            return
        me: Any = self  # uvicorn's protocols are untyped here (AutoHTTPProtocol is a variable)
        app = me.app

        async def with_tls(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] in ("http", "websocket"):
                scope["extensions"] = {**(scope.get("extensions") or {}), "tls": tls}
            await app(scope, receive, send)

        me.app = with_tls
