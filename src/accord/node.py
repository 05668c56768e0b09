"""What the HTTP layer needs of a node: its store and party, the registry as a decision world
(rebuilt only when the registry changes), the node's keys, authentication and today's views.

A request starts with one small store read, the `Snapshot` of the store's counters (registry,
credentials, markings, collections, object inserts and changes); the world, the credential, the
marking index, the collections, the view and any page computed ahead (`accord.exchange.readahead`)
are then taken from per-process caches keyed by those counters, so a change made by any process
(a revocation, a registry event, a new marking, a deletion) is seen by the very next request, and
an unchanged store costs one round trip instead of five."""

from __future__ import annotations

import base64
import binascii
import contextlib
import secrets
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from accord import clock
from accord.errors import InputError, StoreError, Unauthenticated
from accord.exchange.collections import (
    OBJECTS_VERSION,
    Collection,
    ensure_collections,
    list_collections,
)
from accord.exchange.foreign import MarkingMap
from accord.exchange.marking_rows import marking_index
from accord.exchange.readahead import ReadAhead
from accord.exchange.signatures import Vouched
from accord.exchange.visibility import View, view_for
from accord.limits import Limits, limits_from
from accord.policy.world import World
from accord.principals import Principal, throttle
from accord.principals.certificates import ClientCertificate
from accord.principals.service import (
    PrincipalRecord,
    check_secret,
    lookup_by_certificate,
    lookup_principal,
)
from accord.principals.throttle import ThrottlePolicy
from accord.registry import repository as registry_repo
from accord.settings import Settings
from accord.store import Store
from accord.store.exchange_schema import collections, markings
from accord.store.schema import meta

_SNAPSHOT = sa.select(
    sa.select(meta.c.value).where(meta.c.key == "registry_version").scalar_subquery(),
    sa.select(meta.c.value).where(meta.c.key == "principals_version").scalar_subquery(),
    sa.select(sa.func.max(markings.c.id)).scalar_subquery(),
    sa.select(sa.func.count()).select_from(collections).scalar_subquery(),
    # Every insert raises its collection's last_added; deletions and reclassifications bump
    # objects_version: a page computed ahead is served only while both stand (accord.exchange.readahead).
    sa.select(sa.func.sum(collections.c.last_added)).scalar_subquery(),
    sa.select(meta.c.value).where(meta.c.key == OBJECTS_VERSION).scalar_subquery(),
    # Until when recorded authentication failures may matter (accord.principals.throttle).
    sa.select(meta.c.value).where(meta.c.key == throttle.WATCH_KEY).scalar_subquery(),
)


@dataclass
class NodeConfig:
    """Settings the server reads: API root name, limits, an optional fixed date, the throttle of
    failed authentication and who may read /metrics (off | credential | public)."""

    api_root: str
    title: str
    max_content_length: int = 10 * 1024 * 1024
    max_page_size: int = 1000
    as_of: date | None = None
    read_ahead: int = 32
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    metrics: str = "credential"
    limits: Limits = field(default_factory=Limits)
    #: The settings file's table of foreign markings (peers that are not accord nodes).
    foreign_markings: MarkingMap = field(default_factory=MarkingMap)
    #: Originator signatures of what accord peers deliver: pinned | required | off.
    signatures: str = "pinned"


@dataclass(frozen=True)
class Snapshot:
    """The store's change counters at one moment (`Node.snapshot`)."""

    registry: int
    principals: int
    markings: int
    collections: int
    added: int = 0
    changed: int = 0
    # Not part of a page's identity (accord.exchange.readahead keys on the snapshot): a failed sign-in
    # elsewhere must not discard pages computed ahead.
    auth_watch: int = field(default=0, compare=False)


