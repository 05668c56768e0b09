"""Where a peer's collections are: TAXII 2.1 discovery (§4.1), API roots (§4.2) and collections
(§5.1), resolved once when the peer is added.

`accord peer add --url` takes a server's base URL or its discovery URL, the address any TAXII
user would paste. `resolve` finds the discovery resource (the URL itself, else `URL/taxii2/`),
picks the API root (the one named by `--api-root`, else the discovery's `default`, else the only
one), lists its collections as the peer's credential sees them, and decides what to read and
where to write:

- an **accord** node (collections aliased `items` and `inbox`): read `items` and `inbox`, write
  to `inbox`, as every accord node expects;
- **any other TAXII 2.1 server**: the collection named by `--pull-from` / `--push-to` (its id,
  alias or title), else the one collection the credential may read (write), when there is
  exactly one; several are an error that lists them.

A peer that does not answer when it is added is recorded unresolved, with accord's collections
assumed (`Resolved.kind` is None); `accord peer show` says so.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlparse

import httpx

from accord.errors import InputError
from accord.exchange.stix import MEDIA_TAXII
from accord.federation.transport import auth

#: What an accord node's collections are called (accord.exchange.collections).
ACCORD_PULL = ("items", "inbox")
ACCORD_PUSH = "inbox"


@dataclass(frozen=True)
class Resolved:
    """Where to reach a peer: `url` (scheme, host, port), the `api_root` path under it, `kind`
    ("accord", "taxii", or None when the peer did not answer), the collections to read
    (`pull_from`) and the one to write to (`push_to`)."""

    url: str
    api_root: str
    kind: str | None
    pull_from: tuple[str, ...]
    push_to: str | None


def _get(client: httpx.Client, url: str) -> tuple[int, Any]:
    r = client.get(url)
    try:
        body = r.json() if r.status_code == 200 else None
    except ValueError:
        body = None
    return r.status_code, body


def _discovery(client: httpx.Client, url: str) -> tuple[str, dict[str, Any]]:
    """Returns (discovery URL, discovery resource); InputError naming what answered instead."""
    tried: list[str] = []
    candidates = [url if url.endswith("/") else url + "/"]
    if not candidates[0].rstrip("/").endswith("/taxii2"):
        candidates.append(urljoin(candidates[0], "taxii2/"))
    for candidate in candidates:
        status, body = _get(client, candidate)
        if status == 200 and isinstance(body, dict) and isinstance(body.get("api_roots"), list):
            return candidate, body
        if status in (401, 403):
            raise InputError(
                f"--url: {candidate} answered HTTP {status}: the peer refuses these credentials"
            )
        tried.append(f"{candidate} (HTTP {status})")
    raise InputError(f"--url: no TAXII 2.1 discovery resource at {' or '.join(tried)}")


def _pick_root(found: str, body: dict[str, Any], wanted: str | None) -> str:
    roots = [urljoin(found, str(r)) for r in body["api_roots"]]
    if wanted is not None:
        name = wanted.strip("/")
        for r in roots:
            if urlparse(r).path.strip("/") == name or r.rstrip("/") == wanted.rstrip("/"):
                return r
        raise InputError(f"--api-root: {wanted!r} is not one of the peer's: {', '.join(roots)}")
    if body.get("default"):
        return urljoin(found, str(body["default"]))
    if len(roots) == 1:
        return roots[0]
    raise InputError(
        f"--api-root: the peer has {len(roots)} API roots and no default: {', '.join(roots)}"
    )


def _pick(
    collections: list[dict[str, Any]], wanted: str | None, may: str, option: str
) -> str | None:
    """Returns the id of the collection `wanted` names (by id, alias or title), else of the one
    collection the credential `may` ("can_read" / "can_write"); None when there is none."""
    if wanted is not None:
        for c in collections:
            if wanted in (c.get("id"), c.get("alias"), c.get("title")):
                if not c.get(may):
                    raise InputError(
                        f"{option}: the peer does not let this credential {may[4:]} {wanted!r}"
                    )
                return str(c["id"])
        names = ", ".join(f"{c.get('id')} ({c.get('title')})" for c in collections)
        raise InputError(f"{option}: the peer has no collection {wanted!r}; it has: {names}")
    able = [c for c in collections if c.get(may)]
    if len(able) > 1:
        names = ", ".join(f"{c.get('id')} ({c.get('title')})" for c in able)
        raise InputError(
            f"{option}: this credential may {may[4:]} {len(able)} collections: name one of {names}"
        )
    return str(able[0]["id"]) if able else None


def _tls_failure(exc: BaseException) -> str | None:
    """Returns what the TLS layer said when it, not the network, failed a connection (the
    peer's certificate does not chain to the CA, or the peer refused this node's certificate):
    a peer that answers that way is no unreachable peer to record unresolved."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"its server certificate did not verify ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return f"the TLS layer said {seen.reason or seen}"
        seen = seen.__cause__ or seen.__context__
    return None


def resolve(
    url: str,
    user: str,
    secret: str,
    api_root: str | None = None,
    pull_from: str | None = None,
    push_to: str | None = None,
    timeout: float = 10.0,
    verify: ssl.SSLContext | bool = True,
) -> Resolved:
    """Resolves a peer as its discovery, API root and collections describe it (module
    docstring). InputError names what the peer answered instead of what was needed; a peer that
    does not answer at all gives an unresolved `Resolved` (kind None) with accord's collections.
    `verify` is httpx's (`accord.federation.transport.tls_context`: the peer's CA, this node's
    client certificate); with an empty `secret` no Authorization header is sent."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InputError(f"--url: {url!r} is not an http(s) URL")
    headers = {"Accept": MEDIA_TAXII}
    try:
        with httpx.Client(
            auth=auth(user, secret), headers=headers, timeout=timeout, verify=verify
        ) as client:
            found, body = _discovery(client, url)
            root = _pick_root(found, body, api_root)
            status, listed = _get(
                client, urljoin(root if root.endswith("/") else root + "/", "collections/")
            )
    except httpx.TransportError as exc:
        refused = _tls_failure(exc)
        if refused is not None:
            raise InputError(f"TLS with {url} failed: {refused}") from None
        base = url.rstrip("/").removesuffix("/taxii2")
        return Resolved(base, (api_root or "").strip("/"), None, ACCORD_PULL, ACCORD_PUSH)
    if status != 200 or not isinstance(listed, dict):
        raise InputError(f"the peer's API root {root} answered HTTP {status} for its collections")
    collections = [c for c in listed.get("collections", []) if isinstance(c, dict)]
    r = urlparse(root)
    base, path = f"{r.scheme}://{r.netloc}", r.path.strip("/")
    aliases = {c.get("alias") for c in collections}
    if set(ACCORD_PULL) <= aliases:  # an accord node: its own collections, unless named
        read = _pick(collections, pull_from, "can_read", "--pull-from") if pull_from else None
        write = _pick(collections, push_to, "can_write", "--push-to") if push_to else None
        return Resolved(
            base, path, "accord", (read,) if read else ACCORD_PULL, write or ACCORD_PUSH
        )
    pulled = _pick(collections, pull_from, "can_read", "--pull-from")
    pushed = _pick(collections, push_to, "can_write", "--push-to")
    return Resolved(base, path, "taxii", (pulled,) if pulled else (), pushed)
