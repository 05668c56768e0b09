"""What the HTTP layer needs of a node: its store and party, the registry as a decision world
(rebuilt only when the registry changes), the node's keys, authentication and today's views."""

from __future__ import annotations

import base64
import binascii
import contextlib
import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from accord.errors import StoreError, Unauthenticated
from accord.exchange import repository as repo
from accord.exchange.visibility import View, view_for
from accord.policy.world import World
from accord.principals import Principal, authenticate
from accord.registry import repository as registry_repo
from accord.store import Store
from accord.store.schema import meta


@dataclass
class NodeConfig:
    """Settings the server reads: API root name, limits, and an optional fixed date."""

    api_root: str
    title: str
    max_content_length: int = 10 * 1024 * 1024
    max_page_size: int = 1000
    as_of: date | None = None


class Node:
    """A serving node: `store`, `party`, `config`; `world()`, `view(principal)`, `authenticate()`."""

    def __init__(self, store: Store, party: str, config: NodeConfig) -> None:
        self.store = store
        self.party = party
        self.config = config
        self._world: tuple[int, World] | None = None
        self.cursor_key = self._key("cursor_key")
        repo.ensure_collections(store, config.api_root, party)

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
        return self.config.as_of or date.today()

    def world(self) -> tuple[int, World]:
        """Returns (registry version, world), rebuilding the world only after a registry change."""
        version = registry_repo.registry_version(self.store)
        if self._world is None or self._world[0] != version:
            self._world = (version, World(registry_repo.load(self.store)))
        return self._world

    def view(self, who: Principal) -> View:
        """Returns the markings `who` may receive today."""
        version, world = self.world()
        index = repo.marking_index(self.store)
        return view_for(self.store.url, world, version, self.party, who, index, self.today())

    def authenticate(self, header: str | None) -> Principal:
        """Returns the principal an `Authorization` header proves; Basic (`name:secret`) or
        Bearer/Token (`name:secret` as the token). Raises Unauthenticated."""
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
        return authenticate(self.store, name, secret)
