"""Which release markings a principal may receive today, and on which basis.

Every object a principal can see, count or page over is filtered by this set (taxii-stix.md §1.6:
"the server MAY omit objects … the client is not authorized to receive"), so nothing about an
unreleasable object reaches it.

- A partner node (party P) receives a marking when `decide(marking, P, today, holder=node)` allows
  it (R1–R8), or when P is the originator (its own information coming back is no release).
- A user of the node's own nation receives it when `may_access` allows (R9). A user of another
  nation receives nothing: access rests on the node's own clearances.

Views are cached per (registry version, marking index version, principal's attributes, date): a
registry change anywhere, in any process, bumps the registry version and re-decides; items are never
visited (docs/architecture.md, "Registry change").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from accord.errors import InputError
from accord.exchange.marking_rows import MarkingIndex
from accord.policy.access import User, may_access
from accord.policy.decide import decide
from accord.policy.world import World
from accord.principals import Principal


@dataclass(frozen=True)
class Grant:
    """Why a marking may go to the principal: basis ids, route, and the recipient's level."""

    basis: tuple[str, ...]
    route: tuple[str, ...]
    level: str | None


@dataclass(frozen=True)
class View:
    """A principal's view: the marking rows it may receive (`rows`), with a grant for each and the
    STIX id of each (`stix_ids`, so a release record needs no further store read); `everything`
    is True when it may receive every stored marking."""

    rows: frozenset[int]
    grants: dict[int, Grant] = field(default_factory=dict)
    everything: bool = False
    stix_ids: dict[int, str] = field(default_factory=dict)


def compute_view(
    world: World, node_party: str, who: Principal, index: MarkingIndex, at: date
) -> View:
    """Returns `who`'s view of the stored markings on `at`."""
    grants: dict[int, Grant] = {}
    interned: dict[Grant, Grant] = {}  # equal grants share one object (releases group by it)
    if who.is_partner:
        for row, m in index.by_row.items():
            if who.party == m.originator:
                g = Grant(("originator",), (node_party, who.party), m.level)
                grants[row] = interned.setdefault(g, g)
                continue
            try:
                d = decide(m, who.party, at, holder=node_party, world=world)
            except InputError:  # a marking the registry no longer knows is not released
                continue
            # Only a direct route is a release from this node to that partner: a hub route (R7)
            # goes through the hub's node, which relays it; the partner never reads it here.
            if d.direct:
                g = Grant(tuple(d.basis), tuple(d.route), d.recipient_level)
                grants[row] = interned.setdefault(g, g)
    elif who.party == node_party and who.clearance is not None:
        user = User(who.name, node_party, who.clearance, who.groups, who.party)
        for row, m in index.by_row.items():
            try:
                a = may_access(user, m, at, world=world)
            except InputError:  # an unknown level or party: not visible
                continue
            if a.allowed:
                g = Grant(("R9",), (), a.level)
                grants[row] = interned.setdefault(g, g)
    rows = frozenset(grants)
    return View(
        rows,
        grants,
        everything=len(rows) == len(index.by_row),
        stix_ids={r: index.stix_ids[r] for r in rows},
    )


_views: dict[tuple[object, ...], View] = {}


def view_for(
    scope: str,
    world: World,
    registry_version: int,
    node_party: str,
    who: Principal,
    index: MarkingIndex,
    at: date,
) -> View:
    """Returns the cached view, computing it when the registry, the markings or the day changed.
    `scope` names the store (several nodes may share a process)."""
    key = (
        scope,
        registry_version,
        index.version,
        node_party,
        who.kind,
        who.party,
        who.clearance,
        who.groups,
        at,
    )
    view = _views.get(key)
    if view is None:
        if len(_views) > 512:
            _views.clear()
        view = compute_view(world, node_party, who, index, at)
        _views[key] = view
    return view
