"""Adding, listing, revoking and authenticating principals.

A principal is a partner node (`kind="partner"`, acting for its `party`) or a user of the node
(`kind="user"`: nationality `party`, `clearance` in the node's scheme, need-to-know `groups`,
`roles`). Secrets are never stored or logged, only their scrypt hash. A partner credential may
instead be bound to its node's client certificate (accord.principals.certificates): it then has
no secret at all, and authenticates by the certificate alone (`lookup_by_certificate`).

Authentication checks the row on every request (so a revocation takes effect at once, in every
process) but pays the slow hash once per process for a given (name, secret, stored hash): the cache
is keyed by a keyed digest of the secret, never the secret itself.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa

from accord.audit import log as audit
from accord.errors import InputError, NotFound, Unauthenticated
from accord.principals import certificates
from accord.principals.hashing import hash_secret, verify
from accord.store import Store
from accord.store.exchange_schema import principals
from accord.store.meta import bump

KINDS = ("partner", "user")
ROLES = ("operator", "legal", "analyst", "logistics", "auditor")
_CACHE_KEY = os.urandom(32)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: `name`, `kind` (partner | user), `party`, and for users
    `clearance`, `groups` and `roles`."""

    name: str
    kind: str
    party: str
    clearance: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)
    revoked: bool = False
    #: The client certificate a partner credential is bound to: SHA-256 fingerprint or subject.
    cert_sha256: str | None = None
    cert_subject: str | None = None

    @property
    def certificate_bound(self) -> bool:
        """True for a credential that authenticates by its client certificate only."""
        return self.cert_sha256 is not None or self.cert_subject is not None

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "party": self.party,
            "clearance": self.clearance,
            "groups": sorted(self.groups),
            "roles": sorted(self.roles),
            "revoked": self.revoked,
            "certificate": None
            if not self.certificate_bound
            else {"sha256": self.cert_sha256, "subject": self.cert_subject},
        }


def _row_to_principal(row: sa.Row[tuple[object, ...]]) -> Principal:
    m = row._mapping
    return Principal(
        name=str(m["name"]),
        kind=str(m["kind"]),
        party=str(m["party"]),
        clearance=None if m["clearance"] is None else str(m["clearance"]),
        groups=frozenset(orjson.loads(str(m["groups"]))),
        roles=frozenset(orjson.loads(str(m["roles"]))),
        revoked=m["revoked_at"] is not None,
        cert_sha256=m["cert_sha256"],
        cert_subject=m["cert_subject"],
    )


def add_principal(
    store: Store,
    name: str,
    kind: str,
    party: str,
    secret: str | None = None,
    clearance: str | None = None,
    groups: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
    actor: str = "operator",
    cert_sha256: str | None = None,
    cert_subject: str | None = None,
) -> tuple[Principal, str]:
    """Creates a principal; returns it and its secret (generated when `secret` is None; "" for
    a credential bound to a client certificate, which has none).

    `cert_sha256` (64 hex digits) or `cert_subject` (RFC 4514) bind a partner credential to its
    node's client certificate (accord.principals.certificates): it then authenticates by that
    certificate only, never by a secret. Raises InputError for a bad name, kind, role, an
    existing live name, a binding on a user's credential or with a secret, or a certificate
    already bound to another live credential (one certificate, one credential: it could
    otherwise act for either)."""
    if not name or len(name) > 100 or any(c in name for c in ":/ \t\n"):
        raise InputError(f"{name!r} is not a usable credential name (no spaces, ':' or '/')")
    if kind not in KINDS:
        raise InputError(f"{kind!r} is not a principal kind ({', '.join(KINDS)})")
    for r in roles:
        if r not in ROLES:
            raise InputError(f"{r!r} is not a role ({', '.join(ROLES)})")
    if secret is not None and len(secret) < 8:
        raise InputError("the secret must have at least 8 characters")
    if cert_sha256 is not None:
        cert_sha256 = certificates.fingerprint(cert_sha256)
    if cert_subject is not None:
        cert_subject = certificates.subject_name(cert_subject)
    bound = cert_sha256 is not None or cert_subject is not None
    if bound and kind != "partner":
        raise InputError("only a partner node's credential is bound to a client certificate")
    if bound and secret is not None:
        raise InputError("a credential bound to a client certificate has no secret")
    if cert_sha256 is not None and cert_subject is not None:
        raise InputError(
            "bind the credential to the certificate's fingerprint or subject, not both"
        )
    if bound:
        secret = ""
    secret = secret if secret is not None else secrets.token_urlsafe(24)
    row = {
        "name": name,
        "kind": kind,
        "party": party,
        "clearance": clearance,
        "groups": orjson.dumps(sorted(set(groups))).decode(),
        "roles": orjson.dumps(sorted(set(roles))).decode(),
        # A certificate-bound credential stores no hash: nothing verifies against "".
        "secret_hash": "" if bound else hash_secret(secret),
        "created_at": int(time.time() * 1_000_000),
        "revoked_at": None,
        "cert_sha256": cert_sha256,
        "cert_subject": cert_subject,
    }
    with store.begin() as conn:
        found = conn.execute(
            sa.select(principals.c.revoked_at).where(principals.c.name == name)
        ).first()
        if found is not None and found[0] is None:
            raise InputError(f"a credential named {name!r} exists; revoke it first")
        if found is not None:
            conn.execute(sa.delete(principals).where(principals.c.name == name))
        if bound:
            _check_unbound(conn, cert_sha256, cert_subject)
        conn.execute(sa.insert(principals).values(row))
        # Serving processes cache credentials until this counter moves (accord.node).
        bump(conn, "principals_version")
        audit.append(
            conn,
            "credential",
            actor,
            name,
            {
                "action": "add",
                "kind": kind,
                "party": party,
                "clearance": clearance,
                "groups": sorted(set(groups)),
                "roles": sorted(set(roles)),
                **({"cert_sha256": cert_sha256} if cert_sha256 else {}),
                **({"cert_subject": cert_subject} if cert_subject else {}),
            },
        )
    principal = Principal(
        name,
        kind,
        party,
        clearance,
        frozenset(groups),
        frozenset(roles),
        revoked=False,
        cert_sha256=cert_sha256,
        cert_subject=cert_subject,
    )
    return principal, secret


