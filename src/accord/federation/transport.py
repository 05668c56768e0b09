"""How this node reaches a peer over HTTPS: the certificates it trusts and presents, and the
credentials it sends.

With `--client-cert FILE --client-key FILE` (`accord peer add`) this node presents its own
certificate in the TLS handshake (mutual TLS, RFC 8446 §4.4.2; TAXII 2.1 Appendix B), and the
peer, when it binds the credential it gave this node to that certificate, needs no password: none
is sent when none was given. With `--ca FILE` the peer's server certificate must chain to that CA
alone (a government-to-government channel needs no public CA); without it, to the CAs httpx
trusts by default. Only the files' paths are kept; the key is read from its file when a
connection is made, never copied into the store, a log or an error.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from accord.errors import InputError


def tls_context(
    client_cert: str | None, client_key: str | None, ca: str | None
) -> ssl.SSLContext | bool:
    """Returns what httpx's `verify` takes: True (its default trust, no client certificate), or
    a context trusting `ca` (else the default CAs) and presenting `client_cert` with
    `client_key`. InputError names the file that cannot be used (never its content)."""
    if client_cert is None and client_key is None and ca is None:
        return True
    if (client_cert is None) != (client_key is None):
        raise InputError("--client-cert and --client-key go together")
    try:
        context = ssl.create_default_context(cafile=ca) if ca else httpx.create_ssl_context()
    except OSError as exc:  # ssl.SSLError included
        raise InputError(f"--ca: {ca}: not a readable PEM CA file ({_why(exc)})") from None
    if client_cert is not None and client_key is not None:
        try:
            context.load_cert_chain(client_cert, client_key)
        except OSError as exc:  # ssl.SSLError included
            raise InputError(
                f"--client-cert {client_cert} / --client-key {client_key}: not a usable PEM "
                f"certificate and its unencrypted private key ({_why(exc)})"
            ) from None
    return context


def verify_for(url: str, verify: ssl.SSLContext | bool) -> ssl.SSLContext | bool:
    """Returns `verify` for a client whose every request goes to `url`'s origin. httpx builds its
    default context (the CA bundle read from disk: ~50-90 ms) when the client is made, even when
    no request will use TLS; a plain-HTTP peer without certificate files gets instead a context
    that trusts no CA, so that a request that did turn to HTTPS would fail, never go unverified."""
    if verify is True and url.lower().startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies hostnames, trusts no CA
    return verify


def _why(exc: OSError) -> str:
    """Says why a file was refused: the OpenSSL reason or the OS error, never the file."""
    return str(getattr(exc, "reason", None) or exc.strerror or type(exc).__name__)


def auth(user: str, secret: str) -> tuple[str, str] | None:
    """Returns httpx's Basic `auth` for a peer: None when no secret is kept (a client
    certificate authenticates this node), so no Authorization header is sent."""
    return (user, secret) if secret else None


def absolute(path: str | None) -> str | None:
    """Returns `path` made absolute (a sync may run from another directory), or None."""
    return None if path is None else str(Path(path).expanduser().resolve())