class Node:
    """A serving node: `store`, `party`, `config`; `snapshot()`, `world()`, `view(principal)`,
    `authenticate()`, `collections()`."""

    def __init__(self, store: Store, party: str, config: NodeConfig) -> None:
        self.store = store
        self.party = party
        self.config = config
        self._world: tuple[int, World] | None = None
        self._collections: tuple[int, list[Collection]] | None = None
        self._credentials: tuple[int, dict[str, PrincipalRecord | None]] = (-1, {})
        self._by_cert: tuple[int, dict[str, Principal | None]] = (-1, {})
        self.cursor_key = self._key("cursor_key")
        self.read_ahead = ReadAhead(config.read_ahead)
        # Originator signatures verified in this process (accord.exchange.signatures): a note
        # stored by one envelope vouches for the next envelopes' items without a look-up.
        self.vouched: Vouched = {}
        ensure_collections(store, config.api_root, party)

    def snapshot(self) -> Snapshot:
        """Returns the store's change counters, in one store read."""
        with self.store.read() as conn:
            row = conn.execute(_SNAPSHOT).one()
        return Snapshot(*(int(v or 0) for v in row))

    def collections(self, snap: Snapshot | None = None) -> list[Collection]:
        """Returns the collections of this node's API root (cached until one is added)."""
        snap = snap or self.snapshot()
        cached = self._collections
        if cached is None or cached[0] != snap.collections:
            cached = (snap.collections, list_collections(self.store, self.config.api_root))
            self._collections = cached
        return cached[1]

    def _key(self, name: str) -> bytes:
        """Returns a node key kept in the store, creating it once: insert-if-absent, then read,
        so that several processes starting together on a fresh store agree on one key."""
        value = registry_repo.get_meta(self.store, name)
        if value is None:
            with contextlib.suppress(StoreError):  # another process inserted it first
                with self.store.begin() as conn:
                    conn.execute(sa.insert(meta).values(key=name, value=secrets.token_hex(32)))
            value = registry_repo.get_meta(self.store, name)
        assert value is not None
        return bytes.fromhex(value)

    def today(self) -> date:
        return self.config.as_of or clock.utc_today()

    def world(self, snap: Snapshot | None = None) -> tuple[int, World]:
        """Returns (registry version, world), rebuilding the world only after a registry change."""
        version = snap.registry if snap else registry_repo.registry_version(self.store)
        if self._world is None or self._world[0] != version:
            self._world = (version, World(registry_repo.load(self.store)))
        return self._world

    def view(self, who: Principal, snap: Snapshot | None = None) -> View:
        """Returns the markings `who` may receive today."""
        snap = snap or self.snapshot()
        version, world = self.world(snap)
        index = marking_index(self.store, snap.markings)
        return view_for(self.store.url, world, version, self.party, who, index, self.today())

    def authenticate(
        self,
        header: str | None,
        snap: Snapshot | None = None,
        address: str | None = None,
        certificate: ClientCertificate | None = None,
    ) -> Principal:
        """Returns the principal the request proves: the partner credential bound to the verified
        client `certificate` (`client_certificate(request.scope)`), else the credential of the
        `Authorization` header, Basic (`name:secret`) or Bearer/Token (`name:secret` as the
        token). Raises Unauthenticated, or Throttled (without checking anything) while the name,
        the certificate or the client `address` (`client_address`) must wait after failed
        attempts (accord.principals.throttle).

        A client certificate bound to a credential is the request's one identity (TAXII 2.1
        Appendix B; RFC 8446 §4.4.2): an `Authorization` header sent with it is refused, so a
        certificate bound to one party's node never acts with another credential; a certificate
        whose credential is revoked is refused, header or not. A certificate bound to none (a
        national user's, where the node requires one of everyone) proves only that the client CA
        issued it: the header then authenticates, and without one the request is refused. A
        credential bound to a certificate is refused any secret, like a wrong one
        (`check_secret`), so its node never sends a password."""
        if certificate is None:
            return self._by_secret(header, snap, address)
        snap = snap or self.snapshot()
        bound = self._bound(certificate, snap)
        if bound is None and header:
            return self._by_secret(header, snap, address)
        return throttle.guarded(
            self.store,
            self.config.throttle,
            certificate.account,
            address or "unknown",
            snap.auth_watch,
            lambda: _certified(bound, header),
        )

    def _by_secret(
        self, header: str | None, snap: Snapshot | None, address: str | None
    ) -> Principal:
        # The header is read before the store: no credentials is a 401 even with the store down.
        name, secret = parse_authorization(header)
        snap = snap or self.snapshot()
        return throttle.guarded(
            self.store,
            self.config.throttle,
            name,
            address or "unknown",
            snap.auth_watch,
            lambda: check_secret(self.record(name, snap), name, secret),
        )

    def _bound(self, certificate: ClientCertificate, snap: Snapshot) -> Principal | None:
        """Returns the credential bound to `certificate` (revoked ones too: `lookup_by_certificate`),
        cached per process until any credential is added or revoked, by any process."""
        version, known = self._by_cert
        if version != snap.principals:
            version, known = snap.principals, {}
            self._by_cert = (version, known)
        if certificate.sha256 not in known:
            if len(known) >= 10_000:
                known.clear()
            known[certificate.sha256] = lookup_by_certificate(self.store, certificate)
        return known[certificate.sha256]

    def record(self, name: str, snap: Snapshot) -> PrincipalRecord | None:
        """Returns the live credential named `name` (None: unknown or revoked), cached per
        process until any credential is added or revoked, by any process."""
        version, known = self._credentials
        if version != snap.principals:
            # Any credential added or revoked, by any process, empties the cache.
            version, known = snap.principals, {}
            self._credentials = (version, known)
        if name in known:
            return known[name]
        record = lookup_principal(self.store, name)
        if len(known) < 10_000:
            known[name] = record
        return record


