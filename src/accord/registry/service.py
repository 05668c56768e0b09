"""Registry operations of a node: import a file, load the demonstration, know its own party."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from accord.errors import InputError
from accord.registry import files, repository
from accord.registry.model import Registry
from accord.registry.repository import Changes
from accord.store import Store

DEMO_PARTY = "KOR"


#: The actor of the changes a node makes to itself: the demonstration scenario loaded when a
#: node first starts (`accord serve` on an empty store), with no person behind it.
SETUP_ACTOR = "node-setup"


def import_registry(
    store: Store, incoming: Registry, lines: files._Lines | None = None, *, actor: str
) -> Changes:
    """Validates `incoming` against the stored world and writes it; all or nothing. The audit
    trail records the change under `actor`, the person who made it (the signed-in user, the API
    credential, the CLI's operator: PRODUCT.md §7), never under a subsystem name.

    Raises ImportRejected (nothing written) when any record or reference is wrong."""
    world = repository.load(store)
    files.validate_against(world, incoming, lines)
    return repository.apply(store, incoming, actor=actor)


def import_file(store: Store, path: str | Path, *, actor: str) -> Changes:
    """Reads, validates and writes a registry file; returns what changed (empty on a re-import)."""
    incoming, lines = files.read_file(path)
    return import_registry(store, incoming, lines, actor=actor)


def scenario_path() -> Path:
    """Returns the path of the demonstration scenario shipped in the package."""
    return Path(str(resources.files("accord.registry") / "scenario" / "demo.yaml"))


@functools.cache
def _demo() -> tuple[Registry, files._Lines]:
    """The demonstration scenario as read and validated, once per process: it ships with the
    package and does not change (a process that prepares many stores, such as the test suite or
    a benchmark, parses it once)."""
    return files.read_file(scenario_path())


def load_demo(store: Store, actor: str = SETUP_ACTOR) -> Changes:
    """Loads the demonstration scenario (idempotent), audited under `actor` (the operator who ran
    `accord demo`; the node itself on first start). A store with no party becomes Korea's node;
    a node initialised as another party keeps it (PRODUCT.md §6)."""
    incoming, lines = _demo()
    changes = import_registry(store, incoming, lines, actor=actor)
    if repository.get_meta(store, "party") is None:
        repository.set_meta(store, "party", DEMO_PARTY)
    # Marks the store as a demonstration: `accord serve` adds sample items and demo credentials
    # only to such a store, never to a production registry.
    repository.set_meta(store, "demo", "1")
    return changes


def init_node(store: Store, party: str) -> None:
    """Records this node's party; the party must be in the registry once a registry exists."""
    world = repository.load(store)
    codes = {p.code for p in world.parties}
    if codes and party not in codes:
        raise InputError(f"{party!r} is not a known party ({len(codes)} parties in the registry)")
    repository.set_meta(store, "party", party)


def node_party(store: Store, override: str | None = None) -> str | None:
    """Returns this node's party: ACCORD_PARTY when set, else the one `accord init` recorded."""
    return override or repository.get_meta(store, "party")
