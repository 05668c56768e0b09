"""What the authentication suites share: every kind of principal with its secret, one attempt to
authenticate on each surface (TAXII, the management API, the sign-in form), and a counter of the
slow hash verifications the live node performs (it runs in this process)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import sqlalchemy as sa
from api_live import API_SECRETS, ROLE_USERS, ApiNode
from taxii_live import SECRETS, TAXII
from ui_client import client, sign_in

import accord.principals.service as service
from accord.store import Store
from accord.store.auth_schema import web_sessions

#: A credential that exists in the store but is revoked (authenticates like an unknown name).
REVOKED = ("gone-user", "gone-secret-1")

#: Every kind of principal that matters (name → secret): partners JPN and USA, the third party
#: CHN, Korean users of clearance II with the groups and III without them, a foreign user, one
#: user per role; then a name no credential has and a revoked credential.
KNOWN: dict[str, str] = {
    "jpn-node": SECRETS["jpn-node"],
    "usa-node": SECRETS["usa-node"],
    "chn-node": SECRETS["chn-node"],
    "clerk": SECRETS["clerk"],
    "analyst": SECRETS["analyst"],
    "gbr-user": SECRETS["gbr-user"],
    **{name: API_SECRETS[name] for name in ROLE_USERS.values()},
}
UNKNOWN = ("nobody-at-all", "whatever-secret")
ABSENT: dict[str, str] = {UNKNOWN[0]: UNKNOWN[1], REVOKED[0]: REVOKED[1]}
EVERYONE: dict[str, str] = {**KNOWN, **ABSENT}
#: Who may sign in to the web interface (users of this node's nation).
WEB_USERS = ("clerk", "analyst", *ROLE_USERS.values())


def wrong() -> str:
    """Returns a wrong secret never tried before (so no cache answers for it)."""
    return "wrong-" + uuid.uuid4().hex


def basic(name: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()}


def taxii(api: ApiNode, name: str | None, secret: str = "") -> httpx.Response:
    """GETs the collections of the API root as `name` (None: no credentials)."""
    headers = {"Accept": TAXII, **(basic(name, secret) if name else {})}
    return api.live.http.get("/kor/collections/", headers=headers)


def management(api: ApiNode, name: str | None, secret: str = "") -> httpx.Response:
    """GETs /api/v1/parties as `name` (None: no credentials)."""
    return api.live.http.get("/api/v1/parties", headers=basic(name, secret) if name else {})


def web(api: ApiNode, name: str, secret: str) -> httpx.Response:
    """Submits the sign-in form (after fetching it) as `name`; returns the POST's response."""
    with client(api.live) as c:
        return sign_in(c, name, secret)


@contextmanager
def hashing(monkeypatch: object) -> Iterator[list[str]]:
    """Counts the scrypt verifications the node performs while the block runs (the list grows
    by one entry per verification)."""
    calls: list[str] = []
    real = service.verify

    def counted(secret: str, stored: str) -> bool:
        calls.append(stored[:10])
        return real(secret, stored)

    monkeypatch.setattr(service, "verify", counted)  # type: ignore[attr-defined]
    try:
        yield calls
    finally:
        monkeypatch.setattr(service, "verify", real)  # type: ignore[attr-defined]


def session_rows(store: Store) -> int:
    """Returns how many signed-in web sessions the store holds."""
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar_one())