def _certified(bound: Principal | None, header: str | None) -> Principal:
    """Returns the live credential a client certificate is bound to; Unauthenticated for a
    certificate bound to none or to a revoked credential (one answer for both), or sent with an
    `Authorization` header."""
    if bound is None or bound.revoked:
        raise Unauthenticated("this client certificate is bound to no live credential")
    if header:
        raise Unauthenticated(
            "a client certificate bound to a credential authenticates alone: "
            "send no Authorization header with it"
        )
    return bound


def node_config(settings: Settings, party: str) -> NodeConfig:
    """Returns what the node reads from the settings: its API root, limits, fixed date, throttle
    and metrics access. InputError names a setting that is out of range."""
    return NodeConfig(
        api_root=str(settings.api_root or party.lower()),
        title=f"accord node of {party}",
        max_content_length=int(settings.max_content_length),
        max_page_size=int(settings.max_page_size),
        read_ahead=int(settings.read_ahead),
        as_of=clock.fixed(settings.date),
        throttle=throttle_policy(settings),
        metrics=_choice(settings, "metrics", METRICS_MODES),
        limits=limits_from(settings),
        foreign_markings=MarkingMap.from_json(settings.foreign_markings, "foreign_markings"),
        signatures=_choice(settings, "signatures", ("pinned", "required", "off")),
    )


#: Who may read GET /metrics (docs/deployment.md): nobody, operators and auditors, or anyone.
METRICS_MODES = ("off", "credential", "public")


def _choice(settings: Settings, name: str, allowed: tuple[str, ...]) -> str:
    value = str(getattr(settings, name)).strip().lower()
    if value not in allowed:
        raise InputError(
            f"ACCORD_{name.upper()}: {value[:40]!r} is not one of {', '.join(allowed)}"
        )
    return value


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    """Returns the throttle of failed authentication from the `auth_*` settings; InputError names
    a setting that is out of range."""
    numbers = {
        name: int(getattr(settings, "auth_" + name))
        for name in (
            "free_failures",
            "address_failures",
            "backoff_cap",
            "window",
            "lockout",
            "lockout_seconds",
        )
    }
    for name, value in numbers.items():
        if value < 0:
            raise InputError(f"ACCORD_AUTH_{name.upper()}: {value} must not be negative")
    return ThrottlePolicy(
        enabled=_choice(settings, "auth_throttle", ("on", "off")) == "on", **numbers
    )


def parse_authorization(header: str | None) -> tuple[str, str]:
    """Returns (name, secret) of an `Authorization` header: Basic (`name:secret`), or
    Bearer/Token with `name:secret` as the token. Raises Unauthenticated naming what is wrong."""
    if not header:
        raise Unauthenticated("credentials are required")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("malformed Basic credentials") from None
    elif scheme.lower() in ("bearer", "token"):
        decoded = value
    else:
        raise Unauthenticated("unsupported authorization scheme (use Basic or Bearer)")
    name, sep, secret = decoded.partition(":")
    if not sep or not name:
        raise Unauthenticated("malformed credentials")
    return name, secret