def _check_unbound(conn: sa.Connection, sha256: str | None, subject: str | None) -> None:
    """Raises InputError when a live credential is already bound to this fingerprint or subject."""
    c = principals.c
    column, value = (c.cert_sha256, sha256) if sha256 else (c.cert_subject, subject)
    taken = conn.execute(
        sa.select(c.name).where(column == value, c.revoked_at.is_(None)).limit(1)
    ).scalar()
    if taken is not None:
        raise InputError(f"the credential {taken!r} is bound to this certificate; revoke it first")


def list_principals(store: Store) -> list[Principal]:
    """Returns every principal, revoked ones included, by name."""
    with store.read() as conn:
        rows = conn.execute(sa.select(principals).order_by(principals.c.name)).all()
    return [_row_to_principal(r) for r in rows]


def principal_named(store: Store, name: str) -> Principal | None:
    """Returns the credential named `name`, live or revoked, or None."""
    with store.read() as conn:
        row = conn.execute(sa.select(principals).where(principals.c.name == name)).first()
    return None if row is None else _row_to_principal(row)


def revoke_principal(store: Store, name: str, actor: str = "operator") -> None:
    """Revokes a principal at once; raises NotFound when there is no live principal by that name."""
    with store.begin() as conn:
        done = conn.execute(
            sa.update(principals)
            .where(principals.c.name == name, principals.c.revoked_at.is_(None))
            .values(revoked_at=int(time.time() * 1_000_000))
        )
        if done.rowcount == 0:
            raise NotFound(f"no live credential named {name!r}")
        bump(conn, "principals_version")
        audit.append(conn, "credential", actor, name, {"action": "revoke"})


_verified: dict[tuple[str, bytes, str], bool] = {}


@dataclass(frozen=True)
class PrincipalRecord:
    """A live credential as stored: the principal and its secret's hash (never shown: no repr)."""

    principal: Principal
    secret_hash: str = field(repr=False)


def lookup_principal(store: Store, name: str) -> PrincipalRecord | None:
    """Returns the live credential named `name`, or None (unknown or revoked)."""
    with store.read() as conn:
        row = conn.execute(sa.select(principals).where(principals.c.name == name)).first()
    if row is None or row._mapping["revoked_at"] is not None:
        return None
    return PrincipalRecord(_row_to_principal(row), str(row._mapping["secret_hash"]))


def lookup_by_certificate(store: Store, cert: certificates.ClientCertificate) -> Principal | None:
    """Returns the credential bound to the client certificate `cert`: the live one, else a
    revoked one (`revoked` True: the certificate is to be refused), else None (bound to none).

    A binding to the certificate's fingerprint (exactly this certificate) comes before one to
    its subject, and decides alone: when the credentials bound to the fingerprint are all
    revoked, the certificate is refused even if a live credential is bound to its subject, so
    revoking the credential of a certificate always shuts that certificate out."""
    c = principals.c
    with store.read() as conn:
        rows = conn.execute(
            sa.select(principals).where(
                sa.or_(c.cert_sha256 == cert.sha256, c.cert_subject == cert.subject)
            )
        ).all()
    for exact in (True, False):
        matched = [r for r in rows if (r._mapping["cert_sha256"] == cert.sha256) is exact]
        if matched:
            live = [r for r in matched if r._mapping["revoked_at"] is None]
            if len(live) == 1:
                return _row_to_principal(live[0])
            # All revoked, or several live (which `add_principal` never makes): refused.
            return dataclasses.replace(_row_to_principal(matched[0]), revoked=True)
    return None


@functools.cache
def dummy_hash() -> str:
    """Returns a stored-form hash of a random secret nobody knows, made once per process with the
    live scrypt parameters: an unknown or revoked name is checked against it, so that it costs
    the same work as a wrong secret for a live name (OWASP Authentication Cheat Sheet)."""
    return hash_secret(secrets.token_urlsafe(32))


def check_secret(record: PrincipalRecord | None, name: str, secret: str) -> Principal:
    """Returns the principal when `secret` is its secret; raises Unauthenticated otherwise.

    An unknown or revoked name does the same work as a live one, a scrypt verification against
    `dummy_hash()` cached under the same kind of key, so neither the message nor the time taken
    tells whether the name exists (PRODUCT.md §7; docs/security.md, "Authentication")."""
    # A certificate-bound credential has no secret: refused at the same cost as a wrong one,
    # so a password sent for it learns nothing, not even that the name is bound.
    bound = record is not None and record.principal.certificate_bound
    stored = dummy_hash() if record is None or bound else record.secret_hash
    key = (name, hmac.new(_CACHE_KEY, secret.encode(), hashlib.sha256).digest(), stored)
    ok = _verified.get(key)
    if ok is None:
        ok = verify(secret, stored)
        if len(_verified) > 10_000:
            _verified.clear()
        _verified[key] = ok
    if not ok or record is None or bound:
        raise Unauthenticated("invalid credentials")
    return record.principal


def authenticate(store: Store, name: str, secret: str) -> Principal:
    """Returns the live principal whose secret this is; raises Unauthenticated otherwise (the
    message never says whether the name exists)."""
    return check_secret(lookup_principal(store, name), name, secret)
