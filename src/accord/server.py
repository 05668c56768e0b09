"""Building a serving node from settings: the store, the node's party, first-run setup, the app.

`accord serve` and every uvicorn worker process call `app_factory()`, which reads the settings
afresh (environment, then file, then default), so N workers serve one store with no shared memory.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accord.errors import InputError
from accord.exchange import publishing
from accord.exchange.authority import Writer
from accord.exchange.collections import count_objects, ensure_collections
from accord.exchange.samples import sample_objects
from accord.node import Node, node_config
from accord.principals import add_principal, list_principals
from accord.registry import repository as registry_repo
from accord.registry import service
from accord.settings import Settings, load_settings
from accord.store import Store, open_store

if TYPE_CHECKING:
    from starlette.applications import Starlette


@dataclass
class FirstRun:
    """What first-run setup did: scenario loaded, samples published, demo credentials made."""

    loaded: bool = False
    samples: int = 0
    credentials: tuple[tuple[str, str, str], ...] = ()  # (name, description, secret)


def prepare(store: Store, settings: Settings, extras: bool = True) -> tuple[str, FirstRun]:
    """Returns this node's party, setting up an empty store first with the demonstration scenario.
    A demonstration store (one `accord demo` loaded) also gets a few sample items when it holds
    none, and two demonstration credentials when it has none (printed once, stored hashed)."""
    first = FirstRun()
    if not registry_repo.load(store).parties:
        service.load_demo(store)
        first.loaded = True
    party = str(settings.party or registry_repo.get_meta(store, "party") or service.DEMO_PARTY)
    if registry_repo.get_meta(store, "party") is None:
        registry_repo.set_meta(store, "party", party)
    world = registry_repo.load(store)
    me = next((p for p in world.parties if p.code == party), None)
    if me is None:
        raise InputError(f"this node's party {party!r} is not in the registry")
    config = node_config(settings, party)
    collections = ensure_collections(store, config.api_root, party)
    items = next(c for c in collections if c.kind == "items")
    demo = extras and registry_repo.get_meta(store, "demo") == "1"
    if demo and count_objects(store) == 0:
        outcomes = publishing.store_objects(
            store, items, sample_objects(me), Writer.host("accord-demo", party), lambda m: None
        )
        first.samples = sum(1 for o in outcomes if o.ok)
    if demo and not list_principals(store):
        clearance = me.level_codes()[1] if len(me.level_codes()) > 2 else me.level_codes()[0]
        _, s1 = add_principal(
            store,
            "analyst",
            "user",
            party,
            clearance=clearance,
            groups=("dprk", "military"),
            roles=("analyst",),
        )
        partner = "JPN" if party != "JPN" else "KOR"
        _, s2 = add_principal(store, f"{partner.lower()}-node", "partner", partner)
        first.credentials = (
            ("analyst", f"user of {party}, cleared {clearance}, groups dprk and military", s1),
            (f"{partner.lower()}-node", f"partner node of {partner}", s2),
        )
    return party, first


def build_node(settings: Settings) -> tuple[Node, FirstRun]:
    """Returns a serving node for the settings, prepared on first run."""
    store = open_store(str(settings.database_url))
    party, first = prepare(store, settings)
    return Node(store, party, node_config(settings, party)), first


def app_factory() -> Starlette:
    """The uvicorn factory: one app per worker process, from the environment's settings."""
    from accord.app import create_app  # the web stack loads only where a server runs

    settings = load_settings()
    node, _ = build_node(settings)
    node.store.checkpoint_in_background()
    app = create_app(node, sync_interval=float(settings.sync_interval))
    node.world()
    settle_collector()
    return app


def settle_collector() -> None:
    """Tunes the cyclic garbage collector of a process that moves large envelopes (a server, a
    sync). What is alive now (modules, the registry, SQLAlchemy's tables) lives as long as the
    process: frozen out of the collector, so a full collection walks only what came later —
    without this, every few pages of a large read paused ~70 ms (BENCHMARKS.md, "The TAXII node"). And a
    parsed page of 1,000 objects is ~20,000 new containers, which at the default threshold (700)
    set off ~30 young collections each, most of them promoting the page's objects to be walked
    again: a young generation of 20,000 collects about once a page (sync +12–16 %, BENCHMARKS.md "Federation").
    Reference cycles are still collected; only less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
